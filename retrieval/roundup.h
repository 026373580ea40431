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
  passage,       // text that is none of the above, indexed so that nothing in a roundup is lost
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
  int first_line = 0;                   // 1-based lines of the parsed text it came from; 0 unknown
  int last_line = 0;
};

// Where Roundup::month came from: stated in the text, the newest arXiv id of its papers, the
// roundup's metadata (front matter or sidecar), the saved page's publication date, or nowhere.
enum class MonthSource { text, arxiv_ids, metadata, page, unknown };
const char* to_string(MonthSource source);

struct Roundup {
  std::string id;     // file stem
  std::string title;  // the digest's own heading
  std::string month;  // "YYYY-MM", empty when unknown
  MonthSource month_source = MonthSource::unknown;
  std::string source_url;  // original article, when the file names it
  std::string author;      // when the file names it
  std::string language;    // "en" or "zh": stated in metadata, else the script most of it is in
  std::vector<Item> items;
};

// A stretch of a roundup that became no item, and why (page furniture, references, the
// publisher's footer, too short to index). Reported by `roundup-bot inspect`, never indexed.
struct SkippedStretch {
  int first_line = 0;
  int last_line = 0;
  std::string reason;
  std::string text;  // its first words
};

}  // namespace roundup::retrieval
