#include "retrieval/query_intent.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <regex>
#include <set>

#include "retrieval/text.h"

namespace roundup::retrieval {

namespace {

constexpr std::array<std::string_view, 12> k_months = {"january",   "february", "march",    "april",
                                                       "may",       "june",     "july",     "august",
                                                       "september", "october",  "november", "december"};

int month_number(std::string_view word) {
  for (std::size_t i = 0; i < k_months.size(); ++i) {
    const std::string_view full = k_months[i];
    if (word == full || (word.size() >= 3 && full.substr(0, word.size()) == word)) return static_cast<int>(i) + 1;
  }
  return 0;
}

std::string format_month(int year, int month) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
  return buf;
}

void erase_span(std::string* rest, const std::smatch& m, const std::string& source) {
  if (!rest) return;
  *rest = source.substr(0, static_cast<std::size_t>(m.position(0))) + " " +
          source.substr(static_cast<std::size_t>(m.position(0) + m.length(0)));
}

// Words that only frame a listing request ("what was in the ... roundup").
bool is_frame_word(const std::string& w) {
  static const std::set<std::string> k_words = {
      "what",   "was",   "were",     "in",       "the",    "roundup", "roundups", "digest", "digests", "list",
      "papers", "paper", "all",      "of",       "show",   "me",      "covered",  "which",  "from",    "for",
      "month",  "issue", "s",        "give",     "tell",   "whats",   "included", "there",  "are",     "is",
      "a",      "an",    "articles", "featured", "有哪些", "论文",    "的",       "里",     "中",      "推荐",
      "列出",   "什么",  "哪些",     "有",       "期",     "月",      "文章",     "都",     "是",      "了",
      "篇",     "份",    "月份",     "精选",     "本期",   "请"};
  return k_words.count(w) > 0;
}

std::vector<std::string> words_of(std::string_view folded) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) out.push_back(std::move(current));
    current.clear();
  };
  for (char32_t cp : decode_utf8(folded)) {
    if (is_han(cp)) {
      flush();
      append_utf8(current, cp);
      flush();
    } else if (is_alnum(cp) || cp == '\'') {
      append_utf8(current, cp);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

bool only_frame_words(std::string_view folded) {
  // Han text is checked as whole frame phrases first, then character by character.
  std::string s(folded);
  for (const char* phrase : {"有哪些", "论文", "推荐", "列出", "什么", "哪些", "文章", "月份", "精选", "本期"}) {
    for (std::size_t pos; (pos = s.find(phrase)) != std::string::npos;) s.replace(pos, std::string(phrase).size(), " ");
  }
  for (const std::string& w : words_of(s))
    if (!is_frame_word(w)) return false;
  return true;
}

bool contains_any(std::string_view text, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return text.find(n) != std::string_view::npos; });
}

bool has_four_digits(std::string_view text) {
  int run = 0;
  for (char c : text) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run == 4) return true;
  }
  return false;
}

std::optional<std::string> find_author(const std::string& folded, const Catalog& catalog, std::string* rest) {
  static const std::regex k_by(
      R"((?:papers?|works?|articles?|research|anything|something|stuff)\s+(?:written\s+|authored\s+|published\s+)?(?:by|from)\s+([^,.;?!]+))");
  static const std::regex k_by_start(R"(^\s*(?:by|from)\s+([^,.;?!]+))");
  static const std::regex k_zh(R"(([a-z][a-z .'\-]*[a-z])\s*(?:的论文|的文章|写的|的工作|等人的))");
  static const std::regex k_zh_author(R"(作者(?:是|为)?\s*([a-z][a-z .'\-]*[a-z]))");
  // std::regex is slow; most questions name no author, and these substrings are necessary.
  const bool english = contains_any(folded, {"by ", "from "});
  const bool chinese = contains_any(folded, {"的论文", "的文章", "写的", "的工作", "等人的", "作者"});
  if (!english && !chinese) return std::nullopt;
  std::smatch m;
  std::string candidate;
  std::string matched;  // the whole "papers by X" phrase, removed from *rest on success
  for (const std::regex* re : {&k_by, &k_by_start, &k_zh, &k_zh_author}) {
    if ((re == &k_zh || re == &k_zh_author) ? !chinese : !english) continue;
    if (std::regex_search(folded, m, *re)) {
      candidate = trim(m[1].str());
      matched = m[0].str();
      break;
    }
  }
  if (candidate.empty()) return std::nullopt;
  // Cut trailing topic words ("carlini about diffusion", "hinton in 2022").
  static const std::regex k_tail(R"(\s+(?:about|on|in|regarding|during|with|that|which)\b.*$)");
  const std::string name = trim(std::regex_replace(candidate, k_tail, ""));
  if (name.size() < 3) return std::nullopt;
  // The name must match an author in the catalog: whole folded name, or one of its words.
  for (const auto& [author, fa] : catalog.authors()) {
    bool hit = fa.find(name) != std::string::npos;
    for (const std::string& w : words_of(fa)) hit = hit || (w.size() >= 3 && w == name);
    if (!hit) continue;
    if (rest) {
      // Keep the topic words that followed the name ("about diffusion").
      const std::string tail = candidate.substr(std::min(candidate.size(), candidate.find(name) + name.size()));
      *rest = folded;
      if (const auto pos = rest->find(matched); pos != std::string::npos)
        rest->replace(pos, matched.size(), " " + tail);
    }
    return author;
  }
  return std::nullopt;
}

