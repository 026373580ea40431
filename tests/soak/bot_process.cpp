#include "tests/soak/bot_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <utility>

extern char** environ;

namespace roundup::soak {
namespace {

constexpr std::size_t k_max_alarms = 20;

// What a crash or a sanitizer leaves in the output. Matched case-sensitively, as they print.
constexpr std::array<std::string_view, 9> k_alarm_marks = {
    "AddressSanitizer",   "LeakSanitizer",  "UndefinedBehaviorSanitizer",
    "ThreadSanitizer",    "runtime error:", "terminate called",
    "Segmentation fault", "stack-buffer",   "heap-use-after-free"};

unsigned short port_after(const std::string& line) {
  const auto at = line.find(" port=");
  if (at == std::string::npos) return 0;
  try {
    return static_cast<unsigned short>(std::stoi(line.substr(at + 6)));
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

BotProcess::BotProcess(std::string name, std::string binary, std::filesystem::path config,
                       std::filesystem::path log_dir)
    : name_(std::move(name)), binary_(std::move(binary)), config_(std::move(config)), log_dir_(std::move(log_dir)) {}

BotProcess::~BotProcess() {
  if (running()) {
    signal(SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
  if (waiter_.joinable()) waiter_.join();
}

std::filesystem::path BotProcess::log_file(int start) const {
  return log_dir_ / (name_ + "-run" + std::to_string(start) + ".log");
}

void BotProcess::start() {
  std::unique_lock lock(mutex_);
  if (running_) throw std::logic_error(name_ + " is running already");
  lock.unlock();
  if (reader_.joinable()) reader_.join();
  if (waiter_.joinable()) waiter_.join();
  lock.lock();

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  // The driver's own sockets (fakes, load, attacks) must not live on in the bot.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  std::vector<std::string> argv = {binary_, "--config", config_.string(), "serve"};
  std::vector<char*> args;
  for (auto& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary_.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + binary_);
  }
  pid_ = pid;
  running_ = true;
  ++starts_;
  port_ = 0;
  metrics_port_ = 0;
  reader_ = std::thread([this, fd = fds[0], file = log_file(starts_)] { read_output(fd, file); });
  waiter_ = std::thread([this, pid] { wait_child(pid); });
}

void BotProcess::read_output(int fd, std::filesystem::path file) {
  std::ofstream out(file, std::ios::binary);
  std::string pending;
  char chunk[8192];
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    out.write(chunk, n);
    pending.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (auto newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n', start)) {
      const std::string line = pending.substr(start, newline - start);
      start = newline + 1;
      std::lock_guard lock(mutex_);
      if (line.find("msg=listening") != std::string::npos) port_ = port_after(line);
      if (line.find("health and metrics listening") != std::string::npos) metrics_port_ = port_after(line);
      if (line.find("item quarantined") != std::string::npos) ++quarantine_lines_;
      if (line.find("level=error") != std::string::npos) ++error_lines_;
      for (const auto mark : k_alarm_marks) {
        if (line.find(mark) != std::string::npos && alarms_.size() < k_max_alarms) {
          alarms_.push_back(name_ + ": " + line.substr(0, 300));
          break;
        }
      }
      changed_.notify_all();
    }
    pending.erase(0, start);
  }
  out.flush();
  close(fd);
}

void BotProcess::wait_child(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  std::lock_guard lock(mutex_);
  exits_.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  running_ = false;
  port_ = 0;
  metrics_port_ = 0;
  changed_.notify_all();
}

bool BotProcess::wait_ready(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, limit, [&] { return !running_ || (port_ != 0 && metrics_port_ != 0); }) && running_;
}

unsigned short BotProcess::port() const {
  std::lock_guard lock(mutex_);
  return port_;
}

unsigned short BotProcess::metrics_port() const {
  std::lock_guard lock(mutex_);
  return metrics_port_;
}

pid_t BotProcess::pid() const {
  std::lock_guard lock(mutex_);
  return pid_;
}

bool BotProcess::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

int BotProcess::starts() const {
  std::lock_guard lock(mutex_);
  return starts_;
}

void BotProcess::signal(int sig) {
  std::lock_guard lock(mutex_);
  if (running_) ::kill(pid_, sig);
}

std::optional<int> BotProcess::wait_exit(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, limit, [&] { return !running_; })) return std::nullopt;
  return exits_.empty() ? std::nullopt : std::optional<int>(exits_.back());
}

std::vector<int> BotProcess::exits() const {
  std::lock_guard lock(mutex_);
  return exits_;
}

long BotProcess::rss_kib() const {
  const pid_t pid = this->pid();
  if (!running()) return 0;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) {
      try {
        return std::stol(line.substr(6));
      } catch (const std::exception&) {
        return 0;
      }
    }
  }
  return 0;
}

std::vector<std::string> BotProcess::alarms() const {
  std::lock_guard lock(mutex_);
  return alarms_;
}

std::size_t BotProcess::quarantine_lines() const {
  std::lock_guard lock(mutex_);
  return quarantine_lines_;
}

std::size_t BotProcess::error_lines() const {
  std::lock_guard lock(mutex_);
  return error_lines_;
}

}  // namespace roundup::soak
