#include "storage/wal_checkpointer.h"

#include "telemetry/metrics.h"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <climits>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/metrics_text.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::storage::WalCheckpointer;
using roundup::storage::WalCheckpointOptions;
using roundup::testing::TempDir;

struct Connection {
  sqlite3* db = nullptr;
  explicit Connection(const std::filesystem::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK); }
  ~Connection() { sqlite3_close_v2(db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const std::string& sql) const {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t count() const {
    sqlite3_stmt* statement = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM item", -1, &statement, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
    const auto rows = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return rows;
  }
};

// A WAL-mode database with one table, as the state store opens it.
std::unique_ptr<Connection> wal_database(const std::filesystem::path& file) {
  auto connection = std::make_unique<Connection>(file);
  connection->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
  connection->exec("CREATE TABLE item (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  return connection;
}

// One commit of about one 4 KiB page: a frame or two in the WAL.
void insert_row(const Connection& connection) {
  connection.exec("INSERT INTO item (payload) VALUES (printf('%.3000c', 'x'))");
}

// The database and small thresholds, so that a test
// crosses them in a few hundred commits.
struct SmallWal {
  TempDir dir;
  std::filesystem::path file = dir / "state.sqlite";
  std::unique_ptr<Connection> writer = wal_database(file);
  WalCheckpointOptions options = [] {
    WalCheckpointOptions small;
    small.background_every = 20;
    small.restart_frames = 100;
    small.inline_remainder = 10;
    small.hard_frames = 400;
    return small;
  }();

  std::uintmax_t wal_bytes() const { return std::filesystem::file_size(file.string() + "-wal"); }
  // WAL frames are a 4 KiB page plus a 24-byte header.
  static std::uintmax_t bytes_of(int frames) { return 4200U * static_cast<unsigned>(frames); }
  std::int64_t rows() const { return Connection(file).count(); }
};

// A series' value in the process's /metrics text; 0 before it exists.
std::uint64_t metric_value(const std::string& series) {
  return static_cast<std::uint64_t>(roundup::testing::sample_number(roundup::telemetry::metrics().render(), series));
}

}  // namespace

TEST_CASE("wal checkpointer: the writer checkpoints a small rest once the WAL is long and mostly copied") {
  WalCheckpointOptions options;
  options.restart_frames = 8000;
  options.inline_remainder = 256;
  options.hard_frames = 32000;
  using Action = roundup::storage::WalCommitAction;
  CHECK(roundup::storage::wal_commit_action(100, 0, options) == Action::none);
  CHECK(roundup::storage::wal_commit_action(7999, 7999, options) == Action::none);  // short: keep appending
  CHECK(roundup::storage::wal_commit_action(8000, 7744, options) == Action::checkpoint_rest);
  CHECK(roundup::storage::wal_commit_action(8000, 7743, options) ==
        Action::none);  // too much left: the background's job
  CHECK(roundup::storage::wal_commit_action(20000, 19990, options) == Action::checkpoint_rest);
  CHECK(roundup::storage::wal_commit_action(32000, 31990, options) == Action::checkpoint_whole);
  CHECK(roundup::storage::wal_commit_action(32000, 0, options) == Action::checkpoint_whole);
  // A count from before a restart (larger than the WAL now) means nothing is known to be copied.
  CHECK(roundup::storage::wal_commit_action(8100, 30000, options) == Action::none);
}

TEST_CASE("wal checkpointer: background checkpoints let the WAL start over while the writer pauses") {
  SmallWal wal;
  constexpr int k_commits = 1500;
  {
    WalCheckpointer checkpointer(wal.writer->db, wal.file, wal.options);
    for (int i = 0; i < k_commits; ++i) {
      insert_row(*wal.writer);
      // The background catches up before the next commit, which then finds the WAL fully
      // copied and starts it over.
      checkpointer.wait_idle();
    }
    const auto stats = checkpointer.stats();
    CHECK(stats.background > 0);
    CHECK(stats.restarts > 0);
    CHECK(stats.inline_full == 0);
    CHECK(stats.last_error.empty());
    CHECK(stats.largest_wal_frames < wal.options.background_every + 10);
    // Without restarts, 1,500 commits of a page or more would leave a WAL over 6 MB.
    CHECK(wal.wal_bytes() < SmallWal::bytes_of(wal.options.background_every + 10));
  }
  CHECK(wal.rows() == k_commits);
}

TEST_CASE("wal checkpointer: a writer that never pauses keeps its WAL bounded") {
  SmallWal wal;
  constexpr int k_commits = 3000;
  {
    WalCheckpointer checkpointer(wal.writer->db, wal.file, wal.options);
    for (int i = 0; i < k_commits; ++i) insert_row(*wal.writer);
    const auto stats = checkpointer.stats();
    CHECK(stats.restarts > 0);
    CHECK(stats.last_error.empty());
    CHECK(stats.largest_wal_frames < wal.options.hard_frames + 10);
    CHECK(wal.wal_bytes() < SmallWal::bytes_of(wal.options.hard_frames + 10));
  }
  CHECK(wal.rows() == k_commits);
}

TEST_CASE("wal checkpointer: the writer checkpoints everything itself when the background never runs") {
  const char* const whole_series = R"(roundup_state_wal_checkpoints_total{by="writer_whole"})";
  const auto whole_before = metric_value(whole_series);
  SmallWal wal;
  wal.options.background_every = INT_MAX;  // never woken
  wal.options.restart_frames = INT_MAX;
  wal.options.hard_frames = 200;
  constexpr int k_commits = 1000;
  {
    WalCheckpointer checkpointer(wal.writer->db, wal.file, wal.options);
    for (int i = 0; i < k_commits; ++i) insert_row(*wal.writer);
    const auto stats = checkpointer.stats();
    CHECK(stats.background == 0);
    CHECK(stats.inline_rest == 0);
    CHECK(stats.inline_full > 0);
    CHECK(metric_value(whole_series) - whole_before == stats.inline_full);  // the same count in /metrics
    CHECK(stats.restarts > 0);
    CHECK(stats.largest_wal_frames < wal.options.hard_frames + 10);
    CHECK(wal.wal_bytes() < SmallWal::bytes_of(wal.options.hard_frames + 10));
  }
  CHECK(wal.rows() == k_commits);
}

TEST_CASE("wal checkpointer: a reader holding an old snapshot delays the restart without losing data") {
  SmallWal wal;
  wal.options.hard_frames = 100;
  WalCheckpointer checkpointer(wal.writer->db, wal.file, wal.options);
  insert_row(*wal.writer);

  Connection reader(wal.file);
  reader.exec("BEGIN");
  CHECK(reader.count() == 1);  // the read transaction now pins this snapshot
  for (int i = 0; i < 300; ++i) {
    insert_row(*wal.writer);
    checkpointer.wait_idle();
  }
  // Frames the reader may still need cannot be copied back, so the WAL could not start over.
  CHECK(checkpointer.stats().restarts == 0);
  CHECK(checkpointer.stats().largest_wal_frames > wal.options.hard_frames);
  CHECK(reader.count() == 1);
  reader.exec("COMMIT");

  for (int i = 0; i < 300; ++i) {
    insert_row(*wal.writer);
    checkpointer.wait_idle();
  }
  CHECK(checkpointer.stats().restarts > 0);
  CHECK(reader.count() == 601);
}
