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
  explicit Result(pg_result* result) noexcept : result_(result) {}
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
};

class Connection {
 public:
  // Connects (libpq reads PG* environment variables for what `url` leaves out, such as
  // PGPASSWORD). Throws through `raise` when it cannot.
  Connection(std::string url, RaiseError raise);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (several statements allowed, no parameters).
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

  std::string url_;
  RaiseError raise_;
  pg_conn* conn_ = nullptr;
};

}  // namespace roundup::storage::postgres
