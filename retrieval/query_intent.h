#pragma once
// Understanding simple structured questions, answered from metadata rather than similarity:
// a month or roundup ("February 2023 roundup", "2023年2月"), an author ("papers by Carlini"),
// "which roundups covered Chinchilla?", "list the papers in ...".

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/catalog.h"
#include "retrieval/follow_up_cues.h"

namespace roundup::retrieval {

struct QueryIntent {
  enum class Kind {
    topic,           // free question; filters below may narrow it
    list_roundups,   // list everything in the roundup(s) matching month/roundup_id
    by_author,       // papers by `author`, optionally about `topic`
    which_roundups,  // which roundups covered `topic`
    list_months,     // which roundups (months) there are
    count_papers,    // how many papers, in all or in `month`
    topical,         // every paper about `topic` ("papers on diffusion", "有哪些关于扩散模型的论文")
  };
  Kind kind = Kind::topic;
  std::string topic;                      // the question with the structured parts removed
  std::optional<std::string> month;       // "YYYY-MM"
  std::optional<std::string> roundup_id;  // a roundup named by id
  std::optional<std::string> author;      // as matched in the catalog
  std::optional<std::string> since;       // "YYYY-MM": "since March 2022", "2022年3月以后"
  // "how many ...", "how big ...", "多少", "几个": the answer is a number, so the sentence that
  // states one comes first.
  bool asks_quantity = false;
  // A link or arXiv id the question holds (links.h link_key), and as typed: it is looked up
  // exactly, before any ranking.
  std::optional<std::string> link;
  std::string link_shown;
  // "who wrote …", "link to …", "when was …": the answer's first line comes from the record.
  Attribute attribute = Attribute::none;
};

// Questions are bounded so that one message costs bounded memory and time. The limit people see
// (README, "Limits") is k_max_question_chars code points after NFKC normalisation. The typed
// question is bounded too, before it is normalised, because NFKC can turn one character into 18
// (U+FDFA); composition can also shrink a question, hence the room above the limit.
inline constexpr std::size_t k_max_question_chars = 2000;
inline constexpr std::size_t k_max_typed_question_chars = 4 * k_max_question_chars;

// Whether the question is within both limits. Linear in the question, and reads at most about
// 4 * k_max_typed_question_chars bytes of it.
bool question_within_limits(std::string_view question);

// The question as retrieval reads it: valid UTF-8 (invalid bytes become U+FFFD), NFKC-normalised,
// and cut to the limits above. A longer question is answered from its first part.
std::string bounded_question(std::string_view question);

// Every `phrase` in text replaced by a space. Linear in the text.
std::string blank_out(const std::string& text, std::string_view phrase);

// Reads bounded_question(question).
QueryIntent understand_query(std::string_view question, const Catalog& catalog);

// The things a topic lists, for "papers on speech, audio or music" or "语音、音频和音乐相关的论文":
// {"speech", "audio", "music"}. A topic that lists one thing is itself; at most
// k_max_topic_parts parts, the rest joined to the last, so one question costs a bounded number
// of searches.
inline constexpr std::size_t k_max_topic_parts = 4;
std::vector<std::string> topic_parts(std::string_view topic);

// "2023-02", "February 2023", "Feb 2023", "2023年2月", "2023 年 2 月" -> "2023-02". The span of
// the match is removed from *rest when given. Reads bounded_question(text).
std::optional<std::string> find_month(std::string_view text, std::string* rest = nullptr);

}  // namespace roundup::retrieval
