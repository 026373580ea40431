#pragma once
// The built-in platforms' configuration sections, and typed access to their settings, for tests
// that configure Slack or Telegram.

#include <stdexcept>
#include <string_view>

#include "adapters/service/platform_registry.h"
#include "adapters/slack/slack_config.h"
#include "adapters/telegram/telegram_config.h"
#include "config/config.h"

namespace roundup::testing {

inline const config::PlatformSections& platform_sections() {
  static const config::PlatformSections sections = adapters::service::builtin_platform_sections();
  return sections;
}

// The configuration's settings of platform `name`; the configuration must have been read with
// platform_sections(), else this throws (the test fails). No doctest here: the benchmarks use it too.
template <typename Settings, typename Config>
auto& platform_of(Config& config, std::string_view name) {
  auto* settings = config.platforms.template get<Settings>(name);
  if (settings == nullptr) throw std::logic_error("the configuration was read without the built-in platforms");
  return *settings;
}

inline adapters::slack::SlackConfig& slack_of(config::Config& config) {
  return platform_of<adapters::slack::SlackConfig>(config, "slack");
}
inline const adapters::slack::SlackConfig& slack_of(const config::Config& config) {
  return platform_of<adapters::slack::SlackConfig>(config, "slack");
}
inline adapters::telegram::TelegramConfig& telegram_of(config::Config& config) {
  return platform_of<adapters::telegram::TelegramConfig>(config, "telegram");
}
inline const adapters::telegram::TelegramConfig& telegram_of(const config::Config& config) {
  return platform_of<adapters::telegram::TelegramConfig>(config, "telegram");
}

}  // namespace roundup::testing
