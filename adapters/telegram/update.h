#pragma once
// Decides what the bot should do with one Telegram Update: answer a question, run a command, or
// ignore it (and why). Pure: no network, no state.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace roundup::adapters::telegram {

// Who we are, from getMe at start-up.
struct BotIdentity {
  std::int64_t id = 0;
  std::string username;  // without '@'
};

struct Incoming {
  enum class Kind { ignore, question, command };
  Kind kind = Kind::ignore;
  // Lower-cased command name without '/' or "@bot": "start", "help", "ask", "search", "papers",
  // or any other command, passed through for the caller to accept or refuse. Empty for questions.
  std::string command;
  // The question, or the command's argument: mentions of this bot removed, trimmed. May be empty
  // ("/ask" alone, or "@OwnBot" alone in a group); the responder then shows help.
  std::string text;
  // Zero when the update does not carry them (an ignored update may stop parsing early; update_id
  // is filled whenever the update has one, so the caller can still confirm it).
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  std::int64_t user_id = 0;
  // The forum topic to reply in; set only for messages in a topic (is_topic_message).
  std::optional<std::int64_t> message_thread_id;
  // The bot's own message this one replies to (a group's reply chain continues there); zero when
  // it replies to nothing, to someone else, or only sits in a forum topic.
  std::int64_t replied_bot_message_id = 0;
  std::string chat_type;      // private | group | supergroup | channel
  std::string ignore_reason;  // set when kind == ignore, for the operator's log
};

// Interprets one Update object. Never throws: a malformed or unexpected update comes back as
// Kind::ignore with a reason.
//
// Only `message` updates with text are handled; edits (`edited_message`), channel posts, messages
// from bots (from.is_bot), automatic forwards from a linked channel and all other update types are
// ignored. A command is a `bot_command` entity at offset 0 that spans "/name" or "/name@bot", the
// name being 1-32 of A-Z a-z 0-9 '_' (an entity over anything else is no command). A command
// addressed to another bot ("/ask@OtherBot") is ignored in every chat; "/cmd" and "/cmd@OwnBot"
// (username compared case-insensitively) are ours.
//
// In private chats every other text is a question. In groups and supergroups the bot answers only
// its commands, messages that mention it (a `mention` entity "@OwnBot" or a `text_mention` of its
// user id) and replies to its own messages; everything else is ignored. Mentions of the bot are
// removed from the text (entity offsets are UTF-16 units).
Incoming interpret_update(const nlohmann::json& update, const BotIdentity& me);

}  // namespace roundup::adapters::telegram
