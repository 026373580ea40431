#include "retrieval/months.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <string>

#include "retrieval/pattern.h"

namespace roundup::retrieval {

namespace {

int number(std::string_view digits) {
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// 1..12 for a name the patterns below accepted ("jan", "Sept", "february").
int month_from_name(std::string_view word) {
  static constexpr std::array<std::string_view, 12> k_prefixes = {"jan", "feb", "mar", "apr", "may", "jun",
                                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
  if (word.size() < 3) return 0;
  for (std::size_t i = 0; i < k_prefixes.size(); ++i) {
    bool same = true;
    for (std::size_t j = 0; j < 3; ++j) same = same && (word[j] | 0x20) == k_prefixes[i][j];
    if (same) return static_cast<int>(i) + 1;
  }
  return 0;
}

// An English month name, whole or abbreviated, as a capture group.
constexpr std::string_view k_month_name =
    "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|"
    "nov(?:ember)?|dec(?:ember)?)";

std::string with_month_name(std::string_view before, std::string_view after) {
  std::string pattern(before);
  pattern += k_month_name;
  pattern += after;
  return pattern;
}

}  // namespace

std::string format_month(int year, int month) {
  if (year < 1990 || year > 2099 || month < 1 || month > 12) return {};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d", year, month);
  return buffer;
}

std::optional<MonthMention> find_month_mention(std::string_view text) {
  static const Pattern k_chinese(R"((\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?)");
  static const Pattern k_dated(with_month_name(R"((?i)\b)", R"(\.?\s+\d{1,2}(?:st|nd|rd|th)?,\s*(\d{4})\b)"));
  static const Pattern k_name_year(with_month_name(R"((?i)\b)", R"(\.?,?\s+(?:of\s+)?(\d{4})\b)"));
  static const Pattern k_year_name(with_month_name(R"((?i)\b(\d{4})\s+)", R"(\b)"));
  static const Pattern k_numeric(R"((?:^|[^\d])((\d{4})[-/.](\d{1,2}))(?:[^\d]|$))");

  const auto mention = [](int year, int month, std::string_view span) -> std::optional<MonthMention> {
    std::string formatted = format_month(year, month);
    if (formatted.empty()) return std::nullopt;
    return MonthMention{std::move(formatted), span};
  };
  if (const auto m = first_match(text, k_chinese)) {
    if (auto found = mention(number((*m)[1]), number((*m)[2]), (*m)[0])) return found;
  }
  if (const auto m = first_match(text, k_dated)) {
    if (auto found = mention(number((*m)[2]), month_from_name((*m)[1]), (*m)[0])) return found;
  }
  if (const auto m = first_match(text, k_name_year)) {
    if (auto found = mention(number((*m)[2]), month_from_name((*m)[1]), (*m)[0])) return found;
  }
  if (const auto m = first_match(text, k_year_name)) {
    if (auto found = mention(number((*m)[1]), month_from_name((*m)[2]), (*m)[0])) return found;
  }
  if (const auto m = first_match(text, k_numeric)) {
    // The separators around the date are not part of it.
    if (auto found = mention(number((*m)[2]), number((*m)[3]), (*m)[1])) return found;
  }
  return std::nullopt;
}

}  // namespace roundup::retrieval
