#pragma once
// The core's LanguageModel over an OpenAI-compatible chat-completions server (issue 17): Ollama,
// vLLM, llama.cpp's server or a hosted API. One POST /v1/chat/completions per call, bounded by the
// endpoint's timeout; a circuit breaker stops calling a server that keeps failing, so a dead model
// costs a question nothing but the breaker's check.
//
// Secrets: the API key travels only in the Authorization header (openai_api.h). Nothing here logs
// or returns the key, the prompt or a reply body; failures are short reasons ("http 429").

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/model/openai_api.h"
#include "bot/language_model.h"
#include "config/config.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::model {

struct ChatModelSettings {
  Endpoint endpoint;  // its timeout bounds the whole call: connecting, sending and reading
  std::string model;  // the name the server knows it by: "qwen2.5:7b-instruct"
  int max_tokens = 512;
  double temperature = 0.2;
  // The breaker: this many failures in a row stop calls for `cool_down`, then one trial goes.
  int failures_to_open = 3;
  std::chrono::milliseconds cool_down{30000};
  // Extra CA and system store for https:// (tests trust only their own CA).
  http::ClientOptions client;
};

// The settings for `llm` with the bot's outbound TLS (`tls.ca_file` on top of the system store).
ChatModelSettings chat_model_settings(const config::LlmConfig& llm, const config::TlsConfig& tls);

class ChatCompletionsModel final : public bot::LanguageModel {
 public:
  // Registers its metrics in `registry`, which must outlive it: roundup_llm_calls_total{outcome},
  // roundup_llm_call_seconds, roundup_llm_tokens_total{kind}. `clock` drives the breaker only.
  // Throws std::runtime_error when the client's CA file cannot be loaded.
  ChatCompletionsModel(
      ChatModelSettings settings, telemetry::Registry& registry,
      CircuitBreaker::Clock clock = [] { return std::chrono::steady_clock::now(); });
  ~ChatCompletionsModel() override;
  ChatCompletionsModel(const ChatCompletionsModel&) = delete;
  ChatCompletionsModel& operator=(const ChatCompletionsModel&) = delete;

  // `failed` for a transport error, a timeout, a non-2xx status, malformed JSON, no choice, a
  // content that is not text or is blank, and a reply cut short (finish_reason "length") or
  // withheld ("content_filter"); `skipped`, without a request, while the breaker is open.
  bot::ModelReply complete(const std::vector<bot::ChatMessage>& messages) const override;

 private:
  const ChatModelSettings settings_;
  const std::unique_ptr<http::HttpsClient> client_;  // send() is thread-safe
  mutable CircuitBreaker breaker_;
  telemetry::Counter& ok_;
  telemetry::Counter& failed_;
  telemetry::Counter& skipped_;
  telemetry::Histogram& seconds_;
  telemetry::Counter& prompt_tokens_;
  telemetry::Counter& completion_tokens_;
};

}  // namespace roundup::adapters::model
