#include "adapters/http/url.h"

#include "text/unicode.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace roundup::adapters::http {

Url parse_url(std::string_view text, std::string_view secure_scheme, std::string_view plain_scheme,
              std::string_view what) {
  const auto fail = [what](const std::string& why) -> Url {
    throw std::invalid_argument("bad " + std::string(what) + ": " + why);
  };
  // RFC 3986 by Boost.URL: spaces, control bytes, bad escapes and bad brackets never parse, and
  // IPv6 zone ids (RFC 6874) are not part of its grammar, so none can reach the Host field.
  const auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return fail("not an absolute URL (" + parsed.error().message() + ")");
  const boost::urls::url_view& uri = *parsed;
  Url url;
  const std::string scheme = ascii_lower(uri.scheme());
  if (scheme == secure_scheme) {
    url.tls = true;
  } else if (scheme != plain_scheme) {
    return fail("scheme must be " + std::string(secure_scheme) + " or " + std::string(plain_scheme));
  }
  if (!uri.has_authority()) return fail("no host");
  // RFC 3986 requires the path after an authority to be empty or to start with '/'. Boost.URL
  // 1.81 lets a rootless one through: "https://x.org:12ab/" would read as port 12, path "ab/".
  if (const std::string_view path = uri.encoded_path(); !path.empty() && path.front() != '/') {
    return fail("junk after the host or port");
  }
  if (uri.has_userinfo()) return fail("user info is not supported");
  switch (uri.host_type()) {
    case boost::urls::host_type::ipv4:
      url.host = uri.host_ipv4_address().to_string();
      url.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      url.host = uri.host_ipv6_address().to_string();
      url.host_is_ip = true;
      break;
    case boost::urls::host_type::name: {
      // Names as DNS spells them. RFC 3986 also allows escapes and sub-delimiters in a reg-name,
      // which no resolver or certificate would match.
      const std::string_view host = uri.encoded_host();
      for (const char c : host) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.' && c != '_') {
          return fail("bad character in host");
        }
      }
      url.host = ascii_lower(host);
      break;
    }
    default: return fail("unsupported host");
  }
  if (url.host.empty()) return fail("no host");

  const std::string default_port = url.tls ? "443" : "80";
  const std::string_view port = uri.port();
  if (port.empty()) {
    url.port = default_port;
  } else {
    unsigned long number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc() || end != port.data() + port.size() || port.size() > 5 || number == 0 || number > 65535) {
      return fail("bad port");
    }
    url.port = std::to_string(number);
  }

  url.target = std::string(uri.encoded_target());  // path and query; the #fragment is dropped
  if (url.target.empty() || url.target.front() == '?') url.target.insert(0, "/");

  const bool ipv6 = url.host.find(':') != std::string::npos;
  const std::string bracketed = ipv6 ? "[" + url.host + "]" : url.host;
  url.host_field = url.port == default_port ? bracketed : bracketed + ":" + url.port;
  url.origin = scheme + "://" + bracketed + ":" + url.port;
  return url;
}

std::string encode_link_target(std::string_view url, std::string_view also_encode) {
  // Hand-written rather than Boost.URL's encode(): that one always encodes '%' (it asserts that
  // '%' is not in the kept set), which would turn a link's own "%20" into "%2520".
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(url.size());
  for (const char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '&') {
      out += "&amp;";
    } else if (byte <= 0x20 || byte >= 0x7F || also_encode.find(c) != std::string_view::npos) {
      out += '%';
      out += k_hex[byte >> 4];
      out += k_hex[byte & 0x0F];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace roundup::adapters::http
