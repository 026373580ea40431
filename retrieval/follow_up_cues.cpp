#include "retrieval/follow_up_cues.h"

#include <array>
#include <set>
#include <tuple>

#include "retrieval/pattern.h"
#include "retrieval/query_intent.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

// The value of a Chinese numeral of up to two digits ("三" 3, "十二" 12, "二十" 20), or of ASCII
// digits; 0 when it is neither.
int numeral_value(std::string_view numeral) {
  if (numeral.empty()) return 0;
  if (numeral.find_first_not_of("0123456789") == std::string_view::npos)
    return numeral.size() <= 2 ? std::stoi(std::string(numeral)) : 0;
  static const std::array<std::string_view, 10> k_digits = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
  const std::u32string cps = decode_utf8(numeral);
  auto digit = [](char32_t cp) {
    for (std::size_t d = 0; d < k_digits.size(); ++d)
      if (decode_utf8(k_digits[d]).front() == cp) return static_cast<int>(d);
    if (cp == U'两') return 2;
    return -1;
  };
  constexpr char32_t k_ten = U'十';
  if (cps.size() == 1) return cps[0] == k_ten ? 10 : std::max(digit(cps[0]), 0);
  if (cps.size() == 2 && cps[0] == k_ten) return 10 + std::max(digit(cps[1]), 0);
  if (cps.size() == 2 && cps[1] == k_ten) return 10 * std::max(digit(cps[0]), 0);
  if (cps.size() == 3 && cps[1] == k_ten) return 10 * std::max(digit(cps[0]), 0) + std::max(digit(cps[2]), 0);
  return 0;
}

int english_ordinal(std::string_view word) {
  static const std::array<std::string_view, 12> k_words = {"first", "second", "third",    "fourth",
                                                           "fifth", "sixth",  "seventh",  "eighth",
                                                           "ninth", "tenth",  "eleventh", "twelfth"};
  for (std::size_t i = 0; i < k_words.size(); ++i)
    if (word == k_words[i]) return static_cast<int>(i) + 1;
  if (word == "last") return -1;
  // "2nd", "10th".
  const std::size_t digits = word.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos || digits > 2) return 0;
  return std::stoi(std::string(word.substr(0, digits)));
}

// Words that frame a follow-up but say nothing about what it is about.
bool is_filler(const std::string& word) {
  static const std::set<std::string> k_words = {
      "the",     "a",        "an",      "is",     "was",     "are",       "were",      "be",      "been",    "about",
      "on",      "of",       "paper",   "papers", "one",     "ones",      "what",      "which",   "who",     "whom",
      "tell",    "me",       "more",    "please", "and",     "that",      "this",      "these",   "those",   "it",
      "its",     "it's",     "they",    "them",   "their",   "did",       "does",      "do",      "in",      "for",
      "to",      "can",      "you",     "show",   "give",    "summarize", "summarise", "summary", "explain", "details",
      "detail",  "describe", "again",   "so",     "ok",      "okay",      "thanks",    "then",    "now",     "also",
      "roundup", "roundups", "digest",  "month",  "covered", "listed",    "mentioned", "there",   "any",     "some",
      "say",     "said",     "says",    "with",   "work",    "article",   "study",     "i",       "mean",    "meant",
      "how",     "about",    "related", "item",   "result",  "entry",     "from",      "list",    "above",   "by"};
  return k_words.count(word) > 0;
}

// Chinese framing, blanked out of Han runs before they are read: phrases first (longest first),
// then particles that are never part of a topic word.
std::string without_chinese_framing(std::string text) {
  static const std::array<std::string_view, 31> k_phrases = {
      "哪一篇", "是关于", "有关于", "关于", "什么", "论文", "文章", "介绍", "一下", "说说", "详细",
      "哪些",   "哪个",   "哪篇",   "这篇", "那篇", "它们", "作者", "一篇", "讲的", "讲了", "主要",
      "内容",   "方面",   "研究",   "工作", "请问", "告诉", "我",   "相关", "涉及"};
  static const std::array<std::string_view, 12> k_particles = {"的", "是", "吗", "呢", "了", "篇",
                                                               "请", "吧", "啊", "哪", "谁", "它"};
  for (const auto& list : {std::vector<std::string_view>(k_phrases.begin(), k_phrases.end()),
                           std::vector<std::string_view>(k_particles.begin(), k_particles.end())}) {
    for (const std::string_view phrase : list) text = blank_out(text, phrase);
  }
  return text;
}

