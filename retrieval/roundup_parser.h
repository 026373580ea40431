#pragma once
// Turns the text of one roundup file into the corpus model (retrieval/roundup.h).
//
// Layouts are recognised by cues, never by file name, so a digest in a new layout parses too. A
// paper is a title line (numbered in any common way, a heading, a bold line, a "Title:" field,
// a title with its paper link) near paper cues: an author line, a link, labelled fields in
// English or Chinese ("Authors:", "论文地址:", "摘要", label alone with the value below). News
// and tool sections hold bullets. Whatever is none of these is kept as passages of the roundup.

#include <cstddef>
#include <string_view>
#include <vector>

#include "retrieval/roundup.h"

namespace roundup::retrieval {

struct RoundupParse {
  Roundup roundup;
  std::vector<SkippedStretch> skipped;  // furniture, references, footer: reported, not indexed
  std::size_t structured_chars = 0;     // code points in papers, news and tools
  std::size_t unstructured_chars = 0;   // code points in ItemKind::passage items
};

// Parses one roundup's text (valid UTF-8; NFKC-normalised here) into a Roundup. id = the file stem.
// Never throws on odd input: worst case, a Roundup with fewer items.
RoundupParse parse_roundup_text(std::string_view id, std::string_view text);

// parse_roundup_text(...).roundup.
Roundup parse_roundup(std::string_view id, std::string_view text);

}  // namespace roundup::retrieval
