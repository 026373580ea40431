#include "adapters/service/state_backend.h"

#include <filesystem>

#include "storage/postgres.h"
#include "storage/postgres_state_store.h"
#include "storage/sqlite_state_store.h"

namespace roundup::adapters::service {
namespace {

bool is_postgresql(const config::Config& config) {
  return config.state.backend == "postgresql";
}

std::filesystem::path sqlite_file(const config::Config& config) {
  return config.data_dir / "state" / "bot.sqlite";
}

}  // namespace

std::unique_ptr<bot::StateStore> open_state_store(const config::Config& config, StateAccess access) {
  const bool read_only = access == StateAccess::read_only;
  if (is_postgresql(config)) {
    storage::PostgresStateOptions options;
    options.access = read_only ? storage::PostgresStateOptions::Access::read_only
                               : storage::PostgresStateOptions::Access::read_write;
    return storage::open_postgres_state_store(config.state.url.value, options);
  }
  return std::make_unique<storage::SqliteStateStore>(
      sqlite_file(config),
      read_only ? storage::SqliteStateStore::Access::read_only : storage::SqliteStateStore::Access::read_write);
}

std::unique_ptr<bot::StateTransfer> open_state_transfer(const config::Config& config, StateAccess access) {
  const bool read_only = access == StateAccess::read_only;
  if (is_postgresql(config)) {
    storage::PostgresStateOptions options;
    options.access = read_only ? storage::PostgresStateOptions::Access::read_only
                               : storage::PostgresStateOptions::Access::read_write;
    return storage::open_postgres_state_transfer(config.state.url.value, options);
  }
  return std::make_unique<storage::SqliteStateStore>(
      sqlite_file(config),
      read_only ? storage::SqliteStateStore::Access::read_only : storage::SqliteStateStore::Access::read_write);
}

bool state_is_shared(const config::Config& config) {
  return is_postgresql(config);
}

bool state_exists(const config::Config& config) {
  if (is_postgresql(config)) return !config.state.url.empty();
  std::error_code ec;
  return std::filesystem::exists(sqlite_file(config), ec);
}

std::string describe_state(const config::Config& config) {
  if (is_postgresql(config)) return "postgresql " + storage::postgres::describe_url(config.state.url.value);
  return "sqlite " + sqlite_file(config).string();
}

}  // namespace roundup::adapters::service