// The words of folded text that are not framing: runs of letters, digits and apostrophes, and
// runs of Han characters (a topic word such as 机器人 stays whole).
std::string content_words(std::string_view folded) {
  std::string out;
  std::string current;
  bool han_run = false;
  auto flush = [&] {
    if (!current.empty() && (han_run || !is_filler(current))) out += (out.empty() ? "" : " ") + current;
    current.clear();
  };
  for (char32_t cp : decode_utf8(without_chinese_framing(std::string(folded)))) {
    if (is_han(cp)) {
      if (!han_run) flush();
      han_run = true;
      append_utf8(current, cp);
    } else if (is_alnum(cp) || cp == '\'' || cp == '-' || cp == '.') {
      if (han_run) flush();
      han_run = false;
      append_utf8(current, cp);
    } else {
      flush();
      han_run = false;
    }
  }
  flush();
  return out;
}

void remove(std::string* text, const Pattern& pattern) {
  replace_all(text, pattern, " ");
}

}  // namespace

Attribute find_attribute(std::string_view folded, std::string* rest) {
  static const Pattern k_authors(
      R"(\bwho\s+(?:wrote|writes|authored|made|created|developed|published|did|is\s+behind|was\s+behind|are\s+behind|were\s+behind|are\s+the\s+authors?|is\s+the\s+author|were\s+the\s+authors?)\b|\b(?:the\s+)?authors?\s+(?:of|for|behind)\b|\b(?:written\s+)?by\s+whom\b|\b(?:its|their|the)\s+authors?\b|^\s*authors?\s*\??\s*$|\bauthors?\s*\??\s*$|作者是谁|作者有哪些|作者是哪些|是谁写的|谁写的|哪些人写的|作者)");
  static const Pattern k_link(
      R"(\b(?:links?|urls?)\s+(?:to|for|of)\b|\b(?:its|the|a)\s+(?:arxiv\s+)?(?:links?|urls?)\b|\b(?:links?|urls?)\s*\??\s*$|\bwhere\s+can\s+i\s+(?:read|find|get)\b|\barxiv\s+(?:links?|ids?)\b|链接|网址|原文地址|原文)");
  // "When" asks about the paper itself (covered, published), not about a fact in its summary
  // ("in which year did AlexNet win?" is answered from the summary).
  static const Pattern k_when(
      R"(\bwhen\s+(?:was|were|is|did)\b[^?.!]*\b(?:covered|published|released|featured|mentioned|come\s+out|came\s+out|appear|appeared|posted|listed)\b|^\s*(?:and\s+)?when\s+(?:was|is)\s+(?:it|that|this)(?:\s+(?:paper|one))?\s*\??\s*$|^\s*when\s*\??\s*$|什么时候(?:发布|发表|推出|出的|的)|何时(?:发布|发表|推出)|是哪个月|哪个月的)");
  // What is removed of a "when" question: its frame words, not the subject between them.
  static const Pattern k_when_words(
      R"(\bwhen\s+(?:was|were|is|did)\b|\b(?:covered|published|released|featured|mentioned|come\s+out|came\s+out|appear|appeared|posted|listed)\b|^\s*when\b|什么时候(?:发布|发表|推出|出的|的)|何时(?:发布|发表|推出)|是哪个月|哪个月的)");
  const std::string text(folded);
  for (const auto& [pattern, words, attribute] :
       {std::tuple{&k_authors, &k_authors, Attribute::authors}, std::tuple{&k_link, &k_link, Attribute::link},
        std::tuple{&k_when, &k_when_words, Attribute::when}}) {
    if (!first_match(text, *pattern)) continue;
    if (rest) {
      *rest = text;
      remove(rest, *words);
    }
    return attribute;
  }
  if (rest) *rest = text;
  return Attribute::none;
}

std::string attribute_question(Attribute attribute, std::string_view subject) {
  std::string s(subject);
  switch (attribute) {
    case Attribute::authors: return "who wrote " + s + "?";
    case Attribute::link: return "link to " + s;
    case Attribute::when: return "when was " + s + " covered?";
    case Attribute::none: break;
  }
  return s;
}

