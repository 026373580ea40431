#pragma once
// Understanding simple structured questions, answered from metadata rather than similarity:
// a month or roundup ("February 2023 roundup", "2023年2月"), an author ("papers by Carlini"),
// "which roundups covered Chinchilla?", "list the papers in ...".

#include <optional>
#include <string>
#include <string_view>

#include "retrieval/catalog.h"

namespace roundup::retrieval {

struct QueryIntent {
  enum class Kind {
    topic,           // free question; filters below may narrow it
    list_roundups,   // list everything in the roundup(s) matching month/roundup_id
    by_author,       // papers by `author`, optionally about `topic`
    which_roundups,  // which roundups covered `topic`
  };
  Kind kind = Kind::topic;
  std::string topic;                      // the question with the structured parts removed
  std::optional<std::string> month;       // "YYYY-MM"
  std::optional<std::string> roundup_id;  // a roundup named by id
  std::optional<std::string> author;      // as matched in the catalog
};

QueryIntent understand_query(std::string_view question, const Catalog& catalog);

// "2023-02", "February 2023", "Feb 2023", "2023年2月", "2023 年 2 月" -> "2023-02". The span of
// the match is removed from *rest when given.
std::optional<std::string> find_month(std::string_view text, std::string* rest = nullptr);

}  // namespace roundup::retrieval
