#pragma once
// Slack request signing (v0 scheme): authenticates Events API, slash-command and interactivity
// requests before anything parses them. Pure: the caller supplies the clock.

#include <cstdint>
#include <string>
#include <string_view>

namespace roundup::adapters::slack {

enum class SignatureError {
  none,             // authentic and fresh
  missing_headers,  // X-Slack-Request-Timestamp or X-Slack-Signature absent/empty
  bad_timestamp,    // timestamp is not a plain non-negative decimal integer
  stale,            // |now - timestamp| > 300 s (replay window)
  bad_version,      // signature does not start with "v0="
  mismatch,         // HMAC differs (or the signing secret is empty)
};

// Maximum clock difference Slack allows between its timestamp and our clock, in seconds.
inline constexpr std::int64_t k_max_timestamp_skew_seconds = 300;

// "v0=" + lowercase hex HMAC-SHA256(signing_secret, "v0:" + timestamp + ":" + raw_body).
std::string compute_signature(std::string_view signing_secret, std::string_view timestamp, std::string_view raw_body);

// Checks in this order: headers present, timestamp numeric, timestamp fresh, version v0, HMAC
// (constant-time). `raw_body` must be the exact bytes received, before any decoding. Any result
// other than `none` means: answer HTTP 401 with no body. An empty secret never verifies, so a
// missing configuration value fails closed.
SignatureError verify_signature(std::string_view signing_secret, std::string_view timestamp_header,
                                std::string_view signature_header, std::string_view raw_body,
                                std::int64_t now_unix_seconds);

// Stable lowercase name for logs ("none", "missing_headers", ...).
std::string_view to_string(SignatureError error);

}  // namespace roundup::adapters::slack
