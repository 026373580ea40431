#include "storage/sqlite.h"

#include <sqlite3.h>

namespace roundup::storage {

Database::Database(const std::filesystem::path& file, Options options) : options_(std::move(options)) {
  const int flags =
      (options_.mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      (options_.serialized ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX);
  if (sqlite3_open_v2(file.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    const std::string reason = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    raise("cannot open " + (options_.name.empty() ? std::string() : options_.name + " ") + file.string() + ": " +
          reason);
  }
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
}

Database::~Database() {
  sqlite3_close_v2(db_);
}

void Database::raise(const std::string& message) const {
  if (options_.raise) options_.raise(message);
  throw SqliteError(message);
}

void Database::fail(std::string_view what) const {
  raise(options_.error_prefix + std::string(what) + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory"));
}

void Database::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    raise(options_.error_prefix + message);
  }
}

std::int64_t Database::changes() const noexcept {
  return sqlite3_changes64(db_);
}

int Database::user_version() {
  Statement version(*this, "PRAGMA user_version");
  version.step();
  return static_cast<int>(version.integer(0));
}

void Database::set_user_version(int version) {
  exec(("PRAGMA user_version = " + std::to_string(version)).c_str());
}

void Database::rollback() noexcept {
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Statement::Statement(Database& db, std::string_view sql, Lifetime lifetime) : db_(db) {
  const unsigned flags = lifetime == Lifetime::cached ? SQLITE_PREPARE_PERSISTENT : 0;
  if (sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()), flags, &stmt_, nullptr) != SQLITE_OK) {
    db.fail(sql);
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) db_.fail("bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT) != SQLITE_OK) {
    db_.fail("bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) db_.fail("bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(sqlite3_sql(stmt_));
}

void Statement::run() {
  ResetOnExit reset{*this};
  while (step()) {
  }
}

void Statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}
double Statement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}
bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

}  // namespace roundup::storage
