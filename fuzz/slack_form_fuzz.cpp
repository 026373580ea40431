// libFuzzer target for application/x-www-form-urlencoded bodies: slash commands over HTTP
// (POST /slack/commands; adapters/slack/events.h parse_form, interpret_command, responder_input)
// and the URL the answer is then posted to (the command's response_url, read by
// adapters/http/url.h parse_url as the HTTPS client does). Seeds: fuzz/corpus/slack_form_fuzz
// (the forms of the tests and Slack's signing test vector from platforms.md).
//
// Properties: decoding is exact (re-encoding every field and decoding again gives the same
// fields); a command decision is consistent (fuzz/slack_checks.h); a URL that parses has a host,
// a port in 1..65535, an origin-form target without spaces or control bytes, and a Host field
// that cannot split a request header.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "adapters/http/url.h"
#include "adapters/slack/events.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/slack_checks.h"

namespace {

std::string percent_encoded(const std::string& text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    out += '%';
    out += k_hex[b >> 4];
    out += k_hex[b & 0x0F];
  }
  return out;
}

void check_url(const std::string& text) {
  roundup::adapters::http::Url url;
  try {
    url = roundup::adapters::http::parse_url(text, "https", "http", "response_url");
  } catch (const std::invalid_argument&) {
    return;  // refused: the delivery fails without a request
  }
  FUZZ_REQUIRE(!url.host.empty() && url.host.find('@') == std::string::npos);
  const unsigned long port = std::stoul(url.port);
  FUZZ_REQUIRE(port >= 1 && port <= 65535 && url.port == std::to_string(port));
  FUZZ_REQUIRE(!url.target.empty() && url.target.front() == '/');
  for (const char c : url.target) FUZZ_REQUIRE(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
  for (const char c : url.host_field) FUZZ_REQUIRE(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
  FUZZ_REQUIRE(url.origin.rfind(url.tls ? "https://" : "http://", 0) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto form = roundup::adapters::slack::parse_form(roundup::fuzz::as_text(data, size));
  if (!form) return 0;  // refused with a 400
  const auto& fields = *form;
  std::string encoded;
  for (const auto& [key, value] : fields) {
    if (!encoded.empty()) encoded += '&';
    encoded += percent_encoded(key) + "=" + percent_encoded(value);
  }
  FUZZ_REQUIRE(roundup::adapters::slack::parse_form(encoded) == fields);

  roundup::fuzz::check_command_decision(fields);
  if (const auto url = fields.find("response_url"); url != fields.end()) check_url(url->second);
  return 0;
}
