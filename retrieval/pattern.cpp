#include "retrieval/pattern.h"

#include <stdexcept>

namespace roundup::retrieval {

namespace {
re2::StringPiece piece(std::string_view s) {
  return {s.data(), s.size()};
}
}  // namespace

Pattern::Pattern(std::string_view pattern) : re_(piece(pattern), RE2::Quiet) {
  if (!re_.ok()) throw std::logic_error("invalid pattern " + std::string(pattern) + ": " + re_.error());
}

std::optional<std::vector<std::string_view>> first_match(std::string_view text, const Pattern& pattern) {
  const RE2& re = pattern.re();
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1);
  if (!re.Match(piece(text), 0, text.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size())))
    return std::nullopt;
  std::vector<std::string_view> out;
  out.reserve(groups.size());
  for (const re2::StringPiece& g : groups) out.emplace_back(g.data(), g.size());
  return out;
}

void replace_all(std::string* text, const Pattern& pattern, std::string_view with) {
  // GlobalReplace reads `\1`-style references in its rewrite string; escape them away.
  std::string rewrite;
  for (char c : with) {
    if (c == '\\') rewrite.push_back('\\');
    rewrite.push_back(c);
  }
  RE2::GlobalReplace(text, pattern.re(), rewrite);
}

}  // namespace roundup::retrieval
