#pragma once
// How the retrieval sets in tests/data score a `search --json` result, exactly like
// ../shared/eval: it matches when an expected key is a substring (case-insensitive) of its
// arxiv_id, url or title, and, for a question with expect_roundup, of its snippet too, for a
// result listing that roundup.

#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace roundup::testing {

// One JSON object per non-blank line of `path` (a question set in tests/data); a missing file
// fails the test that reads it.
inline std::vector<nlohmann::json> read_questions(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "missing " << path);
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(nlohmann::json::parse(line));
  return out;
}

inline std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline bool result_matches(const nlohmann::json& result, const nlohmann::json& question) {
  std::string hay = result["arxiv_id"].is_null() ? "" : result["arxiv_id"].get<std::string>();
  hay += " " + result["url"].get<std::string>() + " " + result["title"].get<std::string>();
  if (question.contains("expect_roundup")) {
    bool listed = false;
    for (const auto& r : result["roundups"]) listed = listed || r["id"] == question["expect_roundup"];
    if (!listed) return false;
    hay += " " + result["snippet"].get<std::string>();
  }
  hay = ascii_lower(hay);
  for (const auto& key : question["expect"])
    if (hay.find(ascii_lower(key.get<std::string>())) != std::string::npos) return true;
  return false;
}

// The rank (0 = first) of the first matching result among the first `within`, if any.
inline std::optional<std::size_t> rank_of_answer(const nlohmann::json& results, const nlohmann::json& question,
                                                 std::size_t within = 5) {
  for (std::size_t i = 0; i < results.size() && i < within; ++i)
    if (result_matches(results[i], question)) return i;
  return std::nullopt;
}

}  // namespace roundup::testing
