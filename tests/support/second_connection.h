#pragma once
// SQL on a database file through a second connection, as another process would run it: a test
// injects a failure (a trigger, a held lock) without a hook in the product code.

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>

namespace roundup::testing {

inline void exec_on(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace roundup::testing
