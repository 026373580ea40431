#include "adapters/telegram/update.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "adapters/telegram/commands.h"
#include "adapters/telegram/utf16.h"

using nlohmann::json;
using roundup::adapters::telegram::BotIdentity;
using roundup::adapters::telegram::Incoming;
using roundup::adapters::telegram::interpret_update;
using roundup::adapters::telegram::published_commands;
using roundup::adapters::telegram::utf16_length;

namespace {

const BotIdentity k_me{7001, "RoundupBot"};
constexpr std::int64_t k_user = 42;
constexpr std::int64_t k_group = -1001234567890;

const std::string k_grin = "\xF0\x9F\x98\x80";         // 2 UTF-16 units
const std::string k_cjk = "\xE8\xAE\xBA\xE6\x96\x87";  // 论文: 2 units, 6 bytes

json entity(const std::string& type, std::size_t offset, std::size_t length) {
  return json{{"type", type}, {"offset", offset}, {"length", length}};
}

json message_update(const std::string& text, const std::string& chat_type = "private", json entities = json::array()) {
  const std::int64_t chat_id = chat_type == "private" ? k_user : k_group;
  json message{{"message_id", 555},
               {"date", 1700000000},
               {"chat", {{"id", chat_id}, {"type", chat_type}, {"title", "ML readers"}}},
               {"from", {{"id", k_user}, {"is_bot", false}, {"first_name", "Ada"}, {"language_code", "en"}}},
               {"text", text}};
  if (!entities.empty()) message["entities"] = std::move(entities);
  return json{{"update_id", 9001}, {"message", std::move(message)}};
}

// A command update: the bot_command entity covers the first word.
json command_update(const std::string& text, const std::string& chat_type = "private") {
  const std::size_t end = std::min(text.find(' '), text.size());
  return message_update(text, chat_type, json::array({entity("bot_command", 0, utf16_length(text.substr(0, end)))}));
}

}  // namespace

TEST_CASE("interpret_update: private text is a question") {
  const Incoming in = interpret_update(message_update("  which paper trained on more tokens?  "), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.command == "");
  CHECK(in.text == "which paper trained on more tokens?");
  CHECK(in.update_id == 9001);
  CHECK(in.chat_id == k_user);
  CHECK(in.message_id == 555);
  CHECK(in.user_id == k_user);
  CHECK(in.chat_type == "private");
  CHECK_FALSE(in.message_thread_id);
  CHECK(in.ignore_reason == "");
}

TEST_CASE("interpret_update: commands") {
  Incoming in = interpret_update(command_update("/start"), k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "start");
  CHECK(in.text == "");

  in = interpret_update(command_update("/help"), k_me);
  CHECK(in.command == "help");

  in = interpret_update(command_update("/ask"), k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "ask");
  CHECK(in.text == "");

  in = interpret_update(command_update("/search   chinchilla scaling "), k_me);
  CHECK(in.command == "search");
  CHECK(in.text == "chinchilla scaling");

  in = interpret_update(command_update("/papers 2023-02"), k_me);
  CHECK(in.command == "papers");
  CHECK(in.text == "2023-02");

  in = interpret_update(command_update("/Subscribe weekly"), k_me);  // passed through, lower-cased
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "subscribe");
  CHECK(in.text == "weekly");

  in = interpret_update(command_update("/ask@RoundupBot what is RLHF?", "group"), k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "ask");
  CHECK(in.text == "what is RLHF?");

  // A slash without a bot_command entity is just text.
  in = interpret_update(message_update("/ask what"), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "/ask what");
}

TEST_CASE("interpret_update: commands in groups") {
  Incoming in = interpret_update(command_update("/ask@OtherBot what is RLHF?", "group"), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason.find("another bot") != std::string::npos);
  CHECK(in.update_id == 9001);

  in = interpret_update(command_update("/ask@OtherBot what", "private"), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);

  in = interpret_update(command_update("/ASK@roundupbot what is RLHF?", "supergroup"), k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "ask");
  CHECK(in.text == "what is RLHF?");
  CHECK(in.chat_id == k_group);
  CHECK(in.chat_type == "supergroup");

  in = interpret_update(command_update("/papers", "group"), k_me);  // bare commands count as addressed
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "papers");

  // A bot_command entity not at offset 0 is not a command; unaddressed in a group.
  in = interpret_update(message_update("see /papers", "group", json::array({entity("bot_command", 4, 7)})), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
}

