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

}  // namespace roundup::bot