std::optional<std::string> find_roundup_id(const std::string& folded, const Catalog& catalog, std::string* rest) {
  for (const std::string& w : words_of(folded)) {
    if (const auto r = catalog.roundup_by_name(w)) {
      if (rest) {
        const auto pos = rest->find(w);
        if (pos != std::string::npos) rest->erase(pos, w.size());
      }
      return catalog.roundups()[*r].id;
    }
  }
  return std::nullopt;
}

// The first code points of the typed question (at most the typed limit), with invalid bytes
// replaced; *longer tells whether more followed.
std::u32string typed_prefix(std::string_view question, bool* longer) {
  // A code point takes at most 4 bytes, so this many bytes hold the limit's worth and one more.
  std::u32string cps = decode_utf8(question.substr(0, 4 * (k_max_typed_question_chars + 1)));
  *longer = cps.size() > k_max_typed_question_chars;
  if (*longer) cps.resize(k_max_typed_question_chars);
  return cps;
}

}  // namespace

bool question_within_limits(std::string_view question) {
  bool longer = false;
  const std::u32string typed = typed_prefix(question, &longer);
  return !longer && utf8_length(nfkc(encode_utf8(typed))) <= k_max_question_chars;
}

std::string bounded_question(std::string_view question) {
  bool longer = false;
  return utf8_prefix(nfkc(encode_utf8(typed_prefix(question, &longer))), k_max_question_chars);
}

std::optional<std::string> find_month(std::string_view text, std::string* rest) {
  const std::string s = fold(text);
  static const std::regex k_zh(R"((\d{4})\s*年\s*(\d{1,2})\s*月(?:份)?)");
  static const std::regex k_iso(R"((?:^|[^\d])((\d{4})[-/.](\d{1,2}))(?:[^\d]|$))");
  static const std::regex k_name_year(
      R"(\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+(?:of\s+)?(\d{4})\b)");
  static const std::regex k_year_name(R"(\b(\d{4})\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b)");
  std::smatch m;
  // Every form has a four-digit year; std::regex is slow, so skip the common case cheaply.
  if (!has_four_digits(s)) {
    if (rest) *rest = s;
    return std::nullopt;
  }
  if (std::regex_search(s, m, k_zh)) {
    const int month = std::stoi(m[2].str());
    if (month >= 1 && month <= 12) {
      erase_span(rest, m, s);
      return format_month(std::stoi(m[1].str()), month);
    }
  }
  if (std::regex_search(s, m, k_name_year)) {
    const int month = month_number(m[1].str());
    erase_span(rest, m, s);
    return format_month(std::stoi(m[2].str()), month);
  }
  if (std::regex_search(s, m, k_year_name)) {
    const int month = month_number(m[2].str());
    erase_span(rest, m, s);
    return format_month(std::stoi(m[1].str()), month);
  }
  if (std::regex_search(s, m, k_iso)) {
    const int year = std::stoi(m[2].str());
    const int month = std::stoi(m[3].str());
    if (year >= 1990 && year <= 2100 && month >= 1 && month <= 12) {
      if (rest) {
        *rest = s.substr(0, static_cast<std::size_t>(m.position(1))) + " " +
                s.substr(static_cast<std::size_t>(m.position(1) + m.length(1)));
      }
      return format_month(year, month);
    }
  }
  if (rest) *rest = s;
  return std::nullopt;
}

QueryIntent understand_query(std::string_view question, const Catalog& catalog) {
  QueryIntent intent;
  std::string rest;
  intent.month = find_month(question, &rest);
  intent.roundup_id = find_roundup_id(rest, catalog, &rest);

  static const std::regex k_which(
      R"(\b(?:which|what)\s+(?:roundups?|digests?|issues?|months?|editions?)\b|\bin\s+which\s+(?:roundups?|digests?|months?)\b|哪些期|哪几期|哪一期|哪期|哪个月|哪些月|哪几个月)");
  std::smatch m;
  if (contains_any(rest, {"which", "what", "哪"}) && std::regex_search(rest, m, k_which)) {
    intent.kind = QueryIntent::Kind::which_roundups;
    rest = std::regex_replace(rest, k_which, " ");
    static const std::regex k_verbs(
        R"(\b(?:covered|cover|covers|mention|mentioned|mentions|featured|feature|discuss|discussed|included|include|talk about|talked about|had|have|has)\b|提到|介绍|讨论|收录|报道|推荐|了|过)");
    rest = std::regex_replace(rest, k_verbs, " ");
  }
  if (auto author = find_author(rest, catalog, &rest)) {
    intent.author = *author;
    if (intent.kind == QueryIntent::Kind::topic) intent.kind = QueryIntent::Kind::by_author;
  }
  intent.topic = squash_spaces(rest);
  if (intent.kind == QueryIntent::Kind::by_author && only_frame_words(intent.topic)) intent.topic.clear();
  if (intent.kind == QueryIntent::Kind::topic && (intent.month || intent.roundup_id) &&
      only_frame_words(intent.topic)) {
    intent.kind = QueryIntent::Kind::list_roundups;
    intent.topic.clear();
  }
  return intent;
}

}  // namespace roundup::retrieval
