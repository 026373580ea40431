#include "retrieval/roundup_parser.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "retrieval/links.h"
#include "retrieval/pattern.h"
#include "retrieval/text.h"

// The parser works in two passes: every line is first classified on its own (heading, numbered
// title, title-list entry, bullet, furniture, end marker, ...), then a small state machine walks the
// classified lines and builds items. Decisions that need context (is this numbered line a paper
// title? is this paragraph news?) look at the neighbouring lines or are taken at the end.

namespace roundup::retrieval {
namespace {

constexpr std::size_t k_npos = std::string_view::npos;
// Bracket matching is bounded so a pathological line cannot make link scanning quadratic.
constexpr std::size_t k_max_bracket_span = 2000;
// Month detection looks at the title and this many non-blank lines from the top.
constexpr std::size_t k_month_scan_lines = 20;
// Fallback titles of news / tool paragraphs are cut to this many code points.
constexpr std::size_t k_short_title_cp = 40;
// Extra links in a heading ("[项目页面](url)", "[代号](url)") have short texts.
constexpr std::size_t k_extra_link_text_cp = 12;
// Section headings ("新闻", "🔬研究", "Code") are short; longer headings are subtitles.
constexpr std::size_t k_section_heading_cp = 12;

// ---------------------------------------------------------------------------------------------
// Small string predicates (byte level; UTF-8 sequences are matched whole).

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != k_npos;
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (ascii_lower(s[i]) != ascii_lower(prefix[i])) return false;
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && starts_with_ci(s.substr(s.size() - suffix.size()), suffix);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return is_digit(c); });
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

std::size_t count_of(std::string_view s, std::string_view part) {
  std::size_t n = 0;
  for (std::size_t pos = s.find(part); pos != k_npos; pos = s.find(part, pos + part.size())) ++n;
  return n;
}

char32_t last_code_point(std::string_view s) {
  const std::u32string cps = decode_utf8(s);
  return cps.empty() ? U'\0' : cps.back();
}

// A paragraph that ends like a sentence; lead-in lines ("...我们想要强调的论文", "...开始:") do not.
bool ends_like_sentence(std::string_view s) {
  switch (last_code_point(s)) {
    case U'。':
    case U'.':
    case U'!':
    case U'?':
    case U'…':
    case U'”':
    case U'"':
    case U')':
    case U'」':
    case U'』':
    case U'~': return true;
    default: return false;
  }
}

// Any sentence punctuation at all: tables of contents and bare titles have none.
bool has_sentence_punctuation(std::string_view s) {
  return contains(s, "。") || contains(s, "!") || contains(s, "?") || contains(s, "…") || contains(s, ". ") ||
         (!s.empty() && s.back() == '.');
}

std::string strip_trailing(std::string s, std::initializer_list<std::string_view> tails) {
  bool changed = true;
  while (changed && !s.empty()) {
    changed = false;
    for (std::string_view tail : tails) {
      if (s.size() >= tail.size() && std::string_view(s).substr(s.size() - tail.size()) == tail) {
        s.erase(s.size() - tail.size());
        changed = true;
      }
    }
  }
  return s;
}

std::string strip_trailing_punctuation(std::string s) {
  return strip_trailing(std::move(s), {".", "。", ",", ";", ":", " ", "\t"});
}

// ---------------------------------------------------------------------------------------------
// Markdown: links, emphasis, bullets, headings.

struct MarkdownLink {
  std::string text;
  std::string url;
  std::size_t begin = 0;  // byte range of the whole "[text](url)" (with the "!" of images)
  std::size_t end = 0;
  bool image = false;
};

std::size_t matching_close(std::string_view s, std::size_t open, char open_c, char close_c) {
  int depth = 0;
  const std::size_t limit = std::min(s.size(), open + k_max_bracket_span);
  for (std::size_t i = open; i < limit; ++i) {
    if (s[i] == open_c) {
      ++depth;
    } else if (s[i] == close_c && --depth == 0) {
      return i;
    }
  }
  return k_npos;
}

std::vector<MarkdownLink> scan_links(std::string_view s) {
  std::vector<MarkdownLink> links;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '[') {
      ++i;
      continue;
    }
    const std::size_t close = matching_close(s, i, '[', ']');
    if (close == k_npos || close + 1 >= s.size() || s[close + 1] != '(') {
      ++i;
      continue;
    }
    const std::size_t paren = matching_close(s, close + 1, '(', ')');
    if (paren == k_npos) {
      ++i;
      continue;
    }
    std::string url(s.substr(close + 2, paren - close - 2));
    url = trim(url);
    // A markdown title ("url "title"") follows the first space; the URL is what precedes it.
    if (const std::size_t space = url.find(' '); space != std::string::npos) url.erase(space);
    MarkdownLink link;
    link.image = i > 0 && s[i - 1] == '!';
    link.begin = link.image ? i - 1 : i;
    link.end = paren + 1;
    link.text = std::string(s.substr(i + 1, close - i - 1));
    link.url = url;
    links.push_back(std::move(link));
    i = paren + 1;
  }
  return links;
}

std::vector<MarkdownLink> text_links(std::string_view s) {
  std::vector<MarkdownLink> links = scan_links(s);
  std::erase_if(links, [](const MarkdownLink& l) { return l.image || l.url.empty(); });
  return links;
}

// "<https://x>" autolinks become the bare URL.
std::string unwrap_autolinks(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const std::size_t open = s.find("<http", pos);
    if (open == k_npos) break;
    const std::size_t close = s.find('>', open);
    if (close == k_npos) break;
    out.append(s.substr(pos, open - pos));
    out.append(s.substr(open + 1, close - open - 1));
    pos = close + 1;
  }
  out.append(s.substr(std::min(pos, s.size())));
  return out;
}

