#include "bot/conversation.h"

#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "storage/sqlite_state_store.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/memory_state_store.h"
#include "tests/support/temp_dir.h"

namespace {

using roundup::bot::Answer;
using roundup::bot::Conversation;
using roundup::bot::ConversationOptions;
using roundup::bot::DigestControl;
using roundup::bot::Knowledge;
using roundup::bot::Speaker;
using roundup::bot::StateStore;
using roundup::storage::SqliteStateStore;
using roundup::testing::MemoryStateStore;
using roundup::testing::TempDir;

// A knowledge base double that records what the conversation asked of it.
class RecordingKnowledge : public Knowledge {
 public:
  Answer answer(std::string_view input, const roundup::bot::CommandSpelling& commands) const override {
    asked.emplace_back(input);
    spellings.push_back(commands("help"));
    Answer a;
    a.lines = {"answer to " + std::string(input)};
    return a;
  }
  Answer follow_up(const roundup::bot::FollowUpQuestion& question,
                   const roundup::bot::CommandSpelling& commands) const override {
    return answer(question.text, commands);
  }
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine() const override { return nullptr; }
  ReindexOutcome reindex() override {
    ++reindexes;
    return {true, "Reindexed in 0.1 s: 1 file added."};
  }
  std::vector<std::string> stats_lines() const override { return {"Roundups: 5", "Papers: 44"}; }
  std::uintmax_t index_bytes() const override { return 0; }

  mutable std::vector<std::string> asked;
  mutable std::vector<std::string> spellings;  // how each call would spell "help"
  int reindexes = 0;
};

struct Fixture {
  TempDir dir;
  MemoryStateStore store;
  RecordingKnowledge knowledge;
  std::vector<std::string> posted_now;
  Conversation conversation{
      store, knowledge,
      DigestControl{[this](const std::string& channel, const std::string& request) -> std::optional<std::size_t> {
                      posted_now.push_back(channel + " " + request);
                      return 2;
                    },
                    [] { return std::size_t{3}; }},
      ConversationOptions{{"slack:UADMIN", "telegram:42"}, std::chrono::steady_clock::now(), {}},
      [] { return std::int64_t{1000}; }};
};

const Speaker slack_admin{"slack", "UADMIN", "C1", "slack:command:t1"};
const Speaker slack_user{"slack", "UOTHER", "C1", "slack:command:t2"};
const Speaker telegram_admin{"telegram", "42", "-1001", "telegram:update:7"};
const Speaker telegram_user_with_admin_slack_id{"telegram", "UADMIN", "-1001", "telegram:update:8"};

}  // namespace

TEST_CASE("conversation: a non-admin /reindex is refused - audited - and rebuilds nothing") {
  Fixture f;
  const Answer refusal = f.conversation.handle(slack_user, "/reindex");
  CHECK(refusal.kind == Answer::Kind::notice);
  CHECK(refusal.heading.find("admins") != std::string::npos);
  CHECK(f.knowledge.reindexes == 0);
  const auto log = f.store.audit_log(10);
  REQUIRE(log.size() == 1);
  CHECK(log[0].platform == "slack");
  CHECK(log[0].user == "UOTHER");
  CHECK(log[0].command == "/reindex");
  CHECK_FALSE(log[0].allowed);
  // Admin ids are per platform: the same id on another platform is not an admin.
  f.conversation.handle(telegram_user_with_admin_slack_id, "/stats");
  f.conversation.handle(slack_user, "/digest now");
  CHECK(f.posted_now.empty());
  CHECK(f.store.audit_log(10).size() == 3);
}

