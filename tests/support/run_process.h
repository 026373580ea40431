#pragma once
// Runs a program to completion and captures its exit code, stdout and stderr (for CLI tests).

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

extern char** environ;

namespace roundup::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                                 const std::string& stdin_text = "") {
  TempDir io;
  const auto in_file = io / "stdin", out_file = io / "stdout", err_file = io / "stderr";
  write_file(in_file, stdin_text);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in_file.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child runs in cwd: posix_spawn has no chdir action in glibc 2.36's public API, so the
  // program is started through `sh -c 'cd DIR && exec "$@"'`.
  std::vector<std::string> full = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.string()};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/bin/sh", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = read_file(out_file);
  result.err = read_file(err_file);
  return result;
}

}  // namespace roundup::testing
