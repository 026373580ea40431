#pragma once
// Telegram's part of the configuration: the "telegram" section, its ROUNDUP_TELEGRAM_* variables,
// the checks that keep it from running, and Telegram's id grammar. Read through
// config::PlatformSection, which the service's platform registry hands to the configuration reader.

#include <string>
#include <string_view>

#include "config/config.h"

namespace roundup::adapters::telegram {

struct TelegramConfig {
  bool enabled = false;  // true when the `telegram` section is present or ROUNDUP_TELEGRAM_BOT_TOKEN is set
  config::Secret bot_token;
  std::string mode = "polling";  // "webhook" | "polling"
  std::string api_base = "https://api.telegram.org";
  config::Secret secret_token;  // webhook mode: X-Telegram-Bot-Api-Secret-Token
  std::string public_url;       // webhook mode: the https URL Telegram posts updates to

  bool operator==(const TelegramConfig&) const = default;
};

// The "telegram" section, for the platform registry.
config::PlatformSection config_section();

// The configuration's Telegram settings (the defaults, not enabled, when it was read without Telegram).
const TelegramConfig& settings_of(const config::Config& config);

// A chat id (an integer, negative for groups and channels) or a public channel's "@username".
bool valid_channel_id(std::string_view id);
// A user: a chat id that is not a group's or a channel's (no '-' or '@').
bool valid_user_id(std::string_view id);

}  // namespace roundup::adapters::telegram
