#pragma once
// The bot's state ports (bot/state_store.h) on PostgreSQL, through libpq: the backend for running
// several replicas against one shared state (`state: {backend: "postgresql", url: ...}`).
//
// Exactly-once records are unique keys decided inside the transaction that writes them, so they
// hold whichever replica gets there first; inbound work is claimed row by row (FOR UPDATE SKIP
// LOCKED), and sending to a chat and polling are done under leases, so any number of `serve`
// replicas may share one database. The schema is versioned (schema_migrations) and
// migrated at start inside a transaction holding an advisory lock, so replicas starting together
// migrate once. One connection per store, its calls serialised by a mutex; a lost connection
// fails the call that finds it and is re-established at the next.

#include <memory>
#include <string>

#include "bot/state_store.h"

namespace roundup::storage {

inline constexpr int k_postgres_schema_version = 4;

struct PostgresStateOptions {
  // read_only: for inspection tools (`digest --dry-run`): a read-only session that never
  // migrates, and StateError unless the schema is exactly this build's.
  enum class Access { read_write, read_only } access = Access::read_write;
};

// Connects to `url` (a libpq URI or key=value string; libpq's PG* variables fill the rest) and,
// read_write, migrates the schema. Throws bot::StateError, without the password, when it cannot
// connect or the schema is newer than this build.
std::unique_ptr<bot::StateStore> open_postgres_state_store(std::string url, PostgresStateOptions options = {});
// The same store, for `roundup-bot state export` / `import`.
std::unique_ptr<bot::StateTransfer> open_postgres_state_transfer(std::string url, PostgresStateOptions options = {});

}  // namespace roundup::storage
