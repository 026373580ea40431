#pragma once
// The platform-neutral answer model: what the bot says, before any platform renders it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roundup::bot {

// How people type the bot's commands where they talk to it: "/papers" in Telegram and the
// terminal; in Slack, words after the app's one slash command ("/roundup papers"). Help and
// command feedback name commands this way, so that what they suggest works where it is read.
struct CommandSpelling {
  std::string prefix = "/";
  std::string operator()(std::string_view command) const { return prefix + std::string(command); }
};

struct RoundupCitation {
  std::string id;
  std::string title;
  std::string month;  // "YYYY-MM" or empty
};

struct PaperCitation {
  std::string paper_id;
  std::string kind;  // paper | listed_paper | news | tool
  std::string title;
  std::string authors;  // short form: "A, B et al."
  std::string url;
  std::optional<std::string> arxiv_id;
  std::vector<RoundupCitation> roundups;
  std::string summary;  // one paragraph, used by listings and digests
};

struct Answer {
  enum class Kind {
    answer,    // extractive answer + citations + related
    listing,   // a list of papers (a roundup, an author, search results)
    roundups,  // which roundups covered something
    no_match,  // nothing matched well; suggestions say what the corpus covers
    help,
    notice,     // a short message (errors a user can act on, command feedback)
    catalogue,  // papers chosen by the catalogue: a month's roundup, an author's papers
    clarify,    // a follow-up with nothing to refer to: the bot asks what is meant
  };
  Kind kind = Kind::answer;
  std::string heading;
  std::vector<std::string> lines;  // the answer sentences, or message lines
  std::vector<PaperCitation> citations;
  std::vector<PaperCitation> related;
  std::vector<std::string> suggestions;
  // How sure the bot is that the answer is right (0..1) and why; set for answers to questions
  // and for their refusals, 1 for listings chosen by metadata.
  double confidence = 0;
  std::string reason;
  bool closest_match = false;  // a plausible but weak match, worded as such
  // Set by the Responder only where retrieval answered a question from passages it was sure of
  // (not from a paper's record, not a closest match): a language model may reword the answer
  // from those passages (bot/grounded_answer.h). Nothing is guessed from the text.
  bool model_may_rewrite = false;
  // The lines are a language model's, citing citations[n-1] with markers [n]; renderers link
  // the markers and list the sources numbered.
  bool written_by_model = false;

  // Numbered papers, each with its summary, rather than one answer and its sources.
  bool is_listing() const { return kind == Kind::listing || kind == Kind::catalogue; }
};

}  // namespace roundup::bot
