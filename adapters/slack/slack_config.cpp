#include "adapters/slack/slack_config.h"

#include <algorithm>
#include <array>

#include "config/platform_section.h"

namespace roundup::adapters::slack {
namespace {

using config::schema::Problems;

constexpr std::array<std::string_view, 2> k_modes = {"events", "socket"};

const config::schema::SectionSpec<SlackConfig>& spec() {
  using namespace config::schema;
  static const SectionSpec<SlackConfig> spec{
      {
          secret_field("signing_secret", &SlackConfig::signing_secret),
          secret_field("bot_token", &SlackConfig::bot_token),
          secret_field("app_token", &SlackConfig::app_token),
          choice_field("mode", &SlackConfig::mode, k_modes),
          string_field("api_base", &SlackConfig::api_base),
          string_field("command", &SlackConfig::command),
      },
      {},
  };
  return spec;
}

bool apply_environment(SlackConfig& slack, config::EnvironmentLookup getenv_fn) {
  bool set = false;
  set |= config::take_secret(getenv_fn, "ROUNDUP_SLACK_SIGNING_SECRET", slack.signing_secret);
  set |= config::take_secret(getenv_fn, "ROUNDUP_SLACK_BOT_TOKEN", slack.bot_token);
  set |= config::take_secret(getenv_fn, "ROUNDUP_SLACK_APP_TOKEN", slack.app_token);
  return set;
}

void check_runnable(const SlackConfig& slack, Problems& problems) {
  if (slack.bot_token.empty()) {
    problems.add("slack.bot_token", "required (or set ROUNDUP_SLACK_BOT_TOKEN)");
  } else if (!slack.bot_token.value.starts_with("xoxb-")) {
    problems.add("slack.bot_token", "must be a bot token starting with 'xoxb-'");
  }
  if (slack.mode == "events" && slack.signing_secret.empty()) {
    problems.add("slack.signing_secret", "required in events mode (or set ROUNDUP_SLACK_SIGNING_SECRET)");
  }
  if (slack.mode == "socket") {
    if (slack.app_token.empty()) {
      problems.add("slack.app_token", "required in socket mode (or set ROUNDUP_SLACK_APP_TOKEN)");
    } else if (!slack.app_token.value.starts_with("xapp-")) {
      problems.add("slack.app_token", "must be an app-level token starting with 'xapp-'");
    }
  }
  if (!config::schema::is_http_url(slack.api_base)) problems.add("slack.api_base", "must be an http(s) URL");
  if (slack.command.size() < 2 || slack.command.front() != '/') {
    problems.add("slack.command", "must start with '/', e.g. \"/roundup\"");
  }
}

}  // namespace

bool valid_channel_id(std::string_view id) {
  return !id.empty() &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool valid_user_id(std::string_view id) {
  return valid_channel_id(id) && (id.front() == 'U' || id.front() == 'W');
}

config::PlatformSection config_section() {
  return config::make_platform_section<SlackConfig>({
      .name = "slack",
      .spec = &spec,
      .apply_environment = &apply_environment,
      .check_runnable = &check_runnable,
      .valid_channel_id = &valid_channel_id,
      .valid_user_id = &valid_user_id,
      .channel_example = "slack:C0123",
      .user_example = "slack:U0123",
      .summary = [](const SlackConfig& settings) { return settings.mode + " mode"; },
  });
}

const SlackConfig& settings_of(const config::Config& config) {
  return config::platform_settings<SlackConfig>(config, "slack");
}

}  // namespace roundup::adapters::slack
