#pragma once
// Answers written by a language model, grounded in the passages retrieval chose (issue 17).
// Retrieval still decides whether to answer and with which papers; the model only rewords an
// answer retrieval was sure of, from those papers' summaries, citing them as [n]. A reply that
// cites nothing, cites a passage it was not given, or says the passages do not cover the question
// is never shown: the extractive answer is. Nothing here knows HTTP (bot/language_model.h).

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bot/answer.h"
#include "bot/knowledge.h"
#include "bot/language_model.h"

namespace roundup::bot {

// What the model must reply, alone, when the passages do not answer the question.
inline constexpr std::string_view k_not_covered = "NOT_COVERED";
// The prompt's bounds: few enough passages and bytes that every model's context holds them.
inline constexpr std::size_t k_max_passages = 6;
inline constexpr std::size_t k_max_passage_summary_bytes = 1200;
// A longer reply is not a few sentences; it is refused rather than cut mid-claim.
inline constexpr std::size_t k_max_reply_bytes = 4000;

// A piece of model text: prose, or one citation marker. "[1, 2]" and "[1][2]" both give two
// markers; full-width brackets and commas ("［1，2］") are read the same way.
struct MarkerSegment {
  std::string_view text;   // the prose (empty for a marker)
  std::size_t marker = 0;  // the passage number, 1-based; 0 for prose
};
// Linear in the text; segments view into it. Text that only looks like a marker ("[0]",
// "[1-3]") is prose.
std::vector<MarkerSegment> split_markers(std::string_view text);

enum class QuestionLanguage { english, chinese };
// Chinese when Han characters carry about as much of the question as Latin letters do (a Han
// character weighs about a short English word, as in the roundups' own language guess).
QuestionLanguage question_language(std::string_view question);

// The papers the model may use, in the order its markers number them: the answer's citations,
// then its related papers; at most k_max_passages, each paper once.
std::vector<PaperCitation> passages_of(const Answer& answer);

// The system message (the rules) and the user message (question, its language, and the passages
// numbered [1]..[n] with title, roundup months and summary, cut on a code point boundary).
std::vector<ChatMessage> grounded_prompt(std::string_view question, const std::vector<PaperCitation>& passages);

// Why `reply` may not be shown as an answer from `passage_count` passages; empty when it may.
std::string ungrounded_reason(std::string_view reply, std::size_t passage_count);

// The reply as answer lines: one per non-blank line, trimmed, control characters removed (the
// terminal shows model text as is).
std::vector<std::string> reply_lines(std::string_view reply);

// How one answer went, for the service's counters.
struct GroundingOutcome {
  enum class Kind {
    model_answered,  // the model's grounded reply is the answer
    fell_back,       // the model was asked, and the extractive answer is shown; `reason` says why
    not_eligible,    // retrieval did not answer with passages (a refusal, listing, command...)
  };
  Kind kind = Kind::not_eligible;
  std::string reason;  // for fell_back: "failed: timeout", "skipped: circuit open", "no citation"...
};
// Called on the answering thread, once per answer; answers run concurrently, so it must be
// thread-safe (a metrics counter is).
using GroundingObserver = std::function<void(const GroundingOutcome&)>;

// `answer` written by `model` when retrieval answered it from passages and the reply is grounded;
// otherwise `answer` unchanged. The observer (optional) hears every outcome.
Answer ground_answer(std::string_view question, Answer answer, const LanguageModel& model,
                     const GroundingObserver& observer);

// A Knowledge whose answers to questions ("/ask <question>" included) the model writes
// (ground_answer); other commands, admin operations and everything retrieval did not answer from
// passages are the inner one's.
class GroundedKnowledge final : public Knowledge {
 public:
  GroundedKnowledge(std::shared_ptr<Knowledge> inner, std::shared_ptr<const LanguageModel> model,
                    GroundingObserver observer = {});

  using Knowledge::answer;
  Answer answer(std::string_view input, const CommandSpelling& commands) const override;
  Answer follow_up(const FollowUpQuestion& question, const CommandSpelling& commands) const override;
  std::shared_ptr<const retrieval::SearchEngine> engine() const override { return inner_->engine(); }
  ReindexOutcome reindex() override { return inner_->reindex(); }
  std::vector<std::string> stats_lines() const override { return inner_->stats_lines(); }
  std::uintmax_t index_bytes() const override { return inner_->index_bytes(); }
  std::string index_generation() const override { return inner_->index_generation(); }

 private:
  std::shared_ptr<Knowledge> inner_;
  std::shared_ptr<const LanguageModel> model_;
  GroundingObserver observer_;
};

}  // namespace roundup::bot
