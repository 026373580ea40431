#include "retrieval/authors.h"

#include <algorithm>
#include <set>

#include "retrieval/markdown_lines.h"
#include "text/unicode.h"

namespace roundup::retrieval::parsing {

std::vector<std::string> split_names(std::string s) {
  for (std::string_view sep : {"、", ";", " and ", " And ", "和", " & "}) s = replace_all(s, sep, ",");
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string name = strip_trailing_punctuation(trim(std::string_view(s).substr(start, comma - start)));
    if (!name.empty()) names.push_back(std::move(name));
    start = comma + 1;
  }
  return names;
}

bool has_han(std::string_view s) {
  const std::u32string cps = decode_utf8(s);
  return std::any_of(cps.begin(), cps.end(), [](char32_t c) { return is_han(c); });
}

bool looks_like_name(std::string_view name) {
  static const std::set<std::string, std::less<>> k_particles = {"de",  "van", "von", "der", "den", "del", "della",
                                                                 "da",  "di",  "du",  "la",  "le",  "i",   "y",
                                                                 "bin", "al",  "dos", "das", "ten", "ter", "st"};
  for (char c : name)
    if (is_digit(c) || c == ':' || c == '?' || c == '!' || c == '(' || c == ')' || c == '[' || c == ']') return false;
  if (contains(name, "。") || contains(name, "“") || contains(name, "\"")) return false;
  // Chinese names have 2-4 characters; transliterated ones are joined by "·".
  if (has_han(name)) return utf8_length(name) <= (contains(name, "·") ? 16 : 4);
  if (utf8_length(name) > 40) return false;
  std::size_t words = 0;
  std::size_t pos = 0;
  while (pos < name.size()) {
    std::size_t space = name.find(' ', pos);
    if (space == k_npos) space = name.size();
    const std::string_view word = name.substr(pos, space - pos);
    pos = space + 1;
    if (word.empty()) continue;
    ++words;
    const char first = word[0];
    const bool lower_ascii = first >= 'a' && first <= 'z';
    const std::string lowered = ascii_lower(word);
    if (lower_ascii && !k_particles.contains(lowered)) return false;
  }
  return words >= 1 && words <= 6;
}

std::optional<std::vector<std::string>> parse_author_line(std::string_view raw, bool allow_bare) {
  std::string s = trim(raw);
  const bool wrapped = s.size() > 2 && (s.front() == '*' || s.front() == '_') && (s.back() == '*' || s.back() == '_');
  s = to_plain(s);
  bool marker = false;
  if (starts_with_ci(s, "by ")) {
    s = s.substr(3);
    marker = true;
  } else if (s.starts_with("作者")) {
    s = trim(std::string_view(s).substr(std::string_view("作者").size()));
    if (s.starts_with(":")) s = trim(std::string_view(s).substr(1));
    marker = true;
  } else if (starts_with_ci(s, "authors:") || starts_with_ci(s, "author:")) {
    s = trim(std::string_view(s).substr(s.find(':') + 1));
    marker = true;
  } else if (s.starts_with("由")) {
    std::string rest = strip_trailing_punctuation(s.substr(std::string_view("由").size()));
    for (std::string_view verb : {"创作", "撰写", "编写", "著"}) {
      if (rest.ends_with(verb)) {
        s = rest.substr(0, rest.size() - verb.size());
        marker = true;
        break;
      }
    }
  }
  s = strip_trailing_punctuation(s);
  bool et_al = false;
  for (std::string_view suffix : {"et al", "等人", "等"}) {
    if (ends_with_ci(s, suffix)) {
      s = strip_trailing_punctuation(trim(s.substr(0, s.size() - suffix.size())));
      et_al = true;
    }
  }
  std::vector<std::string> names = split_names(s);
  // arXiv listings name dozens of authors; a bare list that long is prose.
  if (names.empty() || utf8_length(s) > (marker ? 4000 : 400)) return std::nullopt;
  const bool all_names =
      std::all_of(names.begin(), names.end(), [](const std::string& n) { return looks_like_name(n); });
  if (marker) {
    const bool plausible = std::all_of(names.begin(), names.end(), [](const std::string& n) {
      return utf8_length(n) <= 60 && count_of(n, " ") < 8 && !contains(n, "。") && !contains(n, "!") &&
             !contains(n, "?") && !contains(n, ":");
    });
    return plausible ? std::optional(names) : std::nullopt;
  }
  if (wrapped && all_names) return names;
  if (allow_bare && all_names && (names.size() >= 2 || et_al)) return names;
  return std::nullopt;
}

}  // namespace roundup::retrieval::parsing
