#pragma once
// What a fake OpenAI-compatible chat-completions server replies (tests/support/fake_api.h serves
// it): one choice with `content`, its finish_reason, and the usage the server reports.

#include <nlohmann/json.hpp>
#include <string>

namespace roundup::testing {

inline std::string chat_completion(const std::string& content, const std::string& finish = "stop") {
  return nlohmann::json{
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"choices",
       {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", finish}}}},
      {"usage", {{"prompt_tokens", 120}, {"completion_tokens", 17}, {"total_tokens", 137}}}}
      .dump();
}

}  // namespace roundup::testing
