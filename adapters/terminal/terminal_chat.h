#pragma once
// The terminal adapter: a line-based conversation with the same commands as the chat platforms.

#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>

#include "bot/answer.h"
#include "bot/knowledge.h"

namespace roundup::adapters {

// How a reply is printed: the message and its answer -> text (ending in a newline).
using ReplyPrinter = std::function<std::string(std::string_view message, const bot::Answer& answer)>;

// Reads questions and commands line by line until end of input or /quit, and answers each
// through the knowledge base, the entry point every platform's conversation also ends in. The
// session is one conversation: follow-ups ("who wrote it?") read against the lines before
// (bot/dialogue.h), in memory only; "/new" starts another. Replies print as `print` says, by
// default as plain text.
// Returns 0.
int run_terminal_chat(const bot::Knowledge& knowledge, std::istream& in, std::ostream& out, bool interactive,
                      const ReplyPrinter& print = {});

}  // namespace roundup::adapters
