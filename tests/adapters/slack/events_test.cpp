#include "adapters/slack/events.h"

#include <doctest/doctest.h>

namespace {

using nlohmann::json;
using roundup::adapters::slack::EventDecision;
using roundup::adapters::slack::interpret_command;
using roundup::adapters::slack::interpret_event;
using roundup::adapters::slack::parse_form;
using roundup::adapters::slack::plain_text;
using roundup::adapters::slack::responder_input;

constexpr const char* k_bot = "UBOT";

json envelope(json event, std::string event_id = "Ev1") {
  return {{"type", "event_callback"}, {"event_id", event_id}, {"team_id", "T1"}, {"event", std::move(event)}};
}

json mention(std::string text) {
  return {{"type", "app_mention"}, {"user", "U1"}, {"channel", "C1"}, {"ts", "100.1"}, {"text", std::move(text)}};
}

bool never(const std::string&, const std::string&) {
  return false;
}

}  // namespace

TEST_CASE("slack events: app_mention is answered in a thread rooted at the message") {
  const auto decision = interpret_event(envelope(mention("<@UBOT> which paper beat bigger models?")), k_bot, never);
  REQUIRE(decision.action == EventDecision::Action::answer);
  CHECK(decision.question.text == "which paper beat bigger models?");
  CHECK(decision.question.thread_ts == "100.1");
  CHECK(decision.question.dedupe_key == "slack:event:Ev1");
  CHECK(decision.question.channel == "C1");
  CHECK(decision.question.conversation == "slack:C1:100.1");

  json in_thread = mention("<@UBOT> and the follow-up?");
  in_thread["thread_ts"] = "90.5";
  CHECK(interpret_event(envelope(in_thread), k_bot, never).question.thread_ts == "90.5");
}

TEST_CASE("slack events: url_verification returns the challenge") {
  const auto decision = interpret_event({{"type", "url_verification"}, {"challenge", "abc123"}}, k_bot, never);
  CHECK(decision.action == EventDecision::Action::url_verification);
  CHECK(decision.challenge == "abc123");
}

TEST_CASE("slack events: DMs are answered - channel chatter is not") {
  json dm = {{"type", "message"}, {"channel_type", "im"}, {"user", "U1"},
             {"channel", "D1"},   {"ts", "5.5"},          {"text", "hi"}};
  auto decision = interpret_event(envelope(dm), k_bot, never);
  REQUIRE(decision.action == EventDecision::Action::answer);
  CHECK(decision.question.direct);
  CHECK(decision.question.thread_ts == "5.5");  // threaded under the question, as in channels
  // Messages at the top of a DM are one conversation; a thread inside it is its own.
  CHECK(decision.question.conversation == "slack:D1");
  dm["thread_ts"] = "4.4";
  CHECK(interpret_event(envelope(dm), k_bot, never).question.conversation == "slack:D1:4.4");

  json chatter = {{"type", "message"}, {"channel_type", "channel"}, {"user", "U1"}, {"channel", "C1"},
                  {"ts", "5.5"},       {"text", "lunch?"}};
  CHECK(interpret_event(envelope(chatter), k_bot, never).action == EventDecision::Action::ignore);
  // A channel message that mentions us is answered through its app_mention twin only.
  chatter["text"] = "<@UBOT> hi";
  CHECK(interpret_event(envelope(chatter), k_bot, never).action == EventDecision::Action::ignore);
}

TEST_CASE("slack events: follow-ups in a thread the bot answers need no mention") {
  json follow_up = {{"type", "message"},  {"channel_type", "channel"}, {"user", "U1"}, {"channel", "C1"}, {"ts", "7.7"},
                    {"thread_ts", "5.5"}, {"text", "and Chinchilla?"}};
  const auto known = [](const std::string& channel, const std::string& thread) {
    return channel == "C1" && thread == "5.5";
  };
  const auto decision = interpret_event(envelope(follow_up), k_bot, known);
  REQUIRE(decision.action == EventDecision::Action::answer);
  CHECK(decision.question.thread_ts == "5.5");
  // The thread is the conversation whose memory the follow-up reads.
  CHECK(decision.question.conversation == "slack:C1:5.5");
  follow_up["thread_ts"] = "6.6";
  CHECK(interpret_event(envelope(follow_up), k_bot, known).action == EventDecision::Action::ignore);
}

