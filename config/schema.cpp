#include "config/schema.h"

#include <algorithm>
#include <limits>

#include "text/unicode.h"

namespace roundup::config::schema {

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

// Distinguishes integers from floats because integer fields are strict.
std::string describe_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "floating-point number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    case json::value_t::binary: return "binary";
    case json::value_t::discarded: return "discarded";
  }
  return "unknown";
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string wrong_type(std::string_view expected, const json& value) {
  return "expected " + std::string(expected) + ", got " + describe_type(value);
}

// Returns the closest candidate if it is close enough to be a plausible typo.
// The threshold grows with the candidate's length so short keys don't "match"
// unrelated words. Case is ignored because "Top_K" is clearly "top_k".
std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string lowered = ascii_lower(word);
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string_view candidate : candidates) {
    const std::size_t threshold = candidate.size() <= 3 ? 1 : candidate.size() <= 8 ? 2 : 3;
    const std::size_t distance = edit_distance(lowered, ascii_lower(candidate));
    if (distance <= threshold && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string join_quoted(std::span<const std::string_view> words) {
  std::string out;
  for (const std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += '\'';
    out += word;
    out += '\'';
  }
  return out;
}

bool is_http_url(std::string_view url) {
  return (url.starts_with("https://") && url.size() > 8) || (url.starts_with("http://") && url.size() > 7);
}

}  // namespace roundup::config::schema
