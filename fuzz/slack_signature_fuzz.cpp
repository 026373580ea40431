// libFuzzer target for Slack request signing (adapters/slack/signature.h): the
// X-Slack-Request-Timestamp and X-Slack-Signature header values, the raw body and the clock are
// all the sender's (or the fuzzer's) choice; the signing secret is fixed. Seeds:
// fuzz/corpus/slack_signature_fuzz (Slack's test vector from platforms.md, split as below).
//
// Input layout (FuzzedDataProvider): timestamp header, signature header, then either an arbitrary
// clock or one within +-400 s of the timestamp (so the replay window is crossed both ways), and
// the rest is the body.
//
// Properties: no fuzzed request verifies unless its signature is the genuine one (forging
// HMAC-SHA256 under an unknown key is infeasible, so any other pass means the check is broken;
// the seeds hold Slack's test vector, which is genuine); the genuine signature of the same request verifies
// exactly when the timestamp is a plain decimal within 300 s of the clock, and fails the same way
// the fuzzed one does otherwise; it stops verifying when the body changes or the secret is empty;
// signatures are "v0=" and 64 lower-case hex digits.

#include <fuzzer/FuzzedDataProvider.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "adapters/slack/signature.h"
#include "fuzz/fuzz_support.h"

namespace {

using roundup::adapters::slack::compute_signature;
using roundup::adapters::slack::SignatureError;
using roundup::adapters::slack::verify_signature;

constexpr std::string_view k_secret = "8f742231b10e8888abcd99yyyzzz85a5";

std::optional<std::int64_t> plain_decimal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  for (const char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool well_shaped(const std::string& signature) {
  if (signature.size() != 67 || signature.rfind("v0=", 0) != 0) return false;
  for (std::size_t i = 3; i < signature.size(); ++i) {
    const char c = signature[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::string timestamp = input.ConsumeRandomLengthString(32);
  const std::string signature = input.ConsumeRandomLengthString(96);
  const std::optional<std::int64_t> stamped = plain_decimal(timestamp);
  std::int64_t now = 0;
  if (stamped && input.ConsumeBool()) {
    // Saturating, so that a timestamp near the int64 limits cannot overflow the harness itself.
    const std::int64_t skew = input.ConsumeIntegralInRange<std::int64_t>(-400, 400);
    now = skew > 0 && *stamped > INT64_MAX - skew ? INT64_MAX : *stamped + skew;
  } else {
    now = input.ConsumeIntegral<std::int64_t>();
  }
  const std::string body = input.ConsumeRemainingBytesAsString();

  const std::string genuine = compute_signature(k_secret, timestamp, body);
  const SignatureError fuzzed = verify_signature(k_secret, timestamp, signature, body, now);
  // The seeds include Slack's genuine test vector; anything else passing is a forgery.
  if (fuzzed == SignatureError::none) FUZZ_REQUIRE(signature == genuine);
  FUZZ_REQUIRE(well_shaped(genuine));
  const SignatureError checked = verify_signature(k_secret, timestamp, genuine, body, now);
  const bool fresh =
      stamped && (now >= *stamped ? static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(*stamped)
                                  : static_cast<std::uint64_t>(*stamped) - static_cast<std::uint64_t>(now)) <= 300;
  FUZZ_REQUIRE((checked == SignatureError::none) == fresh);
  // Before the HMAC is compared, both fail on the same header problem.
  if (!fresh && !signature.empty()) FUZZ_REQUIRE(checked == fuzzed);
  if (fresh) {
    FUZZ_REQUIRE(verify_signature(k_secret, timestamp, genuine, body + "x", now) == SignatureError::mismatch);
    FUZZ_REQUIRE(verify_signature("", timestamp, compute_signature("", timestamp, body), body, now) ==
                 SignatureError::mismatch);
    std::string flipped = genuine;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    FUZZ_REQUIRE(verify_signature(k_secret, timestamp, flipped, body, now) == SignatureError::mismatch);
  }
  return 0;
}
