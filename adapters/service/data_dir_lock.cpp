#include "adapters/service/data_dir_lock.h"

#include <stdexcept>
#include <string>
#include <thread>

#include "telemetry/log.h"

namespace roundup::adapters::service {
namespace {

std::filesystem::path lock_file_in(const std::filesystem::path& state_dir) {
  std::filesystem::create_directories(state_dir);
  return state_dir / "bot.lock";
}

}  // namespace

DataDirLock::DataDirLock(const std::filesystem::path& state_dir, std::chrono::milliseconds wait)
    : lock_(lock_file_in(state_dir), 0600) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool reported = false;
  while (!lock_.try_lock()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("another roundup-bot is running with data_dir " + state_dir.parent_path().string() +
                               " (it holds " + lock_.file().string() + ")");
    }
    if (!reported) log::warn("service", "waiting for another roundup-bot on this data_dir to exit");
    reported = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling a lock, not synchronising threads
  }
}

}  // namespace roundup::adapters::service