TEST_CASE("conversation: admins reindex - see stats and post a digest now - every call is audited") {
  Fixture f;
  const Answer reindexed = f.conversation.handle(slack_admin, "/reindex");
  CHECK(f.knowledge.reindexes == 1);
  CHECK(reindexed.lines == std::vector<std::string>{"Reindexed in 0.1 s: 1 file added."});

  f.conversation.handle(telegram_admin, "what is chinchilla?");
  const Answer stats = f.conversation.handle(telegram_admin, "/stats@RoundupBot");
  REQUIRE(stats.lines.size() >= 6);
  CHECK(stats.lines[0] == "Roundups: 5");
  const auto has_line = [&stats](const std::string& prefix) {
    for (const auto& line : stats.lines)
      if (line.rfind(prefix, 0) == 0) return true;
    return false;
  };
  CHECK(has_line("Uptime: "));
  CHECK(has_line("Questions answered: 1"));
  CHECK(has_line("Digests sent: 0"));
  CHECK(has_line("Digest channels: 3"));
  CHECK(has_line("Outbox backlog: 0"));

  const Answer digest = f.conversation.handle(telegram_admin, "/digest now");
  CHECK(digest.lines == std::vector<std::string>{"Posted the next digest to this chat."});
  CHECK(f.posted_now == std::vector<std::string>{"telegram:-1001 telegram:update:7"});

  // Each command is audited when it starts and with its outcome, newest first.
  const auto log = f.store.audit_log(10);
  REQUIRE(log.size() == 5);
  CHECK(log[0].command == "/digest now");
  CHECK(log[0].outcome == "posted 2 papers");
  CHECK(log[1].outcome == "started");
  CHECK(log[2].command == "/stats");
  CHECK(log[3].command == "/reindex");
  CHECK(log[3].outcome == "ok");
  CHECK(log[4].outcome == "started");
  for (const auto& entry : log) CHECK(entry.allowed);
}

TEST_CASE("conversation: chats subscribe and unsubscribe themselves") {
  Fixture f;
  CHECK(f.conversation.handle(slack_user, "/subscribe").lines[0].rfind("Subscribed", 0) == 0);
  CHECK(f.conversation.handle(slack_user, "/subscribe").lines[0].find("already") != std::string::npos);
  CHECK(f.store.subscriptions() == std::vector<std::string>{"slack:C1"});
  CHECK(f.conversation.handle(slack_user, "/unsubscribe").lines[0].rfind("Unsubscribed", 0) == 0);
  CHECK(f.store.subscriptions().empty());
  CHECK(f.conversation.handle(slack_user, "/unsubscribe").lines[0].find("not subscribed") != std::string::npos);
}

TEST_CASE("conversation: questions and other commands go to the knowledge base and are counted") {
  Fixture f;
  f.conversation.handle(slack_user, "  which paper had 540B parameters?  ");
  f.conversation.handle(slack_user, "/papers 2023-02");
  CHECK(f.knowledge.asked == std::vector<std::string>{"which paper had 540B parameters?", "/papers 2023-02"});
  CHECK(f.store.counter("questions_answered") == 2);
  CHECK(f.store.audit_log(10).empty());
}

TEST_CASE("conversation: uptime reads naturally") {
  using roundup::bot::describe_uptime;
  using namespace std::chrono_literals;
  CHECK(describe_uptime(12s) == "12 s");
  CHECK(describe_uptime(125s) == "2 min");
  CHECK(describe_uptime(3h + 5min) == "3 h 5 min");
  CHECK(describe_uptime(50h) == "2 d 2 h");
}

