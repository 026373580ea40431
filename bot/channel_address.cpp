#include "bot/channel_address.h"

#include <algorithm>

namespace roundup::bot {

std::optional<ChannelAddress> parse_channel_address(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view platform = text.substr(0, colon);
  const std::string_view id = text.substr(colon + 1);
  const bool platform_ok = !platform.empty() && std::all_of(platform.begin(), platform.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  const bool id_ok = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f;
  });
  if (!platform_ok || !id_ok) return std::nullopt;
  return ChannelAddress{std::string(platform), std::string(id)};
}

}  // namespace roundup::bot
