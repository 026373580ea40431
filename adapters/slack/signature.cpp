#include "adapters/slack/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <stdexcept>

namespace roundup::adapters::slack {

namespace {

constexpr std::string_view k_version_prefix = "v0=";

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += k_digits[data[i] >> 4];
    out += k_digits[data[i] & 0x0F];
  }
  return out;
}

// Digits only: from_chars alone would accept a leading '-' and stop early at junk.
bool parse_timestamp(std::string_view text, std::int64_t& out) {
  if (text.empty()) return false;
  for (const char c : text)
    if (c < '0' || c > '9') return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// |a - b| without signed overflow, whatever the operands (a hostile timestamp can be huge).
std::uint64_t distance(std::int64_t a, std::int64_t b) {
  const auto ua = static_cast<std::uint64_t>(a);
  const auto ub = static_cast<std::uint64_t>(b);
  return a >= b ? ua - ub : ub - ua;
}

}  // namespace

std::string compute_signature(std::string_view signing_secret, std::string_view timestamp, std::string_view raw_body) {
  std::string base;
  base.reserve(3 + timestamp.size() + 1 + raw_body.size());
  base.append("v0:").append(timestamp).append(":").append(raw_body);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  // HMAC() with a null key pointer and zero length is still well defined; pass a valid pointer
  // anyway because some OpenSSL builds reject null keys.
  static const unsigned char k_empty_key = 0;
  const void* key = signing_secret.empty() ? static_cast<const void*>(&k_empty_key) : signing_secret.data();
  if (HMAC(EVP_sha256(), key, static_cast<int>(signing_secret.size()),
           reinterpret_cast<const unsigned char*>(base.data()), base.size(), digest, &digest_size) == nullptr)
    throw std::runtime_error("slack: HMAC-SHA256 failed");
  return std::string(k_version_prefix) + to_hex(digest, digest_size);
}

SignatureError verify_signature(std::string_view signing_secret, std::string_view timestamp_header,
                                std::string_view signature_header, std::string_view raw_body,
                                std::int64_t now_unix_seconds) {
  if (timestamp_header.empty() || signature_header.empty()) return SignatureError::missing_headers;

  std::int64_t timestamp = 0;
  if (!parse_timestamp(timestamp_header, timestamp)) return SignatureError::bad_timestamp;
  if (distance(now_unix_seconds, timestamp) > static_cast<std::uint64_t>(k_max_timestamp_skew_seconds))
    return SignatureError::stale;

  if (!signature_header.starts_with(k_version_prefix)) return SignatureError::bad_version;
  if (signing_secret.empty()) return SignatureError::mismatch;

  const std::string expected = compute_signature(signing_secret, timestamp_header, raw_body);
  // Lengths are public (always 67 for a genuine signature); only the content must be compared
  // in constant time.
  if (expected.size() != signature_header.size()) return SignatureError::mismatch;
  if (CRYPTO_memcmp(expected.data(), signature_header.data(), expected.size()) != 0) return SignatureError::mismatch;
  return SignatureError::none;
}

std::string_view to_string(SignatureError error) {
  switch (error) {
    case SignatureError::none: return "none";
    case SignatureError::missing_headers: return "missing_headers";
    case SignatureError::bad_timestamp: return "bad_timestamp";
    case SignatureError::stale: return "stale";
    case SignatureError::bad_version: return "bad_version";
    case SignatureError::mismatch: return "mismatch";
  }
  return "unknown";
}

}  // namespace roundup::adapters::slack
