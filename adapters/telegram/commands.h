#pragma once
// The commands the bot publishes with setMyCommands, shown in Telegram clients' command menu.

#include <nlohmann/json.hpp>

namespace roundup::adapters::telegram {

// An array of BotCommand objects {"command", "description"} (command: 1-32 of a-z 0-9 _;
// description: 1-256 characters), in menu order. The setMyCommands body is
// {"commands": published_commands()}, optionally with a "scope" and "language_code".
inline nlohmann::json published_commands() {
  return nlohmann::json::array({
      {{"command", "start"}, {"description", "What this bot does and how to ask it"}},
      {{"command", "help"}, {"description", "How to ask, with examples"}},
      {{"command", "ask"}, {"description", "Ask a question about the papers in the roundups"}},
      {{"command", "search"}, {"description", "Find the best matching papers"}},
      {{"command", "papers"}, {"description", "List the roundups, or the papers of one month (e.g. 2023-02)"}},
      {{"command", "subscribe"}, {"description", "Get the daily paper digest in this chat"}},
      {{"command", "unsubscribe"}, {"description", "Stop the daily paper digest in this chat"}},
  });
}

}  // namespace roundup::adapters::telegram
