#include "retrieval/html_text.h"

#include <gumbo.h>

#include <algorithm>
#include <array>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/unicode.h"

namespace roundup::retrieval {
namespace {

// Elements nested deeper than this add their text only: it bounds the writer's stacks and keeps
// a hostile page from turning nesting into structure.
constexpr std::size_t k_max_depth = 256;
// Quote prefixes and list indentation stop growing here, so no line carries a prefix longer than
// its content would justify (256 nested quotes around every paragraph would multiply the output).
constexpr int k_max_prefix_levels = 8;
// List numbers are clamped so counting on from a huge start="" value cannot overflow.
constexpr long long k_max_list_number = 1'000'000'000;

// ---------------------------------------------------------------------------------------------
// ASCII text helpers (HTML's white space is ASCII: space, tab, LF, FF, CR).

bool is_html_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// Bytes of white space at s[i]: HTML white space, or a no-break space (U+00A0), which the parser
// would NFKC-normalise into a plain space anyway. 0 when s[i] starts anything else.
std::size_t space_length(std::string_view s, std::size_t i) {
  if (is_html_space(s[i])) return 1;
  if (s[i] == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') return 2;
  return 0;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// rel="" is a set of space-separated, case-insensitive tokens.
bool has_token(std::string_view list, std::string_view token) {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && is_html_space(list[i])) ++i;
    std::size_t end = i;
    while (end < list.size() && !is_html_space(list[end])) ++end;
    if (end > i && iequals(list.substr(i, end - i), token)) return true;
    i = end;
  }
  return false;
}

// Runs of white space become one space; none at either end.
std::string squash(std::string_view s) {
  std::string out;
  bool pending_space = false;
  for (std::size_t i = 0; i < s.size();) {
    if (const std::size_t n = space_length(s, i)) {
      pending_space = !out.empty();
      i += n;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(s[i++]);
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int two_digits(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// ---------------------------------------------------------------------------------------------
// The gumbo tree.

const GumboVector* children_of(const GumboNode* node) {
  switch (node->type) {
    case GUMBO_NODE_DOCUMENT: return &node->v.document.children;
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE: return &node->v.element.children;
    default: return nullptr;
  }
}

const GumboNode* child_at(const GumboVector& children, unsigned i) {
  return static_cast<const GumboNode*>(children.data[i]);
}

bool is_element(const GumboNode* node) {
  return node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE;
}

bool is_text(const GumboNode* node) {
  return node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE || node->type == GUMBO_NODE_CDATA;
}

// Tag checks look at the namespace too: an SVG <title> or <a> is not the HTML one.
bool is_html(const GumboNode* node, GumboTag tag) {
  return is_element(node) && node->v.element.tag == tag && node->v.element.tag_namespace == GUMBO_NAMESPACE_HTML;
}

// nullptr when the element has no such attribute (gumbo lower-cases attribute names).
const char* attribute(const GumboNode* node, const char* name) {
  if (!is_element(node)) return nullptr;
  const GumboAttribute* attr = gumbo_get_attribute(&node->v.element.attributes, name);
  return attr != nullptr ? attr->value : nullptr;
}

bool attribute_is(const GumboNode* node, const char* name, std::string_view value) {
  const char* v = attribute(node, name);
  return v != nullptr && iequals(trim_ascii(v), value);
}

enum class Visit { descend, skip, stop };

// Calls visit(node) on every node under `from` (not `from` itself) in document order, without
// recursion: gumbo builds trees of any depth.
template <class Visitor>
void walk(const GumboNode* from, Visitor&& visit) {
  std::vector<const GumboNode*> pending;
  const auto push_children = [&pending](const GumboNode* node) {
    if (const GumboVector* children = children_of(node)) {
      for (unsigned i = children->length; i > 0; --i) pending.push_back(child_at(*children, i - 1));
    }
  };
  push_children(from);
  while (!pending.empty()) {
    const GumboNode* node = pending.back();
    pending.pop_back();
    const Visit v = visit(node);
    if (v == Visit::stop) return;
    if (v == Visit::descend) push_children(node);
  }
}

// Never article content, wherever it sits: code, embedded and interactive things, navigation,
// and what the page hides. <title> may sit in <body> of a malformed page; it is not shown there.
bool is_never_content(const GumboNode* node) {
  if (node->type == GUMBO_NODE_TEMPLATE) return true;
  switch (node->v.element.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_OBJECT: return true;
    default: break;
  }
  return attribute(node, "hidden") != nullptr || attribute_is(node, "aria-hidden", "true");
}

enum class Headers { searched, skipped };

// The first element under `from` that `wanted` accepts, looking into neither never-content
// subtrees nor footers (nor headers, when told). A footer's <article> is a related-post card,
// its <time> an update stamp, never the page's own.
template <class Predicate>
const GumboNode* first_element(const GumboNode* from, Headers headers, Predicate wanted) {
  const GumboNode* found = nullptr;
  walk(from, [&](const GumboNode* node) {
    if (!is_element(node) || is_never_content(node)) return Visit::skip;
    if (wanted(node)) {
      found = node;
      return Visit::stop;
    }
    if (is_html(node, GUMBO_TAG_FOOTER) || (headers == Headers::skipped && is_html(node, GUMBO_TAG_HEADER))) {
      return Visit::skip;
    }
    return Visit::descend;
  });
  return found;
}

// The text under node, markup ignored, with <br> as line_break.
std::string collected_text(const GumboNode* node, char line_break) {
  std::string text;
  walk(node, [&text, line_break](const GumboNode* n) {
    if (is_text(n)) {
      text += n->v.text.text;
      return Visit::skip;
    }
    if (!is_element(n) || is_never_content(n)) return Visit::skip;
    if (is_html(n, GUMBO_TAG_BR)) text.push_back(line_break);
    return Visit::descend;
  });
  return text;
}

// The text a reader sees in an element, on one line.
std::string text_of(const GumboNode* element) {
  return squash(collected_text(element, ' '));
}

// A <pre>'s text as written: line breaks and indentation kept, markup ignored.
std::string verbatim_text(const GumboNode* pre) {
  return collected_text(pre, '\n');
}

// The article: the first <article>, else <main>, else <body>. Outside it nothing is converted.
const GumboNode* content_root(const GumboNode* document, const GumboNode* html) {
  for (const GumboTag tag : {GUMBO_TAG_ARTICLE, GUMBO_TAG_MAIN}) {
    const auto is_tag = [tag](const GumboNode* node) { return is_html(node, tag); };
    if (const GumboNode* found = first_element(document, Headers::skipped, is_tag)) return found;
  }
  if (const GumboVector* children = children_of(html)) {
    for (unsigned i = 0; i < children->length; ++i) {
      if (is_html(child_at(*children, i), GUMBO_TAG_BODY)) return child_at(*children, i);
    }
  }
  return html;  // a <frameset> page: is_never_content keeps <head> out
}

// ---------------------------------------------------------------------------------------------
// Page metadata.

struct PageFacts {
  std::string title;                      // the first <title>, squashed
  std::string_view base_href;             // the first <base href>
  std::string_view canonical;             // the first <link rel="canonical" href>
  std::string_view og_url;                // <meta property="og:url">
  std::array<std::string_view, 3> dates;  // article:published_time, name=date, itemprop=datePublished
};

void note_meta(const GumboNode* meta, PageFacts& facts) {
  const char* content = attribute(meta, "content");
  if (content == nullptr) return;
  const auto keep_first = [content](std::string_view& slot) {
    if (slot.empty()) slot = content;
  };
  if (attribute_is(meta, "property", "og:url")) keep_first(facts.og_url);
  if (attribute_is(meta, "property", "article:published_time")) keep_first(facts.dates[0]);
  if (attribute_is(meta, "name", "date")) keep_first(facts.dates[1]);
  if (attribute_is(meta, "itemprop", "datePublished")) keep_first(facts.dates[2]);
}

// Metadata may sit anywhere (<meta> in <body> is common); only <template>'s inert contents are
// not the page's.
PageFacts read_page_facts(const GumboNode* document) {
  PageFacts facts;
  bool has_title = false;
  walk(document, [&](const GumboNode* node) {
    if (!is_element(node) || node->type == GUMBO_NODE_TEMPLATE) return Visit::skip;
    if (is_html(node, GUMBO_TAG_TITLE) && !has_title) {
      has_title = true;
      facts.title = text_of(node);
    } else if (is_html(node, GUMBO_TAG_BASE) && facts.base_href.empty()) {
      if (const char* href = attribute(node, "href")) facts.base_href = href;
    } else if (is_html(node, GUMBO_TAG_LINK) && facts.canonical.empty()) {
      const char* rel = attribute(node, "rel");
      const char* href = attribute(node, "href");
      if (rel != nullptr && href != nullptr && has_token(rel, "canonical")) facts.canonical = href;
    } else if (is_html(node, GUMBO_TAG_META)) {
      note_meta(node, facts);
    }
    return Visit::descend;
  });
  return facts;
}

bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr std::array<int, 12> k_days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : k_days[static_cast<std::size_t>(month - 1)];
}

// ISO 8601 dates and date-times ("2022-03-05", "2022-03-05T10:00:00+01:00", "2022-03") to
// "YYYY-MM-DD" / "YYYY-MM"; anything else (or an impossible date) to "".
std::string iso_date(std::string_view value) {
  const std::string_view s = trim_ascii(value);
  const auto digits = [&s](std::size_t from, std::size_t count) {
    return s.size() >= from + count && std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from),
                                                   s.begin() + static_cast<std::ptrdiff_t>(from + count), is_digit);
  };
  if (!digits(0, 4) || s.size() < 7 || s[4] != '-' || !digits(5, 2)) return {};
  const int year = two_digits(s, 0) * 100 + two_digits(s, 2);
  const int month = two_digits(s, 5);
  if (year == 0 || month < 1 || month > 12) return {};
  if (s.size() == 7) return std::string(s);
  if (s[7] != '-' || !digits(8, 2) || (s.size() > 10 && is_digit(s[10]))) return {};
  const int day = two_digits(s, 8);
  if (day < 1 || day > days_in_month(year, month)) return {};
  return std::string(s.substr(0, 10));
}

std::string published_date(const PageFacts& facts, const GumboNode* root) {
  for (const std::string_view value : facts.dates) {
    if (std::string date = iso_date(value); !date.empty()) return date;
  }
  const GumboNode* time = first_element(root, Headers::searched, [](const GumboNode* node) {
    return is_html(node, GUMBO_TAG_TIME) && attribute(node, "datetime") != nullptr;
  });
  return time != nullptr ? iso_date(attribute(time, "datetime")) : std::string();
}

// ---------------------------------------------------------------------------------------------
// URLs.

bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Where "scheme://host" or "//host" ends; 0 when the href has no authority. '[' and ']' are
// allowed there only (an IPv6 host).
std::size_t authority_end(std::string_view href) {
  std::size_t start = 0;
  if (href.starts_with("//")) {
    start = 2;
  } else if (const std::size_t colon = href.find("://"); colon != std::string_view::npos) {
    const auto is_scheme_char = [](char c) {
      return is_digit(c) || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z') || c == '+' || c == '-' || c == '.';
    };
    const std::string_view scheme = href.substr(0, colon);
    const bool is_scheme = !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), is_scheme_char);
    if (!is_scheme) return 0;
    start = colon + 3;
  } else {
    return 0;
  }
  const std::size_t end = href.find_first_of("/?#", start);
  return end == std::string_view::npos ? href.size() : end;
}

// What a browser does to an href before parsing it: surrounding spaces and controls go, tabs and
// line breaks inside go, and bytes a URL cannot hold (spaces, non-ASCII, stray '%') are
// percent-encoded, so "/papers/a b" and "/论文" still resolve.
std::string encode_href(std::string_view href) {
  while (!href.empty() && static_cast<unsigned char>(href.front()) <= 0x20) href.remove_prefix(1);
  while (!href.empty() && static_cast<unsigned char>(href.back()) <= 0x20) href.remove_suffix(1);
  static constexpr std::string_view k_unsafe = "\"<>\\^`{|}";
  static constexpr std::string_view k_hex = "0123456789ABCDEF";
  const std::size_t host_end = authority_end(href);
  std::string out;
  bool in_fragment = false;
  for (std::size_t i = 0; i < href.size(); ++i) {
    const char c = href[i];
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\t' || c == '\n' || c == '\r') continue;
    bool encode = byte <= 0x20 || byte >= 0x7F || k_unsafe.find(c) != std::string_view::npos;
    encode = encode || (c == '%' && !(i + 2 < href.size() && is_hex(href[i + 1]) && is_hex(href[i + 2])));
    encode = encode || ((c == '[' || c == ']') && i >= host_end);
    if (c == '#') {
      encode = in_fragment;
      in_fragment = true;
    }
    if (encode) {
      out.push_back('%');
      out.push_back(k_hex[byte >> 4]);
      out.push_back(k_hex[byte & 15]);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// An absolute http(s) URL for href, resolved against base when relative. nullopt for fragments
// ("#top"), other schemes (javascript:, mailto:) and what no base resolves.
std::optional<boost::urls::url> http_url(std::string_view href, const std::optional<boost::urls::url>& base) {
  const std::string encoded = encode_href(href);
  if (encoded.empty() || encoded.front() == '#') return std::nullopt;
  // Boost.URL reports errors as values; a throw would mean a URL past its size limit.
  try {
    const auto ref = boost::urls::parse_uri_reference(encoded);
    if (!ref) return std::nullopt;
    boost::urls::url url;
    if (ref->has_scheme()) {
      url = *ref;
    } else if (!base || !boost::urls::resolve(*base, *ref, url)) {
      return std::nullopt;
    }
    const boost::urls::scheme scheme = url.scheme_id();
    if ((scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https) || url.encoded_host().empty()) {
      return std::nullopt;
    }
    url.normalize_scheme();
    return url;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The parser finds a link's end by matching parentheses: unbalanced ones are percent-encoded.
std::string markdown_url(std::string_view url) {
  int depth = 0;
  bool balanced = true;
  for (const char c : url) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    balanced = balanced && depth >= 0;
  }
  if (balanced && depth == 0) return std::string(url);
  std::string out;
  for (const char c : url) out += c == '(' ? "%28" : c == ')' ? "%29" : std::string(1, c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown output.

enum class Break { none, newline, blank };
enum class Style { strong, em, code, link };
// What a begin_* call opened, for the matching end_* call.
enum class Opened { nothing, paragraph, owner };

// Writes markdown line by line. Text is laid out as a browser would: white space collapses and
// is dropped at line ends; blocks ask for a break that the next text honours, so empty blocks
// leave no blank lines. Emphasis and link markers open lazily before the first text inside them
// and close at their element's end or at a line break, so markers always enclose text and never
// span lines. Headings, list items and table rows are single lines: breaks inside them are spaces.
class MarkdownWriter {
 public:
  void text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      if (const std::size_t n = space_length(s, i)) {
        pending_space_ = true;
        i += n;
        continue;
      }
      std::size_t end = i + 1;
      while (end < s.size() && space_length(s, end) == 0) ++end;
      write_run(s.substr(i, end - i));
      i = end;
    }
  }

  void space() { pending_space_ = true; }

  void block_break() {
    if (single_line()) {
      space();
    } else {
      request(Break::blank);
    }
  }

  // <br>: a new line in the paragraph; two in a row (a common paragraph separator) a blank line.
  void line_break() {
    if (single_line()) {
      space();
    } else {
      request(pending_break_ == Break::newline && !content_since_break_ ? Break::blank : Break::newline);
    }
  }

  Opened begin_block() {
    block_break();
    return Opened::paragraph;
  }
  void end_block() { block_break(); }

  Opened begin_heading(int level) {
    const bool owner = !single_line();
    block_break();
    ++flat_;
    if (!owner) return Opened::nothing;
    marker_ = std::string(static_cast<std::size_t>(level), '#') + ' ';
    return Opened::owner;
  }
  void end_heading(Opened opened) {
    --flat_;
    if (opened == Opened::owner) marker_.clear();
    block_break();
  }

  // Lists inside single-line contexts (a heading, a table row) stay flat: items become spaces.
  void begin_list(bool ordered, long long start) {
    const bool flat = flat_ > 0;
    lists_.push_back({ordered, flat, false, start});
    if (flat) {
      space();
      return;
    }
    ++indent_levels_;
    request(indent_levels_ == 1 ? Break::blank : Break::newline);
  }
  void end_list() {
    const bool flat = lists_.back().flat;
    lists_.pop_back();
    if (flat) {
      space();
      return;
    }
    --indent_levels_;
    request(indent_levels_ == 0 ? Break::blank : Break::newline);
  }

  Opened begin_item(std::optional<long long> value) {
    if (lists_.empty()) return begin_block();  // an <li> outside any list: a paragraph
    ListFrame& list = lists_.back();
    // In a single-line context, or an <li> inside another item's quote or cell: not an item line.
    if (flat_ > 0 || list.flat || list.item_open) {
      space();
      return Opened::nothing;
    }
    if (value) list.next = *value;
    request(Break::newline);
    marker_ = list.ordered ? std::to_string(list.next) + ". " : "- ";
    list.next = std::min(list.next + 1, k_max_list_number);
    list.item_open = true;
    return Opened::owner;
  }
  void end_item(Opened opened) {
    if (opened == Opened::paragraph) {
      end_block();
    } else if (opened == Opened::nothing) {
      space();
    } else {
      marker_.clear();
      lists_.back().item_open = false;
      request(Break::newline);
    }
  }

  Opened begin_quote() {
    if (single_line()) return Opened::nothing;
    block_break();
    ++quote_;
    return Opened::owner;
  }
  void end_quote(Opened opened) {
    if (opened != Opened::owner) return;
    --quote_;
    block_break();
  }

  void begin_row() {
    block_break();
    ++flat_;
  }
  void end_row() {
    --flat_;
    block_break();
  }
  // A table cell: " | " goes before its text when the row already has some.
  void cell() {
    if (content_since_break_) pending_separator_ = " | ";
  }

  // Nested duplicates (strong in strong, a link in a link) add nothing and are not pushed, so
  // at most one marker of each kind is ever open.
  bool push_style(Style style, std::string url = {}) {
    for (const OpenStyle& s : styles_) {
      if (s.style == style) return false;
    }
    styles_.push_back({style, std::move(url), false});
    return true;
  }
  void pop_style() {
    if (styles_.back().opened) out_ += closer(styles_.back());
    styles_.pop_back();
  }

  // A <pre>: a fenced block, lines verbatim; surrounding blank lines and trailing space dropped.
  void code_block(std::string_view content) {
    if (single_line()) {
      text(content);
      return;
    }
    while (!content.empty() && is_html_space(content.back())) content.remove_suffix(1);
    const std::size_t first_text = content.find_first_not_of(" \t\r\f\n");
    if (first_text == std::string_view::npos) return;
    // Blank lines before the first text go; the first text line keeps its indentation.
    if (const std::size_t newline = content.rfind('\n', first_text); newline != std::string_view::npos) {
      content.remove_prefix(newline + 1);
    }
    const std::string fence(std::max<std::size_t>(3, longest_backtick_run(content) + 1), '`');
    request(Break::blank);
    start_line();
    out_ += fence;
    std::size_t begin = 0;
    while (begin <= content.size()) {
      const std::size_t end = std::min(content.find('\n', begin), content.size());
      verbatim_line(content.substr(begin, end - begin));
      begin = end + 1;
    }
    verbatim_line(fence);
    content_since_break_ = true;
    request(Break::blank);
  }

  void rule() {
    if (single_line()) {
      space();
      return;
    }
    request(Break::blank);
    start_line();
    out_ += "---";
    content_since_break_ = true;
    request(Break::blank);
  }

  std::string finish() {
    close_markers();
    if (!out_.empty()) out_.push_back('\n');
    return std::move(out_);
  }

 private:
  struct ListFrame {
    bool ordered = false;
    bool flat = false;  // inside a single-line context
    bool item_open = false;
    long long next = 1;
  };
  struct OpenStyle {
    Style style;
    std::string url;
    bool opened = false;  // its opening marker is written
  };

  bool single_line() const { return flat_ > 0 || (!lists_.empty() && lists_.back().item_open); }

  void request(Break b) {
    close_markers();
    pending_separator_.clear();
    content_since_break_ = false;
    pending_break_ = std::max(pending_break_, b);
  }

  void close_markers() {
    for (auto it = styles_.rbegin(); it != styles_.rend(); ++it) {
      if (it->opened) out_ += closer(*it);
      it->opened = false;
    }
  }

  void open_markers() {
    for (OpenStyle& s : styles_) {
      if (s.opened) continue;
      s.opened = true;
      out_ += s.style == Style::strong ? "**" : s.style == Style::em ? "*" : s.style == Style::code ? "`" : "[";
    }
  }

  static std::string closer(const OpenStyle& s) {
    switch (s.style) {
      case Style::strong: return "**";
      case Style::em: return "*";
      case Style::code: return "`";
      case Style::link: return "](" + s.url + ")";
    }
    return {};
  }

  std::string quote_prefix(int depth) const {
    std::string prefix;
    for (int i = 0; i < std::min(depth, k_max_prefix_levels); ++i) prefix += "> ";
    return prefix;
  }

  // Quote markers, then list indentation: item lines by their list's level, an item's later
  // lines (after a nested list) two spaces further, under the item's text.
  std::string line_prefix() const {
    std::string prefix = quote_prefix(quote_);
    const int levels = std::min(indent_levels_, k_max_prefix_levels);
    if (levels > 0) {
      const bool continuation = marker_.empty() && lists_.back().item_open && !lists_.back().flat;
      const int spaces = 2 * (levels - 1) + (continuation ? 2 : 0);
      prefix.append(static_cast<std::size_t>(spaces), ' ');
    }
    return prefix;
  }

  // Honours the pending break, then writes what goes before the next text: the line prefix and
  // marker at a line start, else the pending separator or space.
  void start_line() {
    if (pending_break_ != Break::none) {
      if (!out_.empty()) {
        out_.push_back('\n');
        if (pending_break_ == Break::blank) {
          std::string blank = quote_prefix(std::min(last_line_quote_, quote_));
          while (!blank.empty() && blank.back() == ' ') blank.pop_back();
          out_ += blank;
          out_.push_back('\n');
        }
      }
      pending_break_ = Break::none;
      at_line_start_ = true;
    }
    if (at_line_start_) {
      out_ += line_prefix();
      out_ += marker_;
      marker_.clear();
      at_line_start_ = false;
      last_line_quote_ = quote_;
    } else if (!pending_separator_.empty()) {
      out_ += pending_separator_;
    } else if (pending_space_) {
      out_.push_back(' ');
    }
    pending_space_ = false;
    pending_separator_.clear();
  }

  void write_run(std::string_view run) {
    start_line();
    open_markers();
    out_ += run;
    content_since_break_ = true;
  }

  void verbatim_line(std::string_view line) {
    out_.push_back('\n');
    std::string prefix = line_prefix();
    if (line.empty()) {
      while (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
    }
    out_ += prefix;
    out_ += line;
  }

  static std::size_t longest_backtick_run(std::string_view s) {
    std::size_t longest = 0;
    std::size_t run = 0;
    for (const char c : s) {
      run = c == '`' ? run + 1 : 0;
      longest = std::max(longest, run);
    }
    return longest;
  }

  std::string out_;
  Break pending_break_ = Break::none;
  bool pending_space_ = false;
  std::string pending_separator_;
  bool at_line_start_ = true;
  bool content_since_break_ = false;
  std::string marker_;  // "## ", "- ", "3. ": written before the next line's text
  int flat_ = 0;        // open headings and table rows
  int quote_ = 0;
  int last_line_quote_ = 0;
  int indent_levels_ = 0;  // lists that are not flat
  std::vector<ListFrame> lists_;
  std::vector<OpenStyle> styles_;
};

// ---------------------------------------------------------------------------------------------
// The article walk.

std::optional<long long> integer_attribute(const GumboNode* node, const char* name) {
  const char* value = attribute(node, name);
  if (value == nullptr) return std::nullopt;
  std::string_view s = trim_ascii(value);
  if (s.starts_with('+')) s.remove_prefix(1);
  long long n = 0;
  const auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (error != std::errc() || end == s.data()) return std::nullopt;
  return std::clamp(n, -k_max_list_number, k_max_list_number);
}

int heading_level(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

bool is_block(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_LEGEND:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_XMP: return true;
    default: return false;
  }
}

enum class Role { inline_text, block, heading, list, item, quote, row, style };

struct Frame {
  const GumboNode* node = nullptr;
  unsigned next_child = 0;
  Role role = Role::inline_text;
  Opened opened = Opened::nothing;
};

// Walks the article with an explicit stack (no recursion, whatever the depth) and tells the
// writer what each element means.
class ArticleConverter {
 public:
  ArticleConverter(MarkdownWriter& out, const GumboNode* title_h1, std::optional<boost::urls::url> link_base)
      : out_(out), title_h1_(title_h1), link_base_(std::move(link_base)) {
    // A <header> holding the article's <h1> is the article's own (byline, date): it is kept.
    for (const GumboNode* n = title_h1; n != nullptr; n = n->parent) {
      if (is_html(n, GUMBO_TAG_HEADER)) kept_headers_.push_back(n);
    }
  }

  void convert(const GumboNode* root) {
    std::vector<Frame> stack{Frame{root}};
    while (!stack.empty()) {
      const GumboVector* children = children_of(stack.back().node);
      if (children == nullptr || stack.back().next_child >= children->length) {
        leave(stack.back());
        stack.pop_back();
        continue;
      }
      const GumboNode* child = child_at(*children, stack.back().next_child++);
      if (is_text(child)) {
        out_.text(child->v.text.text);
      } else if (is_element(child)) {
        if (auto frame = enter(child, stack.size())) stack.push_back(*frame);
      }
    }
  }

 private:
  // Site headers and footers; the article's own header is kept.
  bool is_furniture(const GumboNode* node) const {
    if (is_html(node, GUMBO_TAG_FOOTER)) return true;
    return is_html(node, GUMBO_TAG_HEADER) &&
           std::find(kept_headers_.begin(), kept_headers_.end(), node) == kept_headers_.end();
  }

  // The element's frame, or nullopt when its subtree is done with (skipped or written here).
  std::optional<Frame> enter(const GumboNode* node, std::size_t depth) {
    // The title <h1> is already the first line.
    if (node == title_h1_ || is_never_content(node) || is_furniture(node)) return std::nullopt;
    Frame frame{node};
    if (depth > k_max_depth || node->v.element.tag_namespace != GUMBO_NAMESPACE_HTML) {
      if (is_html(node, GUMBO_TAG_BR)) out_.space();
      return frame;
    }
    const GumboTag tag = node->v.element.tag;
    if (const int level = heading_level(tag)) {
      frame.role = Role::heading;
      frame.opened = out_.begin_heading(level);
    } else if (is_block(tag)) {
      frame.role = Role::block;
      frame.opened = out_.begin_block();
    } else {
      return enter_special(frame, tag);
    }
    return frame;
  }

  std::optional<Frame> enter_special(Frame frame, GumboTag tag) {
    const GumboNode* node = frame.node;
    switch (tag) {
      case GUMBO_TAG_BLOCKQUOTE:
        frame.role = Role::quote;
        frame.opened = out_.begin_quote();
        break;
      case GUMBO_TAG_UL:
      case GUMBO_TAG_MENU:
      case GUMBO_TAG_OL:
        frame.role = Role::list;
        out_.begin_list(tag == GUMBO_TAG_OL, tag == GUMBO_TAG_OL ? integer_attribute(node, "start").value_or(1) : 1);
        break;
      case GUMBO_TAG_LI:
        frame.role = Role::item;
        frame.opened = out_.begin_item(integer_attribute(node, "value"));
        break;
      case GUMBO_TAG_TR:
        frame.role = Role::row;
        out_.begin_row();
        break;
      case GUMBO_TAG_TD:
      case GUMBO_TAG_TH: out_.cell(); break;
      case GUMBO_TAG_STRONG:
      case GUMBO_TAG_B: enter_style(frame, Style::strong); break;
      case GUMBO_TAG_EM:
      case GUMBO_TAG_I: enter_style(frame, Style::em); break;
      case GUMBO_TAG_CODE: enter_style(frame, Style::code); break;
      case GUMBO_TAG_A: enter_link(frame); break;
      case GUMBO_TAG_BR: out_.line_break(); return std::nullopt;
      case GUMBO_TAG_HR: out_.rule(); return std::nullopt;
      case GUMBO_TAG_PRE: out_.code_block(verbatim_text(node)); return std::nullopt;
      case GUMBO_TAG_IMG: return std::nullopt;  // alt text is not article text
      default: break;
    }
    return frame;
  }

  void enter_style(Frame& frame, Style style, std::string url = {}) {
    frame.role = Role::style;
    frame.opened = out_.push_style(style, std::move(url)) ? Opened::owner : Opened::nothing;
  }

  // Links only to http(s) pages: fragments, scripts and unresolvable hrefs leave just the text.
  void enter_link(Frame& frame) {
    const char* href = attribute(frame.node, "href");
    if (href == nullptr) return;
    if (const auto url = http_url(href, link_base_)) enter_style(frame, Style::link, markdown_url(url->buffer()));
  }

  void leave(const Frame& frame) {
    switch (frame.role) {
      case Role::inline_text: break;
      case Role::block: out_.end_block(); break;
      case Role::heading: out_.end_heading(frame.opened); break;
      case Role::list: out_.end_list(); break;
      case Role::item: out_.end_item(frame.opened); break;
      case Role::quote: out_.end_quote(frame.opened); break;
      case Role::row: out_.end_row(); break;
      case Role::style:
        if (frame.opened == Opened::owner) out_.pop_style();
        break;
    }
  }

  MarkdownWriter& out_;
  const GumboNode* title_h1_;
  std::optional<boost::urls::url> link_base_;
  std::vector<const GumboNode*> kept_headers_;
};

// ---------------------------------------------------------------------------------------------
// Parsing.

// Every block gumbo allocates, linked so that the tree is freed in one loop. gumbo_destroy_output
// recurses once per tree level and overflows the stack on a deeply nested page (100,000 nested
// tables are 400,000 levels); freeing the blocks needs no walk of the tree at all.
class GumboArena {
 public:
  GumboArena() = default;
  GumboArena(const GumboArena&) = delete;
  GumboArena& operator=(const GumboArena&) = delete;
  ~GumboArena() {
    while (head_ != nullptr) {
      Block* next = head_->next;
      std::free(head_);
      head_ = next;
    }
  }

  GumboOptions options() {
    GumboOptions o = kGumboDefaultOptions;
    o.allocator = &GumboArena::allocate;
    o.deallocator = &GumboArena::deallocate;
    o.userdata = this;
    o.max_errors = 0;  // parse errors are not used: do not collect them
    return o;
  }

 private:
  // The header keeps the block's payload aligned as malloc's own.
  struct alignas(std::max_align_t) Block {
    Block* prev;
    Block* next;
  };

  static void* allocate(void* userdata, std::size_t size) {
    auto* arena = static_cast<GumboArena*>(userdata);
    // gumbo cannot handle a failed allocation (nor can an exception cross its C frames).
    void* memory = std::malloc(sizeof(Block) + size);
    if (memory == nullptr) std::abort();
    auto* block = new (memory) Block{nullptr, arena->head_};
    if (arena->head_ != nullptr) arena->head_->prev = block;
    arena->head_ = block;
    return block + 1;
  }

  static void deallocate(void* userdata, void* pointer) {
    if (pointer == nullptr) return;
    auto* arena = static_cast<GumboArena*>(userdata);
    Block* block = static_cast<Block*>(pointer) - 1;
    if (block->prev != nullptr) block->prev->next = block->next;
    if (block->next != nullptr) block->next->prev = block->prev;
    if (arena->head_ == block) arena->head_ = block->next;
    std::free(block);
  }

  Block* head_ = nullptr;
};

// Relative links resolve against <base href> (itself resolved against the canonical URL when
// relative), else against the canonical URL: a saved page has no address of its own.
std::optional<boost::urls::url> link_base(std::string_view base_href,
                                          const std::optional<boost::urls::url>& canonical) {
  if (auto base = http_url(base_href, std::nullopt)) return base;
  if (auto base = http_url(base_href, canonical)) return base;
  return canonical;
}

}  // namespace

HtmlDocument parse_html_page(std::string_view html) {
  const char* data = html.empty() ? "" : html.data();
  GumboArena arena;  // owns the whole parse: no gumbo_destroy_output (see GumboArena)
  const GumboOptions options = arena.options();
  const GumboOutput* output = gumbo_parse_with_options(&options, data, html.size());
  const PageFacts facts = read_page_facts(output->document);
  const GumboNode* root = content_root(output->document, output->root);
  const GumboNode* h1 =
      first_element(root, Headers::searched, [](const GumboNode* node) { return is_html(node, GUMBO_TAG_H1); });

  HtmlDocument page;
  page.title = h1 != nullptr ? text_of(h1) : std::string();
  if (page.title.empty()) page.title = facts.title;
  page.published = published_date(facts, root);
  const auto base = http_url(facts.base_href, std::nullopt);
  auto canonical = http_url(facts.canonical, base);
  if (!canonical) canonical = http_url(facts.og_url, base);
  if (canonical) page.canonical_url = canonical->buffer();

  MarkdownWriter writer;
  if (!page.title.empty()) {
    const Opened opened = writer.begin_heading(1);
    writer.text(page.title);
    writer.end_heading(opened);
  }
  ArticleConverter(writer, h1, link_base(facts.base_href, canonical)).convert(root);
  page.markdown = writer.finish();
  return page;
}

}  // namespace roundup::retrieval
