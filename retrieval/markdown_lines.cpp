#include "retrieval/markdown_lines.h"

#include <algorithm>
#include <set>

#include "retrieval/links.h"
#include "text/unicode.h"

namespace roundup::retrieval::parsing {
namespace {

// Bracket matching is bounded so a pathological line cannot make link scanning quadratic.
constexpr std::size_t k_max_bracket_span = 2000;
// Extra links in a heading ("[项目页面](url)", "[代号](url)") have short texts.
constexpr std::size_t k_extra_link_text_cp = 12;

}  // namespace

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != k_npos;
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

std::optional<std::string> bullet_body(std::string_view line) {
  if (line.size() >= 2 && (line[0] == '*' || line[0] == '-' || line[0] == '+') && (line[1] == ' ' || line[1] == '\t'))
    return trim(line.substr(1));
  for (std::string_view marker : {std::string_view("•"), std::string_view("·")}) {
    if (line.starts_with(marker)) return trim(line.substr(marker.size()));
  }
  return std::nullopt;
}

std::optional<Heading> parse_heading(std::string_view line) {
  std::size_t level = 0;
  while (level < line.size() && line[level] == '#') ++level;
  if (level == 0 || level > 6 || (level < line.size() && line[level] != ' ')) return std::nullopt;
  std::string text = trim(line.substr(level));
  while (!text.empty() && text.back() == '#') text.pop_back();
  return Heading{static_cast<int>(level), trim(text)};
}

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

int chinese_number(std::u32string_view s) {
  static const std::u32string_view k_digits = U"零一二三四五六七八九";
  int value = 0;
  int digit = -1;
  for (char32_t cp : s) {
    const std::size_t d = k_digits.find(cp);
    if (d != std::u32string_view::npos) {
      digit = static_cast<int>(d);
    } else if (cp == U'十') {
      value += (digit < 0 ? 1 : digit) * 10;
      digit = -1;
    } else {
      return 0;
    }
  }
  if (digit > 0) value += digit;
  return value < 100 ? value : 0;
}

std::size_t skip_spaces(std::string_view s, std::size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

std::size_t skip_digits(std::string_view s, std::size_t i) {
  while (i < s.size() && is_digit(s[i])) ++i;
  return i;
}

std::size_t skip_delimiter(std::string_view s, std::size_t i, bool strict) {
  i = skip_spaces(s, i);
  while (i < s.size() && (s[i] == '*' || s[i] == '_')) ++i;
  bool found = false;
  for (std::string_view d : {":", ".", "、", "。", ")", "-", "—", "–", "|", "·"}) {
    if (s.substr(i).starts_with(d)) {
      i += d.size();
      found = true;
      break;
    }
  }
  if (strict && !found && i < s.size()) return k_npos;
  while (i < s.size() && (s[i] == '*' || s[i] == '_' || s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

std::optional<Numbering> split_numbering(std::string_view raw) {
  std::size_t start = 0;
  while (start < raw.size() && (raw[start] == '*' || raw[start] == '_')) ++start;
  if (start > 0 && start < raw.size() && raw[start] == ' ') return std::nullopt;  // a bullet
  const std::string_view s = raw.substr(start);
  Numbering out;
  std::size_t rest = k_npos;
  bool title_required = true;
  if (auto plain = split_number_prefix(s)) {
    out.number = plain->first;
    out.title = std::move(plain->second);
    return out;
  }
  std::size_t i = 0;
  if (!s.empty() && is_digit(s[0]) && (i = skip_digits(s, 0)) <= 3 && s.substr(i).starts_with("\uFE0F\u20E3")) {
    out.number = std::stoi(std::string(s.substr(0, i)));  // keycap emoji "1️⃣"
    rest = skip_delimiter(s, i + std::string_view("\uFE0F\u20E3").size(), false);
  } else if (!s.empty() && (s[0] == '(' || s[0] == '[' || s.starts_with("【"))) {
    const std::size_t open = s[0] == '(' || s[0] == '[' ? 1 : std::string_view("【").size();
    const std::size_t end = skip_digits(s, open);
    const std::string_view close = s.substr(end);
    if (end == open || end - open > 3 || !(close.starts_with(")") || close.starts_with("]") || close.starts_with("】")))
      return std::nullopt;
    out.number = std::stoi(std::string(s.substr(open, end - open)));
    rest = skip_delimiter(s, end + (close.starts_with("】") ? std::string_view("】").size() : 1), false);
  } else if (s.starts_with("#") && s.size() > 1 && is_digit(s[1])) {
    const std::size_t end = skip_digits(s, 1);
    if (end - 1 > 3) return std::nullopt;
    out.number = std::stoi(std::string(s.substr(1, end - 1)));
    rest = skip_delimiter(s, end, false);
    title_required = false;
  } else if (starts_with_ci(s, "no")) {
    std::size_t j = 2;
    if (j < s.size() && s[j] == '.') ++j;
    j = skip_spaces(s, j);
    const std::size_t end = skip_digits(s, j);
    if (end == j || end - j > 3 || (j == 2 && end == 2)) return std::nullopt;
    out.number = std::stoi(std::string(s.substr(j, end - j)));
    rest = skip_delimiter(s, end, false);
    title_required = false;
  } else {
    // "Paper 3:", "论文 3:", "第三篇", "第 3 篇": the line names a paper.
    std::size_t j = k_npos;
    for (std::string_view word : {"paper", "论文", "文章", "article"}) {
      if (starts_with_ci(s, word)) j = skip_spaces(s, word.size());
    }
    if (j != k_npos) {
      const std::size_t end = skip_digits(s, j);
      if (end == j || end - j > 3) return std::nullopt;
      out.number = std::stoi(std::string(s.substr(j, end - j)));
      rest = skip_delimiter(s, end, true);
    } else if (s.starts_with("第")) {
      const std::size_t after = std::string_view("第").size();
      std::size_t unit_at = k_npos;
      std::size_t unit_len = 0;
      for (std::string_view u : {"篇", "个", "项", "名"}) {
        const std::size_t at = s.find(u, after);
        if (at != k_npos && at < unit_at) {
          unit_at = at;
          unit_len = u.size();
        }
      }
      if (unit_at == k_npos || unit_at - after > 12) return std::nullopt;
      const std::string number = trim(s.substr(after, unit_at - after));
      out.number = all_digits(number) ? std::stoi(number) : chinese_number(decode_utf8(number));
      if (out.number <= 0) return std::nullopt;
      rest = skip_delimiter(s, unit_at + unit_len, false);
    } else {
      return std::nullopt;
    }
    out.kind = NumberingKind::paper;
    title_required = false;
  }
  if (rest == k_npos) return std::nullopt;
  out.title = trim(s.substr(std::min(rest, s.size())));
  if (title_required && (out.title.empty() || is_digit(out.title[0]))) return std::nullopt;
  return out;
}

std::string strip_number_prefix(std::string_view s) {
  auto numbering = split_numbering(s);
  return numbering && !numbering->title.empty() ? numbering->title : std::string(s);
}

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

std::optional<std::string> bare_url(std::string_view line) {
  std::string s = trim(line);
  if (s.size() > 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  if (!(starts_with_ci(s, "http://") || starts_with_ci(s, "https://"))) return std::nullopt;
  if (s.find(' ') != std::string::npos) return std::nullopt;
  return s;
}

std::optional<std::string> labelled_url(std::string_view plain) {
  const std::size_t colon = plain.find(':');
  if (colon == k_npos || colon == 0 || utf8_length(plain.substr(0, colon)) > 10) return std::nullopt;
  return bare_url(plain.substr(colon + 1));
}

std::vector<std::string> urls_in(std::string_view raw) {
  std::vector<std::string> urls;
  const auto add = [&urls](std::string url) {
    url = strip_trailing(std::move(url), {".", ",", ";", ")", "]", ">", "*"});
    if (url.size() > 8 && std::find(urls.begin(), urls.end(), url) == urls.end()) urls.push_back(std::move(url));
  };
  std::string rest;
  std::size_t pos = 0;
  for (const MarkdownLink& link : scan_links(raw)) {
    rest.append(raw.substr(pos, link.begin - pos));
    rest.push_back(' ');
    if (!link.image && (starts_with_ci(link.url, "http://") || starts_with_ci(link.url, "https://"))) add(link.url);
    if (!link.image) rest.append(link.text);
    rest.push_back(' ');
    pos = link.end;
  }
  rest.append(raw.substr(std::min(pos, raw.size())));
  for (std::size_t at = 0; (at = rest.find("http", at)) != k_npos;) {
    const std::string_view tail = std::string_view(rest).substr(at);
    if (!(starts_with_ci(tail, "http://") || starts_with_ci(tail, "https://"))) {
      at += 4;
      continue;
    }
    std::size_t end = at;
    while (end < rest.size() && rest[end] != ' ' && rest[end] != '\t' && rest[end] != '<' && rest[end] != '>' &&
           rest[end] != '"' && rest[end] != '\'')
      ++end;
    add(rest.substr(at, end - at));
    at = end;
  }
  return urls;
}

bool is_paper_url(std::string_view url) {
  if (arxiv_id_from_text(url)) return true;
  const std::string lowered = fold(url);
  for (std::string_view host : {"openreview.net/",
                                "aclanthology.org/",
                                "aclweb.org/anthology",
                                "proceedings.neurips.cc/",
                                "papers.nips.cc/",
                                "proceedings.mlr.press/",
                                "huggingface.co/papers/",
                                "paperswithcode.com/paper/",
                                "semanticscholar.org/paper",
                                "dl.acm.org/doi/",
                                "ieeexplore.ieee.org/",
                                "doi.org/",
                                "biorxiv.org/",
                                "medrxiv.org/",
                                "openaccess.thecvf.com/",
                                "jmlr.org/papers",
                                "nature.com/articles/",
                                "science.org/doi/",
                                "ssrn.com/",
                                "researchgate.net/publication"})
    if (contains(lowered, host)) return true;
  std::string path = lowered.substr(0, lowered.find_first_of("?#"));
  return path.ends_with(".pdf");
}

bool is_link_word(std::string_view word) {
  static const std::set<std::string, std::less<>> k_words = {
      "pdf",      "abs",     "html", "arxiv",    "paper",   "link",   "links",  "code",      "github",
      "here",     "project", "page", "demo",     "website", "blog",   "kb",     "mb",        "other",
      "ps",       "论文",    "链接", "代码",     "项目",    "主页",   "地址",   "原文",      "项目主页",
      "official", "repo",    "site", "homepage", "video",   "slides", "poster", "openreview"};
  return k_words.contains(word);
}

std::vector<std::string> link_line_urls(std::string_view raw) {
  std::vector<std::string> urls = urls_in(raw);
  std::string rest;
  std::size_t pos = 0;
  for (const MarkdownLink& link : scan_links(raw)) {
    rest.append(raw.substr(pos, link.begin - pos));
    rest.push_back(' ');
    const std::string text = to_plain(link.text);
    if (!starts_with_ci(text, "http")) rest.append(text);
    rest.push_back(' ');
    pos = link.end;
  }
  rest.append(raw.substr(std::min(pos, raw.size())));
  if (urls.empty()) {
    // "arXiv:2401.04088": an arXiv listing names the paper by id alone.
    const std::string plain = trim(to_plain(rest));
    if (!starts_with_ci(plain, "arxiv:")) return {};
    const auto id = arxiv_id_from_text(plain);
    if (!id) return {};
    urls.push_back(arxiv_abs_url(*id));
    const std::size_t at = rest.find(*id);
    if (at != k_npos) rest.erase(at, id->size());
  }
  // What is left must be link words, numbers and punctuation.
  for (const std::string& url : urls)
    for (std::size_t at = rest.find(url); at != k_npos; at = rest.find(url)) rest.erase(at, url.size());
  std::string word;
  const auto word_ok = [&word] {
    // "512kb": a file size.
    const bool size = word.size() > 2 && all_digits(word.substr(0, word.size() - 2)) &&
                      is_link_word(fold(word.substr(word.size() - 2)));
    const bool ok = word.empty() || all_digits(word) || is_link_word(fold(word)) || size;
    word.clear();
    return ok;
  };
  for (char32_t cp : decode_utf8(rest)) {
    if (is_alnum(cp)) {
      append_utf8(word, cp);
      continue;
    }
    if (!word_ok()) return {};
  }
  if (!word_ok()) return {};
  return urls;
}

const std::map<std::string, FieldKind, std::less<>>& field_labels() {
  static const std::map<std::string, FieldKind, std::less<>> k_labels = [] {
    std::map<std::string, FieldKind, std::less<>> m;
    const auto add = [&m](FieldKind kind, std::initializer_list<std::string_view> labels) {
      for (std::string_view l : labels) m.emplace(std::string(l), kind);
    };
    add(FieldKind::title, {"title", "papertitle", "papername", "论文标题", "标题", "论文名称", "论文题目", "题目",
                           "文章标题", "论文名", "英文标题", "原标题"});
    add(FieldKind::paper, {"paper", "论文"});
    add(FieldKind::authors, {"author", "authors", "by", "作者", "论文作者", "作者们", "authoredby", "writtenby"});
    add(FieldKind::link, {"link", "links", "url", "arxiv", "arxivlink", "pdf", "paperlink", "paperurl", "论文地址",
                          "论文链接", "链接", "地址", "论文网址", "arxiv地址", "arxiv链接", "paperpdf", "pdflink"});
    add(FieldKind::code, {"code",     "github",   "repo",     "repository", "代码",     "代码地址",    "代码链接",
                          "开源地址", "开源代码", "项目代码", "项目地址",   "项目主页", "projectpage", "project",
                          "homepage", "website",  "demo",     "主页",       "官网",     "codelink",    "coderepo"});
    add(FieldKind::summary,
        {"summary",      "abstract",      "tl;dr",    "tldr",     "摘要",        "推荐理由",     "简介",
         "概要",         "概述",          "内容简介", "论文简介", "论文摘要",    "whyitmatters", "keyinsight",
         "keyinsights",  "keyidea",       "mainidea", "takeaway", "takeaways",   "highlights",   "亮点",
         "核心思想",     "主要贡献",      "贡献",     "overview", "description", "whatitis",     "whyitsinteresting",
         "whyread",      "ourtake",       "notes",    "note",     "remarks",     "导读",         "解读",
         "点评",         "一句话总结",    "方法",     "结论",     "结果",        "results",      "findings",
         "contribution", "contributions", "method",   "推荐语",   "看点"});
    add(FieldKind::extra, {"affiliation", "affiliations", "institution", "institutions", "organization", "venue",
                           "conference", "keywords", "tags", "机构", "单位", "作者单位", "会议", "收录", "关键词",
                           "标签", "发表于", "publishedin", "journal-ref"});
    add(FieldKind::ignored,
        {"date",     "published", "publishedon",  "submitted",   "updated",   "categories", "category",
         "subjects", "comments",  "doi",          "license",     "report-no", "msc-class",  "acm-class",
         "发布时间", "发表时间",  "日期",         "时间",        "发布日期",  "upvotes",    "votes",
         "stars",    "likes",     "reading time", "readingtime", "阅读时间",  "字数",       "分类"});
    return m;
  }();
  return k_labels;
}

std::optional<FieldKind> field_label(std::string_view plain_label) {
  std::string key;
  for (char32_t cp : decode_utf8(fold(plain_label)))
    if (is_alnum(cp) || cp == U';' || cp == U'-') append_utf8(key, cp);
  if (key.empty() || utf8_length(key) > 20) return std::nullopt;
  const auto& labels = field_labels();
  const auto it = labels.find(key);
  if (it == labels.end()) return std::nullopt;
  return it->second;
}

std::string_view skip_symbols(std::string_view s) {
  const std::u32string cps = decode_utf8(s.substr(0, std::min<std::size_t>(s.size(), 64)));
  std::size_t bytes = 0;
  for (char32_t cp : cps) {
    if (is_alnum(cp) || cp == U'*' || cp == U'_' || cp == U'[') break;
    std::string one;
    append_utf8(one, cp);
    bytes += one.size();
  }
  return s.substr(std::min(bytes, s.size()));
}

std::optional<Field> parse_field(std::string_view raw) {
  std::string_view s = raw;
  if (auto bullet = bullet_body(s); bullet && bullet->size() < s.size()) s = s.substr(s.size() - bullet->size());
  s = skip_symbols(s);
  // The label ends at the first colon outside link syntax.
  const std::size_t colon = s.find(':');
  const std::size_t bracket = s.find('(');
  if (colon != k_npos && colon > 0 && (bracket == k_npos || colon < bracket) && colon < 80) {
    const std::string label = trim(to_plain(s.substr(0, colon)));
    if (auto kind = field_label(label)) {
      std::string_view value = s.substr(colon + 1);
      while (!value.empty() && (value.front() == '*' || value.front() == '_' || value.front() == ' '))
        value.remove_prefix(1);
      return Field{*kind, label, trim(value)};
    }
  }
  // A label alone on its line: "论文链接", "**Abstract:**", "### TL;DR".
  std::string alone = to_plain(s);
  alone = strip_trailing(trim(alone), {":", " "});
  if (!urls_in(s).empty()) return std::nullopt;  // "[Paper](url)" is a link, not a label
  if (auto kind = field_label(alone); kind && utf8_length(alone) <= 20) return Field{*kind, alone, {}};
  return std::nullopt;
}

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

}  // namespace roundup::retrieval::parsing
