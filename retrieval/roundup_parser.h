#pragma once
// Turns the text of one roundup file into the corpus model (retrieval/roundup.h).
//
// Layouts are recognised by structure, never by file name, so a new digest in a known style parses
// too: "1、Title" + "By ..." blocks, "## [N。Title](url)" + "*authors*" headings, "论文 N:" blocks,
// "N. Title. (from Author)" title lists, and news / code sections of bullets.

#include <string_view>

#include "retrieval/roundup.h"

namespace roundup::retrieval {

// Parses one roundup's text (valid UTF-8; NFKC-normalised here) into a Roundup. id = the file stem.
// Never throws on odd input: worst case, a Roundup with fewer items.
Roundup parse_roundup(std::string_view id, std::string_view text);

}  // namespace roundup::retrieval
