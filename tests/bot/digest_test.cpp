#include "bot/digest.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "tests/support/digest_support.h"
#include "text/unicode.h"

namespace {

using namespace std::chrono_literals;
using roundup::bot::DigestSchedule;
using roundup::bot::DigestSelection;
using roundup::retrieval::Catalog;
using roundup::retrieval::ItemKind;
using roundup::retrieval::Paper;
using std::chrono::system_clock;

using roundup::testing::utc;

DigestSchedule at(int hour, int minute, std::string zone) {
  return DigestSchedule{hour, minute, std::move(zone)};
}

using roundup::testing::bundled_catalog;

// The month of the newest roundup that features the paper (where the digest order places it).
std::string featured_month(const Catalog& catalog, const Paper& paper) {
  std::string month;
  for (const auto& ref : paper.occurrences)
    if (catalog.item(ref).kind == ItemKind::paper) month = std::max(month, catalog.roundups()[ref.roundup].month);
  return month;
}

std::size_t featured_papers(const Catalog& catalog) {
  return static_cast<std::size_t>(std::count_if(catalog.papers().begin(), catalog.papers().end(),
                                                [](const Paper& p) { return p.kind == ItemKind::paper; }));
}

}  // namespace

TEST_CASE("digest: parse_time_of_day reads HH:MM within a day") {
  using roundup::bot::parse_time_of_day;
  CHECK(parse_time_of_day("09:00") == std::pair{9, 0});
  CHECK(parse_time_of_day("9:05") == std::pair{9, 5});
  CHECK(parse_time_of_day("00:00") == std::pair{0, 0});
  CHECK(parse_time_of_day("23:59") == std::pair{23, 59});
  for (const char* bad : {"", "9", "24:00", "12:60", "09:0", "0900", " 09:00", "09:00 ", "a9:00", "-1:00", "123:00",
                          "09:00:00", "09-00", ":00", "09:+5"})
    CHECK_MESSAGE(!parse_time_of_day(bad), bad);
}

TEST_CASE("digest: valid_timezone knows the tz database") {
  using roundup::bot::valid_timezone;
  CHECK(valid_timezone("Asia/Shanghai"));
  CHECK(valid_timezone("America/New_York"));
  CHECK(valid_timezone("UTC"));
  CHECK(valid_timezone(DigestSchedule{}.timezone));
  CHECK_FALSE(valid_timezone("Mars/Base"));
  CHECK_FALSE(valid_timezone(""));
  CHECK_FALSE(valid_timezone("../../etc/passwd"));
  CHECK_THROWS_AS(roundup::bot::due_time(utc(2026, 11, 22, 0), at(9, 0, "Mars/Base")), std::invalid_argument);
  CHECK_THROWS_AS(roundup::bot::local_date(utc(2026, 11, 22, 0), at(24, 0, "UTC")), std::invalid_argument);
}

TEST_CASE("digest: due_time in Shanghai and New York - summer and winter") {
  using roundup::bot::due_time;
  // Shanghai is UTC+8 all year.
  CHECK(due_time(utc(2026, 11, 22, 3), at(9, 0, "Asia/Shanghai")) == utc(2026, 11, 22, 1));
  CHECK(due_time(utc(2026, 7, 1, 12), at(9, 0, "Asia/Shanghai")) == utc(2026, 7, 1, 1));
  // New York: EST (UTC-5) in winter, EDT (UTC-4) in summer.
  CHECK(due_time(utc(2026, 1, 15, 20), at(9, 0, "America/New_York")) == utc(2026, 1, 15, 14));
  CHECK(due_time(utc(2026, 7, 15, 20), at(9, 0, "America/New_York")) == utc(2026, 7, 15, 13));
  CHECK(due_time(utc(2026, 1, 15, 20), at(9, 0, "UTC")) == utc(2026, 1, 15, 9));
}

TEST_CASE("digest: due_time on daylight-saving change days") {
  using roundup::bot::due_time;
  const DigestSchedule spring = at(2, 30, "America/New_York");
  // 2026-03-08: clocks jump from 02:00 EST to 03:00 EDT; 02:30 does not exist -> 03:00 EDT.
  CHECK(due_time(utc(2026, 3, 8, 12), spring) == utc(2026, 3, 8, 7));
  // The day before and after are ordinary.
  CHECK(due_time(utc(2026, 3, 7, 12), spring) == utc(2026, 3, 7, 7, 30));
  CHECK(due_time(utc(2026, 3, 9, 12), spring) == utc(2026, 3, 9, 6, 30));
  // 2026-11-01: 01:30 happens twice (EDT, then EST) -> the earlier, 05:30 UTC.
  CHECK(due_time(utc(2026, 11, 1, 12), at(1, 30, "America/New_York")) == utc(2026, 11, 1, 5, 30));
  // A time outside the change keeps its own offset on the change day.
  CHECK(due_time(utc(2026, 11, 1, 20), at(9, 0, "America/New_York")) == utc(2026, 11, 1, 14));
  CHECK(due_time(utc(2026, 3, 8, 20), at(9, 0, "America/New_York")) == utc(2026, 3, 8, 13));
}

