#pragma once
// The one SQLite wrapper: a connection, cached or one-off prepared statements, and IMMEDIATE
// transactions. Its users (the bot's state store, the retrieval index) keep their own exception
// types: a Database raises through the function it was opened with, so a caller's `catch
// (const StateError&)` or `catch (const IndexError&)` still sees every SQLite failure.
//
// Not thread-safe by itself: a Database opened with `serialized` may be used from several threads
// (SQLite's own mutex), but a Statement is one thread's at a time; callers lock around it.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "storage/raise_error.h"
#include "storage/transaction.h"

struct sqlite3;
struct sqlite3_stmt;

namespace roundup::storage {

class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Database {
 public:
  enum class Mode { read_only, read_write_create };
  struct Options {
    Mode mode = Mode::read_write_create;
    // SQLite's FULLMUTEX: the connection may be shared between threads.
    bool serialized = false;
    // Another process holding the write lock makes a statement wait this long, not fail.
    int busy_timeout_ms = 10000;
    // Names the database in "cannot open <name> <file>: ..." ("state database"); may be empty.
    std::string name;
    // Prefixes every other error message, e.g. "state database: ".
    std::string error_prefix = "SQLite: ";
    RaiseError raise = nullptr;  // nullptr: throw SqliteError
  };

  // Opens `file` (its directory must exist). Raises "cannot open <name> <file>: <reason>" when it
  // cannot.
  Database(const std::filesystem::path& file, Options options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const noexcept { return db_; }

  // Runs one or more statements that return no rows.
  void exec(const char* sql);
  // Rows changed by the latest INSERT, UPDATE or DELETE on this connection.
  std::int64_t changes() const noexcept;
  // PRAGMA user_version: the schema version a migration wrote.
  int user_version();
  void set_user_version(int version);

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT and returns what it returns; rolls back and
  // rethrows when it throws. IMMEDIATE takes the write lock up front, so a second process waits
  // (busy timeout) instead of failing half-way through.
  template <typename Body>
  auto transaction(Body&& body) {
    return in_transaction([this] { exec("BEGIN IMMEDIATE"); }, [this] { exec("COMMIT"); }, [this] { rollback(); },
                          std::forward<Body>(body));
  }

  // Raises the caller's error: error_prefix + what + ": " + SQLite's message for this connection.
  [[noreturn]] void fail(std::string_view what) const;
  // Raises the caller's error with exactly `message`.
  [[noreturn]] void raise(const std::string& message) const;

 private:
  void rollback() noexcept;

  sqlite3* db_ = nullptr;
  Options options_;
};

// A prepared statement. `cached` ones (SQLITE_PREPARE_PERSISTENT) live as long as their
// connection and are reset after each use; run() and ResetOnExit do that.
class Statement {
 public:
  enum class Lifetime { once, cached };
  Statement(Database& db, std::string_view sql, Lifetime lifetime = Lifetime::once);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_null(int index);
  // True while a row is available.
  bool step();
  // Steps to the end, then resets, also when a step throws: a statement left halted after an
  // error would refuse every later bind (SQLITE_MISUSE) and wedge a cached statement for good.
  void run();
  void reset() noexcept;

  std::int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  std::string text(int column) const;

 private:
  Database& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when a scope ends, also on exceptions.
struct ResetOnExit {
  Statement& statement;
  ~ResetOnExit() { statement.reset(); }
};

}  // namespace roundup::storage
