// Follow-ups: the cues a message carries (retrieval/follow_up_cues.h), the resolver and the
// dialogue state (bot/dialogue.h), and the conversation's memory per conversation, kept in the
// store across restarts and forgotten when it expires (bot/conversation.h).
#include <doctest/doctest.h>

#include <atomic>
#include <string>

#include "bot/conversation.h"
#include "bot/dialogue.h"
#include "retrieval/follow_up_cues.h"
#include "storage/sqlite_state_store.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/temp_dir.h"

using roundup::bot::Answer;
using roundup::bot::DialogueState;
using roundup::bot::Resolution;
using roundup::retrieval::Attribute;
using roundup::retrieval::read_follow_up_cues;

namespace {

const std::string k_watermark = "arxiv:2301.10226";
const std::string k_chinchilla = "arxiv:2203.15556";

DialogueState with_focus_and_list() {
  DialogueState state;
  state.focus = k_watermark;
  state.list = {"arxiv:2301.11325", k_watermark, k_chinchilla};
  state.turns.push_back({"which paper is about watermarking?", "which paper is about watermarking?"});
  return state;
}

}  // namespace

TEST_CASE("follow-up cues: ordinals, pronouns, narrowing, ellipsis and record fields in English and Chinese") {
  CHECK(read_follow_up_cues("the second one").ordinal == 2);
  CHECK(read_follow_up_cues("who wrote the 3rd paper?").ordinal == 3);
  CHECK(read_follow_up_cues("who wrote the 3rd paper?").attribute == Attribute::authors);
  CHECK(read_follow_up_cues("what about the second related one?").ordinal == 2);
  CHECK(read_follow_up_cues("the last one").ordinal == -1);
  CHECK(read_follow_up_cues("#4").ordinal == 4);
  CHECK(read_follow_up_cues("第三篇").ordinal == 3);
  CHECK(read_follow_up_cues("第十二篇的作者是谁?").ordinal == 12);
  CHECK(read_follow_up_cues("最后一篇").ordinal == -1);
  // An ordinal that a phrase continues is a question of its own.
  CHECK(read_follow_up_cues("which was the first paper to use RLHF?").ordinal == 0);
  CHECK(read_follow_up_cues("第一个使用扩散模型的论文").ordinal == 0);

  auto cues = read_follow_up_cues("who wrote it?");
  CHECK(cues.refers_back);
  CHECK(cues.attribute == Attribute::authors);
  CHECK(cues.content.empty());
  cues = read_follow_up_cues("what dataset did it use?");
  CHECK(cues.refers_back);
  CHECK(cues.content == "dataset use");
  CHECK(read_follow_up_cues("它的作者是谁?").refers_back);
  CHECK(read_follow_up_cues("这篇论文的链接?").attribute == Attribute::link);
  CHECK(read_follow_up_cues("tell me more").refers_back);
  // "that" as a conjunction, and a demonstrative after a name, point nowhere back.
  CHECK_FALSE(read_follow_up_cues("which paper showed that smaller models beat bigger ones?").refers_back);
  CHECK_FALSE(read_follow_up_cues("DALL·E 2 那篇论文是什么时候的?").refers_back);
  CHECK(read_follow_up_cues("DALL·E 2 那篇论文是什么时候的?").attribute == Attribute::when);

  cues = read_follow_up_cues("which of those is about watermarking?");
  CHECK(cues.narrows);
  CHECK(cues.content == "watermarking");
  cues = read_follow_up_cues("其中哪篇是关于机器人的?");
  CHECK(cues.narrows);
  CHECK(cues.content == "机器人");

  CHECK(read_follow_up_cues("and PaLM?").ellipsis == "PaLM");
  CHECK(read_follow_up_cues("what about MusicLM?").ellipsis == "MusicLM");
  CHECK(read_follow_up_cues("那 PaLM 呢?").ellipsis == "PaLM");
  CHECK_FALSE(read_follow_up_cues("and who wrote it?").ellipsis);

  CHECK(read_follow_up_cues("link?").attribute == Attribute::link);
  CHECK(read_follow_up_cues("when was it covered?").attribute == Attribute::when);
  // A year asked of the summary is a fact, not the paper's date.
  CHECK(read_follow_up_cues("AlexNet 是在哪一年的 ImageNet 挑战赛上成功的?").attribute == Attribute::none);
  CHECK(read_follow_up_cues("link prediction papers").attribute == Attribute::none);
}

