#pragma once
// The terminal adapter: a line-based conversation with the same commands as the chat platforms.

#include <iosfwd>

#include "bot/knowledge.h"

namespace roundup::adapters {

// Reads questions and commands line by line until end of input or /quit, and answers each
// through the knowledge base, the entry point every platform's conversation also ends in.
// Returns 0.
int run_terminal_chat(const bot::Knowledge& knowledge, std::istream& in, std::ostream& out, bool interactive);

}  // namespace roundup::adapters
