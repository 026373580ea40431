#pragma once
// One roundup file as the corpus folder holds it: plain text or markdown (.txt, .md) or a saved
// web page (.html, .htm), with optional metadata that overrides what the parser infers:
//
//   a front-matter block at the top of a .md/.txt file      a sidecar NAME.meta.json
//   ---                                                     {"title": "...",
//   title: Reading group picks                               "month": "2023-07",
//   month: 2023-07                                           "source_url": "https://...",
//   source: https://example.org/post                         "language": "en"}
//   language: en
//   ---
//
// The sidecar wins over the front matter, which wins over what the text or page says.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/roundup_parser.h"

namespace roundup::retrieval {

struct RoundupMetadata {
  std::optional<std::string> title;
  std::optional<std::string> month;  // "YYYY-MM"
  std::optional<std::string> source_url;
  std::optional<std::string> language;
};

struct RoundupRead {
  RoundupParse parse;
  std::string format;                 // "text", "markdown" or "html"
  std::vector<std::string> warnings;  // metadata that could not be used, and why
};

// .txt, .md, .markdown, .html, .htm (not hidden files, not sidecars).
bool is_roundup_file_name(std::string_view file_name);

// "chinese-numbered.md" -> "chinese-numbered.meta.json".
std::string sidecar_name(std::string_view file_name);

// id = the file stem; sidecar = the sidecar's bytes when one exists. Never throws on odd input.
RoundupRead read_roundup(std::string_view id, std::string_view file_name, std::string_view bytes,
                         std::optional<std::string_view> sidecar);

}  // namespace roundup::retrieval
