#include "bot/conversation.h"

#include <algorithm>
#include <utility>

#include "bot/dialogue.h"
#include "bot/responder.h"
#include "retrieval/query_intent.h"
#include "telemetry/log.h"
#include "text/unicode.h"

namespace roundup::bot {
namespace {

Answer notice(std::string heading, std::vector<std::string> lines) {
  Answer a;
  a.kind = Answer::Kind::notice;
  a.heading = std::move(heading);
  a.lines = std::move(lines);
  return a;
}

// "/reindex@RoundupBot now" -> {"reindex", "now"}.
std::pair<std::string, std::string> split_command(const std::string& text) {
  const std::size_t space = text.find(' ');
  std::string command = text.substr(1, space == std::string::npos ? std::string::npos : space - 1);
  if (const auto at = command.find('@'); at != std::string::npos) command.erase(at);
  command = ascii_lower(command);
  std::string argument = space == std::string::npos ? std::string() : text::trim(text.substr(space + 1));
  return {command, argument};
}

bool is_admin_command(const std::string& command) {
  return command == "reindex" || command == "stats" || command == "digest";
}

}  // namespace

std::string describe_uptime(std::chrono::seconds uptime) {
  const auto total = uptime.count();
  const auto days = total / 86400;
  const auto hours = (total % 86400) / 3600;
  const auto minutes = (total % 3600) / 60;
  if (days > 0) return std::to_string(days) + " d " + std::to_string(hours) + " h";
  if (hours > 0) return std::to_string(hours) + " h " + std::to_string(minutes) + " min";
  if (minutes > 0) return std::to_string(minutes) + " min";
  return std::to_string(total) + " s";
}

Conversation::Conversation(StateStore& store, Knowledge& knowledge, DigestControl digests, ConversationOptions options,
                           std::function<std::int64_t()> now_ms)
    : store_(store),
      knowledge_(knowledge),
      digests_(std::move(digests)),
      options_(std::move(options)),
      now_ms_(std::move(now_ms)) {}

bool Conversation::is_admin(const Speaker& speaker) const {
  const std::string id = speaker.platform + ":" + speaker.user;
  return std::find(options_.admins.begin(), options_.admins.end(), id) != options_.admins.end();
}

Answer Conversation::handle(const Speaker& speaker, std::string_view input) {
  const std::string text = text::trim(input);
  if (text.size() > 1 && text[0] == '/') {
    const auto [command, argument] = split_command(text);
    if (is_admin_command(command)) return admin_command(speaker, command, argument);
    if (command == "subscribe") return subscription(speaker, true);
    if (command == "unsubscribe") return subscription(speaker, false);
  }
  // Checked here too, so that a refused question never reaches the knowledge base or the counter.
  if (!retrieval::question_within_limits(text)) return question_too_long();
  Answer answer = speaker.conversation.empty() ? knowledge_.answer(text, speaker.commands) : in_dialogue(speaker, text);
  store_.add_to_counter("questions_answered", 1);
  return answer;
}

Answer Conversation::in_dialogue(const Speaker& speaker, const std::string& text) {
  // The memory is a convenience: a store that cannot read or keep it costs the follow-up its
  // context, never the reply.
  DialogueState state;
  try {
    if (const auto saved = store_.dialogue(speaker.conversation, now_ms_())) state = dialogue_from_json(*saved);
  } catch (const std::exception& error) {
    log::warn("conversation", "cannot read the conversation's memory", {{"error", error.what()}});
  }
  Answer answer = answer_in_dialogue(knowledge_, state, text, speaker.commands);
  try {
    const std::string saved = dialogue_to_json(state);
    const std::int64_t expires_ms = now_ms_() + options_.dialogue_ttl.count();
    store_.save_dialogue(speaker.conversation, saved, expires_ms);
    if (!speaker.opens.empty()) store_.save_dialogue(speaker.opens, saved, expires_ms);
  } catch (const std::exception& error) {
    log::warn("conversation", "cannot keep the conversation's memory", {{"error", error.what()}});
  }
  return answer;
}

void Conversation::audit(const Speaker& speaker, const std::string& command, bool allowed, const std::string& outcome) {
  store_.audit({now_ms_(), speaker.platform, speaker.user, command, allowed, outcome});
  log::info("admin", allowed ? "admin command" : "admin command refused",
            {{"platform", speaker.platform}, {"user", speaker.user}, {"command", command}, {"outcome", outcome}});
}

Answer Conversation::admin_command(const Speaker& speaker, const std::string& command, const std::string& argument) {
  const std::string typed = command + (argument.empty() ? "" : " " + argument);
  const std::string shown = "/" + typed;  // the audit log's spelling, the same on every platform
  if (!is_admin(speaker)) {
    audit(speaker, shown, false, "refused: not an admin");
    return notice("Sorry, " + speaker.commands(typed) + " is for the bot's admins",
                  {"Ask one of them to run it, or to add you to `admins` in the bot's configuration."});
  }
  // Recorded before acting, so an attempt that crashes the process is in the log too.
  audit(speaker, shown, true, "started");
  try {
    if (command == "reindex") {
      const Knowledge::ReindexOutcome outcome = knowledge_.reindex();
      audit(speaker, shown, true, outcome.already_running ? "already running" : outcome.ok ? "ok" : "failed");
      if (outcome.already_running) return notice("A reindex is already running", {outcome.summary});
      return notice(outcome.ok ? "Reindexed" : "Reindex failed", {outcome.summary});
    }
    if (command == "stats") return stats();
    // "/digest now" posts here; plain "/digest" says how.
    if (argument != "now") {
      return notice("Digest", {"Use " + speaker.commands("digest now") + " to post the next digest to this chat now."});
    }
    if (!digests_.post_now) return notice("Digest", {"Digests are not available here."});
    const std::optional<std::size_t> papers = digests_.post_now(speaker.channel(), speaker.request);
    audit(speaker, shown, true, papers ? "posted " + std::to_string(*papers) + " papers" : "posted already");
    return notice("Digest", {papers && *papers == 0 ? "There are no papers to post yet."
                                                    : "Posted the next digest to this chat."});
  } catch (const std::exception& error) {
    audit(speaker, shown, true, std::string("failed: ") + error.what());
    throw;
  }
}

Answer Conversation::stats() const {
  std::vector<std::string> lines = knowledge_.stats_lines();
  const auto uptime =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - options_.started);
  lines.push_back("Uptime: " + describe_uptime(uptime));
  lines.push_back("Questions answered: " + std::to_string(store_.counter("questions_answered")));
  lines.push_back("Digests sent: " + std::to_string(store_.counter("digests_posted")));
  if (digests_.channel_count) lines.push_back("Digest channels: " + std::to_string(digests_.channel_count()));
  lines.push_back("Outbox backlog: " + std::to_string(store_.outbox_backlog()));
  if (options_.more_stats) {
    for (auto& line : options_.more_stats()) lines.push_back(std::move(line));
  }
  return notice("Roundup Bot stats", std::move(lines));
}

Answer Conversation::subscription(const Speaker& speaker, bool subscribe) {
  const std::string channel = speaker.channel();
  const bool changed = subscribe ? store_.subscribe(channel, speaker.user, now_ms_()) : store_.unsubscribe(channel);
  audit(speaker, subscribe ? "/subscribe" : "/unsubscribe", true, changed ? "ok" : "no change");
  if (subscribe) {
    return notice("Daily digest", {changed ? "Subscribed: this chat will get the daily digest."
                                           : "This chat is already subscribed to the daily digest."});
  }
  return notice("Daily digest", {changed ? "Unsubscribed: no more daily digests here."
                                         : "This chat was not subscribed (channels set in the configuration stay)."});
}

}  // namespace roundup::bot
