#include "retrieval/links.h"

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

std::string month_of_arxiv_id(std::string_view arxiv_id) {
  if (arxiv_id.size() < 9 || arxiv_id[4] != '.') return {};
  for (int i = 0; i < 4; ++i)
    if (arxiv_id[static_cast<std::size_t>(i)] < '0' || arxiv_id[static_cast<std::size_t>(i)] > '9') return {};
  const int mm = (arxiv_id[2] - '0') * 10 + (arxiv_id[3] - '0');
  if (mm < 1 || mm > 12) return {};
  return "20" + std::string(arxiv_id.substr(0, 2)) + "-" + std::string(arxiv_id.substr(2, 2));
}

}  // namespace roundup::retrieval
