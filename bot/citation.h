#pragma once
// How the bot cites one catalog paper, shared by every answer that lists papers (the Responder's
// search results and listings, the daily digest).

#include <string>

#include "bot/answer.h"
#include "retrieval/catalog.h"

namespace roundup::bot {

// The paper's id, kind, title, short authors, link, arXiv id and roundups (with months), plus the
// given summary paragraph.
PaperCitation cite_paper(const retrieval::Paper& paper, std::string summary);

}  // namespace roundup::bot
