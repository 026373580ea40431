#include "adapters/terminal/terminal_chat.h"

#include <istream>
#include <ostream>
#include <string>

#include "bot/render_text.h"
#include "text/unicode.h"

namespace roundup::adapters {

int run_terminal_chat(const bot::Knowledge& knowledge, std::istream& in, std::ostream& out, bool interactive) {
  if (interactive)
    out << "Roundup Bot — ask about the ML paper roundups (English or 中文). /help for commands, /quit to leave.\n";
  std::string line;
  while (true) {
    if (interactive) out << "\n> " << std::flush;
    if (!std::getline(in, line)) break;
    // Checked before trimming: trim() decodes, and would turn bad bytes into U+FFFD.
    if (!text::is_valid_utf8(line)) {
      out << "That line is not valid UTF-8 text; please type it again.\n";
      continue;
    }
    const std::string text = text::trim(line);
    if (text.empty()) continue;
    if (text == "/quit" || text == "/exit") break;
    out << bot::render_text(knowledge.answer(text)) << std::flush;
  }
  if (interactive) out << "\n";
  return 0;
}

}  // namespace roundup::adapters
