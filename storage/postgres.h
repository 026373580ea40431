#pragma once
// The one libpq wrapper: a connection, results that free themselves, parameterised statements
// (text format; values never spliced into SQL) and transactions. Errors throw through a
// caller-chosen function, as storage/sqlite.h does, so a store raises its own error type.
//
// A connection is not thread-safe; its owner serialises calls. Messages never contain the
// connection string (it may carry a password): describe_url() gives a safe form for logs.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/raise_error.h"
#include "storage/transaction.h"

struct pg_conn;
struct pg_result;

namespace roundup::storage::postgres {

// "postgresql://user@host:port/db" from a URI or "key=value" connection string: no password, no
// other parameters. For logs and errors.
std::string describe_url(std::string_view url);

// A text parameter, or SQL NULL.
using Param = std::optional<std::string>;

class Result {
 public:
  Result(pg_result* result, RaiseError raise) noexcept : result_(result), raise_(raise) {}
  Result(Result&& other) noexcept;
  Result& operator=(Result&& other) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  ~Result();

  pg_result* get() const noexcept { return result_; }
  int rows() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  // Rows a command changed (INSERT, UPDATE, DELETE), from its command tag.
  std::int64_t affected() const;

 private:
  pg_result* result_;
  RaiseError raise_;
};

class Connection {
 public:
  // Connects (libpq reads PG* environment variables for what `url` leaves out, such as
  // PGPASSWORD). Throws through `raise` when it cannot. Unless `url` says otherwise, a connection
  // attempt gives up after 10 s and a dead peer is noticed within about 30 s (TCP keepalives and
  // tcp_user_timeout), so no call waits on a vanished server for long. `session_sql` runs after
  // every (re)connect: settings a session must keep, such as a statement timeout.
  Connection(std::string url, RaiseError raise, std::string session_sql = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (several statements allowed, no parameters).
  // Text parameters must be UTF-8 without NUL (the database's encoding); query() replaces invalid
  // sequences and NUL bytes with U+FFFD rather than fail on peer bytes it only records.
  void exec(std::string_view sql);
  // One statement with $1..$n parameters.
  Result query(std::string_view sql, const std::vector<Param>& params = {});

  // Runs `body` between BEGIN and COMMIT, rolling back when it throws. Not reentrant.
  template <typename Body>
  auto transaction(Body&& body) -> decltype(body()) {
    return in_transaction([this] { exec("BEGIN"); }, [this] { exec("COMMIT"); }, [this] { rollback_quietly(); },
                          std::forward<Body>(body));
  }

  // After a lost connection (a server restart, a failover), one reconnect attempt before the next
  // call; the call itself still fails if the server is gone. Returns true when it reconnected:
  // session state (advisory locks, SET) is gone then, and the owner restores what it needs.
  bool reconnect_if_broken();

 private:
  [[noreturn]] void fail(const std::string& what);
  void rollback_quietly() noexcept;

  void set_up_session();

  std::string url_;
  RaiseError raise_;
  std::string session_sql_;
  pg_conn* conn_ = nullptr;
};

}  // namespace roundup::storage::postgres
