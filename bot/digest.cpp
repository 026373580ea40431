#include "bot/digest.h"

#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "bot/citation.h"
#include "text/unicode.h"

namespace roundup::bot {

namespace {

using std::chrono::system_clock;

// A digest paragraph longer than this is cut (at a code point boundary) and marked with "…".
constexpr std::size_t k_max_summary_code_points = 800;

// The schedule's zone; date's own exceptions (unknown zone, unreadable tz database) stop here.
const date::time_zone& zone_of(const DigestSchedule& schedule) {
  if (schedule.hour < 0 || schedule.hour > 23 || schedule.minute < 0 || schedule.minute > 59)
    throw std::invalid_argument("digest time " + std::to_string(schedule.hour) + ":" + std::to_string(schedule.minute) +
                                " is not a time of day");
  try {
    return *date::locate_zone(schedule.timezone);
  } catch (const std::exception& e) {
    throw std::invalid_argument("unknown time zone \"" + schedule.timezone + "\": " + e.what());
  }
}

date::local_days local_day(system_clock::time_point now, const date::time_zone& zone) {
  return date::floor<date::days>(zone.to_local(std::chrono::floor<std::chrono::seconds>(now)));
}

// The due instant of one local day. choose::earliest picks the earlier of two instants for a time
// that occurs twice; for a time inside a spring-forward gap date returns the transition instant,
// the first one after the gap.
system_clock::time_point due_on(date::local_days day, const DigestSchedule& schedule, const date::time_zone& zone) {
  const date::local_seconds at = day + std::chrono::hours{schedule.hour} + std::chrono::minutes{schedule.minute};
  return zone.to_sys(at, date::choose::earliest);
}

std::string iso_date(date::local_days day) {
  const date::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// Featured papers, newest roundups first (see select_digest), each once.
std::vector<const retrieval::Paper*> digest_order(const retrieval::Catalog& catalog) {
  const auto& roundups = catalog.roundups();
  std::vector<std::size_t> order(roundups.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const std::string& ma = roundups[a].month;
    const std::string& mb = roundups[b].month;
    if (ma.empty() != mb.empty()) return mb.empty();  // roundups with a month first
    if (ma != mb) return ma > mb;
    return a > b;
  });
  std::vector<const retrieval::Paper*> out;
  std::vector<bool> taken(catalog.papers().size(), false);
  for (std::size_t r : order) {
    for (std::size_t i = 0; i < roundups[r].items.size(); ++i) {
      if (roundups[r].items[i].kind != retrieval::ItemKind::paper) continue;
      const std::size_t p = catalog.paper_index_of(retrieval::ItemRef{r, i});
      if (taken[p] || catalog.papers()[p].kind != retrieval::ItemKind::paper) continue;
      taken[p] = true;
      out.push_back(&catalog.papers()[p]);
    }
  }
  return out;
}

// The first non-empty paragraph of the paper's fullest summary.
std::string summary_paragraph(const retrieval::Catalog& catalog, const retrieval::Paper& paper) {
  if (paper.occurrences.empty()) return {};
  const std::string& summary = catalog.best_item(paper).summary;
  std::size_t start = 0;
  while (start < summary.size()) {
    std::size_t end = summary.find("\n\n", start);
    if (end == std::string::npos) end = summary.size();
    std::string paragraph = text::squash_spaces(std::string_view(summary).substr(start, end - start));
    if (!paragraph.empty()) {
      if (text::utf8_length(paragraph) > k_max_summary_code_points)
        paragraph = text::utf8_prefix(paragraph, k_max_summary_code_points - 1) + "…";
      return paragraph;
    }
    start = end + 2;
  }
  return {};
}

}  // namespace

std::string local_date(system_clock::time_point now, const DigestSchedule& schedule) {
  return iso_date(local_day(now, zone_of(schedule)));
}

system_clock::time_point due_time(system_clock::time_point now, const DigestSchedule& schedule) {
  const date::time_zone& zone = zone_of(schedule);
  return due_on(local_day(now, zone), schedule, zone);
}

std::optional<std::string> digest_due(system_clock::time_point now, const DigestSchedule& schedule,
                                      std::string_view last_posted_local_date) {
  const date::time_zone& zone = zone_of(schedule);
  const date::local_days today = local_day(now, zone);
  if (now < due_on(today, schedule, zone)) return std::nullopt;
  std::string date = iso_date(today);
  // ISO dates compare as strings; "" (never posted) is before every date.
  if (last_posted_local_date >= std::string_view(date)) return std::nullopt;
  return date;
}

system_clock::time_point next_due_after(system_clock::time_point now, const DigestSchedule& schedule) {
  const date::time_zone& zone = zone_of(schedule);
  const date::local_days today = local_day(now, zone);
  const system_clock::time_point due_today = due_on(today, schedule, zone);
  if (due_today > now) return due_today;
  return due_on(today + date::days{1}, schedule, zone);
}

DigestSelection select_digest(const retrieval::Catalog& catalog, const std::unordered_set<std::string>& already_posted,
                              std::size_t count) {
  DigestSelection selection;
  const std::vector<const retrieval::Paper*> order = digest_order(catalog);
  std::vector<bool> chosen(order.size(), false);
  for (std::size_t i = 0; i < order.size() && selection.papers.size() < count; ++i) {
    if (already_posted.contains(order[i]->id)) continue;
    chosen[i] = true;
    selection.papers.push_back(order[i]);
  }
  // Everything else was posted: start over from the newest.
  for (std::size_t i = 0; i < order.size() && selection.papers.size() < count; ++i) {
    if (chosen[i]) continue;
    chosen[i] = true;
    selection.papers.push_back(order[i]);
    selection.started_over = true;
  }
  return selection;
}

Answer render_digest(const DigestSelection& selection, const retrieval::Catalog& catalog, std::string_view local_date) {
  Answer a;
  a.kind = Answer::Kind::listing;
  a.heading = "Daily digest — " + std::string(local_date);
  if (selection.started_over) a.lines.emplace_back("That was everything — starting over from the newest roundup.");
  for (const retrieval::Paper* paper : selection.papers)
    a.citations.push_back(cite_paper(*paper, summary_paragraph(catalog, *paper)));
  return a;
}

}  // namespace roundup::bot
