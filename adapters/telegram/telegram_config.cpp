#include "adapters/telegram/telegram_config.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "config/platform_section.h"

namespace roundup::adapters::telegram {
namespace {

using config::schema::Problems;

constexpr std::array<std::string_view, 2> k_modes = {"polling", "webhook"};

const config::schema::SectionSpec<TelegramConfig>& spec() {
  using namespace config::schema;
  static const SectionSpec<TelegramConfig> spec{
      {
          secret_field("bot_token", &TelegramConfig::bot_token),
          choice_field("mode", &TelegramConfig::mode, k_modes),
          string_field("api_base", &TelegramConfig::api_base),
          secret_field("secret_token", &TelegramConfig::secret_token),
          string_field("public_url", &TelegramConfig::public_url, /*allow_empty=*/true),
      },
      {},
  };
  return spec;
}

bool apply_environment(TelegramConfig& telegram, config::EnvironmentLookup getenv_fn) {
  bool set = false;
  set |= config::take_secret(getenv_fn, "ROUNDUP_TELEGRAM_BOT_TOKEN", telegram.bot_token);
  set |= config::take_secret(getenv_fn, "ROUNDUP_TELEGRAM_SECRET_TOKEN", telegram.secret_token);
  return set;
}

void check_runnable(const TelegramConfig& telegram, Problems& problems) {
  const auto& token = telegram.bot_token.value;
  if (token.empty()) {
    problems.add("telegram.bot_token", "required (or set ROUNDUP_TELEGRAM_BOT_TOKEN)");
  } else if (token.find(':') == std::string::npos || token.find_first_of("/?# ") != std::string::npos) {
    problems.add("telegram.bot_token", "does not look like a BotFather token ('123456:ABC...')");
  }
  if (!config::schema::is_http_url(telegram.api_base)) problems.add("telegram.api_base", "must be an http(s) URL");
  if (telegram.mode == "webhook") {
    if (!telegram.public_url.starts_with("https://")) {
      problems.add("telegram.public_url", "webhook mode needs the public https:// URL of /telegram/webhook");
    }
    const auto& secret = telegram.secret_token.value;
    if (secret.empty()) {
      problems.add("telegram.secret_token", "required in webhook mode (or set ROUNDUP_TELEGRAM_SECRET_TOKEN)");
    } else if (secret.size() > 256 || std::any_of(secret.begin(), secret.end(), [](unsigned char c) {
                 return !(std::isalnum(c) || c == '_' || c == '-');
               })) {
      problems.add("telegram.secret_token", "must be 1-256 characters of A-Z, a-z, 0-9, '_' and '-'");
    }
  }
}

bool all_of_chars(std::string_view text, bool (*allowed)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), allowed);
}

}  // namespace

bool valid_channel_id(std::string_view id) {
  const bool username = id.size() > 1 && id.front() == '@' && all_of_chars(id.substr(1), [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
                        });
  const std::string_view digits = !id.empty() && id.front() == '-' ? id.substr(1) : id;
  const bool number = digits.size() <= 19 && all_of_chars(digits, [](char c) { return c >= '0' && c <= '9'; });
  return username || number;
}

bool valid_user_id(std::string_view id) {
  return valid_channel_id(id) && id.front() != '@' && id.front() != '-';
}

config::PlatformSection config_section() {
  return config::make_platform_section<TelegramConfig>({
      .name = "telegram",
      .spec = &spec,
      .apply_environment = &apply_environment,
      .check_runnable = &check_runnable,
      .valid_channel_id = &valid_channel_id,
      .valid_user_id = &valid_user_id,
      .channel_example = "telegram:-1001234",
      .user_example = "telegram:42",
      .summary = [](const TelegramConfig& settings) { return settings.mode + " mode"; },
  });
}

const TelegramConfig& settings_of(const config::Config& config) {
  return config::platform_settings<TelegramConfig>(config, "telegram");
}

}  // namespace roundup::adapters::telegram