TEST_CASE("digest: local_date and the date boundary") {
  using roundup::bot::local_date;
  const DigestSchedule shanghai = at(9, 0, "Asia/Shanghai");
  // 17:00 UTC on the 22nd is 01:00 on the 23rd in Shanghai, still the 22nd in New York.
  const auto now = utc(2026, 11, 22, 17);
  CHECK(local_date(now, shanghai) == "2026-11-23");
  CHECK(local_date(now, at(9, 0, "America/New_York")) == "2026-11-22");
  CHECK(local_date(utc(2026, 11, 22, 15, 59), shanghai) == "2026-11-22");
  CHECK(local_date(utc(2026, 11, 22, 16), shanghai) == "2026-11-23");
  // Today's digest in Shanghai is the 23rd's, not yet due; the 22nd's was posted.
  CHECK(roundup::bot::due_time(now, shanghai) == utc(2026, 11, 23, 1));
  CHECK_FALSE(roundup::bot::digest_due(now, shanghai, "2026-11-22"));
  CHECK(roundup::bot::next_due_after(now, shanghai) == utc(2026, 11, 23, 1));
  CHECK(roundup::bot::digest_due(utc(2026, 11, 23, 1), shanghai, "2026-11-22") == "2026-11-23");
}

TEST_CASE("digest: digest_due posts once per local day - late the same day - never the next") {
  using roundup::bot::digest_due;
  const DigestSchedule shanghai = at(9, 0, "Asia/Shanghai");  // due 01:00 UTC
  SUBCASE("before the due time: nothing") {
    CHECK_FALSE(digest_due(utc(2026, 11, 22, 0, 59), shanghai, "2026-11-21"));
  }
  SUBCASE("at and after the due time: today's") {
    CHECK(digest_due(utc(2026, 11, 22, 1), shanghai, "2026-11-21") == "2026-11-22");
    CHECK(digest_due(utc(2026, 11, 22, 2), shanghai, "") == "2026-11-22");
  }
  SUBCASE("already posted today: nothing") {
    CHECK_FALSE(digest_due(utc(2026, 11, 22, 2), shanghai, "2026-11-22"));
  }
  SUBCASE("down all morning, back in the afternoon: due once") {
    std::string last = "2026-11-21";
    const auto back = utc(2026, 11, 22, 7);  // 15:00 local
    const auto due = digest_due(back, shanghai, last);
    REQUIRE(due);
    CHECK(*due == "2026-11-22");
    last = *due;
    // A restart after posting, or any later tick that day: nothing more.
    CHECK_FALSE(digest_due(back + 5min, shanghai, last));
    CHECK_FALSE(digest_due(utc(2026, 11, 22, 15, 59), shanghai, last));
  }
  SUBCASE("down for a whole local day: yesterday's is skipped, today's waits for 09:00") {
    CHECK_FALSE(digest_due(utc(2026, 11, 23, 0), shanghai, "2026-11-21"));  // 08:00 local on the 23rd
    CHECK(digest_due(utc(2026, 11, 23, 1), shanghai, "2026-11-21") == "2026-11-23");
  }
  SUBCASE("a last date later than today (clock or zone changed) counts as posted") {
    CHECK_FALSE(digest_due(utc(2026, 11, 22, 2), shanghai, "2026-11-23"));
  }
  SUBCASE("spring-forward day in New York") {
    const DigestSchedule spring = at(2, 30, "America/New_York");
    CHECK_FALSE(digest_due(utc(2026, 3, 8, 6, 59), spring, "2026-03-07"));
    CHECK(digest_due(utc(2026, 3, 8, 7), spring, "2026-03-07") == "2026-03-08");
  }
}

TEST_CASE("digest: next_due_after is the next due time strictly after now") {
  using roundup::bot::next_due_after;
  const DigestSchedule shanghai = at(9, 0, "Asia/Shanghai");
  CHECK(next_due_after(utc(2026, 11, 22, 0), shanghai) == utc(2026, 11, 22, 1));
  CHECK(next_due_after(utc(2026, 11, 22, 1), shanghai) == utc(2026, 11, 23, 1));
  CHECK(next_due_after(utc(2026, 11, 22, 12), shanghai) == utc(2026, 11, 23, 1));
  const DigestSchedule new_york = at(9, 0, "America/New_York");
  // Saturday before the spring change, after 09:00 EST: Sunday 09:00 EDT.
  CHECK(next_due_after(utc(2026, 3, 7, 15), new_york) == utc(2026, 3, 8, 13));
  // Saturday before the autumn change: Sunday 09:00 EST.
  CHECK(next_due_after(utc(2026, 10, 31, 14), new_york) == utc(2026, 11, 1, 14));
  const DigestSchedule spring = at(2, 30, "America/New_York");
  CHECK(next_due_after(utc(2026, 3, 7, 8), spring) == utc(2026, 3, 8, 7));
}

