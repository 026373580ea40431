#include "retrieval/lexicon.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "retrieval/hashing.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {
// Words longer than this (idioms, set phrases) add nothing to retrieval and cost lookups.
constexpr std::size_t k_max_word_length = 12;

std::uint64_t pair_key(char32_t a, char32_t b) {
  return (static_cast<std::uint64_t>(a) << 32) | b;
}

}  // namespace

std::vector<std::string_view> Lexicon::Entry::gloss_list() const {
  std::vector<std::string_view> out;
  std::string_view rest = glosses;
  while (!rest.empty()) {
    const std::size_t bar = rest.find('|');
    const std::string_view piece = trim_ascii(rest.substr(0, bar));
    if (!piece.empty()) out.push_back(piece);
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return out;
}

Lexicon Lexicon::load(const std::filesystem::path& dir, std::vector<std::string>& warnings) {
  Lexicon lexicon;
  // CC-CEDICT first so that glossary entries replace its entries for the same word.
  lexicon.load_tsv(dir / "cedict.tsv", Source::cedict, warnings);
  lexicon.load_tsv(dir / "ml-glossary.tsv", Source::glossary, warnings);
  return lexicon;
}

void Lexicon::load_tsv(const std::filesystem::path& file, Source source, std::vector<std::string>& warnings) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    warnings.push_back("lexicon file " + file.string() + " is missing" +
                       (source == Source::cedict
                            ? " (run scripts/fetch-lexicon.sh); Chinese/English matching is weaker without it"
                            : ""));
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string content = buffer.str();
  if (!is_valid_utf8(content)) {
    warnings.push_back("lexicon file " + file.string() + " is not valid UTF-8; it is ignored");
    return;
  }
  // The hand-written glossary may contain full-width forms; CC-CEDICT is generated clean.
  if (source == Source::glossary) content = nfkc(content);
  fingerprint_ = sha256_hex(fingerprint_ + sha256_hex(content)).substr(0, 16);
  const std::string& text = storage_.emplace_back(std::move(content));
  entries_.reserve(entries_.size() + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  std::size_t line_start = 0;
  while (line_start < text.size()) {
    std::size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    const std::string_view line(text.data() + line_start, line_end - line_start);
    line_start = line_end + 1;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    const std::string_view word = trim_ascii(line.substr(0, tab));
    const std::string_view glosses = trim_ascii(line.substr(tab + 1));
    if (!word.empty() && !glosses.empty()) insert(word, glosses, source);
  }
}

void Lexicon::add(std::string_view word, std::string_view glosses, Source source) {
  const std::string& w = storage_.emplace_back(nfkc(word));
  const std::string& g = storage_.emplace_back(glosses);
  insert(w, g, source);
}

void Lexicon::insert(std::string_view word, std::string_view glosses, Source source) {
  const std::u32string cps = decode_utf8(word);
  if (cps.size() > k_max_word_length) return;
  if (cps.size() >= 2) {
    std::uint8_t& longest = max_length_by_pair_[pair_key(cps[0], cps[1])];
    longest = std::max(longest, static_cast<std::uint8_t>(cps.size()));
  }
  auto [it, inserted] = entries_.try_emplace(word, Entry{glosses, source});
  if (!inserted && !(it->second.source == Source::glossary && source == Source::cedict))
    it->second = Entry{glosses, source};
}

std::size_t Lexicon::longest_match(std::u32string_view text, std::size_t pos, const Entry** entry) const {
  std::size_t limit = 1;
  if (pos + 1 < text.size()) {
    if (auto it = max_length_by_pair_.find(pair_key(text[pos], text[pos + 1])); it != max_length_by_pair_.end())
      limit = std::min<std::size_t>(it->second, text.size() - pos);
  }
  std::string candidate = encode_utf8(text.substr(pos, limit));
  for (std::size_t len = limit; len > 0; --len) {
    if (auto it = entries_.find(candidate); it != entries_.end()) {
      if (entry) *entry = &it->second;
      return len;
    }
    // Drop the last code point.
    std::size_t cut = candidate.size() - 1;
    while (cut > 0 && (static_cast<unsigned char>(candidate[cut]) & 0xC0) == 0x80) --cut;
    candidate.resize(cut);
  }
  return 0;
}

}  // namespace roundup::retrieval
