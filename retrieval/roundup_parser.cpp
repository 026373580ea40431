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

#include "retrieval/authors.h"
#include "retrieval/links.h"
#include "retrieval/markdown_lines.h"
#include "retrieval/months.h"
#include "retrieval/pattern.h"
#include "text/unicode.h"

// The parser works in two passes: every line is first classified on its own (heading, numbered
// title, title-list entry, bullet, furniture, end marker, ...), then a small state machine walks the
// classified lines and builds items. Decisions that need context (is this numbered line a paper
// title? is this paragraph news?) look at the neighbouring lines or are taken at the end.

namespace roundup::retrieval {
namespace {

using namespace parsing;  // the line-level readers the state machine below is built on

// Month detection looks at the title and this many non-blank lines from the top.
constexpr std::size_t k_month_scan_lines = 20;
// Fallback titles of news / tool paragraphs are cut to this many code points.
constexpr std::size_t k_short_title_cp = 40;
// Section headings ("新闻", "🔬研究", "Code") are short; longer headings are subtitles.
constexpr std::size_t k_section_heading_cp = 12;
// Below every markdown heading level, so a section named in bold nests under real headings.
constexpr int k_bold_heading_level = 7;

// ---------------------------------------------------------------------------------------------
// Furniture, end markers, sections.

// Lines after which nothing is an item: the publisher's footer, ads, comments, "related posts".
// They end the content only once some item has been read (a "Subscribe" bar may sit on top).
bool is_end_marker(std::string_view plain) {
  if (contains(plain, "THE END") && utf8_length(plain) <= 20) return true;
  for (std::string_view mark : {"转载请联系", "投稿或寻求报道", "关注公众号", "[广告]", "赞助链接", "还没有评论"})
    if (contains(plain, mark)) return true;
  if (plain.ends_with("的评论:") || plain.ends_with("的评论")) return true;
  if (utf8_length(plain) > 30) return false;
  const std::string folded = strip_trailing_punctuation(fold(plain));
  for (std::string_view footer : {"往期推荐",
                                  "往期回顾",
                                  "往期精选",
                                  "推荐阅读",
                                  "相关推荐",
                                  "相关阅读",
                                  "相关文章",
                                  "延伸阅读",
                                  "责任编辑",
                                  "related posts",
                                  "related articles",
                                  "related reading",
                                  "you may also like",
                                  "you might also like",
                                  "recent posts",
                                  "more from",
                                  "read next",
                                  "further reading",
                                  "-end-",
                                  "—end—",
                                  "- end -",
                                  "— end —"})
    if (folded.starts_with(footer)) return true;
  return false;
}

// Words that page chrome is made of: share bars, vote counts, navigation, follow prompts.
bool is_chrome_word(std::string_view word) {
  static const std::set<std::string, std::less<>> k_words = {"subscribe",
                                                             "unsubscribe",
                                                             "share",
                                                             "shares",
                                                             "tweet",
                                                             "follow",
                                                             "like",
                                                             "likes",
                                                             "comment",
                                                             "comments",
                                                             "upvote",
                                                             "upvotes",
                                                             "vote",
                                                             "votes",
                                                             "reply",
                                                             "replies",
                                                             "read",
                                                             "more",
                                                             "sign",
                                                             "up",
                                                             "in",
                                                             "log",
                                                             "login",
                                                             "menu",
                                                             "home",
                                                             "about",
                                                             "archive",
                                                             "archives",
                                                             "search",
                                                             "next",
                                                             "previous",
                                                             "prev",
                                                             "back",
                                                             "to",
                                                             "top",
                                                             "on",
                                                             "x",
                                                             "twitter",
                                                             "facebook",
                                                             "linkedin",
                                                             "email",
                                                             "reddit",
                                                             "weibo",
                                                             "rss",
                                                             "feed",
                                                             "k",
                                                             "m",
                                                             "view",
                                                             "views",
                                                             "trending",
                                                             "submit",
                                                             "a",
                                                             "newsletter",
                                                             "contact",
                                                             "this",
                                                             "post",
                                                             "min",
                                                             "mins",
                                                             "reading",
                                                             "continue",
                                                             "or",
                                                             "and",
                                                             "the",
                                                             "|",
                                                             "bookmark",
                                                             "save",
                                                             "saved",
                                                             "print",
                                                             "copy",
                                                             "link",
                                                             "点赞",
                                                             "在看",
                                                             "分享",
                                                             "收藏",
                                                             "赞同",
                                                             "评论",
                                                             "转发",
                                                             "喜欢",
                                                             "关注",
                                                             "阅读",
                                                             "阅读原文",
                                                             "原文链接",
                                                             "返回",
                                                             "顶部",
                                                             "上一篇",
                                                             "下一篇",
                                                             "编辑于",
                                                             "发布于",
                                                             "更新于",
                                                             "发表于",
                                                             "微信",
                                                             "微博",
                                                             "朋友圈",
                                                             "赞赏",
                                                             "打赏",
                                                             "条评论",
                                                             "人赞同了该文章",
                                                             "次阅读",
                                                             "阅读量",
                                                             "个赞",
                                                             "万",
                                                             "千",
                                                             "写评论",
                                                             "登录",
                                                             "注册",
                                                             "首页",
                                                             "目录",
                                                             "菜单",
                                                             "搜索"};
  return k_words.contains(word);
}

// A line made only of page-chrome words, counts and dates: "⬆️ 87 upvotes · 💬 5 comments",
// "赞同 1.2K · 评论 56 · 收藏", "Share on X | Subscribe", "编辑于 2023-11-20".
bool is_chrome_line(std::string_view plain) {
  if (utf8_length(plain) > 80) return false;
  bool any_word = false;
  std::string word;
  const auto word_ok = [&] {
    if (word.empty()) return true;
    std::string w;
    w.swap(word);
    // Counts: "87", "1.2k" (split at the dot), "3w".
    if (all_digits(w) ||
        (w.size() >= 2 && all_digits(w.substr(0, w.size() - 1)) && contains("kmw", w.substr(w.size() - 1))))
      return true;
    if (is_chrome_word(w)) return any_word = true;
    // A Han run is a chain of chrome words ("点赞在看").
    std::u32string cps = decode_utf8(w);
    if (cps.empty() || !is_han(cps[0])) return false;
    std::size_t i = 0;
    while (i < cps.size()) {
      std::size_t matched = 0;
      for (std::size_t len = std::min<std::size_t>(cps.size() - i, 8); len > 0 && !matched; --len)
        if (is_chrome_word(encode_utf8(cps.substr(i, len)))) matched = len;
      if (!matched) return false;
      i += matched;
    }
    return any_word = true;
  };
  char32_t previous = 0;
  for (char32_t cp : decode_utf8(fold(plain))) {
    const bool boundary_han = !word.empty() && (is_han(cp) != is_han(previous));
    if (is_alnum(cp) && !boundary_han) {
      append_utf8(word, cp);
    } else {
      if (!word_ok()) return false;
      if (is_alnum(cp)) append_utf8(word, cp);
    }
    previous = cp;
  }
  return word_ok() && any_word;
}

// Lines that are never content: images, image credits, lone page numbers, the source line, share
// bars and vote counts, copyright and subscription lines.
bool is_furniture(std::string_view plain) {
  if (plain.empty()) return true;  // image-only or emphasis-only lines
  if (all_digits(plain) && plain.size() <= 3) return true;
  const std::u32string cps = decode_utf8(plain);
  if (std::none_of(cps.begin(), cps.end(), [](char32_t cp) { return is_alnum(cp); })) return true;  // "\\", "→"
  if (utf8_length(plain) <= 200) {
    for (std::string_view credit :
         {"来源:", "资料来源:", "图源:", "图片来源:", "source:", "image source", "image credit", "image by", "credit:"})
      if (starts_with_ci(plain, credit)) return true;
    if (plain.starts_with("图片由") || plain.starts_with("图片作者")) return true;
  }
  if (utf8_length(plain) <= 120) {
    const std::string folded = fold(plain);
    for (std::string_view mark :
         {"©", "all rights reserved", "view in browser", "view this email", "unsubscribe", "点击上方", "扫码", "二维码",
          "长按识别", "阅读原文", "uses cookies", "accept cookies", "cookie policy", "cookie settings",
          "privacy policy", "点击蓝字", "设为星标"})
      if (contains(folded, mark)) return true;
    for (std::string_view lead : {"copyright", "published on", "posted on", "submitted by", "编辑于", "发布于"})
      if (folded.starts_with(lead) && utf8_length(plain) <= 60) return true;
  }
  if (is_chrome_line(plain)) return true;
  return contains(plain, "原文:") && contains(plain, "http");
}

// A table-of-contents entry: "[Papers (April 2024)](#papers-april-2024)" links into the page.
bool is_anchor_entry(std::string_view bullet) {
  const std::vector<MarkdownLink> links = scan_links(bullet);
  return links.size() == 1 && links.front().url.starts_with("#") && links.front().begin == 0 &&
         links.front().end == bullet.size();
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
  std::string key;  // letters only: "Daily Papers — 2024-02-14" is a section like "Papers"
  for (char32_t cp : decode_utf8(fold(plain)))
    if (is_alnum(cp) && !(cp >= U'0' && cp <= U'9')) append_utf8(key, cp);
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
  separator,    // "---", "***", "* * *"
  paper_label,  // "论文 N:Title", "Paper N", "第N篇": names a paper
  listed,       // "N. Title. (from Author)"
  numbered,     // "N、Title", "(N) Title", "#N Title" (a paper title only when paper cues follow)
  field,        // "Label: value" or a label alone (see FieldKind)
  table_row,    // "| a | b |"
  link,         // nothing but links
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
  bool indented = false;             // began with white space (a wrapped field value)
  std::vector<std::string> authors;  // listed entries: the "(from ...)" names
  std::optional<Field> field;        // field lines, and headings that are a label alone
  std::vector<std::string> urls;     // link lines
};

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

// "| a | [b](url) | c |" -> its cells, as written.
std::vector<std::string> table_cells(std::string_view row) {
  std::vector<std::string> cells;
  std::string cell;
  int depth = 0;  // a "|" inside link syntax does not end a cell
  for (std::size_t i = 1; i + 1 < row.size(); ++i) {
    const char c = row[i];
    if (c == '[' || c == '(') ++depth;
    if ((c == ']' || c == ')') && depth > 0) --depth;
    if (c == '|' && depth == 0 && row[i - 1] != '\\') {
      cells.push_back(trim(cell));
      cell.clear();
    } else {
      cell.push_back(c);
    }
  }
  cells.push_back(trim(cell));
  return cells;
}

bool is_alignment_row(const std::vector<std::string>& cells) {
  return std::all_of(cells.begin(), cells.end(), [](const std::string& c) {
    return !c.empty() && c.find_first_not_of("-: ") == std::string::npos;
  });
}

// "---", "***", "* * *", "___", "===", "———": a thematic break between entries.
bool is_separator(std::string_view raw) {
  std::u32string cps;
  for (char32_t cp : decode_utf8(raw))
    if (cp != U' ' && cp != U'\t') cps.push_back(cp);
  if (cps.size() < 3) return false;
  const std::u32string_view marks = U"-*_=~—–·•";
  return marks.find(cps[0]) != std::u32string_view::npos &&
         std::all_of(cps.begin(), cps.end(), [&cps](char32_t cp) { return cp == cps[0]; });
}

// "**Text**" or "__Text__" and nothing else on the line: its text.
std::optional<std::string_view> bold_only(std::string_view raw) {
  for (std::string_view mark : {std::string_view("**"), std::string_view("__")}) {
    if (raw.size() > 2 * mark.size() && raw.starts_with(mark) && raw.ends_with(mark)) {
      const std::string_view inner = raw.substr(mark.size(), raw.size() - 2 * mark.size());
      if (inner.find(mark) == std::string_view::npos) return inner;
    }
  }
  return std::nullopt;
}

bool is_news_or_tools(SectionKind kind) {
  return kind == SectionKind::news || kind == SectionKind::tool;
}

Line classify_text_line(std::string text) {
  Line line;
  line.plain = to_plain(text);
  line.text = std::move(text);
  if (auto heading = parse_heading(line.text)) {
    line.level = heading->level;
    line.body = heading->text;
    line.kind = is_references_heading(to_plain(line.body)) ? LineKind::references : LineKind::heading;
    if (auto field = parse_field(line.body); field && field->value.empty()) line.field = std::move(field);
    return line;
  }
  if (is_separator(line.text)) {
    line.kind = LineKind::separator;
  } else if (line.text.size() > 2 && line.text.front() == '|' && line.text.back() == '|') {
    line.kind = LineKind::table_row;
  } else if (is_end_marker(line.plain)) {
    line.kind = LineKind::end_marker;
  } else if (parse_listed(line.plain, line)) {
    line.kind = LineKind::listed;
  } else if (auto numbering = split_numbering(line.text)) {
    line.body = std::move(numbering->title);
    line.kind = numbering->kind == NumberingKind::paper ? LineKind::paper_label : LineKind::numbered;
  } else if (auto field = parse_field(line.text)) {
    line.field = std::move(field);
    line.kind = LineKind::field;
  } else if (auto bullet = bullet_body(line.text)) {
    line.body = *bullet;
    line.kind = is_trending_entry(*bullet) || is_anchor_entry(*bullet) ? LineKind::furniture : LineKind::bullet;
  } else if (is_furniture(line.plain)) {
    line.kind = LineKind::furniture;
  } else if (is_references_heading(line.plain)) {
    line.kind = LineKind::references;
  } else if (auto urls = link_line_urls(line.text); !urls.empty()) {
    line.urls = std::move(urls);
    line.kind = LineKind::link;
  } else if (auto inner = bold_only(line.text); inner && is_news_or_tools(classify_section(to_plain(*inner)))) {
    // "**开源项目速递**": posts without markdown headings name their sections in bold.
    line.level = k_bold_heading_level;
    line.body = std::string(*inner);
    line.kind = LineKind::heading;
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
    const std::string_view untrimmed = text.substr(pos, eol - pos);
    std::string raw = trim(untrimmed);
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
      line.indented = untrimmed.front() == ' ' || untrimmed.front() == '\t';
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The state machine.

// The opening phrase of a paragraph, as the title of a news item or passage that has none.
std::string opening_phrase(std::string title) {
  for (std::string_view stop : {":", "——", ",", "。", ". ", "!", "?", ";"}) {
    const std::size_t cut = title.find(stop);
    if (cut != std::string::npos && cut > 0) title.erase(cut);
  }
  return utf8_prefix(trim(title), k_short_title_cp);
}

struct Paragraph {
  std::string text;
  std::size_t line = 0;
};

struct Draft {
  Item item;
  std::vector<Paragraph> paragraphs;
  std::vector<std::size_t> lines;       // every line it consumed
  std::vector<std::string> code_links;  // code / project links, after the paper's own links
  bool takes_body = true;               // false for entries of a link list: the next paragraph is not theirs
};

// What became of each line: part of an item, structure (headings, separators, the title), page
// chrome, references, after the footer, or nothing yet (an unstructured passage).
enum class LineUse : std::uint8_t { unused, item, structure, furniture, references, after_end };

struct PreambleParagraph {
  std::size_t position = 0;  // items_.size() when it was seen, to keep document order
  std::size_t line = 0;
  std::string text;
};

// "Title", "Title (2023)", not a sentence: a line that can name a paper.
bool title_like(std::string_view plain) {
  const std::size_t length = utf8_length(plain);
  if (length < 2 || length > 250 || starts_with_ci(plain, "http")) return false;
  if (contains(plain, "。") || contains(plain, "! ") || plain.ends_with(":") || count_of(plain, ". ") > 1) return false;
  return count_of(plain, " ") < 35;
}

struct TitledLink {
  std::string title;
  std::string url;
};

// "[Title](https://arxiv.org/abs/...)", "Title — https://arxiv.org/abs/...", "Title: https://...pdf":
// a line that is nothing but a paper's title and its paper link.
std::optional<TitledLink> title_and_paper_link(std::string_view raw) {
  const std::vector<MarkdownLink> links = text_links(raw);
  std::string title;
  std::string url;
  std::string rest;
  if (links.size() == 1) {
    const MarkdownLink& link = links.front();
    if (!is_paper_url(link.url)) return std::nullopt;
    title = to_plain(link.text);
    url = link.url;
    rest = std::string(raw.substr(0, link.begin)) + " " + std::string(raw.substr(link.end));
  } else if (links.empty()) {
    const std::vector<std::string> urls = urls_in(raw);
    if (urls.size() != 1 || !is_paper_url(urls.front())) return std::nullopt;
    url = urls.front();
    const std::size_t at = raw.find(url);
    if (at == k_npos) return std::nullopt;
    title = to_plain(raw.substr(0, at));
    rest = std::string(raw.substr(at + url.size()));
  } else {
    return std::nullopt;
  }
  title = trim(strip_trailing(trim(title), {":", "-", "—", "–", "|", "(", "<", " ", ","}));
  if (!title_like(title) || is_link_word(fold(title))) return std::nullopt;
  // Only link words and numbers may follow: "(PDF)", "[arXiv]".
  std::string word;
  for (char32_t cp : decode_utf8(fold(to_plain(rest)) + " ")) {
    if (is_alnum(cp)) {
      append_utf8(word, cp);
      continue;
    }
    if (!word.empty() && !all_digits(word) && !is_link_word(word)) return std::nullopt;
    word.clear();
  }
  return TitledLink{clean_title(title), url};
}

struct TitledPaperLink {
  std::string title;
  std::string url;
  std::string rest;  // what follows the link: "by A, B et al."
};

// "[Title](https://arxiv.org/abs/...) by A et al.": a field value that links its title.
std::optional<TitledPaperLink> titled_paper_link(std::string_view value) {
  const std::vector<MarkdownLink> links = text_links(value);
  if (links.empty() || !is_paper_url(links.front().url)) return std::nullopt;
  const MarkdownLink& link = links.front();
  const std::string before = trim(to_plain(value.substr(0, link.begin)));
  const std::string title = clean_title(link.text);
  if (!before.empty() || !title_like(title) || is_link_word(fold(title))) return std::nullopt;
  return TitledPaperLink{title, link.url, trim(to_plain(value.substr(link.end)))};
}

// "arXiv: 2401.04088", "arXiv:2401.04088 [pdf]": an arXiv id given without a URL.
std::optional<std::string> arxiv_in_value(const Field& field) {
  return arxiv_id_from_text("arXiv:" + to_plain(field.value));
}

class RoundupBuilder {
 public:
  RoundupBuilder(const std::vector<Line>& lines, std::optional<std::size_t> title_line)
      : lines_(lines), title_line_(title_line), use_(lines.size(), LineUse::unused) {}

  void run() {
    for (std::size_t i = 0; i < lines_.size(); ++i)
      if (use_[i] == LineUse::unused) handle(i);
    // The roundup's own title is no passage (unless it also titled an item).
    if (title_line_ && use_[*title_line_] == LineUse::unused) use_[*title_line_] = LineUse::structure;
    add_preamble_news();
    drop_untitled();
  }

  std::vector<Item> items() const {
    std::vector<Item> out;
    for (const Draft& d : drafts_) {
      Item item = d.item;
      for (const Paragraph& p : d.paragraphs) {
        if (!item.summary.empty()) item.summary += "\n\n";
        item.summary += p.text;
      }
      for (const std::string& link : d.code_links)
        if (std::find(item.links.begin(), item.links.end(), link) == item.links.end()) item.links.push_back(link);
      if (item.url.empty() && !item.links.empty()) item.url = item.links.front();
      if (!d.lines.empty()) {
        item.first_line = static_cast<int>(*std::min_element(d.lines.begin(), d.lines.end())) + 1;
        item.last_line = static_cast<int>(*std::max_element(d.lines.begin(), d.lines.end())) + 1;
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  const std::vector<LineUse>& uses() const { return use_; }
  const std::string& author() const { return author_; }

 private:
  enum class Mode { open, item_header, item_body, body_closed, list, references, ended };

  Draft& draft() { return drafts_[*current_]; }
  const Draft& draft() const { return drafts_[*current_]; }

  void consume(std::size_t i) {
    use_[i] = LineUse::item;
    if (current_) draft().lines.push_back(i);
  }

  void handle(std::size_t i) {
    const Line& line = lines_[i];
    switch (line.kind) {
      case LineKind::blank: return;
      case LineKind::fence: use_[i] = LineUse::structure; return;
      case LineKind::code:
        if (mode_ == Mode::item_body && current_) add_paragraph(line.text, i);
        return;
      default: break;
    }
    // The digest's own author footer sets Roundup::author and ends the content (comments follow);
    // inside a paper header "作者:" names the paper's authors instead.
    if ((line.kind == LineKind::text || line.kind == LineKind::field) && mode_ != Mode::item_header &&
        (!current_ || !draft().item.authors.empty())) {
      if (auto name = footer_author(line.plain)) {
        author_ = *name;
        use_[i] = LineUse::structure;
        if (!drafts_.empty()) end_content();
        return;
      }
    }
    if (mode_ == Mode::ended) {
      use_[i] = LineUse::after_end;
      return;
    }
    switch (line.kind) {
      case LineKind::end_marker:
        if (drafts_.empty()) {
          use_[i] = LineUse::furniture;  // a "Subscribe" bar above the content
        } else {
          use_[i] = LineUse::after_end;
          end_content();
        }
        return;
      case LineKind::furniture: use_[i] = LineUse::furniture; return;
      case LineKind::separator:
        use_[i] = LineUse::structure;
        close_item();
        return;
      case LineKind::references:
        // References are not papers; a later heading may resume the digest.
        use_[i] = LineUse::references;
        mode_ = Mode::references;
        current_.reset();
        return;
      case LineKind::heading: handle_heading(i); return;
      default: break;
    }
    if (mode_ == Mode::references) {
      use_[i] = LineUse::references;
      return;
    }
    if (pending_field_ && take_pending_value(i)) return;
    switch (line.kind) {
      case LineKind::paper_label: start_paper(clean_title(line.body), i); return;
      case LineKind::listed: add_listed(i); return;
      case LineKind::numbered:
        if (paper_cues_follow(i, true)) {
          start_paper(clean_title(line.body), i);
          return;
        }
        break;
      case LineKind::field:
        if (handle_field(i)) return;
        break;
      case LineKind::link:
        if (handle_link_line(i)) return;
        break;
      case LineKind::table_row:
        if (handle_table_row(i)) return;
        break;
      default: break;
    }
    if (mode_ == Mode::item_header && line.kind == LineKind::text && draft().item.authors.empty()) {
      if (auto authors = parse_author_line(line.text)) {
        draft().item.authors = std::move(*authors);
        consume(i);
        return;
      }
    }
    if (line.kind == LineKind::text || line.kind == LineKind::bullet || line.kind == LineKind::numbered) {
      if (current_ && draft().item.title.empty() && title_like(line.plain)) {
        // "No. 1" or "arXiv:2401.04088" came first; this line is the title.
        draft().item.title = clean_title(line.kind == LineKind::text ? line.text : line.body);
        consume(i);
        return;
      }
      const std::string& raw = line.kind == LineKind::text ? line.text : line.body;
      if (auto entry = title_and_paper_link(raw)) {
        start_item(ItemKind::listed_paper, std::move(entry->title), {entry->url}, i);
        draft().takes_body = line.kind == LineKind::text;
        return;
      }
      // An unnumbered title opens a block (a wrapped abstract's last line does not) and cannot
      // interrupt a paper's header lines.
      if (line.kind == LineKind::text && mode_ != Mode::item_header && starts_block(i) && title_like(line.plain) &&
          !is_news_like() && paper_cues_follow(i, false)) {
        start_paper(clean_title(line.text), i);
        return;
      }
    }
    if (mode_ == Mode::item_header && handle_header_line(i)) return;
    if (is_list_intro(i)) {
      use_[i] = LineUse::structure;
      return;
    }
    handle_paragraph(i);
  }

  void end_content() {
    mode_ = Mode::ended;
    current_.reset();
  }

  void close_item() {
    current_.reset();
    pending_field_.reset();
    if (mode_ != Mode::references && mode_ != Mode::ended) mode_ = Mode::open;
  }

  bool starts_block(std::size_t i) const {
    if (i == 0) return true;
    const LineKind previous = lines_[i - 1].kind;
    return previous == LineKind::blank || previous == LineKind::separator || previous == LineKind::heading ||
           previous == LineKind::furniture;
  }

  // A header begun by a heading or number that named no link, authors or text yet: a "Title:" or
  // "Paper:" field below it gives the real title ("## 1. The textbook trick" / "**Paper:** ...").
  bool header_only_titled() const {
    return current_ && mode_ == Mode::item_header && draft().item.url.empty() && draft().item.authors.empty() &&
           draft().paragraphs.empty();
  }

  bool is_news_like() const { return section_ == SectionKind::news || section_ == SectionKind::tool; }

  std::optional<std::size_t> next_content(std::size_t i) const {
    for (std::size_t j = i + 1; j < lines_.size(); ++j) {
      const LineKind kind = lines_[j].kind;
      if (kind != LineKind::blank && kind != LineKind::furniture) return j;
    }
    return std::nullopt;
  }

  // A title line is a paper's when paper cues follow it: an author line ("By", "Authors:", "作者:",
  // emphasised names; bare names only after a numbered line), a link line, or a labelled field.
  bool paper_cues_follow(std::size_t i, bool numbered) const {
    const auto next = next_content(i);
    if (!next) return false;
    const Line& line = lines_[*next];
    switch (line.kind) {
      case LineKind::link:
        return numbered ||
               std::any_of(line.urls.begin(), line.urls.end(), [](const std::string& u) { return is_paper_url(u); });
      case LineKind::field:
        switch (line.field->kind) {
          case FieldKind::authors:
          case FieldKind::link:
          case FieldKind::code:
          case FieldKind::paper:
          case FieldKind::summary:
          case FieldKind::extra: return true;
          case FieldKind::title:
          case FieldKind::ignored: return false;
        }
        return false;
      case LineKind::text:
      case LineKind::numbered:
        if (numbered && labelled_url(line.plain)) return true;
        return parse_author_line(line.text, numbered).has_value();
      default: return false;
    }
  }

  // "本周 10 篇 NLP 精选论文是:" introduces a title list; it is nobody's summary.
  bool is_list_intro(std::size_t i) const {
    if (!lines_[i].plain.ends_with(":")) return false;
    const auto next = next_content(i);
    return next && lines_[*next].kind == LineKind::listed;
  }

  void start_item(ItemKind kind, std::string title, std::vector<std::string> links, std::size_t line) {
    Draft draft;
    draft.item.kind = kind;
    draft.item.title = std::move(title);
    draft.item.links = std::move(links);
    if (!draft.item.links.empty()) draft.item.url = draft.item.links.front();
    draft.item.arxiv_id = arxiv_id_of(draft.item.links);
    drafts_.push_back(std::move(draft));
    current_ = drafts_.size() - 1;
    mode_ = Mode::item_header;
    pending_field_.reset();
    if (kind == ItemKind::paper) saw_paper_ = true;
    consume(line);
  }

  void start_paper(std::string title, std::size_t line) { start_item(ItemKind::paper, std::move(title), {}, line); }

  void add_link(const std::string& url) {
    Item& item = draft().item;
    if (std::find(item.links.begin(), item.links.end(), url) != item.links.end()) return;
    item.links.push_back(url);
    if (item.url.empty()) item.url = url;
    if (!item.arxiv_id) item.arxiv_id = arxiv_id_from_text(url);
  }

  // Paper links lead; code and project links follow them.
  void add_links(const std::vector<std::string>& urls, bool code) {
    for (const std::string& url : urls) {
      if (code || (!is_paper_url(url) && !draft().item.url.empty())) {
        draft().code_links.push_back(url);
      } else {
        add_link(url);
      }
    }
  }

  void add_paragraph(std::string text, std::size_t line) {
    draft().paragraphs.push_back({std::move(text), line});
    consume(line);
    // A link-list entry that gets a summary is a featured paper.
    if (draft().item.kind == ItemKind::listed_paper) {
      draft().item.kind = ItemKind::paper;
      saw_paper_ = true;
    }
  }

  bool current_untitled() const { return current_ && draft().item.title.empty(); }

  // The value of a field, with the indented lines that continue it (a wrapped arXiv title).
  std::string field_value(std::size_t i) {
    std::string value = to_plain(lines_[i].field->value);
    for (std::size_t j = i + 1; j < lines_.size(); ++j) {
      const Line& next = lines_[j];
      if (!next.indented || next.kind != LineKind::text) break;
      value += " " + next.plain;
      consume(j);
    }
    return trim(value);
  }

  // A labelled field line. False when it belongs to no item (it is then read as a paragraph).
  bool handle_field(std::size_t i) {
    const Field& field = *lines_[i].field;
    FieldKind kind = field.kind;
    if (kind == FieldKind::paper || kind == FieldKind::title) {
      // "Paper: [Title](https://arxiv.org/abs/...) by A et al.": title, link and authors in one.
      if (auto entry = titled_paper_link(field.value)) {
        if (header_only_titled() || current_untitled()) {
          draft().item.title = std::move(entry->title);
          consume(i);
        } else {
          start_paper(std::move(entry->title), i);
        }
        add_links({entry->url}, false);
        if (auto names = parse_author_line(entry->rest); names && draft().item.authors.empty())
          draft().item.authors = std::move(*names);
        return true;
      }
    }
    if (kind == FieldKind::paper) {
      // "Paper: <url>" is a link, "论文: Title" a title.
      kind = link_line_urls(field.value).empty() && !field.value.empty() && !arxiv_in_value(field) ? FieldKind::title
                                                                                                   : FieldKind::link;
    }
    if (field.value.empty()) {
      if (kind == FieldKind::ignored) {
        use_[i] = LineUse::furniture;
        return true;
      }
      if (!current_ && kind != FieldKind::title) return false;
      use_[i] = LineUse::structure;
      if (current_) draft().lines.push_back(i);
      if (kind == FieldKind::summary) {
        mode_ = Mode::item_body;
      } else {
        pending_field_ = kind;  // the value is on the next line
      }
      return true;
    }
    switch (kind) {
      case FieldKind::title: {
        std::string title = clean_title(field_value(i));
        if ((current_untitled() && mode_ == Mode::item_header) || header_only_titled()) {
          draft().item.title = std::move(title);
          consume(i);
        } else {
          start_paper(std::move(title), i);
        }
        return true;
      }
      case FieldKind::link: {
        std::vector<std::string> urls = urls_in(field.value);
        if (urls.empty()) {
          // "arXiv: 2401.04088"
          const auto id = arxiv_in_value(field);
          if (!id) return false;
          urls.push_back(arxiv_abs_url(*id));
        }
        const auto id = arxiv_id_from_text(urls.front());
        const bool other_paper = current_ && id && draft().item.arxiv_id && draft().item.arxiv_id != id;
        if (!current_ || (mode_ != Mode::item_header && !draft().item.url.empty()) ||
            (other_paper && mode_ != Mode::item_header)) {
          start_item(ItemKind::paper, {}, {}, i);  // the title comes next ("Link:" before "Title:")
        } else {
          consume(i);
        }
        add_links(urls, false);
        return true;
      }
      case FieldKind::code: {
        if (!current_) return false;
        add_links(urls_in(field.value), true);
        consume(i);
        return true;
      }
      case FieldKind::authors: {
        if (!current_) return false;
        if (auto names = parse_author_line("By " + field_value(i)); names && draft().item.authors.empty())
          draft().item.authors = std::move(*names);
        consume(i);
        return true;
      }
      case FieldKind::summary:
        if (!current_) return false;
        mode_ = Mode::item_body;
        add_paragraph(to_plain(field.value), i);
        return true;
      case FieldKind::extra:
        if (!current_) return false;
        add_paragraph(field.label + ": " + to_plain(field.value), i);
        return true;
      case FieldKind::ignored: use_[i] = LineUse::furniture; return true;
      case FieldKind::paper: break;
    }
    return false;
  }

  // The line after a label that stood alone ("论文链接" / "https://...").
  bool take_pending_value(std::size_t i) {
    const FieldKind kind = *pending_field_;
    pending_field_.reset();
    const Line& line = lines_[i];
    if (line.kind == LineKind::field || line.kind == LineKind::paper_label) return false;
    switch (kind) {
      case FieldKind::title:
        if (!title_like(line.plain)) return false;
        if (current_untitled()) {
          draft().item.title = clean_title(line.text);
          consume(i);
        } else {
          start_paper(clean_title(line.text), i);
        }
        return true;
      case FieldKind::link:
      case FieldKind::code:
      case FieldKind::paper: {
        const std::vector<std::string> urls = urls_in(line.text);
        if (urls.empty() || !current_) return false;
        add_links(urls, kind == FieldKind::code);
        consume(i);
        return true;
      }
      case FieldKind::authors: {
        if (!current_) return false;
        auto names = parse_author_line("By " + line.plain);
        if (!names) return false;
        if (draft().item.authors.empty()) draft().item.authors = std::move(*names);
        consume(i);
        return true;
      }
      case FieldKind::extra:
        if (!current_) return false;
        add_paragraph(line.plain, i);
        return true;
      case FieldKind::summary:
      case FieldKind::ignored: return false;
    }
    return false;
  }

  // A table whose header names a title column ("| Title | Authors | Link | Notes |") lists one
  // paper per row. Other tables are read as paragraphs.
  bool handle_table_row(std::size_t i) {
    const std::vector<std::string> cells = table_cells(lines_[i].text);
    if (is_alignment_row(cells)) {
      use_[i] = LineUse::structure;
      return true;
    }
    if (i + 1 < lines_.size() && lines_[i + 1].kind == LineKind::table_row &&
        is_alignment_row(table_cells(lines_[i + 1].text))) {
      table_columns_.clear();
      for (const std::string& cell : cells) table_columns_.push_back(field_label(to_plain(cell)));
      const bool titled = std::any_of(table_columns_.begin(), table_columns_.end(),
                                      [](const auto& k) { return k == FieldKind::title || k == FieldKind::paper; });
      if (!titled) table_columns_.clear();
      use_[i] = LineUse::structure;
      return true;
    }
    if (table_columns_.empty()) {
      // A table of news or tools: one item per row, named by its first cell.
      if (!is_news_like() || cells.size() < 2) return false;
      std::string row;
      for (const std::string& cell : cells) row += (row.empty() ? "" : " — ") + cell;
      add_news_like(section_ == SectionKind::news ? ItemKind::news : ItemKind::tool, row, i);
      drafts_.back().item.title = clean_title(cells.front());
      return true;
    }
    std::vector<std::string> links;
    std::vector<std::string> code;
    std::vector<std::string> authors;
    std::vector<std::string> summary;
    std::string title;
    for (std::size_t c = 0; c < cells.size() && c < table_columns_.size(); ++c) {
      if (!table_columns_[c] || cells[c].empty()) continue;
      switch (*table_columns_[c]) {
        case FieldKind::title:
        case FieldKind::paper:
          if (auto entry = titled_paper_link(cells[c])) {
            title = entry->title;
            links.push_back(entry->url);
          } else {
            title = clean_title(cells[c]);
          }
          break;
        case FieldKind::authors:
          if (auto names = parse_author_line("By " + to_plain(cells[c]))) authors = std::move(*names);
          break;
        case FieldKind::link:
          for (std::string& u : urls_in(cells[c])) links.push_back(std::move(u));
          break;
        case FieldKind::code:
          for (std::string& u : urls_in(cells[c])) code.push_back(std::move(u));
          break;
        case FieldKind::summary:
        case FieldKind::extra: summary.push_back(to_plain(cells[c])); break;
        case FieldKind::ignored: break;
      }
    }
    if (title.empty()) return false;
    start_item(summary.empty() ? ItemKind::listed_paper : ItemKind::paper, std::move(title), {}, i);
    add_links(links, false);
    add_links(code, true);
    draft().item.authors = std::move(authors);
    for (std::string& p : summary) draft().paragraphs.push_back({std::move(p), i});
    current_.reset();
    mode_ = Mode::list;
    return true;
  }

  // A line of nothing but links.
  bool handle_link_line(std::size_t i) {
    const Line& line = lines_[i];
    const bool arxiv_entry = starts_with_ci(line.plain, "arxiv:");
    if (current_) {
      Item& item = draft().item;
      const bool same_paper = item.arxiv_id && std::any_of(line.urls.begin(), line.urls.end(), [&](const auto& u) {
                                return arxiv_id_from_text(u) == item.arxiv_id;
                              });
      const bool has_paper_url =
          std::any_of(line.urls.begin(), line.urls.end(), [](const std::string& u) { return is_paper_url(u); });
      if (same_paper || (mode_ == Mode::item_header && !arxiv_entry) || (item.url.empty() && has_paper_url)) {
        add_links(line.urls, false);
        consume(i);
        return true;
      }
    }
    if (arxiv_entry) {
      // An arXiv listing: the id comes first, the title in a "Title:" field below.
      start_item(ItemKind::paper, {}, {}, i);
      add_links(line.urls, false);
      return true;
    }
    return false;
  }

  // Lines between a paper title and its summary that are not fields or links: author lines.
  // Returns false (and switches to the body) on the first line that is none of these.
  bool handle_header_line(std::size_t i) {
    const Line& line = lines_[i];
    Item& item = draft().item;
    if (item.authors.empty()) {
      if (auto authors = parse_author_line(line.text)) {
        item.authors = std::move(*authors);
        consume(i);
        return true;
      }
    }
    if (auto url = labelled_url(line.plain)) {  // "Blog: https://..."
      add_links({*url}, true);
      consume(i);
      return true;
    }
    if (!draft().takes_body) {
      current_.reset();
      mode_ = Mode::list;
      return false;
    }
    mode_ = Mode::item_body;
    return false;
  }

  void handle_heading(std::size_t i) {
    const Line& line = lines_[i];
    // "### Abstract", "#### 作者" inside an entry: a label, not a section.
    if (line.field && current_ && line.field->kind != FieldKind::code && line.field->kind != FieldKind::ignored &&
        line.field->kind != FieldKind::title) {
      if (handle_field(i)) return;
    }
    const std::vector<MarkdownLink> links = text_links(line.body);
    if (!links.empty() && (title_line_ != i || is_paper_url(links.front().url))) {
      HeadingTitle heading = heading_title(line.body);
      const ItemKind kind = section_ == SectionKind::news   ? ItemKind::news
                            : section_ == SectionKind::tool ? ItemKind::tool
                                                            : ItemKind::paper;
      start_item(kind, std::move(heading.title), std::move(heading.links), i);
      return;
    }
    const std::string plain = to_plain(line.body);
    const SectionKind kind = classify_section(plain);
    const auto numbering = split_numbering(plain);
    const bool names_paper = numbering && numbering->kind == NumberingKind::paper;
    // A heading without a link is still a paper when paper cues follow it, when it sits below a
    // research section heading (a plain markdown digest), or when it says "Paper 3".
    const bool cues_follow = paper_cues_follow(i, numbering.has_value());
    const bool below_research = section_ == SectionKind::research && line.level > section_level_;
    if (title_line_ != i &&
        (names_paper || (kind == SectionKind::other && !is_news_like() && (cues_follow || below_research)))) {
      start_paper(clean_title(line.body), i);
      return;
    }
    use_[i] = LineUse::structure;
    section_ = kind;
    section_level_ = line.level;
    current_.reset();
    pending_field_.reset();
    mode_ = Mode::open;
    if (kind == SectionKind::news) explicit_news_ = true;
  }

  void add_listed(std::size_t i) {
    const Line& line = lines_[i];
    start_item(ItemKind::listed_paper, line.body, {}, i);
    draft().item.authors = line.authors;
    current_.reset();
    mode_ = Mode::list;
  }

  // News / tool item from one paragraph: title = first link text, else the opening phrase.
  void add_news_like(ItemKind kind, std::string_view raw, std::size_t line) {
    Draft draft;
    draft.item.kind = kind;
    const std::vector<MarkdownLink> links = text_links(raw);
    for (const MarkdownLink& link : links) draft.item.links.push_back(link.url);
    if (!links.empty()) draft.item.url = links.front().url;
    draft.item.arxiv_id = arxiv_id_of(draft.item.links);
    draft.item.summary = to_plain(raw);
    std::string title = links.empty() ? std::string() : to_plain(links.front().text);
    if (title.empty()) title = opening_phrase(draft.item.summary);
    draft.item.title = trim(title);
    draft.lines.push_back(line);
    use_[line] = LineUse::item;
    drafts_.push_back(std::move(draft));
  }

  bool in_preamble() const {
    return !saw_paper_ && !current_ && (section_ == SectionKind::none || section_ == SectionKind::other);
  }

  bool current_has_arxiv_id(const std::string& id) const {
    if (!current_) return false;
    const Item& item = draft().item;
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

  void add_mentions(const std::vector<MarkdownLink>& mentions, const std::string& sentence, std::size_t line) {
    for (const MarkdownLink& link : mentions) {
      Draft draft;
      draft.item.kind = ItemKind::listed_paper;
      draft.item.title = clean_title(link.text);
      draft.item.url = link.url;
      draft.item.links = {link.url};
      draft.item.arxiv_id = arxiv_id_from_text(link.url);
      draft.item.summary = sentence;
      draft.lines.push_back(line);
      drafts_.push_back(std::move(draft));
    }
    if (!mentions.empty()) use_[line] = LineUse::item;
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

    if (is_news_like()) {
      const ItemKind kind = section_ == SectionKind::news ? ItemKind::news : ItemKind::tool;
      if (current_ && mode_ == Mode::item_body && draft().item.kind == kind) {
        add_paragraph(plain, i);
        return;
      }
      if (!bullet && plain.ends_with(":")) return;  // "让我们从...热点新闻开始:"
      add_news_like(kind, raw, i);
      return;
    }
    if (in_preamble()) {
      if (bullet) {
        explicit_news_ = true;
        add_news_like(ItemKind::news, raw, i);
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
        std::vector<Paragraph>& paragraphs = draft().paragraphs;
        if (!paragraphs.empty() &&
            (!ends_like_sentence(paragraphs.back().text) || paragraphs.back().text.ends_with(":"))) {
          const std::size_t lead_in = paragraphs.back().line;
          std::erase(draft().lines, lead_in);
          use_[lead_in] = LineUse::unused;
          paragraphs.pop_back();
        }
        mode_ = Mode::body_closed;
      }
      add_mentions(mentions, plain, i);
      return;
    }
    if (body_open) {
      add_paragraph(paragraph, i);
      add_mentions(mentions, plain, i);
    }
  }

  // Paragraphs before the first paper are news only in digests that have papers and no explicit
  // news section (no "# 新闻" heading, no bullets up top), and only when they are not the title,
  // an overview of the digest, or a table of contents naming the papers that follow.
  void add_preamble_news() {
    if (explicit_news_ || !saw_paper_) return;
    std::set<std::string> paper_titles;
    for (const Draft& d : drafts_)
      if (d.item.kind == ItemKind::paper) paper_titles.insert(title_key(d.item.title));
    // A contents entry names a paper below, often by the head of its title ("4. VideoPoet" for
    // "VideoPoet: A Large Language Model for ...").
    const auto names_a_paper = [&](std::string_view entry) {
      const std::string key = title_key(entry);
      if (utf8_length(key) < 3) return false;
      const auto next = paper_titles.lower_bound(key);
      return next != paper_titles.end() && next->starts_with(key);
    };
    for (auto it = preamble_.rbegin(); it != preamble_.rend(); ++it) {
      const std::string& text = it->text;
      const std::string entry = strip_number_prefix(text);
      if (names_a_paper(entry)) {
        use_[it->line] = LineUse::structure;  // the table of contents
        continue;
      }
      if (title_line_ == it->line || utf8_length(entry) < 10 || !has_sentence_punctuation(entry) || is_overview(text))
        continue;
      const std::size_t before = drafts_.size();
      add_news_like(ItemKind::news, lines_[it->line].text, it->line);
      if (drafts_.size() == before) continue;
      Draft news = std::move(drafts_.back());
      drafts_.pop_back();
      drafts_.insert(drafts_.begin() + static_cast<std::ptrdiff_t>(it->position), std::move(news));
    }
  }

  // Entries that never got a title ("arXiv:..." with no "Title:") are not items; their lines go
  // back to the unstructured text.
  void drop_untitled() {
    std::vector<Draft> kept;
    for (Draft& d : drafts_) {
      if (!d.item.title.empty()) {
        kept.push_back(std::move(d));
        continue;
      }
      for (std::size_t line : d.lines)
        if (use_[line] == LineUse::item) use_[line] = LineUse::unused;
    }
    drafts_ = std::move(kept);
    current_.reset();
  }

  const std::vector<Line>& lines_;
  std::optional<std::size_t> title_line_;
  std::vector<LineUse> use_;
  std::vector<Draft> drafts_;
  std::optional<std::size_t> current_;                   // the item receiving header lines and summary paragraphs
  std::optional<FieldKind> pending_field_;               // a label stood alone; its value is the next line
  std::vector<std::optional<FieldKind>> table_columns_;  // of the paper table being read
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

// "2022 年 2 月", "2023年2月", "November 2021", "Nov. 2021", "2021-11" -> "YYYY-MM"; links are left out
// (an arXiv URL's digits are not a date).
std::string month_in_line(std::string_view line) {
  const std::string s = remove_urls(line.substr(0, std::min<std::size_t>(line.size(), 1000)));
  auto mention = find_month_mention(s);
  return mention ? std::move(mention->month) : std::string();
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
    case ItemKind::passage: return 0;
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

// ---------------------------------------------------------------------------------------------
// What no item took: unstructured passages, and the stretches that are skipped.

// Consecutive unused content lines (blank lines between them allowed) form one passage, titled
// by the heading above it when there is one, else by its opening phrase.
constexpr std::size_t k_min_passage_cp = 8;

bool is_content(LineKind kind) {
  return kind != LineKind::blank && kind != LineKind::fence && kind != LineKind::heading && kind != LineKind::separator;
}

std::string line_content(const Line& line) {
  if (line.kind == LineKind::bullet) return "- " + to_plain(line.body);
  if (line.kind == LineKind::code) return line.text;
  return line.plain;
}

void collect_leftovers(const std::vector<Line>& lines, const std::vector<LineUse>& uses, RoundupParse& out) {
  std::optional<std::size_t> heading;  // the last heading seen
  std::vector<std::size_t> stretch;
  const auto flush = [&] {
    if (stretch.empty()) return;
    Item item;
    item.kind = ItemKind::passage;
    for (std::size_t i : stretch) {
      if (!item.summary.empty()) item.summary += "\n\n";
      item.summary += line_content(lines[i]);
    }
    item.first_line = static_cast<int>(stretch.front()) + 1;
    item.last_line = static_cast<int>(stretch.back()) + 1;
    stretch.clear();
    if (utf8_length(item.summary) < k_min_passage_cp) {
      out.skipped.push_back({item.first_line, item.last_line, "too short to index", item.summary});
      return;
    }
    item.title = heading ? clean_title(lines[*heading].body) : std::string();
    if (item.title.empty()) item.title = opening_phrase(to_plain(item.summary));
    out.unstructured_chars += utf8_length(item.summary);
    out.roundup.items.push_back(std::move(item));
  };
  // Skipped stretches: runs of lines with the same reason.
  const auto reason_of = [](LineUse use) -> const char* {
    switch (use) {
      case LineUse::furniture: return "page furniture";
      case LineUse::references: return "references";
      case LineUse::after_end: return "after the footer";
      default: return nullptr;
    }
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    if (line.kind == LineKind::heading) {
      flush();
      if (uses[i] == LineUse::structure) heading = i;
      continue;
    }
    if (line.kind == LineKind::blank) continue;
    if (uses[i] == LineUse::unused && is_content(line.kind)) {
      stretch.push_back(i);
      continue;
    }
    flush();
    if (const char* reason = reason_of(uses[i]); reason && !line.text.empty()) {
      const int number = static_cast<int>(i) + 1;
      if (!out.skipped.empty() && out.skipped.back().reason == reason && out.skipped.back().last_line >= number - 3) {
        out.skipped.back().last_line = number;
      } else {
        out.skipped.push_back({number, number, reason, utf8_prefix(line.plain.empty() ? line.text : line.plain, 60)});
      }
    }
  }
  flush();
}

// "en" or "zh": the script most of the summaries are written in.
std::string infer_language(const Roundup& roundup) {
  ScriptCounts counts;
  for (const Item& item : roundup.items) count_scripts(item.summary, counts);
  return counts.mostly_han() ? "zh" : "en";
}

}  // namespace

RoundupParse parse_roundup_text(std::string_view id, std::string_view text) {
  RoundupParse out;
  Roundup& roundup = out.roundup;
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
    for (const Item& item : roundup.items) out.structured_chars += utf8_length(item.title) + utf8_length(item.summary);
    collect_leftovers(lines, builder.uses(), out);
    for (std::size_t i = 0; i < roundup.items.size(); ++i) roundup.items[i].ordinal = static_cast<int>(i) + 1;
    detect_month(lines, title_line, roundup);
    roundup.language = infer_language(roundup);
  } catch (const std::exception&) {
    // Odd input must not stop a corpus load: keep whatever was parsed.
  }
  return out;
}

Roundup parse_roundup(std::string_view id, std::string_view text) {
  return parse_roundup_text(id, text).roundup;
}

}  // namespace roundup::retrieval
