#pragma once
// Slack's part of the configuration: the "slack" section, its ROUNDUP_SLACK_* variables, the
// checks that keep it from running, and Slack's id grammar. Read through config::PlatformSection,
// which the service's platform registry hands to the configuration reader.

#include <string>
#include <string_view>

#include "config/config.h"

namespace roundup::adapters::slack {

struct SlackConfig {
  bool enabled = false;  // true when the `slack` section is present or a ROUNDUP_SLACK_* variable is set
  config::Secret signing_secret;
  config::Secret bot_token;     // xoxb-...
  config::Secret app_token;     // xapp-..., Socket Mode only
  std::string mode = "events";  // "events" (HTTP webhooks) | "socket" (Socket Mode, no public URL)
  std::string api_base = "https://slack.com/api";
  std::string command = "/roundup";

  bool operator==(const SlackConfig&) const = default;
};

// The "slack" section, for the platform registry.
config::PlatformSection config_section();

// The configuration's Slack settings (the defaults, not enabled, when it was read without Slack).
const SlackConfig& settings_of(const config::Config& config);

// Channels C…/G…/D… and users U…/W…: upper-case letters and digits.
bool valid_channel_id(std::string_view id);
// A user: U… or W….
bool valid_user_id(std::string_view id);

}  // namespace roundup::adapters::slack
