#pragma once
// Paper links: arXiv id extraction and the fallback arXiv search link.

#include <optional>
#include <string>
#include <string_view>

namespace roundup::retrieval {

// "https://arxiv.org/abs/2203.15556v2", ".../pdf/2203.15556.pdf", "arXiv:2203.15556" -> "2203.15556".
// Old-style ids ("cs/0112017") are kept with their archive prefix.
std::optional<std::string> arxiv_id_from_text(std::string_view text);

// Canonical abstract page for an id.
std::string arxiv_abs_url(std::string_view arxiv_id);

// A deterministic arXiv title search, for papers the roundup gives no link for.
std::string arxiv_title_search_url(std::string_view title);

// arXiv ids encode YYMM: "2203.15556" -> "2022-03". Empty for ids it cannot read.
std::string month_of_arxiv_id(std::string_view arxiv_id);

}  // namespace roundup::retrieval
