#pragma once
// The bot's state ports (bot/state_store.h) in memory: a test double for core tests, which then
// need no database. It keeps every promise of the ports except durability, and passes the same
// contract suite as storage::SqliteStateStore (tests/bot/state_store_contract_test.cpp), which is
// what keeps the two in step.

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>
#include <vector>

#include "bot/state_store.h"

namespace roundup::testing {

class MemoryStateStore final : public bot::StateStore {
 public:
  // --- InboundLog ---
  std::optional<std::int64_t> accept_inbound(std::string_view key, std::string_view platform, std::string_view payload,
                                             std::int64_t now_ms, const bot::InboundClaim& claim) override {
    std::lock_guard lock(mutex_);
    return accept_locked(key, platform, payload, now_ms, claim);
  }
  std::vector<std::optional<std::int64_t>> accept_inbound_batch(const std::vector<InboundRecord>& items,
                                                                std::int64_t now_ms,
                                                                const bot::InboundClaim& claim) override {
    std::lock_guard lock(mutex_);
    std::vector<std::optional<std::int64_t>> ids;
    for (const auto& item : items) ids.push_back(accept_locked(item.key, item.platform, item.payload, now_ms, claim));
    return ids;
  }
  std::vector<bot::InboundItem> claim_inbound(const bot::InboundClaim& claim, std::int64_t now_ms,
                                              std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<bot::InboundItem> items;
    for (auto& [id, row] : inbound_) {
      if (items.size() >= limit) break;
      if (row.state != "pending" || (!row.claimed_by.empty() && row.claim_until_ms > now_ms)) continue;
      row.claimed_by = claim.owner;
      row.claim_until_ms = claim.until_ms;
      items.push_back({id, row.key, row.platform, row.payload, row.attempts});
    }
    return items;
  }
  std::size_t renew_inbound_claims(const bot::InboundClaim& claim, const std::vector<std::int64_t>& ids) override {
    std::lock_guard lock(mutex_);
    std::size_t renewed = 0;
    for (const auto id : std::set<std::int64_t>(ids.begin(), ids.end())) {
      const auto it = inbound_.find(id);
      if (it == inbound_.end() || it->second.state != "pending" || it->second.claimed_by != claim.owner) continue;
      it->second.claim_until_ms = claim.until_ms;
      ++renewed;
    }
    return renewed;
  }
  void release_inbound_claims(std::string_view owner) override {
    std::lock_guard lock(mutex_);
    for (auto& [id, row] : inbound_) {
      if (row.state == "pending" && row.claimed_by == owner) row.claimed_by.clear();
    }
  }
  std::vector<bot::InboundItem> pending_inbound(std::size_t limit) const override {
    std::lock_guard lock(mutex_);
    std::vector<bot::InboundItem> items;
    for (const auto& [id, row] : inbound_) {
      if (items.size() >= limit) break;
      if (row.state == "pending") items.push_back({id, row.key, row.platform, row.payload, row.attempts});
    }
    return items;
  }
  std::optional<int> start_inbound_attempt(std::int64_t id, const bot::InboundClaim& claim) override {
    std::lock_guard lock(mutex_);
    const auto it = inbound_.find(id);
    if (it == inbound_.end() || it->second.state != "pending" || it->second.claimed_by != claim.owner) {
      return std::nullopt;
    }
    it->second.claim_until_ms = claim.until_ms;
    return ++it->second.attempts;
  }
  void quarantine_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                          std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    for (const auto& reply : replies) enqueue_locked(reply, now_ms);
    const auto it = inbound_.find(id);
    if (it != inbound_.end() && it->second.state == "pending") {
      it->second.state = "quarantined";
      it->second.done_ms = now_ms;
    }
  }
  std::optional<std::string> inbound_state(std::string_view key) const override {
    std::lock_guard lock(mutex_);
    const auto it = inbound_by_key_.find(std::string(key));
    if (it == inbound_by_key_.end()) return std::nullopt;
    return inbound_.at(it->second).state;
  }
  void complete_inbound(std::int64_t id, const std::vector<bot::OutgoingMessage>& replies,
                        std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    for (const auto& reply : replies) enqueue_locked(reply, now_ms);
    const auto it = inbound_.find(id);
    if (it == inbound_.end()) return;
    it->second.state = "done";
    it->second.done_ms = now_ms;
    it->second.payload.clear();
  }

