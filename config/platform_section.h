#pragma once
// Builds a config::PlatformSection from a platform's typed schema, so an adapter declares its
// section like the core's tables (config/schema.h) and never touches std::any.
//
//   struct SlackConfig { bool enabled = false; ...; bool operator==(const SlackConfig&) const = default; };
//   config::PlatformSection section = config::make_platform_section<SlackConfig>({"slack", &spec, ...});

#include <any>
#include <string>
#include <string_view>
#include <utility>

#include "config/config.h"
#include "config/schema.h"

namespace roundup::config {

template <typename Settings>
struct PlatformSchema {
  std::string name;
  const schema::SectionSpec<Settings>& (*spec)();
  // Takes the platform's variables from the environment; true when one was set.
  bool (*apply_environment)(Settings& settings, EnvironmentLookup getenv_fn);
  // Problems of an enabled platform, with full key paths ("slack.bot_token").
  void (*check_runnable)(const Settings& settings, schema::Problems& problems);
  bool (*valid_channel_id)(std::string_view id);
  bool (*valid_user_id)(std::string_view id);
  std::string channel_example;
  std::string user_example;
  // An enabled platform's line in `config check` ("events mode").
  std::string (*summary)(const Settings& settings);
};

// Settings needs `bool enabled` (a present section or a set variable turns it on) and operator==.
template <typename Settings>
PlatformSection make_platform_section(PlatformSchema<Settings> typed) {
  PlatformSection section;
  section.name = typed.name;
  section.defaults = Settings{};
  const auto spec = typed.spec;
  section.read = [spec](const nlohmann::json& value, std::any& settings, const std::string& path,
                        schema::Problems& problems) {
    auto& typed_settings = std::any_cast<Settings&>(settings);
    typed_settings.enabled = true;  // present is enabled, so `"slack": {}` plus environment secrets works
    schema::read_section(value, typed_settings, path, spec(), problems);
  };
  const auto apply = typed.apply_environment;
  section.apply_environment = [apply](std::any& settings, EnvironmentLookup getenv_fn) {
    auto& typed_settings = std::any_cast<Settings&>(settings);
    const bool set = apply(typed_settings, getenv_fn);
    if (set) typed_settings.enabled = true;
    return set;
  };
  section.enabled = [](const std::any& settings) { return std::any_cast<const Settings&>(settings).enabled; };
  const auto check = typed.check_runnable;
  section.check_runnable = [check](const std::any& settings, schema::Problems& problems) {
    const auto& typed_settings = std::any_cast<const Settings&>(settings);
    if (typed_settings.enabled) check(typed_settings, problems);
  };
  section.equal = [](const std::any& a, const std::any& b) {
    return std::any_cast<const Settings&>(a) == std::any_cast<const Settings&>(b);
  };
  section.valid_channel_id = typed.valid_channel_id;
  section.valid_user_id = typed.valid_user_id;
  const auto summary = typed.summary;
  section.summary = [summary](const std::any& settings) {
    const auto& typed_settings = std::any_cast<const Settings&>(settings);
    return typed_settings.enabled ? summary(typed_settings) : std::string("off");
  };
  section.channel_example = std::move(typed.channel_example);
  section.user_example = std::move(typed.user_example);
  return section;
}

// `config`'s settings of platform `name` as `Settings`; the defaults (not enabled) when it was read
// without that platform.
template <typename Settings>
const Settings& platform_settings(const Config& config, std::string_view name) {
  static const Settings k_absent{};
  const Settings* settings = config.platforms.get<Settings>(name);
  return settings ? *settings : k_absent;
}

// Sets `target` from environment variable `name` when that is set and not empty; true when it did.
inline bool take_secret(EnvironmentLookup getenv_fn, const char* name, Secret& target) {
  const char* value = getenv_fn(name);
  if (value == nullptr || *value == '\0') return false;
  target.value = value;
  return true;
}

}  // namespace roundup::config
