#include "retrieval/lexicon.h"

#include <fstream>
#include <sstream>

#include "retrieval/hashing.h"
#include "retrieval/text.h"

namespace roundup::retrieval {

namespace {
std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = s.find(sep, start);
    const std::string_view piece = s.substr(start, end == std::string_view::npos ? s.npos : end - start);
    if (!piece.empty()) out.emplace_back(trim(piece));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

Lexicon Lexicon::load(const std::filesystem::path& dir, std::vector<std::string>& warnings) {
  Lexicon lexicon;
  // CC-CEDICT first so that glossary entries replace its entries for the same word.
  lexicon.load_tsv(dir / "cedict.tsv", Source::cedict, warnings);
  lexicon.load_tsv(dir / "ml-glossary.tsv", Source::glossary, warnings);
  return lexicon;
}

void Lexicon::load_tsv(const std::filesystem::path& file, Source source,
                       std::vector<std::string>& warnings) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    warnings.push_back("lexicon file " + file.string() + " is missing" +
                       (source == Source::cedict ? " (run scripts/fetch-lexicon.sh); Chinese/English matching is weaker without it"
                                                 : ""));
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string content = buffer.str();
  fingerprint_ = sha256_hex(fingerprint_ + sha256_hex(content)).substr(0, 16);
  std::size_t line_start = 0;
  while (line_start < content.size()) {
    std::size_t line_end = content.find('\n', line_start);
    if (line_end == std::string::npos) line_end = content.size();
    std::string_view line(content.data() + line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.empty() || line.front() == '#') continue;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos || !is_valid_utf8(line)) continue;
    std::u32string word = decode_utf8(nfkc(trim(line.substr(0, tab))));
    std::vector<std::string> glosses = split(line.substr(tab + 1), '|');
    if (word.empty() || glosses.empty()) continue;
    add(std::move(word), std::move(glosses), source);
  }
}

void Lexicon::add(std::u32string word, std::vector<std::string> glosses, Source source) {
  max_word_length_ = std::max(max_word_length_, word.size());
  auto it = entries_.find(word);
  if (it != entries_.end() && it->second.source == Source::glossary && source == Source::cedict) return;
  entries_[std::move(word)] = Entry{std::move(glosses), source};
}

std::size_t Lexicon::longest_match(std::u32string_view text, std::size_t pos,
                                   const Entry** entry) const {
  const std::size_t limit = std::min(max_word_length_, text.size() - pos);
  for (std::size_t len = limit; len > 0; --len) {
    auto it = entries_.find(std::u32string(text.substr(pos, len)));
    if (it != entries_.end()) {
      if (entry) *entry = &it->second;
      return len;
    }
  }
  return 0;
}

const Lexicon::Entry* Lexicon::find(std::u32string_view word) const {
  auto it = entries_.find(std::u32string(word));
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace roundup::retrieval
