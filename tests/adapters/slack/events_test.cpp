#include "adapters/slack/events.h"

#include <doctest/doctest.h>

#include <vector>

namespace {

using nlohmann::json;
using roundup::adapters::slack::EventDecision;
using roundup::adapters::slack::interpret_command;
using roundup::adapters::slack::interpret_event;
using roundup::adapters::slack::PaneEvent;
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

// `decision` is a pane event of `kind` by U1 in D1.
void check_pane(const EventDecision& decision, PaneEvent::Kind kind, const std::string& thread_ts,
                const std::string& dedupe_key) {
  REQUIRE(decision.action == EventDecision::Action::pane);
  CHECK(decision.pane.kind == kind);
  CHECK(decision.pane.user == "U1");
  CHECK(decision.pane.channel == "D1");
  CHECK(decision.pane.thread_ts == thread_ts);
  CHECK(decision.pane.dedupe_key == dedupe_key);
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
  CHECK(decision.question.opens == "slack:D1:5.5");  // the thread its answer starts
  dm["thread_ts"] = "4.4";
  CHECK(interpret_event(envelope(dm), k_bot, never).question.conversation == "slack:D1:4.4");
  CHECK(interpret_event(envelope(dm), k_bot, never).question.opens.empty());

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

TEST_CASE("slack events: the agent Messages tab opened is a pane event for the DM - with no thread") {
  const json opened = {{"type", "app_home_opened"},
                       {"user", "U1"},
                       {"channel", "D1"},
                       {"tab", "messages"},
                       {"event_ts", "1782770450.000100"}};
  check_pane(interpret_event(envelope(opened, "EvOpen"), k_bot, never), PaneEvent::Kind::messages_opened, "",
             "slack:event:EvOpen");

  json home = opened;
  home["tab"] = "home";
  CHECK(interpret_event(envelope(home), k_bot, never).action == EventDecision::Action::ignore);
  json no_tab = opened;
  no_tab.erase("tab");
  CHECK(interpret_event(envelope(no_tab), k_bot, never).action == EventDecision::Action::ignore);
}

TEST_CASE(
    "slack events: the legacy assistant thread started is a pane event in its thread - context changes are acked") {
  const json started = {{"type", "assistant_thread_started"},
                        {"assistant_thread",
                         {{"user_id", "U1"},
                          {"context", {{"channel_id", "C9"}, {"team_id", "T1"}, {"enterprise_id", nullptr}}},
                          {"channel_id", "D1"},
                          {"thread_ts", "1729999327.187299"}}},
                        {"event_ts", "1715873754.429808"}};
  check_pane(interpret_event(envelope(started, "EvStart"), k_bot, never), PaneEvent::Kind::thread_started,
             "1729999327.187299", "slack:event:EvStart");

  json changed = started;
  changed["type"] = "assistant_thread_context_changed";
  const auto change = interpret_event(envelope(changed), k_bot, never);
  CHECK(change.action == EventDecision::Action::ignore);
  CHECK(change.reason.find("context changed") != std::string::npos);

  // Slack's own edit of the thread's root when it titles it.
  const json retitled = {{"type", "message"},
                         {"subtype", "message_changed"},
                         {"channel", "D1"},
                         {"channel_type", "im"},
                         {"message",
                          {{"subtype", "assistant_app_thread"},
                           {"assistant_app_thread", {{"title", "Chinchilla"}}},
                           {"ts", "1729999327.187299"}}}};
  CHECK(interpret_event(envelope(retitled), k_bot, never).action == EventDecision::Action::ignore);
}

TEST_CASE("slack events: pane events with missing or malformed fields are dropped with a reason") {
  const json good = {{"type", "assistant_thread_started"},
                     {"assistant_thread", {{"user_id", "U1"}, {"channel_id", "D1"}, {"thread_ts", "17.5"}}}};
  REQUIRE(interpret_event(envelope(good), k_bot, never).action == EventDecision::Action::pane);
  std::vector<json> broken;
  for (const char* field : {"user_id", "channel_id", "thread_ts"}) {
    json missing = good;
    missing["assistant_thread"].erase(field);
    broken.push_back(missing);
    json wrong_type = good;
    wrong_type["assistant_thread"][field] = 42;
    broken.push_back(wrong_type);
  }
  json no_thread = good;
  no_thread.erase("assistant_thread");
  broken.push_back(no_thread);
  for (const json& thread : {json("D1"), json::array({1, 2}), json(nullptr)}) {
    json odd = good;
    odd["assistant_thread"] = thread;
    broken.push_back(odd);
  }
  for (const char* ts : {"", "17", "17.", ".5", "1.2.3", "17.5x", "99999999999999999999999.1"}) {
    json bad_ts = good;
    bad_ts["assistant_thread"]["thread_ts"] = ts;
    broken.push_back(bad_ts);
  }
  json lower_channel = good;
  lower_channel["assistant_thread"]["channel_id"] = "d1";
  broken.push_back(lower_channel);
  json long_channel = good;
  long_channel["assistant_thread"]["channel_id"] = std::string(10000, 'D');
  broken.push_back(long_channel);
  json not_a_user = good;
  not_a_user["assistant_thread"]["user_id"] = "C1";
  broken.push_back(not_a_user);
  broken.push_back({{"type", "app_home_opened"}, {"tab", "messages"}, {"channel", "D1"}});
  broken.push_back({{"type", "app_home_opened"}, {"tab", "messages"}, {"user", "U1"}});
  broken.push_back({{"type", "app_home_opened"}, {"tab", "messages"}, {"user", "U1"}, {"channel", json::object()}});
  for (const json& event : broken) {
    INFO(event.dump());
    const auto decision = interpret_event(envelope(event), k_bot, never);
    CHECK(decision.action == EventDecision::Action::ignore);
    CHECK(decision.malformed);
    CHECK_FALSE(decision.reason.empty());
  }
  json ours = good;
  ours["assistant_thread"]["user_id"] = k_bot;
  const auto own = interpret_event(envelope(ours), k_bot, never);
  CHECK(own.action == EventDecision::Action::ignore);
  CHECK_FALSE(own.malformed);
}
