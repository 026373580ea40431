#pragma once

#include <chrono>
#include <filesystem>

#include "storage/file_lock.h"

namespace roundup::adapters::service {

// One service per data_dir: the outbox sends without claiming rows, so a second process on the
// same database (an overlapping restart, a second replica) would send the same messages again.
// The second one waits for the lock, up to `wait`, then refuses to start.
class DataDirLock {
 public:
  // Takes data_dir/state/bot.lock (creating the directory), waiting up to `wait` for another
  // process to let it go; throws std::runtime_error when it does not.
  DataDirLock(const std::filesystem::path& state_dir, std::chrono::milliseconds wait);

 private:
  storage::FileLock lock_;  // closing it releases the lock
};

}  // namespace roundup::adapters::service
