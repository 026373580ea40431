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

// A link as the catalog and questions key it, so that every spelling of one link meets:
// "arxiv:2203.15556" for any arXiv abstract, PDF or id form (versions dropped); otherwise
// "url:" + the host (lower case, no "www.") + the path and query (no trailing slash, no
// fragment). Empty for text that is not an http(s) link or an arXiv id.
std::string link_key(std::string_view link);

// The link a question holds, if any: an arXiv id in any form (also a bare "2203.15556" whose
// first four digits are a year and month), or the first http(s) URL. `shown` gets it as typed,
// for replies. Linear in the question.
std::optional<std::string> question_link(std::string_view question, std::string* shown = nullptr);

// arXiv ids encode YYMM: "2203.15556" -> "2022-03". Empty for ids it cannot read.
std::string month_of_arxiv_id(std::string_view arxiv_id);

}  // namespace roundup::retrieval
