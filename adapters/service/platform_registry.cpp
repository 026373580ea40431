#include "adapters/service/platform_registry.h"

#include "adapters/slack/slack_config.h"
#include "adapters/slack/slack_platform.h"
#include "adapters/telegram/telegram_config.h"
#include "adapters/telegram/telegram_platform.h"

namespace roundup::adapters::service {

std::vector<PlatformEntry> builtin_platforms() {
  return {
      {slack::config_section(), &slack::make_platform},
      {telegram::config_section(), &telegram::make_platform},
  };
}

config::PlatformSections platform_sections(const std::vector<PlatformEntry>& platforms) {
  config::PlatformSections sections;
  sections.reserve(platforms.size());
  for (const PlatformEntry& entry : platforms) sections.push_back(entry.section);
  return sections;
}

config::PlatformSections builtin_platform_sections() {
  return platform_sections(builtin_platforms());
}

}  // namespace roundup::adapters::service
