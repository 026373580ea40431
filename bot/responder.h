#pragma once
// The conversation core shared by every platform: turns a question or a command into an Answer.

#include <memory>
#include <string>
#include <string_view>

#include "bot/answer.h"
#include "bot/knowledge.h"
#include "retrieval/search_engine.h"

namespace roundup::bot {

struct ResponderSettings {
  std::size_t top_k = 5;
  // The best hit's confidence (retrieval/confidence.h) below min_confidence: "no good match";
  // below sure_confidence: offered as the closest match, not as the answer.
  double min_confidence = 0.3;
  double sure_confidence = 0.6;
};

class Responder {
 public:
  Responder(std::shared_ptr<const retrieval::SearchEngine> engine, ResponderSettings settings);

  // "/help", "/papers [month]", "/search <q>", "/ask <q>", or a plain question. Help and
  // command feedback name commands as `commands` spells them. Input over the question limit gets
  // question_too_long(), here and in ask().
  Answer handle(std::string_view input, const CommandSpelling& commands = {}) const;

  Answer ask(std::string_view question, const CommandSpelling& commands = {}) const;
  // A follow-up the conversation resolved (bot/dialogue.h): about one paper, or choosing one of
  // a list. Answers about one paper come from its record and summary with confidence 1: the
  // conversation named it. Choosing needs a confident match among the listed papers.
  Answer follow_up(const FollowUpQuestion& question, const CommandSpelling& commands = {}) const;
  Answer papers(std::string_view month_or_roundup, const CommandSpelling& commands = {}) const;
  Answer search(std::string_view query) const;
  Answer help(const CommandSpelling& commands = {}) const;

 private:
  PaperCitation cite(const retrieval::SearchHit& hit) const;
  // The first lines of an answer about `attribute` of the paper: its authors, link, or roundups.
  std::vector<std::string> record_lines(std::size_t paper, retrieval::Attribute attribute) const;
  Answer choose(const FollowUpQuestion& question, const CommandSpelling& commands) const;
  Answer count_papers(const std::optional<std::string>& month) const;
  // The ranked papers about `topic`, at most 8, above the relevance floor.
  Answer topical_list(const std::vector<retrieval::SearchHit>& hits, const std::string& topic,
                      const CommandSpelling& commands) const;
  std::string latest_month() const;
  // Whether the paper's title or opening names every name in `subject` (SearchEngine::name_words).
  bool names_paper(std::size_t paper_index,
                   const std::string& subject) const;  // "YYYY-MM" of the newest roundup; empty when none has one
  Answer no_match(std::string_view why) const;
  Answer not_answered(std::string_view why, const retrieval::SearchHit* best, const CommandSpelling& commands) const;
  std::vector<std::string> coverage_lines() const;

  std::shared_ptr<const retrieval::SearchEngine> engine_;
  ResponderSettings settings_;
};

// The reply to a question over the limit (retrieval::question_within_limits; README, "Limits"):
// one message costs bounded memory and time, so a longer one is refused on every surface (chat
// platforms, `ask`, `chat`) rather than answered from a part the asker did not choose.
Answer question_too_long();

// "A, B et al." from a full author list.
std::string short_authors(const std::vector<std::string>& authors);

}  // namespace roundup::bot
