#pragma once
// Line-level readers for the roundup parser (retrieval/roundup_parser.cpp): byte-level string
// predicates, markdown (links, emphasis, bullets, headings, numberings, URLs), labelled fields
// ("Title: ...", "**论文地址:**https://...") and heading titles. Each looks at one line or
// string; context is the state machine's. Internal to retrieval/.

#include <cstddef>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/unicode.h"

namespace roundup::retrieval::parsing {

inline constexpr std::size_t k_npos = std::string_view::npos;

// Small string predicates (byte level; UTF-8 sequences are matched whole).

bool contains(std::string_view s, std::string_view part);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool ends_with_ci(std::string_view s, std::string_view suffix);
bool is_digit(char c);
bool all_digits(std::string_view s);
std::string replace_all(std::string s, std::string_view from, std::string_view to);
std::size_t count_of(std::string_view s, std::string_view part);
char32_t last_code_point(std::string_view s);
// A paragraph that ends like a sentence; lead-in lines ("...我们想要强调的论文", "...开始:") do not.
bool ends_like_sentence(std::string_view s);
// Any sentence punctuation at all: tables of contents and bare titles have none.
bool has_sentence_punctuation(std::string_view s);
std::string strip_trailing(std::string s, std::initializer_list<std::string_view> tails);
std::string strip_trailing_punctuation(std::string s);

// Markdown: links, emphasis, bullets, headings.

struct MarkdownLink {
  std::string text;
  std::string url;
  std::size_t begin = 0;  // byte range of the whole "[text](url)" (with the "!" of images)
  std::size_t end = 0;
  bool image = false;
};

std::size_t matching_close(std::string_view s, std::size_t open, char open_c, char close_c);
std::vector<MarkdownLink> scan_links(std::string_view s);
std::vector<MarkdownLink> text_links(std::string_view s);
// "<https://x>" autolinks become the bare URL.
std::string unwrap_autolinks(std::string_view s);
// Markdown reduced to plain text: images dropped, links to their text, emphasis and quote markers
// removed, white space squashed.
std::string to_plain(std::string_view s);
// "* text", "- text", "+ text", "• text" -> "text"; nullopt when the line is not a bullet.
std::optional<std::string> bullet_body(std::string_view line);
struct Heading {
  int level = 0;
  std::string text;
};

std::optional<Heading> parse_heading(std::string_view line);
// "3。Title", "3. Title", "3、Title", "3) Title" -> {3, "Title"}. The number has 1-3 digits so a
// year ("2022 年 2 月") is not a number prefix, and "1.5B" is not one either.
std::optional<std::pair<int, std::string>> split_number_prefix(std::string_view s);
// How strongly a numbering says "a paper starts here".
enum class NumberingKind {
  plain,  // "3. ", "(3)", "[3]", "#3", "No. 3", "3️⃣": a paper title only when paper cues follow
  paper,  // "Paper 3:", "论文 3:", "第三篇": names a paper even without a title on the line
};

struct Numbering {
  int number = 0;
  std::string title;  // the rest of the line as written; may be empty for NumberingKind::paper
  NumberingKind kind = NumberingKind::plain;
};

// "三" -> 3, "十二" -> 12, "二十" -> 20; 0 when s is not a Chinese numeral below 100.
int chinese_number(std::u32string_view s);
std::size_t skip_spaces(std::string_view s, std::size_t i);
std::size_t skip_digits(std::string_view s, std::size_t i);
// Skips one delimiter after a number (":", ".", "、", ")", "-", "—", "|") and the spaces and
// closing emphasis around it. Returns npos when strict and there is none.
std::size_t skip_delimiter(std::string_view s, std::size_t i, bool strict);
// Every common way to number a paper: "1.", "1、", "1)", "(1)", "[1]", "【1】", "#1", "No. 1",
// "1️⃣", "Paper 1:", "论文 1:", "第一篇", each possibly in bold ("**1.** Title", "**1. Title**").
std::optional<Numbering> split_numbering(std::string_view raw);
std::string strip_number_prefix(std::string_view s);
// "DeepSpeed-MoE: ... Scale | Website": a short label after the last " | " is link text that lost
// its link, not part of the title.
std::string strip_trailing_label(std::string title);
std::string clean_title(std::string_view raw);
// A line that is only a URL, possibly in angle brackets.
std::optional<std::string> bare_url(std::string_view line);
// "论文链接:https://..." / "Code: <https://...>" -> the URL, when the label is short.
std::optional<std::string> labelled_url(std::string_view plain);
// Every URL in a line: markdown link targets, autolinks and bare URLs, in order, once each.
std::vector<std::string> urls_in(std::string_view raw);
// A link to a paper rather than to a blog, a company or a repository: arXiv and the usual
// proceedings and paper hosts, or any PDF.
bool is_paper_url(std::string_view url);
// Words that may sit next to the URLs of a link-only line: "[PDF](...) | [Code](...)",
// "\\ ( https://arxiv.org/abs/... , 512kb)".
bool is_link_word(std::string_view word);
// The URLs of a line that holds nothing else ("https://...", "<https://...>", "[PDF](...) | [Code]
// (...)", "arXiv:2401.04088 [pdf]"); empty when the line says something besides its links.
std::vector<std::string> link_line_urls(std::string_view raw);

// Labelled fields: "Title: ...", "**论文地址:**https://...", "Abstract" alone with the text below.

enum class FieldKind {
  title,    // the paper's title
  paper,    // "Paper:" / "论文:": a link when the value is a URL, else the title
  authors,  // author names
  link,     // the paper's link
  code,     // code or project link: kept, never the primary link when the paper has one
  summary,  // the summary, abstract, TL;DR, or why it is recommended
  extra,    // affiliation, venue, keywords: kept in the summary under their label
  ignored,  // date, categories, comments, votes: not content
};

struct Field {
  FieldKind kind = FieldKind::ignored;
  std::string label;  // as written, plain
  std::string value;  // raw markdown after the label; empty when the label stands alone
};

// Labels, case-folded with spaces removed, in English and Chinese.
const std::map<std::string, FieldKind, std::less<>>& field_labels();
std::optional<FieldKind> field_label(std::string_view plain_label);
// Leading emoji and symbols before a label ("📄 Paper:", "🔗 Link:").
std::string_view skip_symbols(std::string_view s);
// "Label: value", "**Label:** value", "**Label**: value", "- Label: value", or a label alone.
std::optional<Field> parse_field(std::string_view raw);
// Heading text -> title without link syntax / "N。" prefix, plus every link (primary first).
// Short trailing links ("| [项目页面](url)", "[代号](url)") stay links but leave the title.
struct HeadingTitle {
  std::string title;
  std::vector<std::string> links;
};

HeadingTitle heading_title(std::string_view text);

}  // namespace roundup::retrieval::parsing
