#pragma once
// How sure the bot is that a search hit answers the question, from the evidence the ranking saw
// (search_engine.h Evidence). One function so that `search --json`, `ask --json` and the chat
// wording agree; the thresholds that turn it into "answer", "closest match" or "I don't know"
// are the responder's settings.

#include <string>

namespace roundup::retrieval {

struct Evidence;

// 0..1.
double answer_confidence(const Evidence& evidence);

// One line on why the confidence is what it is, for `ask --json` and logs.
std::string confidence_reason(const Evidence& evidence);

}  // namespace roundup::retrieval
