#pragma once
// A throwaway PostgreSQL 15 cluster for tests: initdb into a fresh temp directory, start a server that
// listens only on a Unix socket in that directory, and stop it and remove the directory at scope exit.
//
// Connection strings are libpq URIs with the socket directory percent-encoded as the host, e.g.
//   postgresql://roundup@%2Ftmp%2Froundup-pg-Ab12Cd:5432/postgres
// which PQconnectdb accepts as is. Authentication is `trust` and the superuser is `roundup`.
//
// Needs the server binaries (initdb, pg_ctl, postgres): Debian's postgresql-15 package puts them in
// /usr/lib/postgresql/15/bin, off PATH. Without them the constructor throws with that reason, so a
// test that needs the database fails and says why instead of skipping.
//
// Running as root (CI does): PostgreSQL refuses to run as root, so initdb and pg_ctl run as the
// `postgres` system user (created by the postgresql-common package) and the temp directory is given
// to that user. The test process itself stays root, and connects to the socket as root can.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace roundup::testing {

class PostgresCluster {
 public:
  // How the cluster runs. The defaults suit tests: a Unix socket only, and no durability (a cluster
  // deleted after the test need not survive a crash). Benchmarks want the server as it is deployed:
  // TCP on 127.0.0.1 (a free port) and PostgreSQL's own durability settings (fsync, synchronous
  // commit, full-page writes on).
  struct Options {
    bool tcp_loopback = false;
    bool durable = false;
  };
  // Starts the cluster; returns once it accepts connections. Throws std::runtime_error saying what
  // failed (with the tail of the log) if it cannot; nothing is left behind then.
  PostgresCluster() : PostgresCluster(Options{}) {}
  explicit PostgresCluster(Options options);
  // Stops the server (immediate: a test cluster has nothing worth a clean checkpoint) and removes
  // the directory. Never throws.
  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // URI of the `postgres` database, as the superuser `roundup`.
  std::string url() const { return url_for("postgres"); }
  // Creates an empty database `name` (letters, digits and '_', at most 63 bytes; it must not exist
  // yet) and returns its URI. Gives each test case a clean database without a new cluster.
  std::string create_database(const std::string& name);
  // create_database() with a name no other call in this process used ("<prefix>_<n>").
  std::string fresh_database(const std::string& prefix);

  // The temp directory: socket, data/ (the cluster), server.log (the server's log), commands.log
  // (initdb and pg_ctl output).
  const std::filesystem::path& dir() const { return dir_; }
  // The postmaster's pid, for tests that check it is gone.
  pid_t postmaster_pid() const { return postmaster_pid_; }

 private:
  std::string url_for(const std::string& database) const;
  void start();
  // Runs a server program as the cluster's owner, output appended to commands.log; throws on failure
  // with the log's tail.
  void run_or_throw(const std::string& what, const std::vector<std::string>& argv, int timeout_seconds);
  // Stops the server if it runs and removes dir_; for the destructor and a failed constructor.
  void cleanup() noexcept;

  std::filesystem::path dir_;
  std::filesystem::path bin_dir_;
  Options options_;
  // Without tcp_loopback it only names the socket file (.s.PGSQL.5432) in our own directory, with
  // no TCP listener, so clusters running side by side cannot collide on it.
  int port_ = 5432;
  pid_t postmaster_pid_ = -1;
  int log_fd_ = -1;  // commands.log
};

// One cluster per test process, started on first use and stopped at exit: each test case that
// needs PostgreSQL takes a fresh_database() in it rather than paying for a cluster of its own.
PostgresCluster& shared_postgres();

}  // namespace roundup::testing
