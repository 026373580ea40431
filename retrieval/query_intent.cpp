#include "retrieval/query_intent.h"

#include "retrieval/links.h"

#include <algorithm>
#include <array>
#include <set>

#include "retrieval/months.h"
#include "retrieval/pattern.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

// *rest = source without `span` (a view into source), a space in its place.
void erase_span(std::string* rest, std::string_view source, std::string_view span) {
  if (!rest) return;
  const auto at = static_cast<std::size_t>(span.data() - source.data());
  *rest = std::string(source.substr(0, at)) + " " + std::string(source.substr(at + span.size()));
}

// Words that only frame a listing request ("what was in the ... roundup").
bool is_frame_word(const std::string& w) {
  static const std::set<std::string> k_words = {
      "what",   "was",   "were",     "in",         "the",      "roundup",  "roundups", "digest",     "digests", "list",
      "papers", "paper", "all",      "of",         "show",     "me",       "covered",  "which",      "from",    "for",
      "month",  "issue", "s",        "give",       "tell",     "whats",    "included", "there",      "are",     "is",
      "a",      "an",    "articles", "featured",   "有哪些",   "论文",     "的",       "里",         "中",      "推荐",
      "列出",   "什么",  "哪些",     "有",         "期",       "月",       "文章",     "都",         "是",      "了",
      "篇",     "份",    "月份",     "精选",       "本期",     "请",       "do",       "you",        "have",    "came",
      "come",   "out",   "new",      "published",  "appeared", "released", "total",    "altogether", "so",      "far",
      "been",   "has",   "got",      "know",       "about",    "一共",     "总共",     "共",         "多少",    "几",
      "新",     "出",    "发布",     "那",         "以来",     "综述",     "期里",     "里面",       "包含",    "收录",
      "what's", "did",   "anything", "everything", "you've",   "你",       "讲",       "月度",       "所有",    "了"};
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
  for (const char* phrase : {"有哪些", "论文", "推荐", "列出", "什么", "哪些", "文章", "月份", "精选", "本期", "一共",
                             "总共", "多少", "综述", "发布", "以来", "收录", "包含", "里面"})
    s = blank_out(s, phrase);
  for (const std::string& w : words_of(s))
    if (!is_frame_word(w)) return false;
  return true;
}

