#include "bot/citation.h"

#include "bot/responder.h"  // short_authors

namespace roundup::bot {

PaperCitation cite_paper(const retrieval::Paper& paper, std::string summary) {
  PaperCitation c;
  c.paper_id = paper.id;
  c.kind = retrieval::to_string(paper.kind);
  c.title = paper.title;
  c.authors = short_authors(paper.authors);
  c.url = paper.url;
  c.arxiv_id = paper.arxiv_id;
  for (const auto& r : paper.roundups) c.roundups.push_back(RoundupCitation{r.id, r.title, r.month});
  c.summary = std::move(summary);
  return c;
}

}  // namespace roundup::bot
