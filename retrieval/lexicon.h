#pragma once
// A Chinese -> English lexicon for cross-lingual retrieval: the project's ML glossary
// (data/lexicon/ml-glossary.tsv, committed) over CC-CEDICT (data/lexicon/cedict.tsv, fetched
// by scripts/fetch-lexicon.sh). Lookup is longest-match over Han text.
//
// Loading is on every CLI start, so entries point into the file contents held in memory
// instead of owning ~100k small strings.

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roundup::retrieval {

class Lexicon {
 public:
  enum class Source : std::uint8_t { glossary, cedict };
  struct Entry {
    std::string_view glosses;  // English phrases separated by '|', as written in the source
    Source source = Source::cedict;
    std::vector<std::string_view> gloss_list() const;
  };

  // Loads every known file in dir that exists; problems are appended to warnings (a missing
  // CC-CEDICT degrades cross-lingual recall but is not fatal).
  static Lexicon load(const std::filesystem::path& dir, std::vector<std::string>& warnings);

  // Adds or replaces (glossary entries win over CC-CEDICT ones for the same word).
  void add(std::string_view word, std::string_view glosses, Source source);

  // Length (in code points) of the longest word starting at text[pos], 0 when none.
  std::size_t longest_match(std::u32string_view text, std::size_t pos, const Entry** entry) const;

  std::size_t size() const { return entries_.size(); }
  // Calls visit for every entry, in no particular order.
  template <typename Visit>
  void for_each_entry(Visit&& visit) const {
    for (const auto& [word, entry] : entries_) visit(word, entry);
  }
  // Identifies the content, so an index built with another lexicon is detected.
  std::string fingerprint() const { return fingerprint_; }

 private:
  void load_tsv(const std::filesystem::path& file, Source source, std::vector<std::string>& warnings);
  void insert(std::string_view word, std::string_view glosses, Source source);

  std::deque<std::string> storage_;  // file contents and added strings; entries point into them
  std::unordered_map<std::string_view, Entry> entries_;
  // Longest word (in code points) starting with each pair of code points: most positions in a
  // text need one or two hash lookups instead of one per possible length.
  std::unordered_map<std::uint64_t, std::uint8_t> max_length_by_pair_;
  std::string fingerprint_;
};

}  // namespace roundup::retrieval
