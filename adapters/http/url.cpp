#include "adapters/http/url.h"

#include "text/unicode.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <stdexcept>

namespace roundup::adapters::http {
namespace {

namespace net = boost::asio;

}  // namespace

Url parse_url(std::string_view text, std::string_view secure_scheme, std::string_view plain_scheme,
              std::string_view what) {
  const auto fail = [what](const std::string& why) -> Url {
    throw std::invalid_argument("bad " + std::string(what) + ": " + why);
  };
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return fail("no scheme");
  const auto scheme = ascii_lower(text.substr(0, scheme_end));
  if (scheme == secure_scheme) {
    url.tls = true;
  } else if (scheme != plain_scheme) {
    return fail("scheme must be " + std::string(secure_scheme) + " or " + std::string(plain_scheme));
  }
  text.remove_prefix(scheme_end + 3);
  if (const auto fragment = text.find('#'); fragment != std::string_view::npos) text = text.substr(0, fragment);

  const auto authority_end = text.find_first_of("/?");
  const auto authority = text.substr(0, authority_end);
  std::string target(authority_end == std::string_view::npos ? std::string_view() : text.substr(authority_end));
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail("control character or space in the path");
  }
  url.target = std::move(target);

  if (authority.find('@') != std::string_view::npos) return fail("user info is not supported");
  for (const char c : authority) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return fail("control character or space in the host");
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated IPv6 literal");
    host = authority.substr(1, close - 1);
    // Asio would take anything after '%' as a zone id, and it would end up in the Host field.
    if (host.find('%') != std::string_view::npos) return fail("zone id in IPv6 literal is not supported");
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("junk after IPv6 literal");
      port = rest.substr(1);
    }
    boost::system::error_code ec;
    const auto address = net::ip::make_address_v6(std::string(host), ec);
    if (ec) return fail("bad IPv6 literal");
    (void)address;
    url.host_is_ip = true;
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    for (const char c : host) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) == 0 && c != '-' && c != '.' && c != '_') return fail("bad character in host");
    }
    boost::system::error_code ec;
    const auto address = net::ip::make_address_v4(std::string(host), ec);
    (void)address;
    url.host_is_ip = !ec;
  }
  if (host.empty()) return fail("no host");
  url.host = ascii_lower(host);

  const std::string default_port = url.tls ? "443" : "80";
  if (port.empty()) {
    url.port = default_port;
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(std::string(port)) == 0 || std::stoul(std::string(port)) > 65535) {
      return fail("bad port");
    }
    url.port = std::to_string(std::stoul(std::string(port)));
  }

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