TEST_CASE("slack events: bots - ourselves and unhandled subtypes are ignored") {
  json from_bot = mention("<@UBOT> hi");
  from_bot["bot_id"] = "B1";
  CHECK(interpret_event(envelope(from_bot), k_bot, never).action == EventDecision::Action::ignore);
  json ours = mention("hi");
  ours["user"] = k_bot;
  CHECK(interpret_event(envelope(ours), k_bot, never).action == EventDecision::Action::ignore);
  json edited = mention("<@UBOT> hi");
  edited["subtype"] = "message_changed";
  CHECK(interpret_event(envelope(edited), k_bot, never).action == EventDecision::Action::ignore);
  json broadcast = mention("<@UBOT> hi");
  broadcast["subtype"] = "thread_broadcast";
  CHECK(interpret_event(envelope(broadcast), k_bot, never).action == EventDecision::Action::answer);
}

TEST_CASE("slack events: malformed envelopes are ignored - never thrown on") {
  for (const json& bad : {json(nullptr), json::array(), json{{"type", 5}}, json{{"type", "event_callback"}},
                          json{{"type", "event_callback"}, {"event_id", "E"}, {"event", "text"}},
                          envelope({{"type", "app_mention"}, {"user", 1}, {"channel", "C"}, {"ts", "1"}}),
                          json{{"type", "url_verification"}}}) {
    CHECK(interpret_event(bad, k_bot, never).action == EventDecision::Action::ignore);
  }
}

TEST_CASE("slack text becomes plain text") {
  CHECK(plain_text("<@UBOT> what about <https://arxiv.org/abs/2203.15556|Chinchilla> &amp; <#C1|general>?", k_bot) ==
        "what about Chinchilla & general?");
  CHECK(plain_text("<@UOTHER|alice> asked &lt;this&gt; <https://x.y>", k_bot) == "@alice asked <this> https://x.y");
  CHECK(plain_text("unclosed <tag", k_bot) == "unclosed <tag");
}

TEST_CASE("slash commands: form decoding and routing") {
  const auto form = parse_form(
      "command=%2Froundup&text=papers+2023-02&user_id=U1&channel_id=C1&trigger_id=T.1&&"
      "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fabc&flag&text=papers+2023-02");
  REQUIRE(form);
  const auto& fields = *form;
  CHECK(fields.size() == 7);  // the empty pair is skipped, the repeated "text" counted once
  CHECK(fields.at("flag").empty());
  // What no form encoder produces is refused whole, not guessed at.
  CHECK_FALSE(parse_form("command=%2Froundup&bad=%zz"));
  CHECK_FALSE(parse_form("text=two words"));
  CHECK_FALSE(parse_form("text=\xe4\xb8\xad"));
  CHECK(parse_form("text=%E4%B8%AD+%2B1")->at("text") == "\xe4\xb8\xad +1");
  CHECK(parse_form("")->empty());
  const auto decision = interpret_command(fields, "/roundup");
  REQUIRE(decision.valid);
  CHECK(decision.question.text == "papers 2023-02");
  CHECK(decision.question.response_url == "https://hooks.slack.com/commands/T1/1/abc");
  CHECK(decision.question.dedupe_key == "slack:command:T.1");
  CHECK_FALSE(interpret_command(fields, "/other").valid);
  auto no_url = fields;
  no_url.erase("response_url");
  CHECK_FALSE(interpret_command(no_url, "/roundup").valid);

  CHECK(responder_input("") == "/help");
  CHECK(responder_input("HELP") == "/help");
  CHECK(responder_input("papers 2023-02") == "/papers 2023-02");
  CHECK(responder_input("search  chinchilla ") == "/search chinchilla");
  CHECK(responder_input("which paper used 540B parameters?") == "which paper used 540B parameters?");
}
