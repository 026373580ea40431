#pragma once
// Author lines of roundup items ("By A, B et al.", "作者:A、B 等", a bare "A, B, C." under a
// title). Internal to retrieval/ (the roundup parser).

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roundup::retrieval::parsing {

std::vector<std::string> split_names(std::string s);
bool has_han(std::string_view s);
// A person's (or collaboration's) name: short, no digits or sentence punctuation. Latin words are
// capitalised or common particles, so "this is good, but that is bad" is not a name list.
bool looks_like_name(std::string_view name);
// "By A, B et al.", "作者:A、B 等", "*A、B 等人*", "由A、B等创作", or a bare "A, B, C." line.
// nullopt when the line does not look like an author line. Bare lists (no "By"/"作者" marker, no
// emphasis) are accepted only with allow_bare, i.e. right after a confirmed title.
std::optional<std::vector<std::string>> parse_author_line(std::string_view raw, bool allow_bare = true);

}  // namespace roundup::retrieval::parsing
