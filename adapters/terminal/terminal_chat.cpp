#include "adapters/terminal/terminal_chat.h"

#include <istream>
#include <ostream>
#include <string>

#include "bot/dialogue.h"
#include "bot/render_text.h"
#include "text/unicode.h"

namespace roundup::adapters {

int run_terminal_chat(const bot::Knowledge& knowledge, std::istream& in, std::ostream& out, bool interactive,
                      const ReplyPrinter& print) {
  bot::DialogueState dialogue;
  if (interactive)
    out << "Roundup Bot — ask about the ML paper roundups (English or 中文). /help for commands, /quit to leave.\n";
  std::string line;
  while (true) {
    if (interactive) out << "\n> " << std::flush;
    if (!std::getline(in, line)) break;
    // Checked before trimming: trim() decodes, and would turn bad bytes into U+FFFD.
    if (!text::is_valid_utf8(line)) {
      bot::Answer refused;
      refused.kind = bot::Answer::Kind::notice;
      refused.lines = {"That line is not valid UTF-8 text; please type it again."};
      out << (print ? print("", refused) : bot::render_text(refused)) << std::flush;
      continue;
    }
    const std::string text = text::trim(line);
    if (text.empty()) continue;
    if (text == "/quit" || text == "/exit") break;
    if (text == "/new") {  // forget the conversation so far: "it" refers to nothing again
      dialogue = {};
      bot::Answer started;
      started.kind = bot::Answer::Kind::notice;
      started.lines = {"Started a new conversation."};
      out << (print ? print(text, started) : bot::render_text(started)) << std::flush;
      continue;
    }
    const bot::Answer answer = bot::answer_in_dialogue(knowledge, dialogue, text, bot::CommandSpelling{});
    out << (print ? print(text, answer) : bot::render_text(answer)) << std::flush;
  }
  if (interactive) out << "\n";
  return 0;
}

}  // namespace roundup::adapters
