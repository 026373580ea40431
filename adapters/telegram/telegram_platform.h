#pragma once
// Telegram as a bot::ChatPlatform: the webhook route or the long-polling loop in front of
// TelegramService, HTML rendering, sendMessage delivery, Telegram's pacing, and a restart of a
// poll loop that stopped making progress.

#include <memory>

#include "adapters/service/platform_registry.h"

namespace roundup::adapters::telegram {

// The platform when the configuration has a "telegram" section (or its environment), else nullptr.
std::unique_ptr<bot::ChatPlatform> make_platform(const adapters::service::PlatformDeps& deps);

}  // namespace roundup::adapters::telegram
