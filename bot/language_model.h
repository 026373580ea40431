#pragma once
// The port to an optional language model (issue 17): a chat-completions call the core makes only
// after retrieval has decided to answer. The core builds the prompt and checks the reply
// (bot/grounded_answer.h); the adapter (adapters/model/) speaks the wire protocol, bounds the
// call by its deadline and stops calling a failing server for a while. Nothing here knows HTTP.

#include <cstdint>
#include <string>
#include <vector>

namespace roundup::bot {

struct ChatMessage {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

struct ModelReply {
  enum class Status {
    ok,       // `text` is the model's reply (not yet checked: the caller grounds it)
    failed,   // transport error, timeout, 4xx/5xx, malformed JSON, empty choice
    skipped,  // not called: the circuit breaker is open after repeated failures
  };
  Status status = Status::failed;
  std::string text;
  // Why it failed or was skipped, for logs and metrics: "timeout", "http 429", "malformed JSON",
  // "circuit open". Never holds a secret, a URL's path or the request body.
  std::string failure;
  std::int64_t prompt_tokens = -1, completion_tokens = -1;  // -1 when the server did not report
};

class LanguageModel {
 public:
  virtual ~LanguageModel() = default;
  // Blocks for at most the adapter's configured deadline; never throws. Thread-safe.
  virtual ModelReply complete(const std::vector<ChatMessage>& messages) const = 0;
};

}  // namespace roundup::bot
