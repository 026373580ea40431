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

namespace {

// The reason parse_url gives for `text`, or "" when it parses.
std::string refusal(std::string_view text) {
  try {
    (void)parse_url(text, "https", "http", "test URL");
    return {};
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
}

}  // namespace

TEST_CASE("url: parse_url reads IP literals, ports and bare authorities") {
  const auto v6 = parse_url("http://[::1]:8080/x?y", "https", "http", "test URL");
  CHECK_FALSE(v6.tls);
  CHECK(v6.host == "::1");
  CHECK(v6.host_is_ip);
  CHECK(v6.port == "8080");
  CHECK(v6.host_field == "[::1]:8080");
  CHECK(v6.origin == "http://[::1]:8080");
  CHECK(v6.target == "/x?y");

  const auto v4 = parse_url("HTTPS://127.0.0.1:443", "https", "http", "test URL");
  CHECK(v4.tls);
  CHECK(v4.host_is_ip);
  CHECK(v4.host_field == "127.0.0.1");
  CHECK(v4.target == "/");

  const auto query_only = parse_url("https://hooks.slack.com?a=1", "https", "http", "test URL");
  CHECK_FALSE(query_only.host_is_ip);
  CHECK(query_only.target == "/?a=1");
  CHECK(parse_url("https://x.org:0443/", "https", "http", "test URL").port == "443");
  CHECK(parse_url("https://x.org:/", "https", "http", "test URL").port == "443");
  // A percent-escape in the path is the server's business: kept as it is.
  CHECK(parse_url("https://x.org/a%20b", "https", "http", "test URL").target == "/a%20b");
}

TEST_CASE("url: parse_url refuses what a client must not connect to, naming the setting and never the URL") {
  for (const std::string_view bad : {
           "x.org/no-scheme",
           "ftp://x.org/",
           "https:///path-without-host",
           "https://x.org:0/",
           "https://x.org:65536/",
           "https://x.org:12ab/",
           "https://[fe80::1%25eth0]/",
           "https://[::1/",
           "https://[::1]x/",
           "https://[not-v6]/",
           "https://x.org/a b",
           "https://x.org/a\r\nHost: evil",
           "https://x.o\rrg/",
           "https://x%2Eorg/",
           "https://user@x.org/",
       }) {
    CAPTURE(bad);
    const std::string why = refusal(bad);
    CHECK(why.rfind("bad test URL: ", 0) == 0);
    CHECK(why.find("x.org") == std::string::npos);
  }
}
