#include "retrieval/analyzer.h"

#include <libstemmer.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "retrieval/text.h"

namespace roundup::retrieval {

namespace {

const std::unordered_set<std::string_view>& stopwords() {
  static const std::unordered_set<std::string_view> k_words = {
      "a",      "about", "above",     "after",   "again", "against", "all",   "also",   "am",      "an",     "and",
      "any",    "are",   "as",        "at",      "be",    "because", "been",  "before", "being",   "below",  "between",
      "both",   "but",   "by",        "can",     "could", "did",     "do",    "does",   "doing",   "down",   "during",
      "each",   "etc",   "few",       "for",     "from",  "further", "had",   "has",    "have",    "having", "he",
      "her",    "here",  "hers",      "him",     "his",   "how",     "i",     "if",     "in",      "into",   "is",
      "it",     "its",   "itself",    "just",    "me",    "more",    "most",  "my",     "no",      "nor",    "not",
      "of",     "off",   "on",        "once",    "only",  "or",      "other", "our",    "ours",    "out",    "over",
      "own",    "same",  "she",       "should",  "so",    "some",    "such",  "than",   "that",    "the",    "their",
      "theirs", "them",  "then",      "there",   "these", "they",    "this",  "those",  "through", "to",     "too",
      "under",  "until", "up",        "very",    "was",   "we",      "were",  "what",   "when",    "where",  "which",
      "while",  "who",   "whom",      "why",     "will",  "with",    "would", "you",    "your",    "yours",  "one's",
      "sb",     "sth",   "something", "someone", "used",  "use",     "e.g",   "eg",     "ie",      "et",     "al",
      "via",    "using", "paper",     "papers",  "tell",  "me",      "show",  "find",   "s",       "t"};
  return k_words;
}

// Snowball stemmers are not thread-safe: one per thread.
struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
sb_stemmer* thread_stemmer() {
  thread_local std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer(sb_stemmer_new("english", "UTF_8"));
  return stemmer.get();
}

bool is_digit(char32_t cp) {
  return cp >= '0' && cp <= '9';
}
bool is_latin_word_cp(char32_t cp) {
  return is_alnum(cp) && !is_han(cp);
}

// "540e9"-style canonical quantity: mantissa with '.' written 'p' so that FTS5's ascii
// tokenizer keeps it one token.
std::string quantity_term(double value) {
  if (!(value > 0) || !std::isfinite(value)) return {};
  int exponent = 0;
  for (int e : {12, 9, 6, 3})
    if (value >= std::pow(10.0, e)) {
      exponent = e;
      break;
    }
  const double mantissa = value / std::pow(10.0, exponent);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g", mantissa);
  std::string out;
  for (const char* p = buf; *p; ++p) out.push_back(*p == '.' ? 'p' : *p);
  return "q" + out + "e" + std::to_string(exponent);
}

double multiplier_of_word(std::string_view w) {
  if (w == "k" || w == "thousand") return 1e3;
  if (w == "m" || w == "million" || w == "millions") return 1e6;
  if (w == "b" || w == "bn" || w == "billion" || w == "billions") return 1e9;
  if (w == "t" || w == "trillion" || w == "trillions") return 1e12;
  return 0;
}

// Chinese magnitude characters right after a number: 万亿 (1e12), 亿 (1e8), 万 (1e4), 千 (1e3).
double multiplier_of_han(std::u32string_view text, std::size_t pos, std::size_t* length) {
  if (text.substr(pos, 2) == U"万亿") return *length = 2, 1e12;
  if (pos < text.size()) {
    *length = 1;
    switch (text[pos]) {
      case U'亿': return 1e8;
      case U'万': return 1e4;
      case U'千': return 1e3;
      default: break;
    }
  }
  *length = 0;
  return 0;
}

// The value of a number token ("540", "1.4"); 0, which makes no quantity, when it is out of a
// double's range (std::stod threw std::out_of_range for "999...9 billion" in a question).
double number_value(std::string_view digits) {
  double value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return result.ec == std::errc() ? value : 0;
}

std::string number_term(std::string_view digits) {
  std::string out;
  for (char c : digits) out.push_back(c == '.' ? 'p' : c);
  return out;
}

}  // namespace

Analyzer::Analyzer(std::shared_ptr<const Lexicon> lexicon) : lexicon_(std::move(lexicon)) {}

bool Analyzer::is_stopword(std::string_view folded_word) {
  return stopwords().count(folded_word) > 0;
}

std::string Analyzer::stem(std::string_view folded_word) {
  sb_stemmer* s = thread_stemmer();
  const sb_symbol* out =
      sb_stemmer_stem(s, reinterpret_cast<const sb_symbol*>(folded_word.data()), static_cast<int>(folded_word.size()));
  if (!out) return std::string(folded_word);
  return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(sb_stemmer_length(s)));
}

