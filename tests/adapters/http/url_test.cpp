#include "adapters/http/url.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using roundup::adapters::http::encode_link_target;
using roundup::adapters::http::parse_url;

TEST_CASE("url: a link target is made safe for the markup it goes in") {
  // Spaces, controls and non-ASCII bytes are percent-encoded; '&' is escaped last.
  CHECK(encode_link_target("https://x.org/a b?q=1&r=2", "|<>") == "https://x.org/a%20b?q=1&amp;r=2");
  CHECK(encode_link_target("https://x.org/\xe4\xb8\xad\n", "|<>") == "https://x.org/%E4%B8%AD%0A");
  // The bytes that would end Slack's <url|label> or an HTML attribute are encoded where asked.
  CHECK(encode_link_target("https://x.org/a|b<c>", "|<>") == "https://x.org/a%7Cb%3Cc%3E");
  CHECK(encode_link_target("https://x.org/\"x\"<y>", "\"<>") == "https://x.org/%22x%22%3Cy%3E");
  CHECK(encode_link_target("https://x.org/a|b", "\"<>") == "https://x.org/a|b");
  // An existing escape is kept, not encoded twice.
  CHECK(encode_link_target("https://x.org/a%20b", "|<>") == "https://x.org/a%20b");
  CHECK(encode_link_target("", "|<>").empty());
}

TEST_CASE("url: parse_url takes scheme, host, port and target - and refuses user info without quoting it") {
  const auto url = parse_url("https://Slack.COM/api/chat.postMessage?x=1#frag", "https", "http", "api_base");
  CHECK(url.tls);
  CHECK(url.host == "slack.com");
  CHECK(url.port == "443");
  CHECK(url.target == "/api/chat.postMessage?x=1");
  try {
    (void)parse_url("https://user:SECRET@x.org/", "https", "http", "api_base");
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& error) {
    CHECK(std::string(error.what()).find("SECRET") == std::string::npos);
  }
}