// Markdown reduced to plain text: images dropped, links to their text, emphasis and quote markers
// removed, white space squashed.
std::string to_plain(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  for (const MarkdownLink& link : scan_links(s)) {
    out.append(s.substr(pos, link.begin - pos));
    if (!link.image) out.append(to_plain(link.text));
    pos = link.end;
  }
  out.append(s.substr(std::min(pos, s.size())));
  out = unwrap_autolinks(out);
  std::erase_if(out, [](char c) { return c == '*' || c == '`'; });
  out = squash_spaces(out);
  std::size_t start = 0;
  while (start < out.size() && (out[start] == '>' || out[start] == '#' || out[start] == ' ')) ++start;
  return out.substr(start);
}

// "* text", "- text", "+ text", "• text" -> "text"; nullopt when the line is not a bullet.
std::optional<std::string> bullet_body(std::string_view line) {
  if (line.size() >= 2 && (line[0] == '*' || line[0] == '-' || line[0] == '+') && (line[1] == ' ' || line[1] == '\t'))
    return trim(line.substr(1));
  for (std::string_view marker : {std::string_view("•"), std::string_view("·")}) {
    if (line.starts_with(marker)) return trim(line.substr(marker.size()));
  }
  return std::nullopt;
}

struct Heading {
  int level = 0;
  std::string text;
};

std::optional<Heading> parse_heading(std::string_view line) {
  std::size_t level = 0;
  while (level < line.size() && line[level] == '#') ++level;
  if (level == 0 || level > 6 || (level < line.size() && line[level] != ' ')) return std::nullopt;
  std::string text = trim(line.substr(level));
  while (!text.empty() && text.back() == '#') text.pop_back();
  return Heading{static_cast<int>(level), trim(text)};
}

// "3。Title", "3. Title", "3、Title", "3) Title" -> {3, "Title"}. The number has 1-3 digits so a
// year ("2022 年 2 月") is not a number prefix, and "1.5B" is not one either.
std::optional<std::pair<int, std::string>> split_number_prefix(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == 0 || i > 3) return std::nullopt;
  const int number = std::stoi(std::string(s.substr(0, i)));
  std::size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  std::string_view rest = s.substr(j);
  std::size_t delimiter = 0;
  for (std::string_view d :
       {std::string_view("、"), std::string_view("。"), std::string_view("."), std::string_view(")")}) {
    if (rest.starts_with(d)) {
      delimiter = d.size();
      break;
    }
  }
  if (delimiter == 0) return std::nullopt;
  std::string title = trim(rest.substr(delimiter));
  if (title.empty() || is_digit(title[0])) return std::nullopt;
  return std::make_pair(number, title);
}

std::string strip_number_prefix(std::string_view s) {
  auto split = split_number_prefix(s);
  return split ? split->second : std::string(s);
}

// "DeepSpeed-MoE: ... Scale | Website": a short label after the last " | " is link text that lost
// its link, not part of the title.
std::string strip_trailing_label(std::string title) {
  const std::size_t bar = title.rfind(" | ");
  if (bar == std::string::npos || bar == 0) return title;
  const std::string label = trim(std::string_view(title).substr(bar + 3));
  if (utf8_length(label) <= 20 && count_of(label, " ") <= 2) title = trim(title.substr(0, bar));
  return title;
}

std::string clean_title(std::string_view raw) {
  std::string title = strip_number_prefix(to_plain(raw));
  title = strip_trailing_label(std::move(title));
  return strip_trailing(trim(title), {".", "。", " "});
}

