#include "storage/postgres.h"

#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <utility>

#include "text/unicode.h"

namespace roundup::storage::postgres {
namespace {

// libpq's messages end in a newline and may span lines; one line reads better in a log.
std::string one_line(const char* message) {
  std::string out = message != nullptr ? message : "";
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

}  // namespace

std::string describe_url(std::string_view url) {
  // libpq's own parser, so that what we describe is what it would connect to.
  char* error = nullptr;
  const std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> options(
      PQconninfoParse(std::string(url).c_str(), &error));
  if (error != nullptr) PQfreemem(error);  // may quote the string: not shown
  if (!options) return "postgresql://(unreadable connection string)";
  std::string user, host, port, dbname;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "user") user = o->val;
    if (key == "host") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  return "postgresql://" + (user.empty() ? "" : user + "@") + host + (port.empty() ? "" : ":" + port) + "/" + dbname;
}

Result::Result(Result&& other) noexcept : result_(std::exchange(other.result_, nullptr)), raise_(other.raise_) {}

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
    raise_ = other.raise_;
  }
  return *this;
}

Result::~Result() {
  PQclear(result_);
}

int Result::rows() const {
  return PQntuples(result_);
}

bool Result::is_null(int row, int column) const {
  return PQgetisnull(result_, row, column) != 0;
}

std::string Result::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Result::integer(int row, int column) const {
  const char* value = PQgetvalue(result_, row, column);
  const char* end = value + PQgetlength(result_, row, column);
  std::int64_t number = 0;
  const auto [stop, error] = std::from_chars(value, end, number);
  if (error != std::errc() || stop != end) {
    raise_("postgres: column " + std::to_string(column) + " is not an integer");
    throw std::runtime_error("postgres: column is not an integer");  // raise_ must throw
  }
  return number;
}

std::int64_t Result::affected() const {
  const char* tuples = PQcmdTuples(result_);
  std::int64_t number = 0;
  std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), number);
  return number;
}

Connection::Connection(std::string url, RaiseError raise, std::string session_sql)
    : url_(std::move(url)), raise_(raise), session_sql_(std::move(session_sql)) {
  // Parsed first and on its own: libpq's parse errors quote the offending piece of the string,
  // which may be the password.
  char* parse_error = nullptr;
  const std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> parsed(PQconninfoParse(url_.c_str(), &parse_error));
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (!parsed) fail("cannot read the PostgreSQL connection string (a libpq URI or key=value string is expected)");
  // Defaults first: expand_dbname lets the string's own settings override them.
  const char* keywords[] = {"connect_timeout",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "tcp_user_timeout",
                            "dbname",
                            nullptr};
  const char* values[] = {"10", "30", "10", "3", "30000", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) fail("cannot connect to " + describe_url(url_) + ": out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    // libpq's connection errors name the host, port and user, never the password.
    const std::string why = one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    fail("cannot connect to " + describe_url(url_) + ": " + why);
  }
  // Notices (a NOTICE from CREATE TABLE IF NOT EXISTS) would go to stderr by default.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  set_up_session();
}

void Connection::set_up_session() {
  if (!session_sql_.empty()) exec(session_sql_);
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void Connection::fail(const std::string& what) {
  raise_(what);
  throw std::runtime_error(what);  // raise_ must throw; this keeps [[noreturn]] honest if it does not
}

bool Connection::reconnect_if_broken() {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_BAD) return false;
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return false;
  set_up_session();
  return true;
}

void Connection::exec(std::string_view sql) {
  const Result result(PQexec(conn_, std::string(sql).c_str()), raise_);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail("postgres: " + one_line(PQerrorMessage(conn_)));
  }
}

Result Connection::query(std::string_view sql, const std::vector<Param>& params) {
  std::vector<std::string> cleaned;
  std::vector<const char*> values;
  cleaned.reserve(params.size());  // no reallocation: values points into it
  values.reserve(params.size());
  for (const Param& p : params) {
    if (!p) {
      values.push_back(nullptr);
    } else if (p->find('\0') == std::string::npos && is_valid_utf8(*p)) {
      values.push_back(p->c_str());
    } else {
      // decode_utf8 turns invalid sequences into U+FFFD; NUL, valid UTF-8 but refused by
      // PostgreSQL's text type, too.
      std::u32string points = decode_utf8(*p);
      for (char32_t& point : points) {
        if (point == 0) point = 0xFFFD;
      }
      values.push_back(cleaned.emplace_back(encode_utf8(points)).c_str());
    }
  }
  Result result(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                             nullptr, nullptr, 0),
                raise_);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    fail("postgres: " + one_line(PQerrorMessage(conn_)));
  }
  return result;
}

void Connection::rollback_quietly() noexcept {
  if (conn_ != nullptr) PQclear(PQexec(conn_, "ROLLBACK"));
}

}  // namespace roundup::storage::postgres
