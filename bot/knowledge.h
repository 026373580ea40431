#pragma once
// What the chat service needs from the knowledge base: answers, the catalog (for digests), and the
// admin operations. The production implementation is adapters::cli::Library, which rebuilds the index in
// the background and swaps it in atomically; bot/ only sees this interface.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bot/answer.h"
#include "retrieval/search_engine.h"

namespace roundup::bot {

// A follow-up as the conversation resolved it (bot/dialogue.h): the message, and the papers it
// refers to, by catalog id.
struct FollowUpQuestion {
  std::string text;
  std::vector<std::string> papers;
  // Pick from `papers` the one `text` is about ("which of those is about watermarking?");
  // otherwise the message is about papers[0] ("who wrote it?").
  bool choose = false;
};

class Knowledge {
 public:
  virtual ~Knowledge() = default;

  // A question or a "/help", "/papers [month]", "/search <q>" command; help and command feedback
  // name commands as `commands` spells them. Thread-safe.
  virtual Answer answer(std::string_view input, const CommandSpelling& commands) const = 0;
  // The same, with commands spelled "/papers" (Telegram, the terminal).
  Answer answer(std::string_view input) const { return answer(input, CommandSpelling{}); }
  // A follow-up about papers named before. Context never makes an off-topic question
  // answerable: choosing among papers still needs a confident match. Thread-safe.
  virtual Answer follow_up(const FollowUpQuestion& question, const CommandSpelling& commands) const = 0;
  // The engine answering right now (its catalog lists the papers). Never null once opened.
  virtual std::shared_ptr<const retrieval::SearchEngine> engine() const = 0;

  struct ReindexOutcome {
    bool ok = false;
    std::string summary;           // one paragraph for the admin who asked: what changed, or the error
    bool already_running = false;  // another reindex is running; this call did nothing
  };
  // Incremental rebuild from the corpus, then an atomic swap; the old index answers meanwhile and
  // stays when the build fails. One at a time: a concurrent call reports that one is running.
  virtual ReindexOutcome reindex() = 0;
  // "Roundups: 5", "Months: 2022-05 … 2023-03", "Papers: 44", "Passages: 310", "Index size: …".
  virtual std::vector<std::string> stats_lines() const = 0;
  // The current index's size on disk, for /metrics.
  virtual std::uintmax_t index_bytes() const = 0;
  // The generation of the index answering now (retrieval::KnowledgeBase::generation()); empty
  // before one is loaded.
  virtual std::string index_generation() const {
    const auto current = engine();
    return current ? current->knowledge_base().generation() : std::string();
  }
};

}  // namespace roundup::bot