TEST_CASE("conversation: feedback names commands as the speaker's platform spells them - the audit log does not") {
  Fixture f;
  Speaker slack_command_user = slack_user;
  slack_command_user.commands.prefix = "/roundup ";
  Speaker slack_command_admin = slack_admin;
  slack_command_admin.commands.prefix = "/roundup ";

  const Answer refusal = f.conversation.handle(slack_command_user, "/reindex now");
  CHECK(refusal.heading == "Sorry, /roundup reindex now is for the bot's admins");
  const Answer how = f.conversation.handle(slack_command_admin, "/digest");
  REQUIRE(how.lines.size() == 1);
  CHECK(how.lines[0].find("Use /roundup digest now") == 0);
  CHECK(f.conversation.handle(telegram_admin, "/digest").lines[0].find("Use /digest now") == 0);
  const auto log = f.store.audit_log(10);
  REQUIRE(log.size() == 3);
  CHECK(log[2].command == "/reindex now");  // oldest last
  CHECK(log[1].command == "/digest");

  // Questions and knowledge-base commands take the spelling along.
  f.conversation.handle(slack_command_user, "/papers 2023-02");
  f.conversation.handle(telegram_admin, "what is PaLM?");
  CHECK(f.knowledge.spellings == std::vector<std::string>{"/roundup help", "/help"});
}

namespace {
std::string repeated(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}
// Exactly 2,000 characters: the longest question the bot reads (README, "Limits").
const std::string k_question_at_cap = "which paper had 540B parameters" + std::string(2000 - 32, ' ') + "?";
}  // namespace

TEST_CASE("conversation: a question over the cap gets a polite reply that gives the limit (issue 12)") {
  Fixture f;
  // A Slack message can be 40,000 characters; NFKC turns U+FDFA into 18 and U+FB03 into 3, so
  // a question that looks short can be long once read. One U+FB03 in place of a space puts the
  // question at the cap over it.
  std::string just_over = k_question_at_cap;
  just_over.replace(40, 1, "\uFB03");
  for (const std::string& question :
       {just_over, repeated("a", 40000), "papers by " + repeated("\uFDFA", 4000), "/search " + repeated("\uFDFA", 200),
        "/ask " + repeated("abc ", 10000), "/papers " + repeated("\xff", 3000)}) {
    const Answer a = f.conversation.handle(slack_user, question);
    CHECK(a.kind == Answer::Kind::notice);
    CHECK(a.heading == "That question is too long");
    REQUIRE_FALSE(a.lines.empty());
    CHECK(a.lines[0].find("up to 2,000 characters") != std::string::npos);
  }
  CHECK(f.knowledge.asked.empty());
  CHECK(f.store.counter("questions_answered") == 0);
}

TEST_CASE("conversation: a question right at the cap is answered") {
  Fixture f;
  f.conversation.handle(slack_user, k_question_at_cap);
  CHECK(f.knowledge.asked == std::vector<std::string>{k_question_at_cap});
  CHECK(f.store.counter("questions_answered") == 1);

  // End to end, by the bundled knowledge base: the padding does not hide the question.
  Conversation bundled{f.store, *roundup::testing::bundled_knowledge(), DigestControl{}, ConversationOptions{},
                       [] { return std::int64_t{1000}; }};
  const Answer a = bundled.handle(slack_user, k_question_at_cap);
  CHECK(a.kind == Answer::Kind::answer);
  REQUIRE_FALSE(a.citations.empty());
  CHECK(a.citations[0].title.find("PaLM") != std::string::npos);
}

TEST_CASE("conversation: the thread a reply opens starts with the conversation's memory") {
  Fixture f;
  const Speaker top_of_dm{"slack", "U1", "D1", "slack:event:Ev1", {}, "slack:D1", "slack:D1:5.5"};
  f.conversation.handle(top_of_dm, "what is PaLM?");
  const auto dm = f.store.dialogue("slack:D1", 1000);
  REQUIRE(dm.has_value());
  CHECK(f.store.dialogue("slack:D1:5.5", 1000) == dm);

  // A later question at the top of the DM opens its own thread and leaves this one as it was.
  const Speaker next{"slack", "U1", "D1", "slack:event:Ev2", {}, "slack:D1", "slack:D1:6.6"};
  f.conversation.handle(next, "what is Chinchilla?");
  CHECK(f.store.dialogue("slack:D1:6.6", 1000) == f.store.dialogue("slack:D1", 1000));
  CHECK(f.store.dialogue("slack:D1:5.5", 1000) == dm);
}
