#include "retrieval/links.h"

#include <algorithm>

#include "retrieval/pattern.h"

namespace roundup::retrieval {

std::optional<std::string> arxiv_id_from_text(std::string_view text) {
  // New-style ids after an arxiv host or an "arXiv:" prefix; versions and ".pdf" are dropped.
  static const Pattern k_new(
      R"((?i)(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|arxiv:\s*)(\d{4}\.\d{4,5})(?:v\d+)?)");
  static const Pattern k_old(R"((?i)(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?)");
  for (const Pattern* p : {&k_new, &k_old})
    if (const auto m = first_match(text, *p)) return std::string((*m)[1]);
  return std::nullopt;
}

std::string arxiv_abs_url(std::string_view arxiv_id) {
  return "https://arxiv.org/abs/" + std::string(arxiv_id);
}

std::string arxiv_title_search_url(std::string_view title) {
  std::string out = "https://arxiv.org/search/?searchtype=title&query=";
  static const char* k_hex = "0123456789ABCDEF";
  for (unsigned char c : title) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 15]);
    }
  }
  return out;
}

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) { return lower(a) == lower(b); });
}

// Where a URL typed in a message ends: white space, or what wraps it (Slack's "<url|label>",
// brackets, quotes, CJK punctuation).
bool ends_url(std::string_view rest) {
  const unsigned char c = static_cast<unsigned char>(rest.front());
  if (c <= ' ' || c == '<' || c == '>' || c == '|' || c == '"' || c == '\'' || c == '(' || c == ')' || c == '[' ||
      c == ']')
    return true;
  // U+3000-U+303F (CJK punctuation: "。", "、", "」") and U+FF01-U+FF0F, U+FF1A-U+FF20 (full-width
  // punctuation) end a URL typed in a Chinese sentence.
  if (c == 0xE3 && rest.size() >= 3 && static_cast<unsigned char>(rest[1]) == 0x80) return true;
  if (c == 0xEF && rest.size() >= 3 && static_cast<unsigned char>(rest[1]) == 0xBC) return true;
  return false;
}

}  // namespace

std::string link_key(std::string_view link) {
  if (auto id = arxiv_id_from_text(link)) return "arxiv:" + *id;
  std::size_t at = 0;
  if (starts_with_ci(link, "https://"))
    at = 8;
  else if (starts_with_ci(link, "http://"))
    at = 7;
  else
    return {};
  std::string_view rest = link.substr(at);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t host_end = std::min(rest.find('/'), rest.find('?'));
  std::string host(rest.substr(0, host_end));
  std::transform(host.begin(), host.end(), host.begin(), lower);
  if (host.rfind("www.", 0) == 0) host.erase(0, 4);
  if (host.empty()) return {};
  std::string path(host_end == std::string_view::npos ? std::string_view() : rest.substr(host_end));
  while (!path.empty() && (path.back() == '/' || path.back() == '.' || path.back() == ',')) path.pop_back();
  return "url:" + host + path;
}

std::optional<std::string> question_link(std::string_view question, std::string* shown) {
  // A URL first: an arXiv URL gives its id through link_key.
  for (std::size_t i = 0; i + 7 <= question.size(); ++i) {
    if (!starts_with_ci(question.substr(i), "http://") && !starts_with_ci(question.substr(i), "https://")) continue;
    std::size_t end = i;
    while (end < question.size() && !ends_url(question.substr(end))) ++end;
    std::string_view url = question.substr(i, end - i);
    while (!url.empty() && (url.back() == '.' || url.back() == ',' || url.back() == '?' || url.back() == '!'))
      url.remove_suffix(1);
    std::string key = link_key(url);
    if (key.empty()) continue;
    if (shown) *shown = std::string(url);
    return key;
  }
  if (auto id = arxiv_id_from_text(question)) {
    if (shown) *shown = "arXiv:" + *id;
    return "arxiv:" + *id;
  }
  // A bare new-style id: four digits that read as a year and month, a dot, four or five digits.
  static const Pattern k_bare(R"((?:^|[^\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?:[^\d.]|$))");
  if (const auto m = first_match(question, k_bare)) {
    const std::string id((*m)[1]);
    if (month_of_arxiv_id(id).empty()) return std::nullopt;
    if (shown) *shown = "arXiv:" + id;
    return "arxiv:" + id;
  }
  return std::nullopt;
}

std::string month_of_arxiv_id(std::string_view arxiv_id) {
  if (arxiv_id.size() < 9 || arxiv_id[4] != '.') return {};
  for (int i = 0; i < 4; ++i)
    if (arxiv_id[static_cast<std::size_t>(i)] < '0' || arxiv_id[static_cast<std::size_t>(i)] > '9') return {};
  const int mm = (arxiv_id[2] - '0') * 10 + (arxiv_id[3] - '0');
  if (mm < 1 || mm > 12) return {};
  return "20" + std::string(arxiv_id.substr(0, 2)) + "-" + std::string(arxiv_id.substr(2, 2));
}

}  // namespace roundup::retrieval