TEST_CASE("digest: select_digest walks the featured papers - newest roundup first - then starts over") {
  const Catalog& catalog = *bundled_catalog();
  REQUIRE(catalog.roundups().size() >= 3);
  const std::size_t total = featured_papers(catalog);
  REQUIRE(total > 10);
  std::string newest_month;
  for (const auto& r : catalog.roundups()) newest_month = std::max(newest_month, r.month);

  const DigestSelection first = roundup::bot::select_digest(catalog, {}, 3);
  REQUIRE(first.papers.size() == 3);
  CHECK_FALSE(first.started_over);
  for (const Paper* p : first.papers) {
    CHECK(p->kind == ItemKind::paper);
    CHECK(featured_month(catalog, *p) == newest_month);
  }

  SUBCASE("successive digests never repeat until everything was posted") {
    std::unordered_set<std::string> posted;
    std::vector<std::string> months;  // in posting order
    const auto post = [&](const DigestSelection& s) {
      for (const Paper* p : s.papers) {
        CHECK(p->kind == ItemKind::paper);
        CHECK(posted.insert(p->id).second);  // no repeats
        months.push_back(featured_month(catalog, *p));
      }
    };
    while (posted.size() + 1 < total) {
      const DigestSelection s = roundup::bot::select_digest(catalog, posted, 1);
      REQUIRE(s.papers.size() == 1);
      REQUIRE_FALSE(s.started_over);
      post(s);
    }
    // One left, two wanted: the last one, then the newest again.
    const DigestSelection wrap = roundup::bot::select_digest(catalog, posted, 2);
    REQUIRE(wrap.papers.size() == 2);
    CHECK(wrap.started_over);
    CHECK_FALSE(posted.contains(wrap.papers[0]->id));
    CHECK(wrap.papers[1] == first.papers[0]);
    // The same state, one wanted: just the last one.
    const DigestSelection last = roundup::bot::select_digest(catalog, posted, 1);
    REQUIRE(last.papers.size() == 1);
    CHECK_FALSE(last.started_over);
    CHECK(last.papers[0] == wrap.papers[0]);
    post(last);
    CHECK(posted.size() == total);
    // Roundups with a month first, newest first; then those without one.
    const auto undated = std::find(months.begin(), months.end(), std::string());
    CHECK(std::is_sorted(months.begin(), undated, std::greater<>()));
    CHECK(std::all_of(undated, months.end(), [](const std::string& m) { return m.empty(); }));
    // Everything posted: start over from the newest.
    const DigestSelection again = roundup::bot::select_digest(catalog, posted, 3);
    CHECK(again.started_over);
    CHECK(again.papers == first.papers);
  }
  SUBCASE("count 0 selects nothing; more than the corpus selects each paper once") {
    CHECK(roundup::bot::select_digest(catalog, {}, 0).papers.empty());
    const DigestSelection all = roundup::bot::select_digest(catalog, {}, total + 5);
    CHECK(all.papers.size() == total);
    CHECK_FALSE(all.started_over);
  }
  SUBCASE("an empty catalog selects nothing") {
    const DigestSelection none = roundup::bot::select_digest(Catalog{}, {}, 1);
    CHECK(none.papers.empty());
    CHECK_FALSE(none.started_over);
  }
}

TEST_CASE("digest: render_digest cites each paper with link - roundup month and one paragraph") {
  const Catalog& catalog = *bundled_catalog();
  DigestSelection selection = roundup::bot::select_digest(catalog, {}, 2);
  REQUIRE(selection.papers.size() == 2);
  const roundup::bot::Answer a = roundup::bot::render_digest(selection, catalog, "2026-11-22");
  CHECK(a.kind == roundup::bot::Answer::Kind::listing);
  CHECK(a.heading == "Daily digest — 2026-11-22");
  CHECK(a.lines.empty());
  REQUIRE(a.citations.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const Paper& paper = *selection.papers[i];
    const auto& c = a.citations[i];
    CHECK(c.paper_id == paper.id);
    CHECK(c.kind == "paper");
    CHECK(c.title == paper.title);
    CHECK(!c.url.empty());
    CHECK(c.url == paper.url);
    REQUIRE(!c.roundups.empty());
    CHECK(std::any_of(c.roundups.begin(), c.roundups.end(),
                      [&](const auto& r) { return r.month == featured_month(catalog, paper); }));
    CHECK(!c.summary.empty());
    CHECK(c.summary.find('\n') == std::string::npos);
    CHECK(roundup::text::squash_spaces(catalog.best_item(paper).summary).find(c.summary.substr(0, 20)) !=
          std::string::npos);
  }
  selection.started_over = true;
  const roundup::bot::Answer wrapped = roundup::bot::render_digest(selection, catalog, "2026-11-23");
  REQUIRE(wrapped.lines.size() == 1);
  CHECK(wrapped.lines[0] == "That was everything — starting over from the newest roundup.");
}
