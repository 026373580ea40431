#pragma once
// Plain-text / Markdown rendering of an Answer, for the terminal and the CLI.

#include <string>

#include "bot/answer.h"

namespace roundup::bot {

std::string render_text(const Answer& answer);

}  // namespace roundup::bot
