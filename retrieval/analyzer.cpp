#include "retrieval/analyzer.h"

#include <libstemmer.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

const std::unordered_set<std::string_view>& stopwords() {
  static const std::unordered_set<std::string_view> k_words = {
      "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
      "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
      "does", "doing", "down", "during", "each", "etc", "few", "for", "from", "further", "had", "has", "have", "having",
      "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just",
      "me", "more", "most", "my", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other", "our", "ours",
      "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs",
      "them", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very",
      "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
      "you", "your", "yours", "one's", "sb", "sth", "something", "someone", "used", "use", "e.g", "eg", "ie", "et",
      "al", "via", "using", "paper", "papers", "tell", "me", "show", "find", "s", "t",
      // Chat discourse: greetings and the frame of a question, not its topic.
      "hey", "hi", "hello", "please", "thanks", "thank", "anything", "anyone", "anybody", "everything", "remind",
      "remember", "recall", "wonder", "wondering", "guys", "folks", "btw", "ok", "okay"};
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

// Greek letters inside Latin words are written with their names, so that "μTransfer" and
// "muTransfer", "β-VAE" and "beta-VAE" are one term.
std::string latin_token(std::u32string_view cps) {
  static constexpr std::u32string_view k_greek = U"αβγδεζηθικλμνξοπρσςτυφχψω";
  static constexpr std::string_view k_names[] = {"alpha",   "beta", "gamma", "delta",  "epsilon", "zeta", "eta",
                                                 "theta",   "iota", "kappa", "lambda", "mu",      "nu",   "xi",
                                                 "omicron", "pi",   "rho",   "sigma",  "sigma",   "tau",  "upsilon",
                                                 "phi",     "chi",  "psi",   "omega"};
  std::string out;
  for (char32_t cp : cps) {
    const std::size_t greek = k_greek.find(cp == U'µ' ? U'μ' : cp);
    if (greek != std::u32string_view::npos) {
      out += k_names[greek];
    } else {
      append_utf8(out, cp);
    }
  }
  return out;
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

namespace {

// The Han terms of run[begin, end): its bigrams, or the character itself when it stands alone.
std::vector<std::string> han_terms(std::u32string_view run, std::size_t begin, std::size_t end) {
  std::vector<std::string> out;
  if (end - begin == 1) {
    out.push_back(encode_utf8(run.substr(begin, 1)));
  } else {
    for (std::size_t i = begin; i + 1 < end; ++i) out.push_back(encode_utf8(run.substr(i, 2)));
  }
  return out;
}

}  // namespace

void Analyzer::analyze_han_run(std::u32string_view run, Analysis& out, bool with_gloss, bool with_concepts) const {
  const std::vector<std::string> all = han_terms(run, 0, run.size());
  out.native.insert(out.native.end(), all.begin(), all.end());
  // Without a lexicon the run is one concept. With one, only lexicon words make concepts:
  // characters no word covers are mostly grammar ("讲了", "的是"), which would read as content
  // the corpus lacks.
  if (!with_gloss) {
    if (with_concepts) out.concepts.push_back({all, {}, false});
    return;
  }
  // Forward maximum matching against the lexicon. Single characters from CC-CEDICT carry many
  // unrelated senses; only glossary single characters are trusted.
  std::size_t pos = 0;
  while (pos < run.size()) {
    const Lexicon::Entry* entry = nullptr;
    const std::size_t len = lexicon_->longest_match(run, pos, &entry);
    const bool trusted = len > 0 && (entry->source == Lexicon::Source::glossary || len > 1);
    if (!trusted) {
      ++pos;
      continue;
    }
    const std::size_t before = out.gloss.size();
    add_gloss_terms(*entry, out.gloss);
    const bool domain = entry->source == Lexicon::Source::glossary;
    if (domain)
      out.domain_gloss.insert(out.domain_gloss.end(), out.gloss.begin() + static_cast<std::ptrdiff_t>(before),
                              out.gloss.end());
    // A word whose glosses are all stop words ("什么": what) is grammar too.
    if (with_concepts && out.gloss.size() > before)
      out.concepts.push_back({han_terms(run, pos, pos + len),
                              {out.gloss.begin() + static_cast<std::ptrdiff_t>(before), out.gloss.end()},
                              domain});
    pos += len;
  }
}

double Analyzer::generality(const std::string& term) const {
  if (!lexicon_) return 0;
  std::call_once(general_use_once_, [this] {
    // Count words per entry first and stem each distinct word once: ~30k stems, not ~500k.
    std::unordered_map<std::string, std::uint32_t> by_word;
    std::unordered_set<std::string> in_entry;
    lexicon_->for_each_entry([&](std::string_view, const Lexicon::Entry& entry) {
      if (entry.source != Lexicon::Source::cedict) return;
      general_entries_ += 1;
      in_entry.clear();
      const std::string folded = fold(entry.glosses);
      std::size_t i = 0;
      while (i < folded.size()) {
        while (i < folded.size() && !std::isalpha(static_cast<unsigned char>(folded[i]))) ++i;
        std::size_t j = i;
        while (j < folded.size() && std::isalpha(static_cast<unsigned char>(folded[j]))) ++j;
        if (j > i) in_entry.insert(folded.substr(i, j - i));
        i = j;
      }
      for (const std::string& w : in_entry) ++by_word[w];
    });
    for (const auto& [word, count] : by_word) general_use_[Analyzer::stem(word)] += count;
  });
  const auto it = general_use_.find(term);
  if (it == general_use_.end() || general_entries_ == 0) return 0;
  // An inverse document frequency over the dictionary, turned around and scaled to 0..1.
  const double idf = std::log(general_entries_ / (1.0 + it->second));
  return std::clamp(1.0 - idf / std::log(general_entries_), 0.0, 1.0);
}

Analysis Analyzer::analyze(std::string_view text) const {
  return analyze(text, false);
}

Analysis Analyzer::analyze_question(std::string_view text) const {
  return analyze(text, true);
}

Analysis Analyzer::analyze(std::string_view text, bool with_concepts) const {
  Analysis out;
  // Each Latin word or number is one concept: the terms it added to out.native.
  std::size_t native_before = 0;
  const auto latin_concept = [&] {
    if (with_concepts && out.native.size() > native_before)
      out.concepts.push_back(
          {{out.native.begin() + static_cast<std::ptrdiff_t>(native_before), out.native.end()}, {}, false});
  };
  const std::u32string cps = decode_utf8(fold(text));
  std::size_t i = 0;
  while (i < cps.size()) {
    const char32_t cp = cps[i];
    if (is_han(cp)) {
      std::size_t j = i;
      while (j < cps.size() && is_han(cps[j])) ++j;
      analyze_han_run(std::u32string_view(cps).substr(i, j - i), out, lexicon_ != nullptr, with_concepts);
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
    std::string token = latin_token(std::u32string_view(cps).substr(i, j - i));
    std::erase(token, ',');
    i = j;
    native_before = out.native.size();

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
      latin_concept();
      continue;
    }
    if (digits > 0 && token[digits - 1] != '.') {
      const double mult = multiplier_of_word(std::string_view(token).substr(digits));
      if (mult > 0) {
        out.native.push_back(number_term(token.substr(0, digits)));
        const std::string q = quantity_term(number_value(std::string_view(token).substr(0, digits)) * mult);
        if (!q.empty()) out.native.push_back(q);
        latin_concept();
        continue;
      }
    }
    if (is_stopword(token)) continue;
    out.native.push_back(stem(token));
    latin_concept();
  }
  return out;
}

}  // namespace roundup::retrieval
