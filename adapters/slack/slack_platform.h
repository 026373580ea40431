#pragma once
// Slack as a bot::ChatPlatform: the Events API routes or a Socket Mode connection in front of
// SlackService, Block Kit rendering, Web API delivery, about one message a second per channel.

#include <memory>

#include "adapters/service/platform_registry.h"

namespace roundup::adapters::slack {

// The platform when the configuration has a "slack" section (or its environment), else nullptr.
std::unique_ptr<bot::ChatPlatform> make_platform(const adapters::service::PlatformDeps& deps);

}  // namespace roundup::adapters::slack
