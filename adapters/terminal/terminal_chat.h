#pragma once
// The terminal adapter: a line-based conversation with the same commands as the chat platforms.

#include <iosfwd>

#include "bot/responder.h"

namespace roundup::adapters {

// Reads questions and commands line by line until end of input or /quit. Returns 0.
int run_terminal_chat(const bot::Responder& responder, std::istream& in, std::ostream& out, bool interactive);

}  // namespace roundup::adapters