// Found by fuzz/telegram_update_fuzz.cpp: a bot_command entity over the whole text made all of it
// the command's "name" ("end+roundupbot /*ich paper?"), '/' and spaces included.
TEST_CASE("interpret_update: an entity over more than a command name is no command") {
  const std::string text = "/end+RoundupBot /*ich paper?";
  const json whole = json::array({entity("bot_command", 0, 30)});
  Incoming in = interpret_update(message_update(text, "supergroup", whole), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.command == "");

  in = interpret_update(message_update(text, "private", whole), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.command == "");
  CHECK(in.text == text);

  // A name over 32 characters, or with characters Telegram does not allow, is no command either.
  in = interpret_update(command_update("/" + std::string(33, 'a')), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  in = interpret_update(command_update("/ask_v2@RoundupBot x", "group"), k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "ask_v2");
  CHECK(in.text == "x");
}

TEST_CASE("interpret_update: groups need a mention - a command or a reply") {
  Incoming in = interpret_update(message_update("what is RLHF?", "group"), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason.find("not addressed") != std::string::npos);
  CHECK(in.text == "");

  in = interpret_update(message_update("@RoundupBot what is RLHF?", "group", json::array({entity("mention", 0, 11)})),
                        k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "what is RLHF?");

  in = interpret_update(message_update("@roundupbot: what is RLHF?", "group", json::array({entity("mention", 0, 11)})),
                        k_me);
  CHECK(in.text == "what is RLHF?");

  in = interpret_update(
      message_update("hey @RoundupBot, what is RLHF?", "group", json::array({entity("mention", 4, 11)})), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "hey what is RLHF?");

  in = interpret_update(message_update("@OtherBot what is RLHF?", "group", json::array({entity("mention", 0, 9)})),
                        k_me);
  CHECK(in.kind == Incoming::Kind::ignore);

  // "@RoundupBot" typed but without an entity (e.g. inside code) does not count.
  in = interpret_update(message_update("@RoundupBot what", "group", json::array({entity("code", 0, 11)})), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);

  // Only the mention: a question with empty text (the responder shows help).
  in = interpret_update(message_update("@RoundupBot", "group", json::array({entity("mention", 0, 11)})), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "");
}

TEST_CASE("interpret_update: mention offsets are UTF-16 units (emoji and CJK before it)") {
  // "😀论文 @RoundupBot 讲了什么": the mention starts at unit 2 + 2 + 1 = 5, byte 11.
  const std::string text = k_grin + k_cjk + " @RoundupBot what about " + k_grin + "?";
  const Incoming in =
      interpret_update(message_update(text, "supergroup", json::array({entity("mention", 5, 11)})), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == k_grin + k_cjk + " what about " + k_grin + "?");

  // Byte or code point offsets would land elsewhere: the mention is not found there.
  const Incoming wrong =
      interpret_update(message_update(text, "supergroup", json::array({entity("mention", 11, 11)})), k_me);
  CHECK(wrong.kind == Incoming::Kind::ignore);
}

TEST_CASE("interpret_update: text_mention of the bot's user id") {
  const std::string text = "Roundup Bot what is new?";
  json mention = entity("text_mention", 0, 11);
  mention["user"] = {{"id", k_me.id}, {"is_bot", true}, {"first_name", "Roundup Bot"}};
  Incoming in = interpret_update(message_update(text, "group", json::array({mention})), k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "what is new?");

  mention["user"]["id"] = 123;
  in = interpret_update(message_update(text, "group", json::array({mention})), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
}

TEST_CASE("interpret_update: a mention after a command is removed from the argument") {
  const Incoming in =
      interpret_update(message_update("/search scaling laws @RoundupBot", "group",
                                      json::array({entity("bot_command", 0, 7), entity("mention", 21, 11)})),
                       k_me);
  CHECK(in.kind == Incoming::Kind::command);
  CHECK(in.command == "search");
  CHECK(in.text == "scaling laws");
}

TEST_CASE("interpret_update: replies to the bot in groups") {
  json update = message_update("and what about its successor?", "group");
  update["message"]["reply_to_message"] = {{"message_id", 500},
                                           {"from", {{"id", k_me.id}, {"is_bot", true}, {"first_name", "Roundup"}}},
                                           {"chat", {{"id", k_group}, {"type", "group"}}},
                                           {"text", "Chinchilla..."}};
  Incoming in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.text == "and what about its successor?");
  CHECK(in.replied_bot_message_id == 500);  // the reply chain it continues

  // A reply to the bot that also mentions it still continues the chain.
  update["message"]["text"] = "@RoundupBot and its successor?";
  update["message"]["entities"] = json::array({{{"type", "mention"}, {"offset", 0}, {"length", 11}}});
  in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.replied_bot_message_id == 500);

  // A mention replying to someone else starts afresh.
  update["message"]["reply_to_message"]["from"]["id"] = 9999;
  in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.replied_bot_message_id == 0);

  update["message"]["text"] = "and what about its successor?";
  update["message"].erase("entities");
  in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
}

