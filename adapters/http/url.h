#pragma once
// Parsing the absolute URLs the outbound clients connect to (HTTPS Web APIs, Socket Mode
// websockets): scheme, host (name, IPv4 or bracketed IPv6), port and origin-form target.

#include <string>
#include <string_view>

namespace roundup::adapters::http {

struct Url {
  bool tls = false;
  std::string host;         // lower-cased; an IPv6 literal without its brackets
  bool host_is_ip = false;  // then it is verified against the certificate's IP SANs, and no SNI
  std::string port;         // decimal
  std::string host_field;   // Host header value: host, bracketed if IPv6, ":port" if not default
  std::string target;       // origin-form: "/path?query"
  std::string origin;       // "scheme://host:port": a pool key, and the only part safe for messages
};

// `secure_scheme` means TLS ("https", "wss"), `plain_scheme` not ("http", "ws"). A #fragment is
// dropped; user info, control characters and spaces, IPv6 zone ids and bad ports are refused. Throws
// std::invalid_argument "bad <what>: <reason>", never quoting the URL (it may carry a token or a ticket).
Url parse_url(std::string_view text, std::string_view secure_scheme, std::string_view plain_scheme,
              std::string_view what);

// `url` made safe inside a markup attribute or link syntax: space, control and non-ASCII bytes and
// the bytes of `also_encode` ("|<>" for Slack's <url|label>, "\"<>" for an HTML href) are
// percent-encoded, and '&' becomes "&amp;". An existing "%XX" is kept as it is.
std::string encode_link_target(std::string_view url, std::string_view also_encode);

}  // namespace roundup::adapters::http