  // --- OutboxQueue ---
  bool enqueue(const bot::OutgoingMessage& message, std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    return enqueue_locked(message, now_ms);
  }
  void mark_delivered(std::int64_t id, std::int64_t now_ms) override { finish(id, "delivered", "", now_ms); }
  void reschedule(std::int64_t id, std::int64_t next_attempt_ms, std::string_view error) override {
    std::lock_guard lock(mutex_);
    const auto it = outbox_.find(id);
    if (it == outbox_.end()) return;
    it->second.next_attempt_ms = next_attempt_ms;
    it->second.last_error = error;
    ++it->second.item.attempts;
  }
  void mark_failed(std::int64_t id, std::string_view error, std::int64_t now_ms) override {
    finish(id, "failed", error, now_ms);
  }
  std::size_t outbox_backlog() const override {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(outbox_.begin(), outbox_.end(), [](const auto& row) { return row.second.state == "pending"; }));
  }
  std::optional<std::string> outbox_state(std::string_view idempotency_key) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, row] : outbox_) {
      if (row.item.message.idempotency_key == idempotency_key) return row.state;
    }
    return std::nullopt;
  }
  std::optional<OutboxHead> outbox_head(std::string_view target) const override {
    std::lock_guard lock(mutex_);
    for (const auto& [id, row] : outbox_) {
      if (row.state == "pending" && row.item.message.target == target) return head_of(row);
    }
    return std::nullopt;
  }
  std::vector<OutboxHead> outbox_heads() const override {
    std::lock_guard lock(mutex_);
    std::vector<OutboxHead> heads;
    std::set<std::string> seen;
    for (const auto& [id, row] : outbox_) {  // by id: the first pending row of a target is its head
      if (row.state == "pending" && seen.insert(row.item.message.target).second) heads.push_back(head_of(row));
    }
    return heads;
  }
  std::vector<std::pair<std::int64_t, std::string>> pending_outbox_after(std::int64_t after_id,
                                                                         std::size_t limit) const override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::int64_t, std::string>> rows;
    for (auto it = outbox_.upper_bound(after_id); it != outbox_.end() && rows.size() < limit; ++it) {
      if (it->second.state == "pending") rows.emplace_back(it->first, it->second.item.message.target);
    }
    return rows;
  }
  std::int64_t outbox_last_id() const override {
    std::lock_guard lock(mutex_);
    return outbox_.empty() ? 0 : outbox_.rbegin()->first;
  }

  // --- ThreadMemory, KeyValues ---
  void remember_thread(std::string_view platform, std::string_view channel, std::string_view thread,
                       std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    threads_[{std::string(platform), std::string(channel), std::string(thread)}] = now_ms;
  }
  bool knows_thread(std::string_view platform, std::string_view channel, std::string_view thread) const override {
    std::lock_guard lock(mutex_);
    return threads_.count({std::string(platform), std::string(channel), std::string(thread)}) > 0;
  }
  std::optional<std::string> dialogue(std::string_view conversation, std::int64_t now_ms) const override {
    std::lock_guard lock(mutex_);
    const auto it = dialogues_.find(std::string(conversation));
    if (it == dialogues_.end() || it->second.second <= now_ms) return std::nullopt;
    return it->second.first;
  }
  void save_dialogue(std::string_view conversation, std::string_view state, std::int64_t expires_ms) override {
    std::lock_guard lock(mutex_);
    dialogues_[std::string(conversation)] = {std::string(state), expires_ms};
  }
  std::optional<std::string> value(std::string_view key) const override {
    std::lock_guard lock(mutex_);
    const auto it = values_.find(std::string(key));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  void set_value(std::string_view key, std::string_view value) override {
    std::lock_guard lock(mutex_);
    values_[std::string(key)] = value;
  }
  std::vector<std::pair<std::string, std::string>> values_with_prefix(std::string_view prefix) const override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> found;
    for (auto it = values_.lower_bound(std::string(prefix)); it != values_.end() && it->first.starts_with(prefix);
         ++it) {
      found.emplace_back(it->first, it->second);
    }
    return found;
  }

  // --- DigestLedger ---
  bool subscribe(std::string_view channel, std::string_view /*by_user*/, std::int64_t /*now_ms*/) override {
    std::lock_guard lock(mutex_);
    return subscriptions_.insert(std::string(channel)).second;
  }
  bool unsubscribe(std::string_view channel) override {
    std::lock_guard lock(mutex_);
    return subscriptions_.erase(std::string(channel)) > 0;
  }
  std::vector<std::string> subscriptions() const override {
    std::lock_guard lock(mutex_);
    return {subscriptions_.begin(), subscriptions_.end()};
  }
  std::optional<std::string> last_digest_date(std::string_view channel) const override {
    std::lock_guard lock(mutex_);
    std::optional<std::string> latest;
    for (const auto& [posted_channel, date] : digest_posts_) {
      if (posted_channel == channel && (!latest || date > *latest)) latest = date;
    }
    return latest;
  }
  std::unordered_set<std::string> digested_papers(std::string_view channel) const override {
    std::lock_guard lock(mutex_);
    const auto it = digest_papers_.find(std::string(channel));
    if (it == digest_papers_.end()) return {};
    return it->second;
  }
  bool record_digest(const bot::DigestRecord& digest, const std::vector<bot::OutgoingMessage>& messages,
                     std::int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    std::size_t enqueued = 0;
    if (digest.local_date.empty()) {
      if (messages.empty() || !enqueue_locked(messages.front(), now_ms)) return false;
      enqueued = 1;
    } else if (!digest_posts_.insert({digest.channel, digest.local_date}).second) {
      return false;
    }
    auto& papers = digest_papers_[digest.channel];
    if (digest.started_over) papers.clear();
    papers.insert(digest.paper_ids.begin(), digest.paper_ids.end());
    for (std::size_t i = enqueued; i < messages.size(); ++i) enqueue_locked(messages[i], now_ms);
    ++counters_["digests_posted"];
    return true;
  }

  // --- AuditLog ---
  void audit(const bot::AuditEntry& entry) override {
    std::lock_guard lock(mutex_);
    bot::AuditEntry clipped = entry;
    clipped.command = bot::clip_for_audit(entry.command);
    clipped.outcome = bot::clip_for_audit(entry.outcome);
    audit_.push_back(std::move(clipped));
  }
  std::vector<bot::AuditEntry> audit_log(std::size_t limit) const override {
    std::lock_guard lock(mutex_);
    std::vector<bot::AuditEntry> newest_first(audit_.rbegin(), audit_.rend());
    if (newest_first.size() > limit) newest_first.resize(limit);
    return newest_first;
  }
  void add_to_counter(std::string_view name, std::int64_t delta) override {
    std::lock_guard lock(mutex_);
    counters_[std::string(name)] += delta;
  }
  std::int64_t counter(std::string_view name) const override {
    std::lock_guard lock(mutex_);
    const auto it = counters_.find(std::string(name));
    return it == counters_.end() ? 0 : it->second;
  }

  // --- Leases ---
  bool hold_lease(std::string_view name, std::string_view owner, std::int64_t now_ms, std::int64_t ttl_ms) override {
    std::lock_guard lock(mutex_);
    auto& lease = leases_[std::string(name)];
    if (!lease.first.empty() && lease.first != owner && lease.second > now_ms) return false;
    lease = {std::string(owner), now_ms + ttl_ms};
    return true;
  }
  void release_lease(std::string_view name, std::string_view owner) override {
    std::lock_guard lock(mutex_);
    const auto it = leases_.find(std::string(name));
    if (it != leases_.end() && it->second.first == owner) leases_.erase(it);
  }

  void prune(std::int64_t before_ms) override {
    std::lock_guard lock(mutex_);
    std::erase_if(inbound_, [&](const auto& row) {
      const bool gone = row.second.state != "pending" && row.second.done_ms < before_ms;
      if (gone) inbound_by_key_.erase(row.second.key);
      return gone;
    });
    std::erase_if(outbox_,
                  [&](const auto& row) { return row.second.state != "pending" && row.second.done_ms < before_ms; });
    std::erase_if(threads_, [&](const auto& row) { return row.second < before_ms; });
    std::erase_if(dialogues_, [&](const auto& row) { return row.second.second < before_ms; });
    std::erase_if(audit_, [&](const bot::AuditEntry& entry) { return entry.at_ms < before_ms; });
  }

 private:
  std::map<std::string, std::pair<std::string, std::int64_t>> leases_;  // name -> (owner, until_ms)
  struct InboundRow {
    std::string key, platform, payload;
    std::string state = "pending";
    std::int64_t done_ms = 0;
    int attempts = 0;
    std::string claimed_by;  // empty: no one holds it
    std::int64_t claim_until_ms = 0;
  };
  struct OutboxRow {
    bot::OutboxItem item;
    std::string state = "pending";
    std::int64_t next_attempt_ms = 0;
    std::int64_t done_ms = 0;
    std::string last_error;
  };

  std::optional<std::int64_t> accept_locked(std::string_view key, std::string_view platform, std::string_view payload,
                                            std::int64_t /*now_ms*/, const bot::InboundClaim& claim) {
    if (inbound_by_key_.count(std::string(key))) return std::nullopt;
    const std::int64_t id = ++last_inbound_id_;
    InboundRow row;
    row.key = key;
    row.platform = platform;
    row.payload = payload;
    row.claimed_by = claim.owner;
    row.claim_until_ms = claim.until_ms;
    inbound_[id] = std::move(row);
    inbound_by_key_[std::string(key)] = id;
    return id;
  }
  bool enqueue_locked(const bot::OutgoingMessage& message, std::int64_t now_ms) {
    for (const auto& [id, row] : outbox_) {
      if (row.item.message.idempotency_key == message.idempotency_key) return false;
    }
    const std::int64_t id = ++last_outbox_id_;
    OutboxRow row;
    row.item = {id, message, 0, now_ms};
    row.next_attempt_ms = now_ms;
    outbox_.emplace(id, std::move(row));
    return true;
  }
  void finish(std::int64_t id, const char* state, std::string_view error, std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    const auto it = outbox_.find(id);
    if (it == outbox_.end()) return;
    it->second.state = state;
    it->second.done_ms = now_ms;
    it->second.last_error = error;
    ++it->second.item.attempts;
  }
  static OutboxHead head_of(const OutboxRow& row) { return {row.item, row.next_attempt_ms}; }

  mutable std::mutex mutex_;
  std::map<std::int64_t, InboundRow> inbound_;
  std::map<std::string, std::int64_t> inbound_by_key_;
  std::int64_t last_inbound_id_ = 0;
  std::map<std::int64_t, OutboxRow> outbox_;  // by id: oldest first
  std::int64_t last_outbox_id_ = 0;
  std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> threads_;
  std::map<std::string, std::pair<std::string, std::int64_t>> dialogues_;  // conversation -> (state, expires_ms)
  std::map<std::string, std::string> values_;
  std::set<std::string> subscriptions_;
  std::set<std::pair<std::string, std::string>> digest_posts_;  // (channel, local date)
  std::map<std::string, std::unordered_set<std::string>> digest_papers_;
  std::vector<bot::AuditEntry> audit_;  // oldest first
  std::map<std::string, std::int64_t> counters_;
};

}  // namespace roundup::testing
