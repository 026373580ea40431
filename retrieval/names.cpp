#include "retrieval/names.h"

#include <algorithm>
#include <cctype>

#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

// How a token is separated from the one before it.
enum class Gap {
  broken,  // by anything else, or it is the first token
  joined,  // by a hyphen, dot, middle dot, underscore or slash: one compound ("GPT-4")
  space,   // by a space or two: adjacent words ("PaLM 2")
};

struct Token {
  std::string folded;
  bool inner_upper = false;  // an upper-case letter after the first character ("PaLM", "GPT")
  bool all_upper = false;
  bool starts_upper = false;
  Gap gap = Gap::broken;
};

bool is_ascii_digit(char32_t cp) {
  return cp >= U'0' && cp <= U'9';
}

// Latin letters and digits make names; Han characters and other scripts separate them.
bool is_name_char(char32_t cp) {
  return cp < 0x2000 && !is_han(cp) && is_alnum(cp);
}

bool is_joiner(char32_t cp) {
  return cp == U'-' || cp == U'.' || cp == U'·' || cp == U'_' || cp == U'/';
}

std::vector<Token> tokenize(std::string_view raw) {
  const std::u32string text = decode_utf8(nfkc(raw));
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t gap_start = i;
    while (i < text.size() && !is_name_char(text[i])) ++i;
    if (i == text.size()) break;
    Gap gap = Gap::broken;
    if (!tokens.empty() && i - gap_start <= 2) {
      const std::u32string_view between(text.data() + gap_start, i - gap_start);
      if (std::all_of(between.begin(), between.end(), [](char32_t c) { return c == U' '; }))
        gap = Gap::space;
      else if (between.size() == 1 && is_joiner(between.front()))
        gap = Gap::joined;
    }
    const std::size_t start = i;
    // A dot between digits belongs to the number ("3.5").
    while (i < text.size() && (is_name_char(text[i]) || (text[i] == U'.' && i > start && is_ascii_digit(text[i - 1]) &&
                                                         i + 1 < text.size() && is_ascii_digit(text[i + 1]))))
      ++i;
    const std::u32string_view word(text.data() + start, i - start);
    Token t;
    t.gap = gap;
    t.folded = fold(encode_utf8(word));
    t.all_upper = true;
    for (std::size_t k = 0; k < word.size(); ++k) {
      const bool upper = word[k] >= U'A' && word[k] <= U'Z';
      const bool lower = word[k] >= U'a' && word[k] <= U'z';
      if (upper && k > 0) t.inner_upper = true;
      if (upper && k == 0) t.starts_upper = true;
      if (lower) t.all_upper = false;
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_roman(std::string_view s) {
  static const char* const numerals[] = {"ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"};
  return std::any_of(std::begin(numerals), std::end(numerals), [&](const char* n) { return s == n; });
}

// A version: "2", "3.5", "v2"; when `loose`, also a single letter ("Point-E") or a roman numeral.
bool is_version(const Token& t, bool loose) {
  const std::string& s = t.folded;
  if (all_digits(s)) return s.size() <= 2;
  if (const auto dot = s.find('.'); dot != std::string::npos)
    return s.size() <= 4 && all_digits(s.substr(0, dot)) && all_digits(s.substr(dot + 1));
  if (s.size() >= 2 && s.size() <= 3 && s[0] == 'v' && all_digits(s.substr(1))) return true;
  if (!loose) return is_roman(s) && t.all_upper;
  return s.size() == 1 || is_roman(s);
}

bool starts_with_letter(const Token& t) {
  return !t.folded.empty() && !(t.folded[0] >= '0' && t.folded[0] <= '9');
}

// "bbtv2", "b200", "o1": letters, then digits, perhaps one more letter.
bool is_model_code(const Token& t) {
  const std::string& s = t.folded;
  std::size_t i = 0;
  while (i < s.size() && s[i] >= 'a' && s[i] <= 'z') ++i;
  if (i == 0 || i == s.size() || !(s[i] >= '0' && s[i] <= '9')) return false;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  return s.size() - i <= 1 && (i == s.size() || (s[i] >= 'a' && s[i] <= 'z'));
}

bool is_function_word(std::string_view w) {
  static const char* const words[] = {"a",  "an", "and", "by", "for", "from", "in",
                                      "of", "on", "the", "to", "via", "with"};
  return std::any_of(std::begin(words), std::end(words), [&](const char* f) { return w == f; });
}

// A version or a year after words: "2", "2022", "3.5", "v2", "vi".
bool is_loose_version(const Token& t) {
  const std::string& s = t.folded;
  if (all_digits(s)) return s.size() <= 2 || (s.size() == 4 && (s.rfind("19", 0) == 0 || s.rfind("20", 0) == 0));
  return is_version(t, false) || is_roman(s);
}

// For each version token, the runs of one to three words before it (no broken gap, each word
// starting with a letter and not a function word), longest last.
template <typename Visit>
void for_each_version_run(const std::vector<Token>& tokens, Visit visit) {
  constexpr std::size_t k_max_words = 3;
  for (std::size_t j = 1; j < tokens.size(); ++j) {
    if (!is_loose_version(tokens[j]) || tokens[j].gap == Gap::broken) continue;
    std::string words;
    std::vector<std::size_t> run;
    for (std::size_t k = j; k-- > 0 && run.size() < k_max_words;) {
      const Token& w = tokens[k];
      if (!starts_with_letter(w) || is_function_word(w.folded) || is_loose_version(w)) break;
      words.insert(0, w.folded);
      run.push_back(k);
      visit(words, run, tokens[j].folded);
      if (w.gap == Gap::broken) break;
    }
  }
}

}  // namespace

std::vector<VersionMention> version_mentions(std::string_view text,
                                             const std::function<bool(const std::string&)>& is_name_word) {
  const std::vector<Token> tokens = tokenize(text);
  std::vector<VersionMention> out;
  for_each_version_run(
      tokens, [&](const std::string& words, const std::vector<std::size_t>& run, const std::string& version) {
        const bool named =
            std::any_of(run.begin(), run.end(), [&](std::size_t k) { return is_name_word(tokens[k].folded); });
        if (!named) return;
        VersionMention m{words, version};
        if (std::none_of(out.begin(), out.end(),
                         [&](const VersionMention& o) { return o.words == m.words && o.version == m.version; }))
          out.push_back(std::move(m));
      });
  return out;
}

std::vector<std::string> versioned_names(std::string_view text) {
  const std::vector<Token> tokens = tokenize(text);
  std::vector<std::string> out;
  const auto add = [&out](std::string key) {
    if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(std::move(key));
  };
  std::size_t i = 0;
  while (i < tokens.size()) {
    // A compound: tokens joined by hyphens or dots.
    std::size_t end = i + 1;
    while (end < tokens.size() && tokens[end].gap == Gap::joined) ++end;
    std::string key;
    bool inner_upper = tokens[i].inner_upper;
    for (std::size_t k = i; k < end; ++k) {
      key += tokens[k].folded;
      if (k > i && (tokens[k].starts_upper || tokens[k].inner_upper)) inner_upper = true;
    }
    const Token& last = tokens[end - 1];
    if (starts_with_letter(tokens[i])) {
      const bool versioned =
          (end - i >= 2 && is_version(last, true)) || (end - i == 1 && is_model_code(last) && !is_version(last, false));
      // A separate version after a written name: "PaLM 2", "ConvNeXt V2", "DALL·E 3", "Tensor
      // Programs VI" ("Table 2" and "step 2" are not names).
      const bool spaced_version =
          end < tokens.size() && tokens[end].gap == Gap::space && is_version(tokens[end], false) &&
          (versioned || inner_upper || (tokens[i].starts_upper && is_roman(tokens[end].folded)));
      if (spaced_version) {
        add(key + tokens[end].folded);
        ++end;
      } else if (versioned) {
        add(key);
      }
    }
    i = end;
  }
  return out;
}

bool NameMentions::mentions_stem_then(const std::string& stem, const std::string& rest) const {
  constexpr std::size_t k_max_ending = 3;  // "er", "ing", "ers"
  return std::any_of(keys_.begin(), keys_.end(), [&](const std::string& key) {
    return key.size() >= stem.size() + rest.size() && key.size() <= stem.size() + rest.size() + k_max_ending &&
           key.compare(0, stem.size(), stem) == 0 && key.compare(key.size() - rest.size(), rest.size(), rest) == 0;
  });
}

bool NameMentions::names_only_other_versions(const VersionMention& m) const {
  const auto it = versions_after_.find(m.words);
  return it != versions_after_.end() && !it->second.count(m.version) && !keys_.count(m.words + m.version);
}

NameMentions::NameMentions(std::string_view text) {
  constexpr std::size_t k_max_run = 4;
  constexpr std::size_t k_max_initials = 5;
  const std::vector<Token> tokens = tokenize(text);
  for_each_version_run(tokens, [this](const std::string& words, const std::vector<std::size_t>&,
                                      const std::string& version) { versions_after_[words].insert(version); });
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string key;
    for (std::size_t k = i; k < tokens.size() && k < i + k_max_run; ++k) {
      if (k > i && tokens[k].gap == Gap::broken) break;
      key += tokens[k].folded;
      keys_.insert(key);
    }
    // Acronyms take the initials of every word ("CoT", chain of thought) or only of the content
    // words ("RLHF", reinforcement learning from human feedback).
    std::string every, content;
    for (std::size_t k = i; k < tokens.size() && k < i + k_max_initials; ++k) {
      if ((k > i && tokens[k].gap == Gap::broken) || !starts_with_letter(tokens[k])) break;
      every += tokens[k].folded.front();
      if (k == i || !is_function_word(tokens[k].folded)) content += tokens[k].folded.front();
      if (every.size() >= 2) initials_.insert(every);
      if (content.size() >= 2) initials_.insert(content);
    }
  }
}

std::string short_name(std::string_view title) {
  const std::size_t colon = title.find(':');
  if (colon == std::string_view::npos) return {};
  std::string_view head = title.substr(0, colon);
  while (!head.empty() && head.back() == ' ') head.remove_suffix(1);
  while (!head.empty() && head.front() == ' ') head.remove_prefix(1);
  const auto words = 1 + std::count(head.begin(), head.end(), ' ');
  const bool latin =
      std::any_of(head.begin(), head.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
  if (head.size() < 2 || words > 3 || !latin) return {};
  return std::string(head);
}

bool writes_name(std::string_view typed, std::string_view name) {
  if (name.empty()) return false;
  // A byte that continues a word: a Latin letter or digit (UTF-8 bytes of other scripts are word
  // boundaries, so "PaLM的" writes "PaLM").
  const auto word_byte = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t at = typed.find(name); at != std::string_view::npos; at = typed.find(name, at + 1)) {
    const std::size_t end = at + name.size();
    if ((at == 0 || !word_byte(typed[at - 1])) && (end == typed.size() || !word_byte(typed[end]))) return true;
  }
  return false;
}

}  // namespace roundup::retrieval