TEST_CASE("follow-up cues: a long hostile message costs linear time and bounded output") {
  std::string hostile;
  for (int i = 0; i < 4000; ++i) hostile += "it the second one 第三篇 which of those and ";
  const auto cues = read_follow_up_cues(hostile);  // cut to the question limit first
  CHECK(cues.content.size() <= 8 * 2000);
}

TEST_CASE("dialogue: follow-ups resolve against the state - and with nothing to refer to, the bot asks") {
  const DialogueState empty;
  for (const char* message :
       {"who wrote it?", "它的作者是谁?", "the second one", "第三篇", "link?", "which of those is about music?"}) {
    CAPTURE(message);
    const Resolution r = roundup::bot::resolve_follow_up(empty, message);
    CHECK(r.kind == Resolution::Kind::clarify);
    CHECK(r.clarification.kind == Answer::Kind::clarify);
  }
  const DialogueState state = with_focus_and_list();
  Resolution r = roundup::bot::resolve_follow_up(state, "who wrote it?");
  REQUIRE(r.kind == Resolution::Kind::follow_up);
  CHECK(r.follow_up.papers == std::vector<std::string>{k_watermark});
  r = roundup::bot::resolve_follow_up(state, "the third one");
  REQUIRE(r.kind == Resolution::Kind::follow_up);
  CHECK(r.follow_up.papers == std::vector<std::string>{k_chinchilla});
  r = roundup::bot::resolve_follow_up(state, "the ninth one");
  CHECK(r.kind == Resolution::Kind::clarify);
  CHECK(r.clarification.lines.front().find("3 papers") != std::string::npos);
  r = roundup::bot::resolve_follow_up(state, "which of those is about music?");
  REQUIRE(r.kind == Resolution::Kind::follow_up);
  CHECK(r.follow_up.choose);
  CHECK(r.follow_up.papers == state.list);
  CHECK(r.follow_up.text == "music");
  // A question of its own stays itself: context adds nothing to it.
  r = roundup::bot::resolve_follow_up(state, "who won the 2022 World Cup?");
  CHECK(r.kind == Resolution::Kind::standalone);
  CHECK(r.question == "who won the 2022 World Cup?");
  // Ellipsis carries the record field asked before to the new subject.
  DialogueState asked_authors = state;
  asked_authors.attribute = Attribute::authors;
  r = roundup::bot::resolve_follow_up(asked_authors, "and PaLM?");
  CHECK(r.kind == Resolution::Kind::standalone);
  CHECK(r.question == "who wrote PaLM?");
  r = roundup::bot::resolve_follow_up(state, "and the weather in Paris?");
  CHECK(r.question == "the weather in Paris");
}

TEST_CASE("dialogue: state is bounded - survives JSON - and unreadable state is no state") {
  DialogueState state = with_focus_and_list();
  state.attribute = Attribute::link;
  for (int i = 0; i < 20; ++i) state.turns.push_back({std::string(5000, 'x'), "q"});
  const DialogueState back = roundup::bot::dialogue_from_json(roundup::bot::dialogue_to_json(state));
  CHECK(back.focus == state.focus);
  CHECK(back.list == state.list);
  CHECK(back.attribute == Attribute::link);
  CHECK(back.turns.size() <= DialogueState::k_max_turns);
  for (const auto& t : back.turns) CHECK(t.said.size() <= DialogueState::k_max_turn_bytes);
  for (const char* bad : {"", "not json", "[]", R"({"v":2,"focus":"x"})", R"({"v":1,"focus":5,"list":"x"})",
                          "{\"v\":1,\"focus\":\"\xff\"}"}) {
    CAPTURE(bad);
    const DialogueState s = roundup::bot::dialogue_from_json(bad);
    CHECK(s.list.empty());
    CHECK(s.turns.empty());
  }
}