// A line that is only a URL, possibly in angle brackets.
std::optional<std::string> bare_url(std::string_view line) {
  std::string s = trim(line);
  if (s.size() > 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  if (!(starts_with_ci(s, "http://") || starts_with_ci(s, "https://"))) return std::nullopt;
  if (s.find(' ') != std::string::npos) return std::nullopt;
  return s;
}

// "论文链接:https://..." / "Code: <https://...>" -> the URL, when the label is short.
std::optional<std::string> labelled_url(std::string_view plain) {
  const std::size_t colon = plain.find(':');
  if (colon == k_npos || colon == 0 || utf8_length(plain.substr(0, colon)) > 10) return std::nullopt;
  return bare_url(plain.substr(colon + 1));
}

// Heading text -> title without link syntax / "N。" prefix, plus every link (primary first).
// Short trailing links ("| [项目页面](url)", "[代号](url)") stay links but leave the title.
struct HeadingTitle {
  std::string title;
  std::vector<std::string> links;
};

HeadingTitle heading_title(std::string_view text) {
  struct Segment {
    std::string text;
    bool link = false;
  };
  std::vector<Segment> segments;
  HeadingTitle out;
  std::size_t pos = 0;
  for (const MarkdownLink& link : scan_links(text)) {
    segments.push_back({std::string(text.substr(pos, link.begin - pos)), false});
    pos = link.end;
    if (link.image) continue;
    segments.push_back({link.text, true});
    if (!link.url.empty()) out.links.push_back(link.url);
  }
  segments.push_back({std::string(text.substr(std::min(pos, text.size()))), false});
  const auto is_separator = [](const Segment& s) {
    return !s.link && std::all_of(s.text.begin(), s.text.end(),
                                  [](char c) { return c == ' ' || c == '|' || c == '-' || c == '/' || c == ','; });
  };
  std::erase_if(segments, [](const Segment& s) { return !s.link && s.text.empty(); });
  while (segments.size() > 1) {
    const Segment& last = segments.back();
    if (is_separator(last) || (last.link && utf8_length(to_plain(last.text)) <= k_extra_link_text_cp)) {
      segments.pop_back();
    } else {
      break;
    }
  }
  std::string joined;
  for (const Segment& s : segments) joined += s.text;
  out.title = clean_title(joined);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Authors.

std::vector<std::string> split_names(std::string s) {
  for (std::string_view sep : {"、", ";", " and ", " And ", "和", " & "}) s = replace_all(s, sep, ",");
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string name = strip_trailing_punctuation(trim(std::string_view(s).substr(start, comma - start)));
    if (!name.empty()) names.push_back(std::move(name));
    start = comma + 1;
  }
  return names;
}

bool has_han(std::string_view s) {
  const std::u32string cps = decode_utf8(s);
  return std::any_of(cps.begin(), cps.end(), [](char32_t c) { return is_han(c); });
}

// A person's (or collaboration's) name: short, no digits or sentence punctuation. Latin words are
// capitalised or common particles, so "this is good, but that is bad" is not a name list.
bool looks_like_name(std::string_view name) {
  static const std::set<std::string, std::less<>> k_particles = {"de",  "van", "von", "der", "den", "del", "della",
                                                                 "da",  "di",  "du",  "la",  "le",  "i",   "y",
                                                                 "bin", "al",  "dos", "das", "ten", "ter", "st"};
  for (char c : name)
    if (is_digit(c) || c == ':' || c == '?' || c == '!' || c == '(' || c == ')' || c == '[' || c == ']') return false;
  if (contains(name, "。") || contains(name, "“") || contains(name, "\"")) return false;
  // Chinese names have 2-4 characters; transliterated ones are joined by "·".
  if (has_han(name)) return utf8_length(name) <= (contains(name, "·") ? 16 : 4);
  if (utf8_length(name) > 40) return false;
  std::size_t words = 0;
  std::size_t pos = 0;
  while (pos < name.size()) {
    std::size_t space = name.find(' ', pos);
    if (space == k_npos) space = name.size();
    const std::string_view word = name.substr(pos, space - pos);
    pos = space + 1;
    if (word.empty()) continue;
    ++words;
    const char first = word[0];
    const bool lower_ascii = first >= 'a' && first <= 'z';
    std::string lowered(word);
    std::transform(lowered.begin(), lowered.end(), lowered.begin(), ascii_lower);
    if (lower_ascii && !k_particles.contains(lowered)) return false;
  }
  return words >= 1 && words <= 6;
}

// "By A, B et al.", "作者:A、B 等", "*A、B 等人*", "由A、B等创作", or a bare "A, B, C." line.
// nullopt when the line does not look like an author line. Bare lists (no "By"/"作者" marker, no
// emphasis) are accepted only with allow_bare, i.e. right after a confirmed title.
std::optional<std::vector<std::string>> parse_author_line(std::string_view raw, bool allow_bare = true) {
  std::string s = trim(raw);
  const bool wrapped = s.size() > 2 && (s.front() == '*' || s.front() == '_') && (s.back() == '*' || s.back() == '_');
  s = to_plain(s);
  bool marker = false;
  if (starts_with_ci(s, "by ")) {
    s = s.substr(3);
    marker = true;
  } else if (s.starts_with("作者")) {
    s = trim(std::string_view(s).substr(std::string_view("作者").size()));
    if (s.starts_with(":")) s = trim(std::string_view(s).substr(1));
    marker = true;
  } else if (starts_with_ci(s, "authors:") || starts_with_ci(s, "author:")) {
    s = trim(std::string_view(s).substr(s.find(':') + 1));
    marker = true;
  } else if (s.starts_with("由")) {
    std::string rest = strip_trailing_punctuation(s.substr(std::string_view("由").size()));
    for (std::string_view verb : {"创作", "撰写", "编写", "著"}) {
      if (rest.ends_with(verb)) {
        s = rest.substr(0, rest.size() - verb.size());
        marker = true;
        break;
      }
    }
  }
  s = strip_trailing_punctuation(s);
  bool et_al = false;
  for (std::string_view suffix : {"et al", "等人", "等"}) {
    if (ends_with_ci(s, suffix)) {
      s = strip_trailing_punctuation(trim(s.substr(0, s.size() - suffix.size())));
      et_al = true;
    }
  }
  std::vector<std::string> names = split_names(s);
  if (names.empty() || utf8_length(s) > 400) return std::nullopt;
  const bool all_names =
      std::all_of(names.begin(), names.end(), [](const std::string& n) { return looks_like_name(n); });
  if (marker) {
    const bool plausible = std::all_of(names.begin(), names.end(), [](const std::string& n) {
      return utf8_length(n) <= 60 && count_of(n, " ") < 8 && !contains(n, "。") && !contains(n, "!") &&
             !contains(n, "?") && !contains(n, ":");
    });
    return plausible ? std::optional(names) : std::nullopt;
  }
  if (wrapped && all_names) return names;
  if (allow_bare && all_names && (names.size() >= 2 || et_al)) return names;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Furniture, end markers, sections.

// Lines after which nothing is an item: the publisher's footer, ads, comments.
bool is_end_marker(std::string_view plain) {
  if (contains(plain, "THE END") && utf8_length(plain) <= 20) return true;
  for (std::string_view mark : {"转载请联系", "投稿或寻求报道", "关注公众号", "[广告]", "赞助链接", "还没有评论"})
    if (contains(plain, mark)) return true;
  return plain.ends_with("的评论:") || plain.ends_with("的评论");
}

// Lines that are never content: images, image credits, lone page numbers, the source line.
bool is_furniture(std::string_view plain) {
  if (plain.empty()) return true;  // image-only or emphasis-only lines
  if (all_digits(plain) && plain.size() <= 3) return true;
  if (utf8_length(plain) <= 200) {
    for (std::string_view credit :
         {"来源:", "资料来源:", "图源:", "图片来源:", "source:", "image source", "image credit", "image by", "credit:"})
      if (starts_with_ci(plain, credit)) return true;
    if (plain.starts_with("图片由") || plain.starts_with("图片作者")) return true;
  }
  return contains(plain, "原文:") && contains(plain, "http");
}

// A trending list entry: "- 1 准确把握守正创新的辩证关系 7993401".
bool is_trending_entry(std::string_view bullet) {
  const std::size_t space = bullet.rfind(' ');
  return space != k_npos && all_digits(bullet.substr(space + 1)) && bullet.size() - space - 1 >= 5;
}

bool is_references_heading(std::string_view plain) {
  std::string s = strip_trailing_punctuation(std::string(plain));
  if (s.empty() || utf8_length(s) > 16 || has_sentence_punctuation(s)) return false;
  std::string lowered = fold(s);
  for (std::string_view word : {"参考文献", "参考资料", "引用", "references", "bibliography"})
    if (contains(lowered, word)) return true;
  return lowered == "reference" || lowered == "footnotes";
}

enum class SectionKind { none, news, tool, research, other };

SectionKind classify_section(std::string_view plain) {
  std::string key;
  for (char32_t cp : decode_utf8(fold(plain)))
    if (is_alnum(cp)) append_utf8(key, cp);
  if (key.empty() || utf8_length(key) > k_section_heading_cp) return SectionKind::other;
  const auto any_of = [&key](std::initializer_list<std::string_view> words) {
    return std::any_of(words.begin(), words.end(), [&key](std::string_view w) { return contains(key, w); });
  };
  // "密码" is a mistranslation of "Code" that the real digests contain.
  const bool news = any_of({"新闻", "动态", "资讯", "news", "headlines"});
  const bool tool = any_of({"代码", "密码", "工具", "开源", "code", "tool", "librar", "repos"});
  const bool research = any_of({"研究", "论文", "research", "paper"});
  if (news + tool + research != 1) return SectionKind::other;
  return news ? SectionKind::news : tool ? SectionKind::tool : SectionKind::research;
}

// An overview of the roundup itself ("本篇文章选择了 10 篇论文...") or its topic list
// ("强化学习、多模态、...等。") rather than a piece of news.
bool is_overview(std::string_view plain) {
  const std::string folded = fold(plain);
  for (std::string_view word : {"论文", "本文", "本篇", "本月", "本周", "本期", "文章", "paper", "this post",
                                "this article", "this month", "this week", "this issue"})
    if (contains(folded, word)) return true;
  return count_of(plain, "、") + count_of(plain, ", ") >= 3 && utf8_length(plain) <= 80;
}

// "作者:Sergi Castella i Sapé" at the end of a digest: one short name, not a paper's author list.
std::optional<std::string> footer_author(std::string_view plain) {
  std::string_view rest;
  if (plain.starts_with("作者:")) {
    rest = plain.substr(std::string_view("作者:").size());
  } else if (starts_with_ci(plain, "author:")) {
    rest = plain.substr(7);
  } else {
    return std::nullopt;
  }
  std::string name = strip_trailing_punctuation(trim(rest));
  if (name.empty() || utf8_length(name) > 40 || contains(name, ",") || contains(name, "、") || contains(name, "等") ||
      contains(name, "et al"))
    return std::nullopt;
  return name;
}

// Normalised title used to merge duplicates and to recognise table-of-contents lines.
std::string title_key(std::string_view title) {
  std::string key;
  for (char32_t cp : decode_utf8(fold(title)))
    if (is_alnum(cp)) append_utf8(key, cp);
  return key;
}

std::optional<std::string> arxiv_id_of(const std::vector<std::string>& links) {
  for (const std::string& link : links)
    if (auto id = arxiv_id_from_text(link)) return id;
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Line classification (context free; fenced code is tracked because its content is verbatim).

enum class LineKind {
  blank,
  fence,        // ``` or ~~~
  code,         // inside a fence
  heading,      // "# ..."
  paper_label,  // "论文 N:Title"
  listed,       // "N. Title. (from Author)"
  numbered,     // "N、Title" (a paper title only when an author / URL line follows)
  bullet,
  furniture,
  end_marker,
  references,  // "*参考文献*", "References"
  text,
};

struct Line {
  LineKind kind = LineKind::blank;
  std::string text;                  // trimmed line as written
  std::string body;                  // heading text, bullet text, paper / numbered title
  std::string plain;                 // text as plain text
  int level = 0;                     // heading level
  std::vector<std::string> authors;  // listed entries: the "(from ...)" names
};

// "论文 3:Title" / "Paper 3: Title" -> "Title".
std::optional<std::string> paper_label_title(std::string_view plain) {
  std::string_view rest;
  if (plain.starts_with("论文")) {
    rest = plain.substr(std::string_view("论文").size());
  } else if (starts_with_ci(plain, "paper")) {
    rest = plain.substr(5);
  } else {
    return std::nullopt;
  }
  std::size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  const std::size_t digits = i;
  while (i < rest.size() && is_digit(rest[i])) ++i;
  if (i == digits) return std::nullopt;
  while (i < rest.size() && rest[i] == ' ') ++i;
  if (i >= rest.size() || rest[i] != ':') return std::nullopt;
  std::string title = trim(rest.substr(i + 1));
  if (title.empty()) return std::nullopt;
  return title;
}

// "1. Title. (from A, B)" -> title and names.
bool parse_listed(std::string_view plain, Line& line) {
  auto numbered = split_number_prefix(plain);
  if (!numbered) return false;
  std::string rest = strip_trailing(numbered->second, {".", " "});
  const std::size_t from = rest.rfind("(from ");
  if (from == std::string::npos || rest.back() != ')') return false;
  line.body = strip_trailing(trim(std::string_view(rest).substr(0, from)), {".", " "});
  if (line.body.empty()) return false;
  const std::string names = rest.substr(from + 6, rest.size() - from - 7);
  line.authors = split_names(names);
  return true;
}

Line classify_text_line(std::string text) {
  Line line;
  line.plain = to_plain(text);
  line.text = std::move(text);
  if (auto heading = parse_heading(line.text)) {
    line.level = heading->level;
    line.body = heading->text;
    line.kind = is_references_heading(to_plain(line.body)) ? LineKind::references : LineKind::heading;
    return line;
  }
  if (is_end_marker(line.plain)) {
    line.kind = LineKind::end_marker;
  } else if (auto bullet = bullet_body(line.text)) {
    line.body = *bullet;
    line.kind = is_trending_entry(*bullet) ? LineKind::furniture : LineKind::bullet;
  } else if (is_furniture(line.plain)) {
    line.kind = LineKind::furniture;
  } else if (is_references_heading(line.plain)) {
    line.kind = LineKind::references;
  } else if (auto title = paper_label_title(line.plain)) {
    line.body = *title;
    line.kind = LineKind::paper_label;
  } else if (parse_listed(line.plain, line)) {
    line.kind = LineKind::listed;
  } else if (auto numbered = split_number_prefix(line.text)) {
    line.body = numbered->second;
    line.kind = LineKind::numbered;
  } else {
    line.kind = LineKind::text;
  }
  return line;
}

std::vector<Line> classify_lines(std::string_view text) {
  std::vector<Line> lines;
  bool in_fence = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == k_npos) eol = text.size();
    std::string raw = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    Line line;
    if (raw.starts_with("```") || raw.starts_with("~~~")) {
      in_fence = !in_fence;
      line.kind = LineKind::fence;
    } else if (in_fence) {
      line.kind = raw.empty() ? LineKind::blank : LineKind::code;
      line.text = line.plain = raw;
    } else if (!raw.empty()) {
      line = classify_text_line(std::move(raw));
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The state machine.

struct Draft {
  Item item;
  std::vector<std::string> paragraphs;
};

struct PreambleParagraph {
  std::size_t position = 0;  // items_.size() when it was seen, to keep document order
  std::size_t line = 0;
  std::string text;
};

class RoundupBuilder {
 public:
  RoundupBuilder(const std::vector<Line>& lines, std::optional<std::size_t> title_line)
      : lines_(lines), title_line_(title_line) {}

  void run() {
    for (std::size_t i = 0; i < lines_.size(); ++i) handle(i);
    add_preamble_news();
  }

  std::vector<Item> items() const {
    std::vector<Item> out;
    for (const Draft& d : drafts_) {
      Item item = d.item;
      for (const std::string& p : d.paragraphs) {
        if (!item.summary.empty()) item.summary += "\n\n";
        item.summary += p;
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  const std::string& author() const { return author_; }

 private:
  enum class Mode { open, item_header, item_body, body_closed, list, references, ended };

  void handle(std::size_t i) {
    const Line& line = lines_[i];
    switch (line.kind) {
      case LineKind::blank:
      case LineKind::fence: return;
      case LineKind::code:
        if (mode_ == Mode::item_body && current_) drafts_[*current_].paragraphs.push_back(line.text);
        return;
      default: break;
    }
    // The digest's own author footer sets Roundup::author and ends the content (comments follow);
    // inside a paper header "作者:" names the paper's authors instead.
    if (line.kind == LineKind::text && mode_ != Mode::item_header) {
      if (auto name = footer_author(line.plain)) {
        author_ = *name;
        if (!drafts_.empty()) end_content();
        return;
      }
    }
    if (mode_ == Mode::ended) return;
    switch (line.kind) {
      case LineKind::end_marker: end_content(); return;
      case LineKind::furniture: return;
      case LineKind::references:
        // References are not papers; a later heading may resume the digest.
        mode_ = Mode::references;
        current_.reset();
        return;
      case LineKind::heading: handle_heading(i); return;
      default: break;
    }
    if (mode_ == Mode::references) return;
    switch (line.kind) {
      case LineKind::paper_label: start_item(ItemKind::paper, clean_title(line.body), {}); return;
      case LineKind::listed: add_listed(line); return;
      case LineKind::numbered:
        if (confirms_paper_header(i)) {
          start_item(ItemKind::paper, clean_title(line.body), {});
          return;
        }
        break;
      default: break;
    }
    if (mode_ == Mode::item_header && handle_header_line(line)) return;
    if (is_list_intro(i)) return;
    handle_paragraph(i);
  }

  void end_content() {
    mode_ = Mode::ended;
    current_.reset();
  }

  std::optional<std::size_t> next_content(std::size_t i) const {
    for (std::size_t j = i + 1; j < lines_.size(); ++j) {
      const LineKind kind = lines_[j].kind;
      if (kind != LineKind::blank && kind != LineKind::furniture) return j;
    }
    return std::nullopt;
  }

  // A numbered line is a paper title when a URL line or an author line follows it.
  bool confirms_paper_header(std::size_t i) const {
    const auto next = next_content(i);
    if (!next) return false;
    const Line& line = lines_[*next];
    if (line.kind != LineKind::text && line.kind != LineKind::numbered) return false;
    return bare_url(line.text) || labelled_url(line.plain) || parse_author_line(line.text);
  }

  // "本周 10 篇 NLP 精选论文是:" introduces a title list; it is nobody's summary.
  bool is_list_intro(std::size_t i) const {
    if (!lines_[i].plain.ends_with(":")) return false;
    const auto next = next_content(i);
    return next && lines_[*next].kind == LineKind::listed;
  }

  void start_item(ItemKind kind, std::string title, std::vector<std::string> links) {
    Draft draft;
    draft.item.kind = kind;
    draft.item.title = std::move(title);
    draft.item.links = std::move(links);
    if (!draft.item.links.empty()) draft.item.url = draft.item.links.front();
    draft.item.arxiv_id = arxiv_id_of(draft.item.links);
    drafts_.push_back(std::move(draft));
    current_ = drafts_.size() - 1;
    mode_ = Mode::item_header;
    if (kind == ItemKind::paper) saw_paper_ = true;
  }

  void add_link(const std::string& url) {
    Item& item = drafts_[*current_].item;
    if (std::find(item.links.begin(), item.links.end(), url) != item.links.end()) return;
    item.links.push_back(url);
    if (item.url.empty()) item.url = url;
    if (!item.arxiv_id) item.arxiv_id = arxiv_id_from_text(url);
  }

  // Lines between a paper title and its summary: URL, author line, "论文链接:", "摘要:".
  // Returns false (and switches to the body) on the first line that is none of these.
  bool handle_header_line(const Line& line) {
    Item& item = drafts_[*current_].item;
    if (auto url = bare_url(line.text)) {
      add_link(*url);
      return true;
    }
    if (auto url = labelled_url(line.plain)) {
      add_link(*url);
      return true;
    }
    if (item.authors.empty()) {
      if (auto authors = parse_author_line(line.text)) {
        item.authors = std::move(*authors);
        return true;
      }
    }
    mode_ = Mode::item_body;
    for (std::string_view label : {"摘要:", "Abstract:"}) {
      if (starts_with_ci(line.plain, label)) {
        const std::string rest = trim(std::string_view(line.plain).substr(label.size()));
        if (!rest.empty()) drafts_[*current_].paragraphs.push_back(rest);
        return true;
      }
    }
    return false;
  }

  void handle_heading(std::size_t i) {
    const Line& line = lines_[i];
    const std::vector<MarkdownLink> links = text_links(line.body);
    const bool news_like = section_ == SectionKind::news || section_ == SectionKind::tool;
    if (!links.empty()) {
      HeadingTitle heading = heading_title(line.body);
      const ItemKind kind = section_ == SectionKind::news   ? ItemKind::news
                            : section_ == SectionKind::tool ? ItemKind::tool
                                                            : ItemKind::paper;
      start_item(kind, std::move(heading.title), std::move(heading.links));
      return;
    }
    const std::string plain = to_plain(line.body);
    const SectionKind kind = classify_section(plain);
    // A heading without a link is still a paper when an author line follows it, or when it sits
    // below a research section heading (a plain markdown digest).
    const auto next = next_content(i);
    const bool author_follows =
        next && lines_[*next].kind == LineKind::text && parse_author_line(lines_[*next].text, false).has_value();
    const bool below_research = section_ == SectionKind::research && line.level > section_level_;
    if (kind == SectionKind::other && !news_like && (author_follows || below_research) && title_line_ != i) {
      start_item(ItemKind::paper, clean_title(line.body), {});
      return;
    }
    section_ = kind;
    section_level_ = line.level;
    current_.reset();
    mode_ = Mode::open;
    if (kind == SectionKind::news) explicit_news_ = true;
  }

  void add_listed(const Line& line) {
    Draft draft;
    draft.item.kind = ItemKind::listed_paper;
    draft.item.title = line.body;
    draft.item.authors = line.authors;
    drafts_.push_back(std::move(draft));
    current_.reset();
    mode_ = Mode::list;
  }

  // News / tool item from one paragraph: title = first link text, else the opening phrase.
  void add_news_like(ItemKind kind, std::string_view raw) {
    Draft draft;
    draft.item.kind = kind;
    const std::vector<MarkdownLink> links = text_links(raw);
    for (const MarkdownLink& link : links) draft.item.links.push_back(link.url);
    if (!links.empty()) draft.item.url = links.front().url;
    draft.item.arxiv_id = arxiv_id_of(draft.item.links);
    draft.item.summary = to_plain(raw);
    std::string title = links.empty() ? std::string() : to_plain(links.front().text);
    if (title.empty()) {
      title = draft.item.summary;
      for (std::string_view stop : {":", "——", ",", "。", ". ", "!", "?", ";"}) {
        const std::size_t cut = title.find(stop);
        if (cut != std::string::npos && cut > 0) title.erase(cut);
      }
      title = utf8_prefix(trim(title), k_short_title_cp);
    }
    draft.item.title = trim(title);
    drafts_.push_back(std::move(draft));
  }

  bool in_preamble() const {
    return !saw_paper_ && !current_ && (section_ == SectionKind::none || section_ == SectionKind::other);
  }

  bool current_has_arxiv_id(const std::string& id) const {
    if (!current_) return false;
    const Item& item = drafts_[*current_].item;
    if (item.arxiv_id == id) return true;
    return std::any_of(item.links.begin(), item.links.end(),
                       [&id](const std::string& l) { return arxiv_id_from_text(l) == id; });
  }

  // Markdown links to arXiv papers other than the current one.
  std::vector<MarkdownLink> arxiv_mentions(std::string_view raw) const {
    std::vector<MarkdownLink> mentions;
    for (MarkdownLink& link : text_links(raw)) {
      const auto id = arxiv_id_from_text(link.url);
      const std::string title = to_plain(link.text);
      if (!id || title.empty() || starts_with_ci(title, "http") || current_has_arxiv_id(*id)) continue;
      mentions.push_back(std::move(link));
    }
    return mentions;
  }

  void add_mentions(const std::vector<MarkdownLink>& mentions, const std::string& sentence) {
    for (const MarkdownLink& link : mentions) {
      Draft draft;
      draft.item.kind = ItemKind::listed_paper;
      draft.item.title = clean_title(link.text);
      draft.item.url = link.url;
      draft.item.links = {link.url};
      draft.item.arxiv_id = arxiv_id_from_text(link.url);
      draft.item.summary = sentence;
      drafts_.push_back(std::move(draft));
    }
  }

  // "相关: [Paper](url)" or "- [Paper](url) is ...": the paragraph is about the linked paper.
  static bool is_link_led(std::string_view raw) {
    std::string s = trim(raw);
    std::erase_if(s, [](char c) { return c == '*'; });
    const std::size_t colon = s.find(':');
    if (colon != std::string::npos && colon > 0 && utf8_length(std::string_view(s).substr(0, colon)) <= 8 &&
        s.find('[') > colon)
      s = trim(std::string_view(s).substr(colon + 1));
    return s.starts_with("[");
  }

  static bool is_insight_paragraph(std::string_view plain) { return plain.starts_with("❓") || plain.starts_with("💡"); }

  void handle_paragraph(std::size_t i) {
    const Line& line = lines_[i];
    const bool bullet = line.kind == LineKind::bullet;
    const std::string& raw = bullet ? line.body : line.text;
    const std::string plain = to_plain(raw);
    if (plain.empty()) return;

    if (section_ == SectionKind::news || section_ == SectionKind::tool) {
      const ItemKind kind = section_ == SectionKind::news ? ItemKind::news : ItemKind::tool;
      if (current_ && mode_ == Mode::item_body && drafts_[*current_].item.kind == kind) {
        drafts_[*current_].paragraphs.push_back(plain);
        return;
      }
      if (!bullet && plain.ends_with(":")) return;  // "让我们从...热点新闻开始:"
      add_news_like(kind, raw);
      return;
    }
    if (in_preamble()) {
      if (bullet) {
        explicit_news_ = true;
        add_news_like(ItemKind::news, raw);
      } else {
        preamble_.push_back({drafts_.size(), i, plain});
      }
      return;
    }

    const std::vector<MarkdownLink> mentions = arxiv_mentions(raw);
    const bool body_open = current_ && mode_ == Mode::item_body;
    const std::string paragraph = bullet ? "- " + plain : plain;
    if (!mentions.empty() && !is_insight_paragraph(plain) && (is_link_led(raw) || !body_open)) {
      // The paragraph is about other papers: it leaves the featured paper's body, and so does the
      // lead-in line that announced it ("...我们想要强调的论文").
      if (body_open) {
        std::vector<std::string>& paragraphs = drafts_[*current_].paragraphs;
        if (!paragraphs.empty() && (!ends_like_sentence(paragraphs.back()) || paragraphs.back().ends_with(":")))
          paragraphs.pop_back();
        mode_ = Mode::body_closed;
      }
      add_mentions(mentions, plain);
      return;
    }
    if (body_open) {
      drafts_[*current_].paragraphs.push_back(paragraph);
      add_mentions(mentions, plain);
    }
  }

  // Paragraphs before the first paper are news only in digests with no explicit news section
  // (no "# 新闻" heading, no bullets up top), and only when they are not the title, an overview
  // of the digest, or a table of contents naming the papers that follow.
  void add_preamble_news() {
    if (explicit_news_) return;
    std::set<std::string> paper_titles;
    for (const Draft& d : drafts_)
      if (d.item.kind == ItemKind::paper) paper_titles.insert(title_key(d.item.title));
    for (auto it = preamble_.rbegin(); it != preamble_.rend(); ++it) {
      const std::string& text = it->text;
      if (title_line_ == it->line || utf8_length(text) < 10 || !has_sentence_punctuation(text) || is_overview(text) ||
          paper_titles.contains(title_key(text)))
        continue;
      const std::size_t before = drafts_.size();
      add_news_like(ItemKind::news, lines_[it->line].text);
      if (drafts_.size() == before) continue;
      Draft news = std::move(drafts_.back());
      drafts_.pop_back();
      drafts_.insert(drafts_.begin() + static_cast<std::ptrdiff_t>(it->position), std::move(news));
    }
  }

  const std::vector<Line>& lines_;
  std::optional<std::size_t> title_line_;
  std::vector<Draft> drafts_;
  std::optional<std::size_t> current_;  // the item receiving header lines and summary paragraphs
  Mode mode_ = Mode::open;
  SectionKind section_ = SectionKind::none;
  int section_level_ = 0;
  bool saw_paper_ = false;
  bool explicit_news_ = false;
  std::vector<PreambleParagraph> preamble_;
  std::string author_;
};

// ---------------------------------------------------------------------------------------------
// Roundup metadata.

std::optional<std::size_t> find_title_line(const std::vector<Line>& lines) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (line.kind == LineKind::blank || line.kind == LineKind::furniture || line.kind == LineKind::fence) continue;
    return i;
  }
  return std::nullopt;
}

std::string remove_urls(std::string_view s) {
  std::string out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t start = s.find("http", pos);
    if (start == k_npos) break;
    out.append(s.substr(pos, start - pos));
    std::size_t end = start;
    while (end < s.size() && s[end] != ' ' && s[end] != ')' && s[end] != '>') ++end;
    out.push_back(' ');
    pos = end;
  }
  out.append(s.substr(std::min(pos, s.size())));
  return out;
}

std::string format_month(int year, int month) {
  if (year < 1990 || year > 2099 || month < 1 || month > 12) return {};
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d", year, month);
  return buffer;
}

int english_month(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), ascii_lower);
  static const std::array<std::string_view, 12> k_names = {"jan", "feb", "mar", "apr", "may", "jun",
                                                           "jul", "aug", "sep", "oct", "nov", "dec"};
  for (std::size_t i = 0; i < k_names.size(); ++i)
    if (name.starts_with(k_names[i])) return static_cast<int>(i) + 1;
  return 0;
}

// "2022 年 2 月", "2023年2月", "November 2021", "Nov. 2021", "2021-11" -> "YYYY-MM".
std::string month_in_line(std::string_view line) {
  static const Pattern k_chinese(R"((\d{4})\s*年\s*(\d{1,2})\s*月)");
  static const Pattern k_english(
      R"((?i)\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?,?\s+(\d{4})\b)");
  static const Pattern k_iso(R"(\b(\d{4})-(\d{2})\b)");
  const auto number = [](std::string_view digits) { return std::stoi(std::string(digits)); };
  const std::string s = remove_urls(line.substr(0, std::min<std::size_t>(line.size(), 1000)));
  if (const auto m = first_match(s, k_chinese)) {
    if (auto month = format_month(number((*m)[1]), number((*m)[2])); !month.empty()) return month;
  }
  if (const auto m = first_match(s, k_english)) {
    if (auto month = format_month(number((*m)[2]), english_month(std::string((*m)[1]))); !month.empty()) return month;
  }
  if (const auto m = first_match(s, k_iso)) return format_month(number((*m)[1]), number((*m)[2]));
  return {};
}

void detect_month(const std::vector<Line>& lines, std::optional<std::size_t> title_line, Roundup& roundup) {
  std::vector<std::string_view> candidates;
  if (title_line) candidates.push_back(lines[*title_line].plain);
  for (std::size_t i = 0; i < lines.size() && candidates.size() <= k_month_scan_lines; ++i)
    if (lines[i].kind != LineKind::blank && lines[i].kind != LineKind::code) candidates.push_back(lines[i].plain);
  for (std::string_view line : candidates) {
    if (std::string month = month_in_line(line); !month.empty()) {
      roundup.month = month;
      roundup.month_source = MonthSource::text;
      return;
    }
  }
  std::string latest;
  for (const Item& item : roundup.items) {
    if (item.kind != ItemKind::paper || !item.arxiv_id) continue;
    latest = std::max(latest, month_of_arxiv_id(*item.arxiv_id));
  }
  if (!latest.empty()) {
    roundup.month = latest;
    roundup.month_source = MonthSource::arxiv_ids;
  }
}

// "> 原文：<https://...>" names the original article.
std::string find_source_url(const std::vector<Line>& lines) {
  for (const Line& line : lines) {
    const std::size_t label = line.plain.find("原文");
    if (label == std::string::npos) continue;
    const std::size_t start = line.plain.find("http", label);
    if (start == std::string::npos) continue;
    std::size_t end = start;
    while (end < line.plain.size() && line.plain[end] != ' ' && line.plain[end] != '>' && line.plain[end] != ')') ++end;
    return line.plain.substr(start, end - start);
  }
  return {};
}

int kind_rank(ItemKind kind) {
  switch (kind) {
    case ItemKind::paper: return 3;
    case ItemKind::news:
    case ItemKind::tool: return 2;
    case ItemKind::listed_paper: return 1;
  }
  return 0;
}

void absorb(Item& into, Item from) {
  if (kind_rank(from.kind) > kind_rank(into.kind)) std::swap(into, from);
  for (std::string& link : from.links)
    if (std::find(into.links.begin(), into.links.end(), link) == into.links.end()) into.links.push_back(link);
  if (into.url.empty()) into.url = from.url;
  if (!into.arxiv_id) into.arxiv_id = from.arxiv_id;
  if (into.authors.empty()) into.authors = std::move(from.authors);
  if (into.summary.empty()) into.summary = std::move(from.summary);
}

// Items with the same normalised title (or papers with the same arXiv id) are one item, kept at
// the first position with the richest kind.
std::vector<Item> merge_duplicates(std::vector<Item> items) {
  std::vector<Item> merged;
  std::map<std::string, std::size_t> by_title;
  std::map<std::string, std::size_t> by_arxiv;
  for (Item& item : items) {
    if (item.title.empty()) continue;
    const std::string key = title_key(item.title);
    const bool paper_like = item.kind == ItemKind::paper || item.kind == ItemKind::listed_paper;
    std::optional<std::size_t> target;
    if (auto it = by_title.find(key); !key.empty() && it != by_title.end()) target = it->second;
    if (!target && paper_like && item.arxiv_id) {
      if (auto it = by_arxiv.find(*item.arxiv_id); it != by_arxiv.end()) target = it->second;
    }
    if (target) {
      absorb(merged[*target], std::move(item));
      continue;
    }
    if (!key.empty()) by_title.emplace(key, merged.size());
    if (paper_like && item.arxiv_id) by_arxiv.emplace(*item.arxiv_id, merged.size());
    merged.push_back(std::move(item));
  }
  return merged;
}

}  // namespace

Roundup parse_roundup(std::string_view id, std::string_view text) {
  Roundup roundup;
  roundup.id = std::string(id);
  try {
    const std::string normalised = nfkc(text);
    const std::vector<Line> lines = classify_lines(normalised);
    const std::optional<std::size_t> title_line = find_title_line(lines);
    if (title_line) {
      const Line& line = lines[*title_line];
      roundup.title = line.kind == LineKind::heading ? to_plain(line.body) : line.plain;
    }
    roundup.source_url = find_source_url(lines);
    RoundupBuilder builder(lines, title_line);
    builder.run();
    roundup.author = builder.author();
    roundup.items = merge_duplicates(builder.items());
    for (std::size_t i = 0; i < roundup.items.size(); ++i) roundup.items[i].ordinal = static_cast<int>(i) + 1;
    detect_month(lines, title_line, roundup);
  } catch (const std::exception&) {
    // Odd input must not stop a corpus load: keep whatever was parsed.
  }
  return roundup;
}

}  // namespace roundup::retrieval
