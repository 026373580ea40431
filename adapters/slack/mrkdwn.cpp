#include "adapters/slack/mrkdwn.h"

#include "adapters/http/url.h"

#include <algorithm>
#include <cctype>

#include "text/unicode.h"

namespace roundup::adapters::slack {

namespace {

constexpr std::string_view k_ellipsis = "\xE2\x80\xA6";      // U+2026
constexpr std::string_view k_replacement = "\xEF\xBF\xBD";   // U+FFFD
constexpr std::string_view k_vertical_bar = "\xE2\x9D\x98";  // U+2758 LIGHT VERTICAL BAR

// The escaped text plus where each escaped unit (code point or entity) starts, so that cuts can
// only fall between units.
struct EscapedText {
  std::string text;
  std::vector<std::size_t> unit_starts;
  std::vector<bool> unit_is_space;
};

EscapedText escape_with_units(std::string_view raw) {
  EscapedText out;
  out.text.reserve(raw.size());
  std::size_t pos = 0;
  while (pos < raw.size()) {
    out.unit_starts.push_back(out.text.size());
    const char c = raw[pos];
    out.unit_is_space.push_back(c == ' ' || c == '\n' || c == '\t');
    const std::size_t length = utf8_sequence_length(raw, pos);
    if (length == 0) {
      out.text += k_replacement;
      pos += 1;
      continue;
    }
    switch (c) {
      case '&': out.text += "&amp;"; break;
      case '<': out.text += "&lt;"; break;
      case '>': out.text += "&gt;"; break;
      default: out.text.append(raw.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

// "http://" or "https://" (any case) and more.
bool web_url(std::string_view url) {
  const auto has_scheme = [url](std::string_view scheme) {
    if (url.size() <= scheme.size()) return false;
    for (std::size_t i = 0; i < scheme.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
    return true;
  };
  return has_scheme("http://") || has_scheme("https://");
}

}  // namespace

std::string escape_mrkdwn(std::string_view raw) {
  return escape_with_units(raw).text;
}

std::string link(std::string_view url, std::string_view label) {
  std::string clean_label;
  clean_label.reserve(label.size());
  for (const char c : label) {
    if (c == '|')
      clean_label += k_vertical_bar;
    else if (c == '\n' || c == '\r' || c == '\t')
      clean_label += ' ';
    else
      clean_label += c;
  }
  if (!web_url(url)) return escape_mrkdwn(clean_label);

  std::string out = "<" + http::encode_link_target(url, "|<>");
  if (!clean_label.empty()) out += "|" + escape_mrkdwn(clean_label);
  out += ">";
  return out;
}

std::vector<std::string> escape_mrkdwn_split(std::string_view raw, std::size_t max_bytes) {
  max_bytes = std::max<std::size_t>(max_bytes, 16);
  const EscapedText escaped = escape_with_units(raw);
  const std::string& text = escaped.text;
  const std::size_t units = escaped.unit_starts.size();
  auto unit_start = [&](std::size_t unit) { return unit < units ? escaped.unit_starts[unit] : text.size(); };

  std::vector<std::string> chunks;
  std::size_t first = 0;  // first unit of the current chunk
  while (first < units) {
    const std::size_t begin = unit_start(first);
    if (text.size() - begin <= max_bytes) {
      chunks.push_back(text.substr(begin));
      break;
    }
    // Largest unit boundary that leaves room for the ellipsis.
    const std::size_t budget = begin + max_bytes - k_ellipsis.size();
    std::size_t end = first + 1;  // a unit is at most 5 bytes, so at least one always fits
    while (end < units && unit_start(end + 1) <= budget) ++end;
    // Prefer ending just before a space in the second half, dropping that space.
    std::size_t next = end;
    for (std::size_t u = end; u > first && unit_start(u) - begin > (max_bytes / 2); --u) {
      if (u < units && escaped.unit_is_space[u]) {
        end = u;
        next = u + 1;
        break;
      }
    }
    chunks.push_back(text.substr(begin, unit_start(end) - begin) + std::string(k_ellipsis));
    first = next;
  }
  return chunks;
}

std::string escape_mrkdwn_fit(std::string_view raw, std::size_t max_bytes) {
  std::vector<std::string> chunks = escape_mrkdwn_split(raw, max_bytes);
  return chunks.empty() ? std::string() : std::move(chunks.front());
}

std::string truncate_utf8(std::string_view raw, std::size_t max_bytes) {
  max_bytes = std::max<std::size_t>(max_bytes, k_ellipsis.size() + 1);
  if (raw.size() <= max_bytes) return std::string(raw);
  std::size_t cut = max_bytes - k_ellipsis.size();
  // Back off continuation bytes so the cut falls on a code point start.
  while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;
  return std::string(raw.substr(0, cut)) + std::string(k_ellipsis);
}

}  // namespace roundup::adapters::slack
