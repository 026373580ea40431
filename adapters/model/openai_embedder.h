#pragma once
// Remote embeddings (issue 17): retrieval::Embedder over an OpenAI-compatible POST /v1/embeddings
// (Ollama, vLLM, text-embeddings-inference, hosted APIs), for bge-m3, multilingual-e5 and the like.
//
// Indexing sends passages in batches, one request at a time, retrying a busy or failing server a
// bounded number of times; anything else fails the build with a message that says why (the old
// index keeps answering). A question gets its vector within a short deadline or not at all: a
// server that is down, slow or failing, or a circuit breaker opened by repeated failures, leaves
// the question to the lexical ranker, counted in roundup_embedder_query_fallbacks_total{reason}
// and logged (rate-limited), never shown to the user.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/model/openai_api.h"
#include "retrieval/embedder.h"
#include "telemetry/log.h"

namespace roundup::telemetry {
class Counter;
class Registry;
}  // namespace roundup::telemetry

namespace roundup::adapters::http {
struct ClientOptions;
}  // namespace roundup::adapters::http

namespace roundup::adapters::model {

struct OpenAiEmbedderSettings {
  Endpoint endpoint;  // its timeout bounds one request while indexing
  std::string model;
  int dimension = 0;
  std::size_t batch = 32;  // texts per request while indexing
  std::chrono::milliseconds query_timeout{1500};
  // While indexing, a request answered with 429 or 5xx, timed out or cut off is tried this many
  // times in all, waiting retry_min, then twice as long (up to retry_max), with jitter.
  int document_attempts = 4;
  std::chrono::milliseconds retry_min{500};
  std::chrono::milliseconds retry_max{8000};
  // Questions stop calling the server after this many failures in a row, for cool_down.
  int breaker_failures = 3;
  std::chrono::milliseconds breaker_cool_down{30000};
};

// What tests replace.
struct OpenAiEmbedderHooks {
  telemetry::Registry* metrics = nullptr;               // null: the process-wide registry
  CircuitBreaker::Clock clock;                          // empty: std::chrono::steady_clock
  std::function<void(std::chrono::milliseconds)> wait;  // between retries; empty: sleep
};

class OpenAiEmbedder final : public retrieval::Embedder {
 public:
  // Throws std::invalid_argument for a base_url that is not an http(s) URL, std::runtime_error
  // when the client's CA file cannot be loaded.
  OpenAiEmbedder(OpenAiEmbedderSettings settings, const http::ClientOptions& client, OpenAiEmbedderHooks hooks = {});
  ~OpenAiEmbedder() override;
  OpenAiEmbedder(const OpenAiEmbedder&) = delete;
  OpenAiEmbedder& operator=(const OpenAiEmbedder&) = delete;

  // "openai:model=<model>:dim=<dimension>". The server is left out on purpose: the model makes
  // the vectors, whichever server runs it (Ollama on a laptop, TEI on a GPU box), so moving the
  // server or putting TLS in front of it keeps the index. Serving other weights under the same
  // name is the one change it cannot see; rename the model, or reindex after removing the index.
  std::string id() const override;
  std::string kind() const override { return "openai"; }
  std::string model() const override { return settings_.model; }
  int dimension() const override { return settings_.dimension; }
  // One request at a time: the server also embeds the running bot's questions.
  std::size_t max_concurrent_calls() const override { return 1; }
  // Throws std::runtime_error naming the server's origin, the model and the failure.
  void embed_documents(const std::vector<std::string>& texts, float* out) const override;
  bool embed_query(std::string_view text, const TermWeight& weight, float* out) const override;

 private:
  enum class Fallback { timeout, transport, http_status, malformed, circuit_open };
  static constexpr std::size_t k_fallback_reasons = 5;

  // One POST of `texts`; writes texts.size() L2-normalised rows to `out`. Throws ModelCallError
  // (a reply of the wrong shape is Kind::malformed).
  void request(const std::vector<std::string>& texts, std::chrono::milliseconds timeout, float* out) const;
  void fall_back(Fallback reason, std::string_view detail) const;

  OpenAiEmbedderSettings settings_;
  std::string origin_;  // scheme://host:port, the only part of base_url errors name
  std::unique_ptr<http::HttpsClient> client_;
  mutable CircuitBreaker breaker_;
  std::function<void(std::chrono::milliseconds)> wait_;
  telemetry::Counter* fallbacks_[k_fallback_reasons] = {};
  mutable log::RateLimiter fallback_log_{std::chrono::seconds(60)};
};

}  // namespace roundup::adapters::model
