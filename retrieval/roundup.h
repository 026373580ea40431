#pragma once
// The corpus model: what a roundup file is parsed into. Plain data, no behaviour.

#include <optional>
#include <string>
#include <vector>

namespace roundup::retrieval {

enum class ItemKind {
  paper,         // a featured paper with a summary
  listed_paper,  // a paper named only in a list ("N. Title. (from Author)")
  news,          // a news paragraph
  tool,          // a code / library / tool paragraph
};

const char* to_string(ItemKind kind);

struct Item {
  ItemKind kind = ItemKind::paper;
  std::string title;                    // NFKC-normalised, trimmed
  std::vector<std::string> authors;     // as given; "et al." dropped
  std::string url;                      // primary link; empty when the roundup gives none
  std::vector<std::string> links;       // every link found for the item, primary first
  std::optional<std::string> arxiv_id;  // "2203.15556" (no version)
  std::string summary;                  // full text; paragraphs separated by a blank line ("\n\n")
  int ordinal = 0;                      // 1-based position in its roundup
};

enum class MonthSource { text, arxiv_ids, unknown };
const char* to_string(MonthSource source);

struct Roundup {
  std::string id;     // file stem
  std::string title;  // the digest's own heading
  std::string month;  // "YYYY-MM", empty when unknown
  MonthSource month_source = MonthSource::unknown;
  std::string source_url;  // original article, when the file names it
  std::string author;      // when the file names it
  std::vector<Item> items;
};

}  // namespace roundup::retrieval
