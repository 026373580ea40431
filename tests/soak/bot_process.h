#pragma once
// One `roundup-bot serve` process of the soak: spawned with its output on a pipe that a reader
// thread copies to a log file (one per start) while it looks for the lines the driver needs (the
// ports it listens on) and the ones that mean trouble (sanitizer reports, crashes, quarantined
// items). A waiter thread collects the exit status, so every wait here has a deadline.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace roundup::soak {

class BotProcess {
 public:
  BotProcess(std::string name, std::string binary, std::filesystem::path config, std::filesystem::path log_dir);
  ~BotProcess();  // SIGKILL if still running, then joins
  BotProcess(const BotProcess&) = delete;
  BotProcess& operator=(const BotProcess&) = delete;

  // Spawns `binary --config config serve`. The previous run must have exited.
  void start();
  // Until both listening ports were logged; false when the limit passed or the process exited.
  bool wait_ready(std::chrono::milliseconds limit);
  unsigned short port() const;          // 0 while not ready
  unsigned short metrics_port() const;  // 0 while not ready
  pid_t pid() const;
  bool running() const;
  int starts() const;

  void signal(int sig);
  // The exit status (code, or 128 + signal) once the process exited within `limit`.
  std::optional<int> wait_exit(std::chrono::milliseconds limit);
  // Every run's exit status so far, in order.
  std::vector<int> exits() const;

  // VmRSS of the running process in KiB (0 when it cannot be read).
  long rss_kib() const;

  // Log lines that mean a crash or a sanitizer report, over all runs (at most 20 kept).
  std::vector<std::string> alarms() const;
  std::size_t quarantine_lines() const;
  std::size_t error_lines() const;
  const std::string& name() const { return name_; }
  std::filesystem::path log_file(int start) const;

 private:
  void read_output(int fd, std::filesystem::path file);
  void wait_child(pid_t pid);

  std::string name_;
  std::string binary_;
  std::filesystem::path config_;
  std::filesystem::path log_dir_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  pid_t pid_ = 0;
  bool running_ = false;
  int starts_ = 0;
  unsigned short port_ = 0;
  unsigned short metrics_port_ = 0;
  std::vector<int> exits_;
  std::vector<std::string> alarms_;
  std::size_t quarantine_lines_ = 0;
  std::size_t error_lines_ = 0;
  std::thread reader_;
  std::thread waiter_;
};

}  // namespace roundup::soak