std::optional<std::string> find_author(const std::string& folded, const Catalog& catalog, std::string* rest) {
  static const Pattern k_by(
      R"((?:papers?|works?|articles?|research|anything|something|stuff)\s+(?:written\s+|authored\s+|published\s+)?(?:by|from)\s+([^,.;?!]+))");
  static const Pattern k_by_start(R"(^\s*(?:by|from)\s+([^,.;?!]+))");
  static const Pattern k_zh(R"(([a-z][a-z .'\-]*[a-z]|[\p{Han}·]{2,10}?)\s*(?:的论文|的文章|写的|写了|的工作|等人的))");
  static const Pattern k_wrote(R"(\bwhat\s+(?:did|has|have)\s+([^,.;?!]+?)\s+(?:write|written|publish|published)\b)");
  static const Pattern k_zh_author(R"(作者(?:是|为)?\s*([a-z][a-z .'\-]*[a-z]))");
  std::optional<std::vector<std::string_view>> m;
  for (const Pattern* p : {&k_by, &k_by_start, &k_wrote, &k_zh, &k_zh_author})
    if ((m = first_match(folded, *p))) break;
  if (!m) return std::nullopt;
  const std::string candidate = trim((*m)[1]);
  const std::string matched((*m)[0]);  // the whole "papers by X" phrase, removed from *rest on success
  // Cut trailing topic words ("carlini about diffusion", "hinton in 2022").
  static const Pattern k_tail(R"(\s+(?:about|on|in|regarding|during|with|that|which)\b.*$)");
  std::string name = candidate;
  replace_all(&name, k_tail, "");
  name = trim(name);
  if (name.size() < 3) return std::nullopt;
  // The name must be part of an author's folded name in the catalog ("carlini", "nicholas carlini").
  // One substring scan per author: the cost is the catalog's, whatever the question.
  for (const auto& [author, fa] : catalog.authors()) {
    if (fa.find(name) == std::string::npos) continue;
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

std::string blank_out(const std::string& text, std::string_view phrase) {
  // One pass: a find-and-replace loop from the start is quadratic in a question that repeats
  // the phrase.
  std::string out;
  std::size_t from = 0;
  for (std::size_t at; (at = text.find(phrase, from)) != std::string::npos; from = at + phrase.size()) {
    out.append(text, from, at - from);
    out.push_back(' ');
  }
  out.append(text, from);
  return out;
}

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
  const std::string s = fold(bounded_question(text));
  if (auto mention = find_month_mention(s)) {
    erase_span(rest, s, mention->span);
    return std::move(mention->month);
  }
  if (rest) *rest = s;
  return std::nullopt;
}

QueryIntent understand_query(std::string_view question, const Catalog& catalog) {
  QueryIntent intent;
  intent.link = question_link(bounded_question(question), &intent.link_shown);
  std::string rest;  // the bounded, folded question, less what was understood so far
  intent.month = find_month(question, &rest);
  intent.roundup_id = find_roundup_id(rest, catalog, &rest);

  // "the latest roundup", "最新一期": the newest month the catalog holds.
  static const Pattern k_latest(
      R"(\b(?:latest|newest|most\s+recent|last|current)\s+(?:roundups?|digests?|issues?|editions?|months?)\b|最新一期|最近一期|最新的一期|最新的综述|最近的综述|最新那期|最新的那期)");
  if (!intent.month && !intent.roundup_id && first_match(rest, k_latest)) {
    const auto& order = catalog.roundups_by_month();
    for (auto it = order.rbegin(); it != order.rend() && !intent.month; ++it)
      if (!catalog.roundups()[*it].month.empty()) intent.month = catalog.roundups()[*it].month;
    replace_all(&rest, k_latest, " roundup ");
  }
  // "since March 2022", "2022年3月以后": that month and the ones after it; "since 2023",
  // "2022年以来": from the year's January.
  static const Pattern k_since(R"(\b(?:since|after|from)\b|以后|以来|之后|起)");
  static const Pattern k_since_year(R"(\b(?:since|after|from)\s+(20\d\d)\b|(20\d\d)\s*年\s*(?:以后|以来|之后|起))");
  if (!intent.month && !intent.roundup_id) {
    if (const auto m = first_match(rest, k_since_year)) {
      intent.since = std::string((*m)[1].empty() ? (*m)[2] : (*m)[1]) + "-01";
      replace_all(&rest, k_since_year, " ");
    }
  }
  if (intent.month && first_match(rest, k_since)) {
    intent.since = std::move(intent.month);
    intent.month.reset();
    replace_all(&rest, k_since, " ");
  }
  // "which roundups do you have?", "list the roundups", "有哪些期?": the catalog's months.
  static const Pattern k_months(
      R"(\b(?:list|show)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|your\s+)?(?:roundups|digests|months|issues)\b|\b(?:which|what)\s+(?:roundups|months|digests|issues)\s+(?:do\s+you\s+have|are\s+there|exist|are\s+available|do\s+you\s+(?:cover|know))\b|\bhow\s+many\s+(?:roundups|digests|issues|months)\b|有哪些期|有哪几期|哪几个月|有哪些月|哪些月份|都有哪些综述|有哪些综述|有几期|多少期|列出(?:所有)?(?:的)?(?:月度)?(?:综述|期))");
  if (!intent.month && !intent.since && first_match(rest, k_months)) {
    replace_all(&rest, k_months, " ");
    if (only_frame_words(rest)) {
      intent.kind = QueryIntent::Kind::list_months;
      return intent;
    }
  }
  // "how many papers (in the February 2023 roundup)?", "一共有多少篇论文?"
  static const Pattern k_count(R"(\bhow\s+many\s+(?:papers|articles|items|entries)\b|多少篇|几篇)");
  if (first_match(rest, k_count)) {
    std::string without = rest;
    replace_all(&without, k_count, " ");
    if (only_frame_words(without)) {
      intent.kind = QueryIntent::Kind::count_papers;
      return intent;
    }
  }
  static const Pattern k_which(
      R"(\b(?:which|what)\s+(?:roundups?|digests?|issues?|months?|editions?)\b|\bin\s+which\s+(?:roundups?|digests?|months?)\b|哪些期|哪几期|哪一期|哪期|哪个月|哪些月|哪几个月)");
  if (first_match(rest, k_which)) {
    intent.kind = QueryIntent::Kind::which_roundups;
    replace_all(&rest, k_which, " ");
    static const Pattern k_verbs(
        R"(\b(?:covered|cover|covers|mention|mentioned|mentions|featured|feature|discuss|discussed|included|include|talk about|talked about|had|have|has)\b|提到|介绍|讨论|收录|报道|推荐|了|过)");
    replace_all(&rest, k_verbs, " ");
  }
  static const Pattern k_quantity(
      R"(\bhow\s+(?:many|much|big|large|long|fast|far|old|heavy|often)\b|\bby\s+how\b|\bwhat\s+(?:share|percentage|fraction|proportion|number|size|rate)\b|多少|几个|几块|几篇|几倍|几年|几次|多大|多长|多久|多重|多快|百分之几)");
  intent.asks_quantity = first_match(rest, k_quantity).has_value();
  if (auto author = find_author(rest, catalog, &rest)) {
    intent.author = *author;
    if (intent.kind == QueryIntent::Kind::topic) intent.kind = QueryIntent::Kind::by_author;
  }
  // "Papers by Carlini" names an author; "who wrote Chinchilla?" asks for one.
  if (!intent.author) intent.attribute = find_attribute(rest, &rest);
  // "what did the roundups say about X?", "papers on X", "有哪些关于X的论文": every paper about X.
  static const Pattern k_topical(
      R"(\bwhat\s+(?:did|do|does)\s+(?:the\s+)?(?:roundups?|digests?|you)\s+(?:say|write|cover|have|mention)\s+(?:about|on)\b|\b(?:are\s+there\s+)?any\s+(?:papers?|work|research)\s+(?:about|on|related\s+to)\b|^\s*(?:papers?|work|research)\s+(?:about|on|related\s+to)\b|\b(?:show|list|give|find)\s+(?:me\s+)?(?:all\s+)?(?:the\s+)?(?:papers?|work|research)\s+(?:about|on|related\s+to)\b|\bwhat\s+(?:papers?|work|research)\s+(?:is\s+|are\s+)?(?:there\s+)?(?:about|on)\b|\b(?:papers?|work|research)\s+(?:about|on)\b|(?:有哪些|有没有)?关于(.+?)的(?:论文|文章|工作|研究)(?:有哪些)?|有哪些关于|有没有关于|(.+?)相关的?(?:论文|文章|工作|研究)|有哪些(.+?)的?(?:论文|文章))");
  if (intent.kind == QueryIntent::Kind::topic && !intent.author && !intent.link) {
    if (const auto m = first_match(rest, k_topical)) {
      std::string topic;
      for (std::size_t g = 1; g < m->size(); ++g) topic += std::string((*m)[g]) + " ";
      std::string without = rest;
      replace_all(&without, k_topical, " " + topic);
      if (!only_frame_words(without)) {
        intent.kind = QueryIntent::Kind::topical;
        rest = without;
      }
    }
  }
  intent.topic = squash_spaces(rest);
  if (intent.kind == QueryIntent::Kind::by_author && only_frame_words(intent.topic)) intent.topic.clear();
  if (intent.kind == QueryIntent::Kind::topic && (intent.month || intent.roundup_id || intent.since) &&
      only_frame_words(intent.topic)) {
    intent.kind = QueryIntent::Kind::list_roundups;
    intent.topic.clear();
  }
  return intent;
}

std::vector<std::string> topic_parts(std::string_view topic) {
  // Lists join their items with commas, "and", "or" and their Chinese forms; "X-and-Y" and
  // "vision-language" stay whole. Without a conjunction a comma ends a clause, not an item
  // ("the paper on X, what was it called").
  static const Pattern k_conjunction(R"(、|\band\b|\bor\b|以及|或者|和|或|与|及)");
  static const Pattern k_separator(R"(\s*(?:[,;/&、，；]|\band\b|\bor\b|以及|或者|和|或|与|及)\s*)");
  if (!first_match(topic, k_conjunction)) return {std::string(topic)};
  std::vector<std::string> parts;
  std::string_view rest = topic;
  while (!rest.empty()) {
    const auto m = parts.size() + 1 < k_max_topic_parts ? first_match(rest, k_separator) : std::nullopt;
    const std::size_t end = m ? static_cast<std::size_t>((*m)[0].data() - rest.data()) : rest.size();
    if (std::string part = squash_spaces(std::string(rest.substr(0, end))); !only_frame_words(part))
      parts.push_back(std::move(part));
    if (!m) break;
    rest.remove_prefix(end + (*m)[0].size());
  }
  if (parts.size() < 2) return {std::string(topic)};
  return parts;
}

}  // namespace roundup::retrieval
