#include "tests/support/postgres_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>

extern char** environ;

namespace roundup::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kSuperuser = "roundup";
constexpr const char* kNotFound =
    "PostgreSQL 15 server binaries not found (install postgresql-15; scripts/setup.sh does)";

std::string errno_text(int err);

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's pick for port 0). Another
// process could take it before the server binds it; the start then fails and says so.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + errno_text(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error("finding a free port on 127.0.0.1: " + errno_text(error));
  return ntohs(address.sin_port);
}

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("PostgresCluster: " + what);
}

// The last `max_lines` lines of a file (at most the last 8 KiB), for failure messages.
std::string tail_of(const fs::path& file, std::size_t max_lines = 30) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "(no " + file.filename().string() + ")\n";
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (text.size() > 8192) text.erase(0, text.size() - 8192);
  std::size_t start = text.size(), lines = 0;
  if (start > 0 && text[start - 1] == '\n') --start;
  while (start > 0 && lines < max_lines) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
    --start;
  }
  text.erase(0, start);
  if (!text.empty() && text.back() != '\n') text += '\n';
  return text;
}

// pg_ctl hands the data directory and log file to /bin/sh inside double quotes, so a path with
// shell-active characters would be misread (or run). Paths are restricted to this plain set.
bool plain_path(std::string_view path) {
  return std::all_of(path.begin(), path.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
           c == '_' || c == '-' || c == '+';
  });
}

// Who a child runs as: ourselves, or (when we are root) the cluster's owner.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string name;
};

// Whether `as` can reach `dir` (search permission on it and every parent): when we are root, the
// cluster's owner must, or initdb fails on e.g. TMPDIR=/root/tmp.
bool traversable_by(const fs::path& dir, const RunAs& as) {
  if (!as.switch_user) return true;
  for (fs::path p = dir;; p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    const bool ok = st.st_uid == as.uid   ? (st.st_mode & S_IXUSR) != 0
                    : st.st_gid == as.gid ? (st.st_mode & S_IXGRP) != 0
                                          : (st.st_mode & S_IXOTH) != 0;
    if (!ok) return false;
    if (p == p.parent_path()) return true;
  }
}

// $TMPDIR when it is usable, else /tmp. Usable: absolute, plain (see above), reachable by the
// cluster's owner, and short enough that <dir>/.s.PGSQL.5432 fits in sockaddr_un (107 bytes);
// otherwise the server could not start.
fs::path temp_base(const RunAs& as) {
  constexpr std::size_t kSocketPathMax = sizeof(sockaddr_un::sun_path) - 1;
  constexpr std::size_t kAdded = std::string_view("/roundup-pg-XXXXXX/.s.PGSQL.5432").size();
  const char* tmpdir = std::getenv("TMPDIR");
  if (tmpdir != nullptr && tmpdir[0] == '/' && plain_path(tmpdir) && std::strlen(tmpdir) + kAdded <= kSocketPathMax &&
      traversable_by(tmpdir, as)) {
    return tmpdir;
  }
  return "/tmp";
}

bool is_executable(const fs::path& file) {
  return ::access(file.c_str(), X_OK) == 0;
}

bool has_server_binaries(const fs::path& dir) {
  return !dir.empty() && is_executable(dir / "initdb") && is_executable(dir / "pg_ctl") &&
         is_executable(dir / "postgres");
}

std::optional<fs::path> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && is_executable(fs::path(dir) / name)) return fs::path(dir) / name;
  }
  return std::nullopt;
}

// Percent-encodes everything but RFC 3986 unreserved characters (libpq decodes the host and dbname).
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A file descriptor closed at scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Moves a new descriptor to >= 3 (close-on-exec) so the dup2 onto 0..2 in a child cannot clobber it,
// even if the test process runs with a standard descriptor closed.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

struct RunResult {
  bool timed_out = false;
  int exit_code = -1;       // 128 + signal when killed
  std::string start_error;  // non-empty when the program could not be started at all
};

