#include "adapters/service/platform_registry.h"

#include "adapters/slack/slack_platform.h"
#include "adapters/telegram/telegram_platform.h"

namespace roundup::adapters::service {

std::vector<PlatformEntry> builtin_platforms() {
  return {
      {"slack", &adapters::slack::make_platform},
      {"telegram", &adapters::telegram::make_platform},
  };
}

}  // namespace roundup::adapters::service
