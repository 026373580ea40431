#pragma once
// The one month grammar, for questions ("what was in the Feb 2023 roundup?") and for roundup
// headers ("2022 年 4 月", "November 2021", "March 8, 2024"): months are "YYYY-MM" strings.

#include <optional>
#include <string>
#include <string_view>

namespace roundup::retrieval {

// "YYYY-MM" for a year in 1990..2099 and a month in 1..12; empty otherwise.
std::string format_month(int year, int month);

struct MonthMention {
  std::string month;      // "YYYY-MM"
  std::string_view span;  // the words that named it, a view into the searched text
};

// The first month `text` names, trying in order: "2023年2月" (and "2023 年 2 月份"), "March 8, 2024",
// "Nov. 2021" / "November of 2021", "2022 jan", then "2021-11" / "2021/11" / "2021.11". English
// month names are matched whole or abbreviated ("sep", "sept"), in any case. Linear time (RE2).
std::optional<MonthMention> find_month_mention(std::string_view text);

}  // namespace roundup::retrieval
