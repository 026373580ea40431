#include "adapters/telegram/update.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <vector>

#include "adapters/telegram/utf16.h"
#include "text/unicode.h"

namespace roundup::adapters::telegram {

namespace {

using nlohmann::json;

// Shape-checked accessors: a missing member or one of the wrong type reads as absent.
const json* member(const json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

const json* object_member(const json* object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_object() ? value : nullptr;
}

std::optional<std::int64_t> integer(const json* object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  if (value->is_number_unsigned()) {
    const auto u = value->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  return value->get<std::int64_t>();
}

const std::string* string(const json* object, std::string_view key) {
  const json* value = member(object, key);
  return value == nullptr ? nullptr : value->get_ptr<const json::string_t*>();
}

bool flag(const json* object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

// Telegram usernames are ASCII and case-insensitive.
bool same_username(std::string_view a, std::string_view b) {
  return !a.empty() && ascii_lower(a) == ascii_lower(b);
}

// Telegram's command names: 1-32 of A-Z a-z 0-9 and '_'.
bool command_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

struct Entity {
  std::string_view type;
  ByteRange bytes;
  const json* object;
};

// The message's entities whose ranges make sense for `text`, in byte terms.
std::vector<Entity> entities(const json* message, std::string_view text) {
  std::vector<Entity> out;
  const json* list = member(message, "entities");
  if (list == nullptr || !list->is_array()) return out;
  for (const json& entity : *list) {
    const std::string* type = string(&entity, "type");
    const auto offset = integer(&entity, "offset");
    const auto length = integer(&entity, "length");
    if (type == nullptr || !offset || !length) continue;
    const auto bytes = utf16_to_byte_range(text, *offset, *length);
    if (bytes) out.push_back(Entity{*type, *bytes, &entity});
  }
  return out;
}

bool mentions_me(const Entity& entity, std::string_view text, const BotIdentity& me) {
  if (entity.type == "mention") {
    const std::string_view mention = text.substr(entity.bytes.offset, entity.bytes.length);
    return mention.size() > 1 && mention.front() == '@' && same_username(mention.substr(1), me.username);
  }
  if (entity.type == "text_mention") {
    const auto user_id = integer(object_member(entity.object, "user"), "id");
    return me.id != 0 && user_id == me.id;
  }
  return false;
}

// Removes the given byte ranges (ascending, not overlapping) from `text`, with the ':' or ','
// that follows a mention used as an address ("@bot: ...", "hi @bot, ...") and the doubled space
// left behind.
std::string remove_ranges(std::string text, const std::vector<ByteRange>& ranges) {
  for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
    const std::size_t at = it->offset;
    text.erase(at, it->length);
    if (at < text.size() && (text[at] == ':' || text[at] == ',') && (at == 0 || is_space(text[at - 1])))
      text.erase(at, 1);
    if (at > 0 && at < text.size() && is_space(text[at - 1]) && is_space(text[at])) text.erase(at, 1);
  }
  return text;
}

Incoming ignored(Incoming incoming, std::string reason) {
  incoming.kind = Incoming::Kind::ignore;
  incoming.command.clear();
  incoming.text.clear();
  incoming.ignore_reason = std::move(reason);
  return incoming;
}

Incoming interpret(const json& update, const BotIdentity& me) {
  Incoming in;
  if (!update.is_object()) return ignored(in, "update is not a JSON object");
  const auto update_id = integer(&update, "update_id");
  if (!update_id) return ignored(in, "update without an integer update_id");
  in.update_id = *update_id;

  if (member(&update, "edited_message") != nullptr) return ignored(in, "edited message (edits are not answered)");
  if (member(&update, "channel_post") != nullptr || member(&update, "edited_channel_post") != nullptr)
    return ignored(in, "channel post");
  const json* message = object_member(&update, "message");
  if (message == nullptr) {
    std::string type = "unknown";
    for (const auto& [key, value] : update.items())
      if (key != "update_id") {
        type = key;
        break;
      }
    return ignored(in, "unsupported update type: " + type);
  }

  const json* chat = object_member(message, "chat");
  const auto chat_id = integer(chat, "id");
  const std::string* chat_type = string(chat, "type");
  const auto message_id = integer(message, "message_id");
  if (!chat_id || chat_type == nullptr || !message_id) return ignored(in, "message without chat id, chat type or id");
  in.chat_id = *chat_id;
  in.chat_type = *chat_type;
  in.message_id = *message_id;
  if (flag(message, "is_topic_message")) in.message_thread_id = integer(message, "message_thread_id");

  const json* from = object_member(message, "from");
  in.user_id = integer(from, "id").value_or(0);
  if (flag(from, "is_bot")) return ignored(in, "sent by a bot");
  if (in.chat_type == "channel") return ignored(in, "channel post");
  const bool group = in.chat_type == "group" || in.chat_type == "supergroup";
  if (!group && in.chat_type != "private") return ignored(in, "unsupported chat type: " + in.chat_type);
  if (flag(message, "is_automatic_forward")) return ignored(in, "automatic forward from a linked channel");

  const std::string* text_field = string(message, "text");
  if (text_field == nullptr) return ignored(in, "message without text");
  const std::string_view text = *text_field;
  const std::vector<Entity> all_entities = entities(message, text);

  // A command: a bot_command entity at the very start, "/name" or "/name@bot".
  bool addressed = !group;
  std::size_t body_begin = 0;
  for (const Entity& entity : all_entities) {
    if (entity.type != "bot_command" || entity.bytes.offset != 0) continue;
    std::string_view name = text.substr(0, entity.bytes.length);
    if (name.size() < 2 || name.front() != '/') break;
    name.remove_prefix(1);
    const auto at = name.find('@');
    const std::string_view target = at == std::string_view::npos ? std::string_view() : name.substr(at + 1);
    name = name.substr(0, at);
    // An entity over more than a command's name is not a command (Telegram never sends one).
    if (!command_name(name)) break;
    if (at != std::string_view::npos && !same_username(target, me.username))
      return ignored(in, "command for another bot (@" + std::string(target) + ")");
    in.command = ascii_lower(name);
    body_begin = entity.bytes.length;
    addressed = true;  // a bare command counts as addressed to every bot in the group
    break;
  }

  std::vector<ByteRange> my_mentions;
  for (const Entity& entity : all_entities)
    if (entity.bytes.offset >= body_begin && mentions_me(entity, text, me)) my_mentions.push_back(entity.bytes);
  std::sort(my_mentions.begin(), my_mentions.end(),
            [](const ByteRange& a, const ByteRange& b) { return a.offset < b.offset; });
  // Entities should not overlap; drop any that do rather than erase garbage.
  std::vector<ByteRange> removable;
  for (const ByteRange& range : my_mentions)
    if (removable.empty() || range.offset >= removable.back().offset + removable.back().length)
      removable.push_back(range);
  if (!removable.empty()) addressed = true;

  {
    const json* reply_to = object_member(message, "reply_to_message");
    const auto replied_author = integer(object_member(reply_to, "from"), "id");
    // In a forum topic every message that is not an explicit reply carries the topic's creation
    // message as reply_to_message; that is not a reply to the bot.
    const bool topic_root = in.message_thread_id && integer(reply_to, "message_id") == in.message_thread_id;
    if (me.id != 0 && replied_author == me.id && !topic_root) {
      in.replied_bot_message_id = integer(reply_to, "message_id").value_or(0);
      addressed = true;
    }
  }
  if (!addressed) return ignored(in, "group message not addressed to the bot");

  in.text = trim(std::string_view(remove_ranges(std::string(text), removable)).substr(body_begin));
  in.kind = in.command.empty() ? Incoming::Kind::question : Incoming::Kind::command;
  return in;
}

}  // namespace

Incoming interpret_update(const json& update, const BotIdentity& me) {
  try {
    return interpret(update, me);
  } catch (const json::exception& error) {
    // The accessors check every shape, so this is a bug; still, one update must not stop the bot.
    Incoming in;
    in.ignore_reason = std::string("malformed update: ") + error.what();
    return in;
  }
}

}  // namespace roundup::adapters::telegram
