#pragma once
// Where the bot can post: a platform's name and its own id of a chat ("slack:C0123",
// "telegram:-1001234", "telegram:@channel"). The core knows only this shape; which ids are
// well-formed is the platform's to say (ChatPlatform::valid_channel_id).

#include <optional>
#include <string>
#include <string_view>

namespace roundup::bot {

struct ChannelAddress {
  std::string platform;  // lower-case letters, digits and '_'
  std::string id;        // not empty; no spaces or control characters

  std::string text() const { return platform + ":" + id; }
  bool operator==(const ChannelAddress&) const = default;
};

// "platform:id" split at the first ':'; nullopt when either part breaks the shape above.
std::optional<ChannelAddress> parse_channel_address(std::string_view text);

}  // namespace roundup::bot