TEST_CASE("dialogue: a conversation on the bundled corpus - pronoun, ordinal, narrowing, off-topic") {
  const auto knowledge = roundup::testing::bundled_knowledge();
  DialogueState state;
  auto say = [&](const std::string& message) {
    return roundup::bot::answer_in_dialogue(*knowledge, state, message, {});
  };
  Answer a = say("which paper is about watermarking LLM output?");
  REQUIRE_FALSE(a.citations.empty());
  CHECK(a.citations.front().paper_id == k_watermark);
  a = say("who wrote it?");
  CHECK(a.kind == Answer::Kind::answer);
  REQUIRE_FALSE(a.lines.empty());
  CHECK(a.lines.front().find("Kirchenbauer") != std::string::npos);  // from the record, first line
  a = say("link?");
  CHECK(a.lines.front().find("https://arxiv.org/abs/2301.10226") != std::string::npos);

  a = say("what was in the February 2023 roundup?");
  CHECK(a.kind == Answer::Kind::catalogue);
  REQUIRE(a.citations.size() >= 3);
  const std::string second = a.citations[1].paper_id;
  a = say("the second one");
  REQUIRE_FALSE(a.citations.empty());
  CHECK(a.citations.front().paper_id == second);
  a = say("which of those is about music generation?");
  REQUIRE_FALSE(a.citations.empty());
  CHECK(a.citations.front().paper_id == "arxiv:2301.11325");  // MusicLM
  a = say("which of those is about protein folding?");
  CHECK(a.kind == Answer::Kind::no_match);
  CHECK(a.citations.empty());

  // Context never makes an off-topic question answerable, and a refusal leaves nothing in focus.
  a = say("who won the 2022 World Cup?");
  CHECK(a.kind == Answer::Kind::no_match);
  a = say("and the weather in Paris?");
  CHECK(a.kind == Answer::Kind::no_match);
}

TEST_CASE("conversation memory: per conversation - kept across a restart - forgotten when it expires") {
  roundup::testing::TempDir dir;
  const auto knowledge = roundup::testing::bundled_knowledge();
  std::atomic<std::int64_t> now{1'000'000};
  roundup::bot::ConversationOptions options;
  options.dialogue_ttl = std::chrono::minutes(60);
  const roundup::bot::Speaker thread_a{"slack", "U1", "C1", "slack:event:E1", {}, "slack:C1:1.1"};
  const roundup::bot::Speaker thread_b{"slack", "U1", "C1", "slack:event:E2", {}, "slack:C1:2.2"};
  const roundup::bot::Speaker no_memory{"slack", "U1", "C1", "slack:command:T1", {}, ""};
  {
    roundup::storage::SqliteStateStore store(dir / "state.sqlite");
    roundup::bot::Conversation conversation(store, *knowledge, {}, options, [&] { return now.load(); });
    const Answer first = conversation.handle(thread_a, "which paper is about watermarking LLM output?");
    REQUIRE_FALSE(first.citations.empty());
    // Another thread, and a message with no conversation, know nothing of it.
    CHECK(conversation.handle(thread_b, "who wrote it?").kind == Answer::Kind::clarify);
    CHECK(conversation.handle(no_memory, "who wrote it?").kind != Answer::Kind::answer);
  }
  {
    // After a restart the thread still knows what "it" is.
    roundup::storage::SqliteStateStore store(dir / "state.sqlite");
    roundup::bot::Conversation conversation(store, *knowledge, {}, options, [&] { return now.load(); });
    const Answer again = conversation.handle(thread_a, "who wrote it?");
    CHECK(again.kind == Answer::Kind::answer);
    REQUIRE_FALSE(again.lines.empty());
    CHECK(again.lines.front().find("Kirchenbauer") != std::string::npos);
    // An hour and a minute of silence later, it is forgotten.
    now += 61 * 60 * 1000;
    CHECK(conversation.handle(thread_a, "who wrote it?").kind == Answer::Kind::clarify);
  }
}
