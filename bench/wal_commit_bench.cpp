// WAL commit latency under different checkpointing: why the state store uses WalCheckpointer.
//   roundup-wal-commit-bench [--dir D] [--seconds 8] [--commits-per-second 2000] [--rows 10]
// Each mode writes a fresh database in --dir (its file system is the point: default TMPDIR or
// /tmp), the way the inbox's group commit does: BEGIN IMMEDIATE, --rows inserts of a 900-byte
// payload with a unique key, COMMIT, paced at --commits-per-second (open loop). It prints, per mode,
// the commit latency distribution, how many commits took over 2 ms and how large the WAL grew:
//   auto        SQLite's automatic checkpoint (every 1,000 pages, inside the COMMIT that crosses it)
//   none        no checkpoint at all (the WAL grows without bound): the floor
//   periodic    a second connection runs a PASSIVE checkpoint every 200 ms, nothing else
//   checkpointer  storage::WalCheckpointer, as the state store uses it

#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/wal_checkpointer.h"

namespace {

using Clock = std::chrono::steady_clock;

double millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, error ? error : "?");
    std::exit(1);
  }
}

// A statement that fails would leave the benchmark timing empty commits: stop instead.
[[noreturn]] void fail(sqlite3* db, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
  std::exit(1);
}

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

struct Settings {
  std::string dir;
  double seconds = 8;
  int commits_per_second = 2000;
  int rows = 10;
};

void run(const std::string& mode, const Settings& settings) {
  const std::string path = settings.dir + "/wal-commit-bench.sqlite";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA synchronous = NORMAL");
  exec(db,
       "CREATE TABLE inbound (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, "
       "state TEXT NOT NULL, received_ms INTEGER NOT NULL); CREATE INDEX inbound_pending ON inbound (state, id)");

  std::unique_ptr<roundup::storage::WalCheckpointer> checkpointer;
  std::atomic<bool> stop{false};
  std::thread periodic;
  if (mode == "none") sqlite3_wal_autocheckpoint(db, 0);
  if (mode == "checkpointer") checkpointer = std::make_unique<roundup::storage::WalCheckpointer>(db, path);
  if (mode == "periodic") {
    sqlite3_wal_autocheckpoint(db, 0);
    periodic = std::thread([&] {
      sqlite3* other = nullptr;
      sqlite3_open(path.c_str(), &other);
      exec(other, "PRAGMA journal_mode");  // else it does not know the WAL and checkpoints nothing
      while (!stop.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        sqlite3_wal_checkpoint_v2(other, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      }
      sqlite3_close(other);
    });
  }

  sqlite3_stmt* insert = nullptr;
  if (sqlite3_prepare_v2(db, "INSERT INTO inbound (key, payload, state, received_ms) VALUES (?1, ?2, 'pending', ?3)",
                         -1, &insert, nullptr) != SQLITE_OK) {
    fail(db, "prepare");
  }
  const std::string payload(900, 'x');
  std::vector<double> latencies;
  std::uintmax_t largest_wal = 0;
  long key = 0;
  const auto period = std::chrono::nanoseconds(1'000'000'000LL / settings.commits_per_second);
  const auto start = Clock::now();
  auto next = start;
  while (Clock::now() - start < std::chrono::duration<double>(settings.seconds)) {
    next += period;
    std::this_thread::sleep_until(next);
    const auto begin = Clock::now();
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < settings.rows; ++i) {
      const std::string name = "ev" + std::to_string(key++);
      sqlite3_bind_text(insert, 1, name.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, payload.c_str(), static_cast<int>(payload.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 3, key);
      if (sqlite3_step(insert) != SQLITE_DONE) fail(db, "insert");
      sqlite3_reset(insert);
    }
    exec(db, "COMMIT");
    latencies.push_back(millis(Clock::now() - begin));
    if (latencies.size() % 256 == 0) largest_wal = std::max(largest_wal, file_bytes(path + "-wal"));
  }
  stop = true;
  if (periodic.joinable()) periodic.join();
  largest_wal = std::max(largest_wal, file_bytes(path + "-wal"));
  sqlite3_finalize(insert);
  checkpointer.reset();
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  std::sort(latencies.begin(), latencies.end());
  const auto quantile = [&](double q) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(q * static_cast<double>(latencies.size())))];
  };
  const auto slow = std::count_if(latencies.begin(), latencies.end(), [](double ms) { return ms > 2.0; });
  std::printf("%-13s %8zu %8.3f %8.3f %9.3f %8.2f %8ld %10.1f\n", mode.c_str(), latencies.size(), quantile(0.5),
              quantile(0.99), quantile(0.999), latencies.back(), static_cast<long>(slow),
              static_cast<double>(largest_wal) / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  const char* tmp = std::getenv("TMPDIR");
  settings.dir = tmp && *tmp ? tmp : "/tmp";
  std::vector<std::string> modes{"auto", "none", "periodic", "checkpointer"};
  CLI::App app{"WAL commit latency under different checkpointing"};
  app.add_option("--dir", settings.dir, "where the database goes (its file system matters)");
  app.add_option("--seconds", settings.seconds, "per mode")->check(CLI::Range(0.5, 120.0));
  app.add_option("--commits-per-second", settings.commits_per_second, "offered rate")->check(CLI::Range(1, 100000));
  app.add_option("--rows", settings.rows, "inserts per commit")->check(CLI::Range(1, 10000));
  app.add_option("--modes", modes, "auto none periodic checkpointer");
  CLI11_PARSE(app, argc, argv);

  std::printf("# %d commits/s of %d rows for %.1f s per mode, database in %s\n", settings.commits_per_second,
              settings.rows, settings.seconds, settings.dir.c_str());
  std::printf("%-13s %8s %8s %8s %9s %8s %8s %10s\n", "mode", "commits", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
              ">2 ms", "max WAL MB");
  for (const auto& mode : modes) run(mode, settings);
  return 0;
}
