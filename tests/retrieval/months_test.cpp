#include "retrieval/months.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

namespace {

std::optional<std::string> month_of(std::string_view text) {
  auto mention = roundup::retrieval::find_month_mention(text);
  if (!mention) return std::nullopt;
  return mention->month;
}

}  // namespace

TEST_CASE("months: the forms questions and roundup headers use") {
  CHECK(month_of("2023年2月的论文") == "2023-02");
  CHECK(month_of("2022 年 4 月份") == "2022-04");
  CHECK(month_of("Monthly roundup, November 2021") == "2021-11");
  CHECK(month_of("what was in the feb. 2023 roundup?") == "2023-02");
  CHECK(month_of("SEPT 2022") == "2022-09");
  CHECK(month_of("the roundup of june of 2022") == "2022-06");
  CHECK(month_of("Published March 8, 2024") == "2024-03");
  CHECK(month_of("Jun 30th, 2023") == "2023-06");
  CHECK(month_of("2022 jan papers") == "2022-01");
  CHECK(month_of("roundup 2021-11") == "2021-11");
  CHECK(month_of("2021/3 issue") == "2021-03");
}

TEST_CASE("months: the span is the words that named the month") {
  const std::string text = "anything from 2021-11, please";
  const auto mention = roundup::retrieval::find_month_mention(text);
  REQUIRE(mention);
  CHECK(mention->span == "2021-11");
  const std::string named = "was there a Nov. 2021 paper";
  CHECK(roundup::retrieval::find_month_mention(named)->span == "Nov. 2021");
}

TEST_CASE("months: numbers and words that are not months") {
  CHECK_FALSE(month_of("a 2022 paper"));
  CHECK_FALSE(month_of("marketing 2022"));  // a word starting like a month is not one
  CHECK_FALSE(month_of("2023-13"));
  CHECK_FALSE(month_of("1850-02"));
  CHECK_FALSE(month_of("12345-01"));  // not a four-digit year
  CHECK_FALSE(month_of("2023年13月"));
  CHECK(month_of("2023年13月, then 2023-05") == "2023-05");  // an impossible month gives way to a later form
  CHECK_FALSE(month_of(""));
}

TEST_CASE("months: format_month checks its range") {
  using roundup::retrieval::format_month;
  CHECK(format_month(2023, 2) == "2023-02");
  CHECK(format_month(1989, 2).empty());
  CHECK(format_month(2100, 1).empty());
  CHECK(format_month(2023, 0).empty());
}
