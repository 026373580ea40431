#include "adapters/slack/signature.h"

#include <doctest/doctest.h>

#include <string>

using roundup::adapters::slack::compute_signature;
using roundup::adapters::slack::SignatureError;
using roundup::adapters::slack::verify_signature;

namespace {

// Official vector from the Slack docs / python-slack-sdk tests (docs/platforms.md).
constexpr std::string_view k_secret = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr std::string_view k_timestamp = "1531420618";
constexpr std::int64_t k_now = 1531420618;
constexpr std::string_view k_body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
    "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
    "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
    "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
constexpr std::string_view k_expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

}  // namespace

TEST_CASE("slack signature: official test vector") {
  CHECK(compute_signature(k_secret, k_timestamp, k_body) == k_expected);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now) == SignatureError::none);
}

TEST_CASE("slack signature: wrong secret or tampered body is a mismatch") {
  CHECK(verify_signature("8f742231b10e8888abcd99yyyzzz85a6", k_timestamp, k_expected, k_body, k_now) ==
        SignatureError::mismatch);
  std::string tampered(k_body);
  tampered.back() = 'd';
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, tampered, k_now) == SignatureError::mismatch);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, std::string(k_body) + " ", k_now) ==
        SignatureError::mismatch);
}

TEST_CASE("slack signature: malformed signature values are mismatches - not crashes") {
  CHECK(verify_signature(k_secret, k_timestamp, "v0=", k_body, k_now) == SignatureError::mismatch);
  CHECK(verify_signature(k_secret, k_timestamp, std::string(k_expected) + "00", k_body, k_now) ==
        SignatureError::mismatch);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected.substr(0, k_expected.size() - 1), k_body, k_now) ==
        SignatureError::mismatch);
  // Uppercase hex is not what Slack sends.
  std::string upper(k_expected);
  for (std::size_t i = 3; i < upper.size(); ++i)
    if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  CHECK(verify_signature(k_secret, k_timestamp, upper, k_body, k_now) == SignatureError::mismatch);
}

TEST_CASE("slack signature: replay window is 300 seconds either way") {
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now + 301) == SignatureError::stale);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now - 301) == SignatureError::stale);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now + 299) == SignatureError::none);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now - 299) == SignatureError::none);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected, k_body, k_now + 300) == SignatureError::none);
}

TEST_CASE("slack signature: timestamp must be a plain decimal number") {
  for (const char* bad :
       {"abc", "1531420618x", "-1531420618", "+1531420618", " 1531420618", "15314.20618", "99999999999999999999999"}) {
    CAPTURE(bad);
    CHECK(verify_signature(k_secret, bad, k_expected, k_body, k_now) == SignatureError::bad_timestamp);
  }
  // A huge but valid timestamp must not overflow the skew computation.
  CHECK(verify_signature(k_secret, "9223372036854775807", k_expected, k_body, -5) == SignatureError::stale);
  CHECK(verify_signature(k_secret, "0", k_expected, k_body, INT64_MIN) == SignatureError::stale);
}

TEST_CASE("slack signature: missing headers") {
  CHECK(verify_signature(k_secret, "", k_expected, k_body, k_now) == SignatureError::missing_headers);
  CHECK(verify_signature(k_secret, k_timestamp, "", k_body, k_now) == SignatureError::missing_headers);
  CHECK(verify_signature(k_secret, "", "", k_body, k_now) == SignatureError::missing_headers);
}

TEST_CASE("slack signature: only version v0 is accepted") {
  std::string v1(k_expected);
  v1[1] = '1';
  CHECK(verify_signature(k_secret, k_timestamp, v1, k_body, k_now) == SignatureError::bad_version);
  CHECK(verify_signature(k_secret, k_timestamp, k_expected.substr(3), k_body, k_now) == SignatureError::bad_version);
}

TEST_CASE("slack signature: an empty signing secret never verifies") {
  const std::string forged = compute_signature("", k_timestamp, k_body);
  CHECK(verify_signature("", k_timestamp, forged, k_body, k_now) == SignatureError::mismatch);
}