// Waits for `pid` until `deadline`; true once it has exited (and is reaped when `reap`). Uses a pidfd,
// which works for processes that are not our children too; polls only on kernels without pidfd_open.
bool wait_until(pid_t pid, Clock::time_point deadline, bool reap, int* status) {
  // The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C", so its pidfd_open does not link from C++.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() < 0 && errno == ESRCH) return !reap || ::waitpid(pid, status, 0) == pid;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (pidfd.get() >= 0) {
      pollfd p{pidfd.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::max<long long>(left, 0)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready > 0) break;
      if (left <= 0 || ready == 0) return false;
    } else {
      // Fallback for kernels before 5.3 (no pidfd_open): a bounded poll of the process state.
      if (reap) {
        const pid_t r = ::waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return r == pid;
      } else if (::kill(pid, 0) != 0 && errno == ESRCH) {
        return true;
      }
      if (left <= 0) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!reap) return true;
  while (::waitpid(pid, status, 0) < 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

// Runs argv[0] (an absolute path) in `cwd` with stdin from /dev/null, stdout to out_fd and stderr to
// err_fd; kills it if it outlives `timeout`. fork+execve with a ready-made argv: no shell, so paths
// are never re-parsed; everything the child needs is built before fork because only async-signal-safe
// calls are allowed between fork and exec in a (possibly multithreaded) test process.
RunResult run(const std::vector<std::string>& argv, const fs::path& cwd, int out_fd, int err_fd, const RunAs& as,
              std::chrono::seconds timeout) {
  std::vector<char*> args;
  std::vector<std::string> argv_copy = argv;
  for (std::string& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  // The environment minus PG* variables: a developer's PGHOST/PGPORT/PGOPTIONS/PGDATA must not steer
  // initdb, pg_ctl's readiness check or the server. HOME/USER/LOGNAME follow the user we switch to.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    if (var.starts_with("PG")) continue;
    if (as.switch_user && (var.starts_with("HOME=") || var.starts_with("USER=") || var.starts_with("LOGNAME="))) {
      continue;
    }
    env.emplace_back(var);
  }
  if (as.switch_user) {
    env.push_back("HOME=" + as.home);
    env.push_back("USER=" + as.name);
    env.push_back("LOGNAME=" + as.name);
  }
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const std::string dir = cwd.string();
  Fd devnull(above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
  if (devnull.get() < 0) return {false, -1, "open /dev/null: " + errno_text(errno)};
  // The child reports a failed step (chdir, setuid, exec...) and its errno here; EOF means exec worked.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return {false, -1, "pipe2: " + errno_text(errno)};
  Fd report_read(above_stdio(pipe_fds[0])), report_write(above_stdio(pipe_fds[1]));
  rlimit files{};
  const int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                         ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1 << 20))
                         : 65536;

  const pid_t pid = ::fork();
  if (pid < 0) return {false, -1, "fork: " + errno_text(errno)};
  if (pid == 0) {
    // Steps: 0 redirect, 1 chdir, 2 switch user, 3 exec. fd 3 is the report pipe once redirected.
    auto report = [](int report_fd, int failed_step) {
      const int data[2] = {failed_step, errno};
      [[maybe_unused]] const ssize_t n = ::write(report_fd, data, sizeof data);
      ::_exit(127);
    };
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the test process may block signals the server needs
    if (::dup2(devnull.get(), 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0 ||
        ::dup2(report_write.get(), 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
      report(report_write.get(), 0);
    }
    // Nothing else of the test process (listening sockets, pipes of other helpers) may leak into the
    // postmaster, which outlives this call and would hold them open.
    if (::close_range(4, ~0U, 0) != 0) {
      for (int fd = 4; fd < max_fd; ++fd) ::close(fd);
    }
    if (::chdir(dir.c_str()) != 0) report(3, 1);
    if (as.switch_user && (::setgroups(1, &as.gid) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0)) {
      report(3, 2);
    }
    ::execve(args[0], args.data(), envp.data());
    report(3, 3);
  }

  report_write.reset();
  RunResult result;
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(report_read.get(), report, sizeof report);
  } while (got < 0 && errno == EINTR);
  int status = 0;
  if (got == static_cast<ssize_t>(sizeof report)) {
    const std::string step_name = report[0] == 1   ? "chdir " + dir
                                  : report[0] == 2 ? "switch to user " + as.name
                                  : report[0] == 3 ? "exec " + argv[0]
                                                   : std::string("redirect stdio");
    result.start_error = step_name + ": " + errno_text(report[1]);
    wait_until(pid, Clock::now() + std::chrono::seconds(10), true, &status);
    return result;
  }
  if (!wait_until(pid, Clock::now() + timeout, true, &status)) {
    result.timed_out = true;
    ::kill(pid, SIGKILL);
    wait_until(pid, Clock::now() + std::chrono::seconds(10), true, &status);
    return result;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

RunAs run_as_for_us() {
  RunAs as;
  if (::geteuid() != 0) return as;
  // PostgreSQL refuses to run as root; the postgresql-common package creates this system user.
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r("postgres", &pw, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    fail(
        "running as root, which PostgreSQL refuses, and there is no 'postgres' system user to run the cluster as "
        "(the postgresql-15 package creates it)");
  }
  as.switch_user = true;
  as.uid = pw.pw_uid;
  as.gid = pw.pw_gid;
  as.home = pw.pw_dir != nullptr ? pw.pw_dir : "/";
  as.name = pw.pw_name;
  return as;
}

int read_postmaster_pid(const fs::path& pid_file) {
  std::ifstream in(pid_file);
  int pid = -1;
  if (!(in >> pid) || pid <= 0) return -1;
  return pid;
}

// Whether `pid` is a postgres process: a pid read from a stale postmaster.pid may since belong to
// something else, which must not be signalled.
bool is_postgres(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string comm;
  return std::getline(in, comm) && comm.starts_with("postgres");
}

}  // namespace

PostgresCluster::PostgresCluster(Options options) : options_(options) {
  try {
    start();
  } catch (...) {
    cleanup();
    throw;
  }
}

PostgresCluster::~PostgresCluster() {
  cleanup();
}

void PostgresCluster::start() {
  const RunAs as = run_as_for_us();

  std::string dir_template = (temp_base(as) / "roundup-pg-XXXXXX").string();
  if (::mkdtemp(dir_template.data()) == nullptr) fail("mkdtemp " + dir_template + ": " + errno_text(errno));
  dir_ = dir_template;
  // When root, the cluster's owner must own (and be able to enter) the directory: initdb creates
  // data/ in it, the server its socket and server.log. mkdtemp made it 0700.
  if (as.switch_user && ::chown(dir_.c_str(), as.uid, as.gid) != 0) {
    fail("chown " + dir_.string() + " to " + as.name + ": " + errno_text(errno));
  }
  log_fd_ = above_stdio(::open((dir_ / "commands.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log_fd_ < 0) fail("open commands.log in " + dir_.string() + ": " + errno_text(errno));

  // Where the server binaries are: Debian's place for 15 (the version the project supports; its
  // pg_config wrapper would name the newest installed major instead), then PATH. A directory counts
  // only with initdb, pg_ctl and postgres all in it.
  std::vector<fs::path> candidates;
  candidates.emplace_back("/usr/lib/postgresql/15/bin");
  if (const auto initdb = find_on_path("initdb")) candidates.push_back(initdb->parent_path());
  for (const fs::path& candidate : candidates) {
    if (has_server_binaries(candidate)) {
      bin_dir_ = candidate;
      break;
    }
  }
  if (bin_dir_.empty()) fail(kNotFound);

  const fs::path data = dir_ / "data";
  // --no-sync: a throwaway cluster need not survive a crash, and syncing is most of initdb's time.
  run_or_throw("initdb",
               {(bin_dir_ / "initdb").string(), "-D", data.string(), "-U", kSuperuser, "--auth=trust", "-E", "UTF8",
                "--no-locale", "--no-sync", "--no-instructions"},
               120);

  // The server settings go into postgresql.conf rather than pg_ctl -o, because pg_ctl runs the
  // postmaster through /bin/sh and -o would be re-parsed by it. Appending keeps the file's owner.
  // listen_addresses '': Unix socket only, no TCP port to allocate or collide on. The socket path is
  // plain (plain_path), so it needs no quote escaping. fsync, synchronous_commit, full_page_writes:
  // durability is pointless for a cluster deleted after the test, and costs time. shared_buffers:
  // several clusters may run at once (parallel ctest); the 128MB default is more than tests need.
  std::string settings = "\n# PostgresCluster (tests/support/postgres_cluster.cpp)\n";
  std::vector<std::string> lines = {"unix_socket_directories = '" + dir_.string() + "'", "shared_buffers = 32MB"};
  if (options_.tcp_loopback) {
    port_ = free_loopback_port();
    lines.emplace_back("listen_addresses = '127.0.0.1'");
  } else {
    lines.emplace_back("listen_addresses = ''");
  }
  lines.push_back("port = " + std::to_string(port_));
  if (!options_.durable) {
    for (const char* line : {"fsync = off", "synchronous_commit = off", "full_page_writes = off"})
      lines.emplace_back(line);
  }
  for (const std::string& line : lines) settings += line + "\n";
  std::ofstream conf(data / "postgresql.conf", std::ios::app);
  if (!(conf << settings).flush()) fail("appending settings to " + (data / "postgresql.conf").string());
  conf.close();

  // -w waits until the server accepts connections (pg_ctl pings it), -t bounds that wait.
  run_or_throw("pg_ctl start",
               {(bin_dir_ / "pg_ctl").string(), "-D", data.string(), "-l", (dir_ / "server.log").string(), "-w", "-t",
                "60", "start"},
               90);
  postmaster_pid_ = read_postmaster_pid(data / "postmaster.pid");
  if (postmaster_pid_ <= 0) fail("pg_ctl start succeeded but " + (data / "postmaster.pid").string() + " has no pid");
}

void PostgresCluster::run_or_throw(const std::string& what, const std::vector<std::string>& argv, int timeout_seconds) {
  const RunAs as = run_as_for_us();
  // A header per command, so the log (and a failure's tail) shows which command said what.
  std::string header = "$";
  for (const std::string& a : argv) header += " " + a;
  header += "\n";
  [[maybe_unused]] const ssize_t n = ::write(log_fd_, header.data(), header.size());

  const RunResult r = run(argv, dir_, log_fd_, log_fd_, as, std::chrono::seconds(timeout_seconds));
  if (r.start_error.empty() && !r.timed_out && r.exit_code == 0) return;
  std::string message = what + " ";
  if (!r.start_error.empty()) {
    message += "could not be started (" + r.start_error + ")";
  } else if (r.timed_out) {
    message += "timed out after " + std::to_string(timeout_seconds) + "s and was killed";
  } else {
    message += "failed with exit code " + std::to_string(r.exit_code);
  }
  message += " (cluster in " + dir_.string() + (as.switch_user ? ", run as user " + as.name : "") + ")";
  message += "\n--- commands.log (tail) ---\n" + tail_of(dir_ / "commands.log");
  if (fs::exists(dir_ / "server.log")) message += "--- server.log (tail) ---\n" + tail_of(dir_ / "server.log");
  fail(message);
}

void PostgresCluster::cleanup() noexcept {
  if (dir_.empty()) return;
  try {
    const fs::path data = dir_ / "data";
    const fs::path pid_file = data / "postmaster.pid";
    std::error_code ec;
    if (fs::exists(pid_file, ec)) {
      const pid_t pid = postmaster_pid_ > 0 ? postmaster_pid_ : read_postmaster_pid(pid_file);
      // Immediate: no shutdown checkpoint, the data is about to be deleted. pg_ctl -w returns once the
      // postmaster has removed its pid file, which it does after all its children have exited.
      bool stopped = false;
      if (log_fd_ >= 0 && !bin_dir_.empty()) {
        try {
          run_or_throw(
              "pg_ctl stop",
              {(bin_dir_ / "pg_ctl").string(), "-D", data.string(), "-m", "immediate", "-w", "-t", "60", "stop"}, 90);
          stopped = true;
        } catch (const std::exception&) {
          // Signalled directly below: the cluster must not outlive the test.
        }
      }
      if (pid > 0 && is_postgres(pid)) {
        // Without pg_ctl: SIGQUIT is what `stop -m immediate` sends (the postmaster takes its children
        // down before exiting); SIGKILL if even that does not end it.
        if (!stopped) ::kill(pid, SIGQUIT);
        // The pid file goes a moment before the process does; wait for the process itself so that
        // "no server left" holds when the destructor returns.
        if (!wait_until(pid, Clock::now() + std::chrono::seconds(10), false, nullptr)) {
          ::kill(pid, SIGKILL);
          wait_until(pid, Clock::now() + std::chrono::seconds(5), false, nullptr);
        }
      }
    }
  } catch (...) {
    // A destructor must not throw; the directory is still removed below.
  }
  if (log_fd_ >= 0) ::close(log_fd_);
  log_fd_ = -1;
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
}

std::string PostgresCluster::url_for(const std::string& database) const {
  const std::string host = options_.tcp_loopback ? "127.0.0.1" : percent_encode(dir_.string());
  return std::string("postgresql://") + kSuperuser + "@" + host + ":" + std::to_string(port_) + "/" +
         percent_encode(database);
}

std::string PostgresCluster::create_database(const std::string& name) {
  const bool valid = !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!valid) fail("create_database: invalid name '" + name + "' (letters, digits, '_', at most 63 bytes)");

  // connect_timeout and statement_timeout bound this call even if the server hangs.
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb((url() + "?connect_timeout=10").c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    fail("create_database " + name + ": connect: " + PQerrorMessage(conn.get()));
  }
  // template0 rather than the default template1: always pristine, and CREATE DATABASE from it never
  // fails because another session happens to be connected to the template.
  for (const std::string& sql : {std::string("SET statement_timeout = '60s'"),
                                 "CREATE DATABASE \"" + name + "\" TEMPLATE template0 ENCODING 'UTF8'"}) {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn.get(), sql.c_str()), PQclear);
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      fail("create_database " + name + ": " + sql + ": " + PQerrorMessage(conn.get()));
    }
  }
  return url_for(name);
}

std::string PostgresCluster::fresh_database(const std::string& prefix) {
  static std::atomic<int> next{0};
  return create_database(prefix + "_" + std::to_string(next++));
}

PostgresCluster& shared_postgres() {
  static PostgresCluster cluster;
  return cluster;
}

}  // namespace roundup::testing