std::vector<std::string> Analyzer::compute_gloss_terms(const Lexicon::Entry& entry) const {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const std::string_view gloss : entry.gloss_list()) {
    const std::u32string cps = decode_utf8(fold(gloss));
    std::size_t i = 0;
    while (i < cps.size()) {
      if (!is_latin_word_cp(cps[i])) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < cps.size() && is_latin_word_cp(cps[j])) ++j;
      const std::string word = encode_utf8(std::u32string_view(cps).substr(i, j - i));
      i = j;
      if (is_stopword(word) || word.size() < 2) continue;
      std::string term = stem(word);
      if (seen.insert(term).second) out.push_back(std::move(term));
    }
  }
  return out;
}

void Analyzer::add_gloss_terms(const Lexicon::Entry& entry, std::vector<std::string>& out) const {
  {
    std::shared_lock lock(gloss_cache_mutex_);
    if (auto it = gloss_cache_.find(&entry); it != gloss_cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<std::string> terms = compute_gloss_terms(entry);
  out.insert(out.end(), terms.begin(), terms.end());
  std::unique_lock lock(gloss_cache_mutex_);
  gloss_cache_.emplace(&entry, std::move(terms));
}

void Analyzer::analyze_han_run(std::u32string_view run, Analysis& out, bool with_gloss) const {
  if (run.size() == 1) {
    out.native.push_back(encode_utf8(run));
  } else {
    for (std::size_t i = 0; i + 1 < run.size(); ++i) out.native.push_back(encode_utf8(run.substr(i, 2)));
  }
  if (!with_gloss) return;
  // Forward maximum matching against the lexicon. Single characters from CC-CEDICT carry many
  // unrelated senses; only glossary single characters are trusted.
  std::size_t pos = 0;
  while (pos < run.size()) {
    const Lexicon::Entry* entry = nullptr;
    const std::size_t len = lexicon_->longest_match(run, pos, &entry);
    if (len == 0) {
      ++pos;
      continue;
    }
    if (entry->source == Lexicon::Source::glossary) {
      const std::size_t before = out.gloss.size();
      add_gloss_terms(*entry, out.gloss);
      out.domain_gloss.insert(out.domain_gloss.end(), out.gloss.begin() + static_cast<std::ptrdiff_t>(before),
                              out.gloss.end());
    } else if (len > 1) {
      add_gloss_terms(*entry, out.gloss);
    }
    pos += len;
  }
}

Analysis Analyzer::analyze(std::string_view text) const {
  Analysis out;
  const std::u32string cps = decode_utf8(fold(text));
  std::size_t i = 0;
  while (i < cps.size()) {
    const char32_t cp = cps[i];
    if (is_han(cp)) {
      std::size_t j = i;
      while (j < cps.size() && is_han(cps[j])) ++j;
      analyze_han_run(std::u32string_view(cps).substr(i, j - i), out, lexicon_ != nullptr);
      i = j;
      continue;
    }
    if (!is_latin_word_cp(cp)) {
      ++i;
      continue;
    }
    // A Latin/digit token; '.' or ',' between digits stays inside numbers (3.5, 2203.15556, 6,144).
    std::size_t j = i;
    while (j < cps.size()) {
      const bool number_separator = (cps[j] == '.' || cps[j] == ',') && j > i && j + 1 < cps.size() &&
                                    is_digit(cps[j - 1]) && is_digit(cps[j + 1]);
      if (!is_latin_word_cp(cps[j]) && !number_separator) break;
      ++j;
    }
    std::string token = encode_utf8(std::u32string_view(cps).substr(i, j - i));
    std::erase(token, ',');
    i = j;

    // Split a number from a unit suffix: "540b" -> "540" + "b", "13b", "70m", "1.4t".
    std::size_t digits = 0;
    while (digits < token.size() && (std::isdigit(static_cast<unsigned char>(token[digits])) || token[digits] == '.'))
      ++digits;
    if (digits > 0 && digits == token.size()) {
      out.native.push_back(number_term(token));
      // Magnitude: a following English word or Han character.
      std::size_t k = i;
      while (k < cps.size() && cps[k] == ' ') ++k;
      double mult = 0;
      std::size_t mult_len = 0;
      if (k < cps.size() && is_han(cps[k])) {
        mult = multiplier_of_han(cps, k, &mult_len);
      } else if (k < cps.size() && is_latin_word_cp(cps[k])) {
        std::size_t e = k;
        while (e < cps.size() && is_latin_word_cp(cps[e])) ++e;
        mult = multiplier_of_word(encode_utf8(std::u32string_view(cps).substr(k, e - k)));
      }
      if (mult > 0) {
        const std::string q = quantity_term(number_value(token) * mult);
        if (!q.empty()) out.native.push_back(q);
      }
      continue;
    }
    if (digits > 0 && token[digits - 1] != '.') {
      const double mult = multiplier_of_word(std::string_view(token).substr(digits));
      if (mult > 0) {
        out.native.push_back(number_term(token.substr(0, digits)));
        const std::string q = quantity_term(number_value(std::string_view(token).substr(0, digits)) * mult);
        if (!q.empty()) out.native.push_back(q);
        continue;
      }
    }
    if (is_stopword(token)) continue;
    out.native.push_back(stem(token));
  }
  return out;
}

}  // namespace roundup::retrieval
