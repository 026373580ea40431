#pragma once
// Regular expressions over question and roundup text, with RE2: its matching time is linear in
// the text and it does not recurse, so no text can make a match slow or overflow the stack
// (std::regex did both on one long chat message: issue 12). Internal to retrieval/.

#include <re2/re2.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roundup::retrieval {

// A compiled pattern (RE2 syntax, UTF-8). Meant for function-local statics: one pattern may be
// matched from several threads at once.
class Pattern {
 public:
  // Throws std::logic_error when the pattern is not valid (a programming error).
  explicit Pattern(std::string_view pattern);
  const RE2& re() const { return re_; }

 private:
  RE2 re_;
};

// The leftmost match in `text`: [0] the whole match, then one view per capture group (an empty
// view when the group took no part). The views point into `text`.
std::optional<std::vector<std::string_view>> first_match(std::string_view text, const Pattern& pattern);

// Replaces every non-overlapping match in *text with `with`, taken literally.
void replace_all(std::string* text, const Pattern& pattern, std::string_view with);

}  // namespace roundup::retrieval
