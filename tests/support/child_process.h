#pragma once
// A program running in the background with its stderr on a pipe, for tests of long-running
// commands (`serve`): read its log lines as they come, signal it, collect its exit code.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace roundup::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> full = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.string()};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (std::string& a : full) args.push_back(a.data());
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, "/bin/sh", &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    read_fd_ = fds[0];
    if (rc != 0) {
      close(read_fd_);
      throw std::runtime_error("posix_spawn failed");
    }
  }
  ~ChildProcess() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    close(read_fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next stderr line (without '\n'); nullopt at end of output. Blocks until one is complete.
  std::optional<std::string> read_line() {
    while (true) {
      const auto newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      char chunk[4096];
      const ssize_t n = ::read(read_fd_, chunk, sizeof chunk);
      if (n <= 0) {
        if (buffer_.empty()) return std::nullopt;
        std::string rest;
        rest.swap(buffer_);
        return rest;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Reads lines until one contains `needle`; returns it (nullopt if the output ended first).
  std::optional<std::string> read_until(const std::string& needle) {
    while (auto line = read_line()) {
      seen_ += *line + "\n";
      if (line->find(needle) != std::string::npos) return line;
    }
    return std::nullopt;
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // Exit code, or 128 + signal.
  int wait() {
    if (exit_code_) return *exit_code_;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *exit_code_;
  }

  // Everything read so far by read_until, for failure messages.
  const std::string& seen() const { return seen_; }

 private:
  pid_t pid_ = 0;
  int read_fd_ = -1;
  std::string buffer_;
  std::string seen_;
  std::optional<int> exit_code_;
};

}  // namespace roundup::testing