FollowUpCues read_follow_up_cues(std::string_view message) {
  FollowUpCues cues;
  std::string rest = fold(bounded_question(message));

  // Ordinals over a list: "the second one", "the 3rd paper you listed", "#2", "第三篇". An
  // ordinal that a phrase continues ("the first paper to use RLHF") is a question of its own.
  static const Pattern k_ordinal(
      R"(\b(?:the\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last|\d{1,2}(?:st|nd|rd|th))\s+(?:related\s+)?(?:one|paper|result|item|entry|article|link|pick)s?\b\s*(?:$|[?.!,;:]|(?:in|on|from|of)\s+(?:the|that|this|your)\s+list|you\s+(?:listed|mentioned|showed|gave)|above|there|listed))");
  static const Pattern k_number(R"((?:\bnumber|\bno\.|#)\s*(\d{1,2})\b)");
  static const Pattern k_zh_ordinal(
      R"(第\s*([0-9]{1,2}|[一二两三四五六七八九十]{1,3})\s*(?:篇|条|项|份|个(?:$|[?.!,]|呢|的|是|吧)))");
  static const Pattern k_zh_last(R"(最后一(?:篇|条|项|份|个))");
  if (auto m = first_match(rest, k_ordinal)) {
    cues.ordinal = english_ordinal((*m)[1]);
    remove(&rest, k_ordinal);
  } else if ((m = first_match(rest, k_number))) {
    cues.ordinal = numeral_value((*m)[1]);
    remove(&rest, k_number);
  } else if ((m = first_match(rest, k_zh_ordinal))) {
    cues.ordinal = numeral_value((*m)[1]);
    remove(&rest, k_zh_ordinal);
  } else if (first_match(rest, k_zh_last)) {
    cues.ordinal = -1;
    remove(&rest, k_zh_last);
  }

  static const Pattern k_narrow(
      R"(\b(?:which|what)\s+(?:one\s+|paper\s+|ones\s+|papers\s+)?(?:of|among)\s+(?:those|these|them|the\s+above|the\s+list)\b|\b(?:of|among)\s+(?:those|these|them)\b|\bfrom\s+(?:that|the|this)\s+list\b|其中|(?:这些|那些|上面|以上|列表)(?:的|这些|那些)?(?:论文|文章)?(?:中|里|当中))");
  if (first_match(rest, k_narrow)) {
    cues.narrows = true;
    remove(&rest, k_narrow);
  }

  // A pronoun or demonstrative, or a request for more about what was just said.
  static const Pattern k_back(
      R"(\b(it|its|they|them|their|(?:this|that|the\s+same)\s+(?:paper|one|work|article|study|model|method|approach|result))\b|\b(this|that)\s*(?:$|[?.!])|\b(tell\s+me\s+more|more\s+details?|more\s+about\s+it)\b|^\s*(details|summary|summari[sz]e)\s*\??\s*$|(它们|它|这篇|那篇|该论文|该文|此文|这项工作|这个工作|这个模型|该模型|那个模型|这个方法|他们|详细说说|详细介绍|多说一点|展开说说))");
  auto m = first_match(rest, k_back);
  // "DALL·E 2 那篇论文", "the GLIDE paper": a demonstrative right after a name points at that
  // name, not back into the conversation.
  if (m && is_han(decode_utf8((*m)[0]).front())) {
    const std::string before =
        trim(std::string_view(rest).substr(0, static_cast<std::size_t>((*m)[0].data() - rest.data())));
    const std::u32string cps = decode_utf8(before);
    if (!cps.empty() && cps.back() < 0x80 && is_alnum(cps.back())) m.reset();
  }
  if (m) {
    cues.refers_back = true;
    for (std::size_t g = 1; g < m->size(); ++g)
      if (!(*m)[g].empty()) cues.referring_word = std::string((*m)[g]);
    remove(&rest, k_back);
  }

  cues.attribute = find_attribute(rest, &rest);

  // Ellipsis carries the previous question to a new subject: "and PaLM?", "那 PaLM 呢?".
  static const Pattern k_ellipsis(
      R"((?i)^\s*(?:and\s+what\s+about|and\s+how\s+about|what\s+about|how\s+about|same\s+for|and)\s+(.+?)\s*[?.!]*\s*$)");
  static const Pattern k_zh_ellipsis(R"(^\s*(?:那么|那|还有)?\s*(.+?)\s*呢\s*[?.!]*\s*$)");
  if (!cues.refers_back && cues.ordinal == 0 && !cues.narrows) {
    // Read in the casing typed: a versioned name ("PaLM 2") is recognised by it.
    const std::string typed = bounded_question(message);
    std::optional<std::vector<std::string_view>> m = first_match(typed, k_ellipsis);
    if (!m) m = first_match(typed, k_zh_ellipsis);
    if (m) {
      std::string subject = (*m)[1].empty() ? std::string() : squash_spaces((*m)[1]);
      if (!subject.empty() && utf8_length(subject) <= 60) cues.ellipsis = std::move(subject);
    }
  }
  cues.content = content_words(rest);
  return cues;
}

}  // namespace roundup::retrieval
