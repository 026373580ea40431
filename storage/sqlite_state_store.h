#pragma once
// The bot's state ports (bot/state_store.h) on one SQLite database in WAL mode under data_dir.
//
// Every method takes an internal mutex, and multi-statement changes run in one IMMEDIATE
// transaction, so records keyed for exactly-once are written once even by two processes sharing
// the file. Sending is not claimed row by row, so the service runs one process per data_dir (a
// lock file, see adapters/service). Commits stay cheap because WAL checkpoints run off the commit
// path (storage/wal_checkpointer.h).

#include <filesystem>
#include <memory>

#include "bot/state_store.h"

namespace roundup::storage {

class SqliteStateStore final : public bot::StateStore, public bot::StateTransfer {
 public:
  // Opens or creates `file` (and its directory), enables WAL, and migrates the schema. Throws
  // bot::StateError when the file cannot be opened or was written by a newer version.
  // read_only: for inspection tools (`digest --dry-run`); never creates, migrates or writes, and
  // throws StateError unless the file exists with exactly this build's schema version.
  enum class Access { read_write, read_only };
  explicit SqliteStateStore(const std::filesystem::path& file, Access access = Access::read_write);
  ~SqliteStateStore() override;

  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  static constexpr int k_schema_version = 6;

  std::vector<bot::TransferRow> export_rows() const override;
  bool holds_records() const override;
  void import_rows(const std::vector<bot::TransferRow>& rows, bool replace) override;
  int schema_version() const;

  std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform, std::string_view payload,
                                             std::int64_t now_ms, const bot::InboundClaim& claim) override;
  std::vector<std::optional<std::int64_t>> accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                std::int64_t now_ms,
                                                                const bot::InboundClaim& claim) override;
  std::vector<bot::InboundItem> claim_inbound(const bot::InboundClaim& claim, std::int64_t now_ms,
                                              std::size_t limit) override;
  std::size_t renew_inbound_claims(const bot::InboundClaim& claim, const std::vector<std::int64_t>& ids) override;
  void release_inbound_claims(std::string_view owner) override;
  std::vector<bot::InboundItem> pending_inbound(std::size_t limit) const override;
  std::optional<int> start_inbound_attempt(std::int64_t id, const bot::InboundClaim& claim) override;
  void quarantine_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                          std::int64_t now_ms) override;
  std::optional<std::string> inbound_state(std::string_view key) const override;
  void complete_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                        std::int64_t now_ms) override;

  bool enqueue(const bot::OutgoingMessage& message, std::int64_t now_ms) override;
  void mark_delivered(std::int64_t id, std::int64_t now_ms) override;
  void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) override;
  void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) override;
  std::size_t outbox_backlog() const override;
  std::optional<std::string> outbox_state(std::string_view idempotency_key) const override;
  std::optional<OutboxHead> outbox_head(std::string_view target) const override;
  std::vector<OutboxHead> outbox_heads() const override;
  std::vector<std::pair<std::int64_t, std::string>> pending_outbox_after(std::int64_t after_id,
                                                                         std::size_t limit) const override;
  std::int64_t outbox_last_id() const override;

  void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                       std::int64_t now_ms) override;
  bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const override;
  std::optional<std::string> dialogue(std::string_view conversation, std::int64_t now_ms) const override;
  void save_dialogue(std::string_view conversation, std::string_view state, std::int64_t expires_ms) override;

  std::optional<std::string> value(std::string_view key) const override;
  void set_value(std::string_view key, std::string_view value) override;
  std::vector<std::pair<std::string, std::string>> values_with_prefix(std::string_view prefix) const override;

  bool subscribe(std::string_view channel, std::string_view by_user, std::int64_t now_ms) override;
  bool unsubscribe(std::string_view channel) override;
  std::vector<std::string> subscriptions() const override;
  std::optional<std::string> last_digest_date(std::string_view channel) const override;
  std::unordered_set<std::string> digested_papers(std::string_view channel) const override;
  bool record_digest(const bot::DigestRecord& digest, const std::vector<bot::OutgoingMessage>& messages,
                     std::int64_t now_ms) override;

  void audit(const bot::AuditEntry& entry) override;
  std::vector<bot::AuditEntry> audit_log(std::size_t limit) const override;
  void add_to_counter(std::string_view name, std::int64_t delta) override;
  std::int64_t counter(std::string_view name) const override;

  bool hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms, std::int64_t ttl_ms) override;
  void release_lease(std::string_view name, std::string_view owner) override;

  void prune(std::int64_t before_ms) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::storage
