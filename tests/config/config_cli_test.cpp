// The built binary's configuration errors, as an operator sees them on a terminal or in a unit's
// journal: `config check` and `serve` name the key and the position, never a value from the file.

#include <doctest/doctest.h>

#include <string>

#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::testing::run_process;
using roundup::testing::TempDir;
using roundup::testing::write_file;

// Both commands, each of which must fail on `file` (exit 2) without printing "LEAK".
void check_both_commands(const TempDir& tmp, const std::string& file, const std::string& expected) {
  for (const char* command : {"check", "serve"}) {
    CAPTURE(command);
    const auto r = std::string(command) == "check"
                       ? run_process({ROUNDUP_BINARY, "--config", file, "config", "check"}, tmp.path())
                       : run_process({ROUNDUP_BINARY, "--config", file, "serve"}, tmp.path());
    CAPTURE(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(expected) != std::string::npos);
    CHECK(r.err.find("LEAK") == std::string::npos);
    CHECK(r.out.find("LEAK") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("cli config errors: a token cut off in the file is never printed - the position is") {
  TempDir tmp;
  write_file(tmp / "cut.json", "{\n  \"listen\": \"127.0.0.1:0\",\n  \"slack\": {\"bot_token\": \"xoxb-LEAK-1234\n}\n");
  check_both_commands(tmp, (tmp / "cut.json").string(), "at line 3, column");
}

TEST_CASE("cli config errors: malformed values are named by key only") {
  TempDir tmp;
  write_file(tmp / "values.json",
             R"({"listen": "127.0.0.1:0", "log_level": "xoxb-LEAK", "digest": {"timezone": "xoxb-LEAK"},
                 "admins": ["xoxb-LEAK"], "corpus_dir": "/nonexistent/xoxb-LEAK",
                 "retrieval": {"fusion": {"method": "xoxb-LEAK"}}})");
  check_both_commands(tmp, (tmp / "values.json").string(), "digest.timezone");
}
