#include "bot/digest_scheduler.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "bot/channel_address.h"
#include "config/config.h"
#include "telemetry/log.h"

namespace roundup::bot {
namespace {

std::int64_t to_ms(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

std::vector<std::string> paper_ids(const DigestSelection& selection) {
  std::vector<std::string> ids;
  for (const retrieval::Paper* paper : selection.papers) ids.push_back(paper->id);
  return ids;
}

}  // namespace

DigestSettings digest_settings(const config::DigestConfig& config) {
  DigestSettings settings;
  // The configuration was validated when it was read; an invalid time here is a programming error.
  const auto time = config::parse_time_of_day(config.time);
  if (!time) throw std::invalid_argument("digest.time \"" + config.time + "\" is not HH:MM");
  settings.schedule = {time->first, time->second, config.timezone};
  settings.channels = config.channels;
  settings.papers_per_post = static_cast<std::size_t>(config.papers_per_post);
  return settings;
}

DigestScheduler::DigestScheduler(DigestLedger& store, CatalogSource catalog,
                                 std::map<std::string, PostRenderer> renderers, DigestSettings settings,
                                 std::function<void()> on_enqueued, Clock clock)
    : store_(store),
      catalog_(std::move(catalog)),
      renderers_(std::move(renderers)),
      settings_(std::move(settings)),
      on_enqueued_(std::move(on_enqueued)),
      clock_(std::move(clock)) {}

DigestScheduler::~DigestScheduler() {
  stop();
}

std::vector<std::string> DigestScheduler::channels() const {
  std::vector<std::string> all = settings_.channels;
  for (auto& channel : store_.subscriptions()) {
    if (std::find(all.begin(), all.end(), channel) == all.end()) all.push_back(std::move(channel));
  }
  std::erase_if(all, [this](const std::string& channel) {
    const auto id = parse_channel_address(channel);
    return !id || renderers_.count(id->platform) == 0;
  });
  return all;
}

DigestScheduler::Choice DigestScheduler::choose(const std::string& channel, const std::string& local_date) const {
  Choice choice;
  choice.catalog = catalog_();
  const retrieval::Catalog& catalog = *choice.catalog;
  choice.selection = select_digest(catalog, store_.digested_papers(channel), settings_.papers_per_post);
  choice.answer = render_digest(choice.selection, catalog, local_date);
  return choice;
}

std::size_t DigestScheduler::run_due() {
  const auto now = clock_();
  std::size_t recorded = 0;
  for (const std::string& channel : channels()) {
    try {
      const auto due = digest_due(now, settings_.schedule, store_.last_digest_date(channel).value_or(""));
      if (!due) continue;
      const Choice choice = choose(channel, *due);
      if (choice.selection.papers.empty()) continue;   // an empty corpus has nothing to post
      const auto id = parse_channel_address(channel);  // channels() kept only well-formed ones
      const auto messages = renderers_.at(id->platform)(id->id, choice.answer, "digest:" + channel + ":" + *due);
      if (store_.record_digest({channel, *due, paper_ids(choice.selection), choice.selection.started_over}, messages,
                               to_ms(now))) {
        ++recorded;
        log::info("digest", "digest queued",
                  {{"channel", channel}, {"date", *due}, {"papers", std::to_string(choice.selection.papers.size())}});
      }
    } catch (const std::exception& error) {
      // One broken channel (or a database hiccup) must not stop the others; the next pass retries.
      log::error("digest", "cannot post the digest", {{"channel", channel}, {"error", error.what()}});
    }
  }
  if (recorded > 0 && on_enqueued_) on_enqueued_();
  return recorded;
}

Answer DigestScheduler::preview(const std::string& channel) const {
  return choose(channel, local_date(clock_(), settings_.schedule)).answer;
}

std::optional<std::size_t> DigestScheduler::post_now(const std::string& channel, const std::string& request) {
  const std::string key = "digest-now:" + channel + ":" + request;
  const auto id = parse_channel_address(channel);
  const auto renderer = id ? renderers_.find(id->platform) : renderers_.end();
  if (renderer == renderers_.end()) throw std::invalid_argument("no digests for " + channel);
  const Choice choice = choose(channel, local_date(clock_(), settings_.schedule));
  if (choice.selection.papers.empty()) return 0;
  const auto messages = renderer->second(id->id, choice.answer, key);
  // An empty local date records the papers without claiming the day's scheduled digest; the
  // messages' keys (from `request`) make a second record of the same request a no-op.
  if (!store_.record_digest({channel, "", paper_ids(choice.selection), choice.selection.started_over}, messages,
                            to_ms(clock_()))) {
    return std::nullopt;
  }
  if (on_enqueued_) on_enqueued_();
  return choice.selection.papers.size();
}

void DigestScheduler::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void DigestScheduler::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DigestScheduler::run() {
  while (true) {
    // The next wake-up is planned from the time the pass began. Planned from its end instead, a
    // pass that began just before the due time (nothing due yet) and ended just after it found
    // today's due time past and slept until the next minute's check: the digest went out late.
    const auto began = clock_();
    try {
      run_due();
    } catch (const std::exception& error) {
      // The channel list itself could not be read (a database hiccup): try again next round.
      log::error("digest", "digest pass failed", {{"error", error.what()}});
    }
    auto next = began + std::chrono::minutes(1);
    try {
      next = std::min(next, next_due_after(began, settings_.schedule));
    } catch (const std::exception& error) {
      log::error("digest", "cannot compute the next digest time", {{"error", error.what()}});
    }
    std::unique_lock lock(mutex_);
    // The wall clock decides when a digest is due, but waiting uses the steady clock so a clock
    // change cannot stall the loop for longer than a minute. Rounded up, so the wait does not end
    // before the due time; if it still does (the clocks drift apart), the pass finds nothing due
    // and the next one comes 50 ms later.
    const auto wait =
        std::max(std::chrono::milliseconds(50), std::chrono::ceil<std::chrono::milliseconds>(next - clock_()));
    if (changed_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace roundup::bot
