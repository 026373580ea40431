#pragma once
// The state store the configuration names (`state.backend`): SQLite under data_dir, or PostgreSQL
// at `state.url`. The one place that picks an implementation of the core's state ports.

#include <memory>
#include <string>

#include "bot/state_store.h"
#include "config/config.h"

namespace roundup::adapters::service {

enum class StateAccess {
  read_write,  // the service: creates and migrates what is missing
  // Inspection (`digest --dry-run`): never creates, migrates or writes. Throws bot::StateError
  // unless the state exists with exactly this build's schema.
  read_only,
};

// Opens (and, read_write, migrates) the configured store. Throws bot::StateError, without secrets.
std::unique_ptr<bot::StateStore> open_state_store(const config::Config& config,
                                                  StateAccess access = StateAccess::read_write);

// The configured store as rows (`roundup-bot state export` / `import`). Throws bot::StateError.
std::unique_ptr<bot::StateTransfer> open_state_transfer(const config::Config& config, StateAccess access);

// Whether several `serve` replicas may share the configured store (PostgreSQL). They then claim
// work, and send to a chat, under leases. SQLite is one process per data_dir (its lock file).
bool state_is_shared(const config::Config& config);

// Whether a read_only open can find anything: the SQLite file exists, or a PostgreSQL URL is set.
bool state_exists(const config::Config& config);

// "sqlite var/state/bot.sqlite" or "postgresql postgresql://bot@db.internal/roundup" (no password),
// for logs and `config check`.
std::string describe_state(const config::Config& config);

}  // namespace roundup::adapters::service
