#pragma once
// Posts the daily digest: at the configured local time, each channel (configured or subscribed)
// gets the next papers it has not had, through the durable outbox. The decision and the outbox
// messages are one transaction keyed by channel + local date (DigestLedger::record_digest), so a
// restart at digest time, or two replicas sharing the database, post once; a digest missed while
// the bot was down goes out when it is back the same local day.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bot/answer.h"
#include "bot/digest.h"
#include "bot/state_store.h"
#include "retrieval/catalog.h"

namespace roundup::bot {

// Renders an Answer as the outbox messages that post it to `chat` (a platform chat id, "C0123"),
// with idempotency keys derived from `key`. One per platform.
using PostRenderer =
    std::function<std::vector<OutgoingMessage>(const std::string& chat, const Answer& answer, const std::string& key)>;

struct DigestSettings {
  DigestSchedule schedule;
  std::vector<std::string> channels;  // "slack:C0123", from the configuration
  std::size_t papers_per_post = 1;
};

DigestSettings digest_settings(const config::DigestConfig& config);

class DigestScheduler {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;
  // The catalog answering right now; it may change between calls (a reindex swaps it).
  using CatalogSource = std::function<std::shared_ptr<const retrieval::Catalog>()>;

  DigestScheduler(
      DigestLedger& store, CatalogSource catalog, std::map<std::string, PostRenderer> renderers,
      DigestSettings settings, std::function<void()> on_enqueued,
      Clock clock = [] { return std::chrono::system_clock::now(); });
  ~DigestScheduler();  // stop()

  DigestScheduler(const DigestScheduler&) = delete;
  DigestScheduler& operator=(const DigestScheduler&) = delete;

  // Configured channels plus subscriptions, without duplicates; only platforms with a renderer.
  std::vector<std::string> channels() const;
  // One pass: records and enqueues the digest of every channel that is due. Returns how many
  // digests this call recorded (another replica may have recorded some first).
  std::size_t run_due();
  // What `channel` would get next, as the digest of the current local date, without recording it.
  Answer preview(const std::string& channel) const;
  // `/digest now`: posts the next papers to `channel` through the outbox, recorded as posted there
  // (so they do not repeat) but not as the day's scheduled digest; the messages and the record
  // are one transaction keyed by `request`, so handling the same request again (after a crash)
  // posts nothing more and returns nullopt. Otherwise returns the number of papers posted.
  std::optional<std::size_t> post_now(const std::string& channel, const std::string& request);

  // A thread that runs run_due() at each due time (and at least every minute, so new
  // subscriptions and clock changes are picked up) until stop().
  void start();
  void stop();

 private:
  struct Choice {
    DigestSelection selection;
    std::shared_ptr<const retrieval::Catalog> catalog;  // keeps the selection's papers alive
    Answer answer;
  };
  Choice choose(const std::string& channel, const std::string& local_date) const;
  void run();

  DigestLedger& store_;
  CatalogSource catalog_;
  std::map<std::string, PostRenderer> renderers_;
  DigestSettings settings_;
  std::function<void()> on_enqueued_;
  Clock clock_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roundup::bot