TEST_CASE("interpret_update: forum topics carry the thread id") {
  json update = command_update("/ask what is RLHF?", "supergroup");
  update["message"]["is_topic_message"] = true;
  update["message"]["message_thread_id"] = 77;
  Incoming in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::command);
  REQUIRE(in.message_thread_id);
  CHECK(*in.message_thread_id == 77);

  // A thread id without is_topic_message (a reply thread in a non-forum group) is not a topic.
  update["message"].erase("is_topic_message");
  in = interpret_update(update, k_me);
  CHECK_FALSE(in.message_thread_id);

  // In a topic, reply_to_message is the topic's creation message unless the user really replied:
  // a topic the bot created does not make every message in it a reply to the bot.
  json topic = message_update("chatting among ourselves", "supergroup");
  topic["message"]["is_topic_message"] = true;
  topic["message"]["message_thread_id"] = 77;
  topic["message"]["reply_to_message"] = {
      {"message_id", 77}, {"from", {{"id", k_me.id}, {"is_bot", true}}}, {"forum_topic_created", {{"name", "Papers"}}}};
  in = interpret_update(topic, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.replied_bot_message_id == 0);
  topic["message"]["reply_to_message"]["message_id"] = 80;  // a real reply to the bot in the topic
  in = interpret_update(topic, k_me);
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.message_thread_id == 77);
  CHECK(in.replied_bot_message_id == 80);
}

TEST_CASE("interpret_update: ignored updates say why") {
  json update = message_update("hello");
  update["message"]["from"]["is_bot"] = true;
  Incoming in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason == "sent by a bot");

  json edited{{"update_id", 9002}, {"edited_message", message_update("hello")["message"]}};
  in = interpret_update(edited, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason.find("edit") != std::string::npos);
  CHECK(in.update_id == 9002);

  json post{{"update_id", 9003}, {"channel_post", message_update("news", "channel")["message"]}};
  in = interpret_update(post, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason == "channel post");

  in = interpret_update(message_update("news", "channel"), k_me);
  CHECK(in.kind == Incoming::Kind::ignore);

  in = interpret_update(json{{"update_id", 9004}, {"callback_query", {{"id", "x"}}}}, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason == "unsupported update type: callback_query");

  update = message_update("hello");
  update["message"].erase("text");
  update["message"]["photo"] = json::array();
  in = interpret_update(update, k_me);
  CHECK(in.kind == Incoming::Kind::ignore);
  CHECK(in.ignore_reason == "message without text");

  update = message_update("@RoundupBot hi", "supergroup", json::array({entity("mention", 0, 11)}));
  update["message"]["is_automatic_forward"] = true;
  CHECK(interpret_update(update, k_me).kind == Incoming::Kind::ignore);
}

TEST_CASE("interpret_update: never throws on bad shapes") {
  const json bad_shapes[] = {
      json(),
      json::array({1, 2}),
      json("text"),
      json::object(),
      json{{"update_id", "9001"}, {"message", message_update("hi")["message"]}},
      json{{"update_id", 9001}, {"message", "hi"}},
      json{{"update_id", 9001}, {"message", {{"chat", 5}, {"text", "hi"}}}},
      json{{"update_id", 9001}, {"message", {{"message_id", 1}, {"chat", {{"id", 1.5}, {"type", "private"}}}}}},
      json{{"update_id", 18446744073709551615ULL}, {"message", message_update("hi")["message"]}},
  };
  for (const json& update : bad_shapes) {
    Incoming in;
    CHECK_NOTHROW(in = interpret_update(update, k_me));
    CHECK(in.kind == Incoming::Kind::ignore);
    CHECK(in.ignore_reason != "");
  }

  // Bad entities are skipped, not trusted.
  const json bad_entities = json::array({json("x"), json{{"type", 5}}, entity("mention", 100, 11),
                                         json{{"type", "mention"}, {"offset", -1}, {"length", 11}},
                                         json{{"type", "bot_command"}, {"offset", 0}, {"length", "x"}}});
  Incoming in;
  CHECK_NOTHROW(in = interpret_update(message_update("@RoundupBot hi", "group", bad_entities), k_me));
  CHECK(in.kind == Incoming::Kind::ignore);

  json update = message_update("hello", "private");
  update["message"]["from"] = "someone";
  update["message"]["entities"] = "none";
  update["message"]["is_topic_message"] = "yes";
  update["message"]["reply_to_message"] = json::array();
  CHECK_NOTHROW(in = interpret_update(update, k_me));
  CHECK(in.kind == Incoming::Kind::question);
  CHECK(in.user_id == 0);
  CHECK_FALSE(in.message_thread_id);

  // Unknown fields are fine.
  update = message_update("hello");
  update["message"]["brand_new_field"] = {{"nested", true}};
  update["another"] = 1;
  CHECK(interpret_update(update, k_me).kind == Incoming::Kind::question);
}

TEST_CASE("published_commands: valid BotCommand list") {
  const json commands = published_commands();
  REQUIRE(commands.is_array());
  std::set<std::string> names;
  for (const json& command : commands) {
    const std::string name = command.at("command").get<std::string>();
    const std::string description = command.at("description").get<std::string>();
    CHECK(!name.empty());
    CHECK(name.size() <= 32);
    for (const char c : name) CHECK(((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'));
    CHECK(!description.empty());
    CHECK(utf16_length(description) <= 256);
    names.insert(name);
  }
  CHECK(names == std::set<std::string>{"start", "help", "ask", "search", "papers", "subscribe", "unsubscribe"});
  CHECK(commands.at(0).at("command") == "start");
}
