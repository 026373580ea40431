#pragma once
// The daily digest: when it is due in a channel's time zone, which papers it posts next, and what
// it says. Pure: no I/O, no threads, no clock of its own. The caller supplies `now` and each
// channel's state (the local date it last posted for, the paper ids it already posted) and stores
// the outcome.
//
// Exactly once per channel per local day: the idempotency key is channel + the local date that
// digest_due() returns. A digest missed because the bot was down is posted when it comes back the
// same local day, and skipped (never posted late) once that day is over.
//
// Time zones are IANA names ("Asia/Shanghai") resolved through the OS tz database
// (/usr/share/zoneinfo, Debian package tzdata), so daylight-saving changes follow the system's data.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bot/answer.h"
#include "config/config.h"
#include "retrieval/catalog.h"

namespace roundup::bot {

struct DigestSchedule {
  int hour = 9;                  // local time of day, 0..23
  int minute = 0;                // 0..59
  std::string timezone = "UTC";  // IANA name; check with valid_timezone() when reading the config
};

using config::parse_time_of_day;
using config::valid_timezone;

// The functions below throw std::invalid_argument when the schedule's time zone is unknown or its
// hour/minute is out of range (the config is checked with parse_time_of_day() and valid_timezone()
// at start-up).

// The local calendar date ("YYYY-MM-DD") at `now` in the schedule's time zone.
std::string local_date(std::chrono::system_clock::time_point now, const DigestSchedule& schedule);

// When the digest of the local date of `now` is due. A local time that does not exist that day
// (02:30 on a spring-forward day) means the first instant after the gap; a local time that occurs
// twice (01:30 on a fall-back day) means the earlier instant.
std::chrono::system_clock::time_point due_time(std::chrono::system_clock::time_point now,
                                               const DigestSchedule& schedule);

// The local date to post a digest for, when `now` is at or after today's due time and the channel
// has not posted for today (`last_posted_local_date`: "YYYY-MM-DD", empty when it never posted);
// nullopt otherwise. A last date later than today (the clock went back, the zone was changed)
// also counts as posted: the rule is never twice, not always once.
std::optional<std::string> digest_due(std::chrono::system_clock::time_point now, const DigestSchedule& schedule,
                                      std::string_view last_posted_local_date);

// The earliest due time strictly after `now`: today's when still ahead, else tomorrow's. The
// caller's next wake-up.
std::chrono::system_clock::time_point next_due_after(std::chrono::system_clock::time_point now,
                                                     const DigestSchedule& schedule);

struct DigestSelection {
  std::vector<const retrieval::Paper*> papers;  // into the catalog passed to select_digest()
  bool started_over = false;                    // some of `papers` were posted before: the channel saw everything
};

// The next `count` featured papers (kind paper; not listed papers, news or tools) whose ids are
// not in `already_posted`, newest roundups first: by roundup month descending (roundups without a
// month last), then later roundups in corpus order first; within a roundup, in the order they
// appear. A paper in several roundups takes its place in the newest one that features it.
//
// When fewer than `count` remain unposted, the remaining ones come first and the rest start over
// from the newest (started_over = true): the caller then clears the channel's posted ids except
// the ones just chosen. Empty when `count` is 0 or the catalog has no featured papers.
DigestSelection select_digest(const retrieval::Catalog& catalog, const std::unordered_set<std::string>& already_posted,
                              std::size_t count);

// The digest as a listing Answer: heading "Daily digest — <local_date>", one citation per paper
// (title, short authors, link, roundups with months, the first paragraph of its summary), and a
// line saying it starts over when the selection did.
Answer render_digest(const DigestSelection& selection, const retrieval::Catalog& catalog, std::string_view local_date);

}  // namespace roundup::bot
