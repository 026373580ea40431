#include "bot/state_store.h"

namespace roundup::bot {

std::string clip_for_audit(std::string_view text) {
  if (text.size() <= k_audit_text_bytes) return std::string(text);
  constexpr std::string_view k_ellipsis = "\u2026";
  std::size_t end = k_audit_text_bytes - k_ellipsis.size();
  // Back up to the first byte of a character: never cut one in half. Continuation bytes are
  // 10xxxxxx; valid UTF-8 has at most three in a row, so this also stops on invalid input.
  for (int i = 0; i < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80; ++i) --end;
  std::string clipped(text.substr(0, end));
  clipped += k_ellipsis;
  return clipped;
}

const std::vector<TransferTable>& transfer_tables() {
  static const std::vector<TransferTable> tables = {
      {"inbound", {"id", "key", "platform", "payload", "state", "received_ms", "done_ms", "attempts"}},
      {"outbox",
       {"id", "idempotency_key", "platform", "target", "payload", "state", "attempts", "next_attempt_ms", "created_ms",
        "done_ms", "last_error"}},
      {"threads", {"platform", "channel", "thread", "last_ms"}},
      {"kv", {"key", "value"}},
      {"dialogues", {"conversation", "state", "expires_ms"}},
      {"subscriptions", {"channel", "by_user", "created_ms"}},
      {"digest_posts", {"channel", "local_date", "posted_ms", "papers", "started_over"}},
      {"digest_papers", {"channel", "paper_id", "posted_ms"}},
      {"audit", {"id", "at_ms", "platform", "user", "command", "allowed", "outcome"}},
      {"counters", {"name", "value"}},
  };
  return tables;
}

const TransferTable& transfer_table_of(const TransferRow& row) {
  for (const auto& table : transfer_tables()) {
    if (table.name != row.table) continue;
    if (row.values.size() != table.columns.size()) {
      throw StateError("a row of " + row.table + " has " + std::to_string(row.values.size()) + " values, not " +
                       std::to_string(table.columns.size()));
    }
    return table;
  }
  throw StateError("no table " + row.table.substr(0, 64) + " in the portable state schema");
}

}  // namespace roundup::bot
