#pragma once
// The commands every platform shares, with the person asking in view: admin commands (reindex,
// stats, digest now) checked against the `admins` list and written to the audit log, and a
// chat's own subscription to the daily digest. Everything else (questions, /help, /papers,
// /search) goes to the knowledge base, unless it is longer than the question limit
// (retrieval::question_within_limits: 2,000 characters after NFKC): that gets a polite reply
// giving the limit, and the knowledge base never sees it.
//
// Platforms normalise their syntax first: Slack's "/roundup reindex" and Telegram's "/reindex"
// both arrive here as "/reindex".

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/answer.h"
#include "bot/knowledge.h"
#include "bot/state_store.h"

namespace roundup::bot {

struct Speaker {
  std::string platform;        // "slack" | "telegram"
  std::string user;            // the platform's user id ("U0123", "42")
  std::string chat;            // where it was said ("C0123", "-1001234")
  std::string request;         // the platform's key of this message ("slack:event:Ev1"): ids what it causes
  CommandSpelling commands{};  // how this platform's users type commands, for help and feedback
  // The conversation this message belongs to, whose memory follow-ups read: a Slack thread, a DM,
  // a Telegram private chat ("slack:C1:1700000000.000100"). Empty: no memory, every message stands
  // alone.
  std::string conversation{};
  // A conversation this message's reply opens (a Slack thread under a message at the top of a DM),
  // which starts with `conversation`'s memory as the reply leaves it, so that a follow-up in the
  // new thread reads the answer before it. Empty: none.
  std::string opens{};
  std::string channel() const { return platform + ":" + chat; }  // as in digest.channels
};

// The conversation as a platform adapter calls it: who said what, where. Thread-safe.
using ChatAnswerer = std::function<Answer(const Speaker& speaker, std::string_view input)>;

// What /digest now and /stats need from the digest scheduler.
struct DigestControl {
  // Posts the next digest to `channel` through the outbox, now, as caused by `request` (handling
  // the same request again posts nothing more). Not counted as that day's scheduled digest.
  // Returns the number of papers posted, or nullopt when this request had posted it already.
  std::function<std::optional<std::size_t>(const std::string& channel, const std::string& request)> post_now;
  std::function<std::size_t()> channel_count;  // configured plus subscribed
};

struct ConversationOptions {
  std::vector<std::string> admins;  // "slack:U0123", "telegram:42"
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // More /stats lines from the service (each replica's index generation); optional.
  std::function<std::vector<std::string>()> more_stats;
  // How long a conversation's memory lasts after its last message.
  std::chrono::milliseconds dialogue_ttl = std::chrono::hours(24);
};

class Conversation {
 public:
  Conversation(StateStore& store, Knowledge& knowledge, DigestControl digests, ConversationOptions options,
               std::function<std::int64_t()> now_ms);

  // Thread-safe. Admin commands run on the calling worker thread (a reindex takes as long as the
  // build; other workers keep answering from the old index meanwhile).
  Answer handle(const Speaker& speaker, std::string_view input);

  bool is_admin(const Speaker& speaker) const;

 private:
  Answer admin_command(const Speaker& speaker, const std::string& command, const std::string& argument);
  Answer stats() const;
  Answer subscription(const Speaker& speaker, bool subscribe);
  void audit(const Speaker& speaker, const std::string& command, bool allowed, const std::string& outcome);
  Answer in_dialogue(const Speaker& speaker, const std::string& text);

  StateStore& store_;
  Knowledge& knowledge_;
  DigestControl digests_;
  ConversationOptions options_;
  std::function<std::int64_t()> now_ms_;
};

// "3 d 4 h", "5 h 2 min", "12 s".
std::string describe_uptime(std::chrono::seconds uptime);

}  // namespace roundup::bot
