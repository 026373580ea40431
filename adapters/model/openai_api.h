#pragma once
// The OpenAI-compatible HTTP API that local model servers (Ollama, vLLM, llama.cpp's server,
// text-embeddings-inference) and hosted services speak: one JSON POST, and a circuit breaker that
// stops calling a server that keeps failing. Shared by the chat-completions and embeddings
// clients; HTTP itself is adapters/http's HttpsClient (TLS verifies peer and host name).
//
// Secrets: the API key goes only into the Authorization header. Errors name the endpoint's origin
// and the failure ("http 503", "timeout"), never the key, the path or the body sent.

#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace roundup::adapters::http {
class HttpsClient;
}  // namespace roundup::adapters::http

namespace roundup::adapters::model {

struct Endpoint {
  // The server's root, with or without a trailing "/v1": "http://127.0.0.1:11434",
  // "https://api.example.com/v1". Requests go to <root>/v1/<api path>.
  std::string base_url;
  std::string api_key;  // empty = no Authorization header (local servers)
  std::chrono::milliseconds timeout{10000};
};

// <root>/v1/<api_path> from an Endpoint's base_url; api_path is e.g. "chat/completions".
std::string api_url(std::string_view base_url, std::string_view api_path);

class ModelCallError : public std::runtime_error {
 public:
  enum class Kind {
    transport,  // could not connect, TLS refused, connection reset
    timeout,    // the endpoint's deadline passed
    status,     // an HTTP status other than 2xx (429 and 5xx included)
    malformed,  // the body is not the JSON the API promises
  };
  ModelCallError(Kind kind, const std::string& what, int http_status = 0)
      : std::runtime_error(what), kind_(kind), http_status_(http_status) {}
  Kind kind() const noexcept { return kind_; }
  int http_status() const noexcept { return http_status_; }
  // "timeout", "http 429", "transport", "malformed JSON": short, for logs and metric labels.
  std::string reason() const;

 private:
  Kind kind_;
  int http_status_;
};

// POSTs `body` as JSON to api_url(endpoint.base_url, api_path) and returns the parsed JSON reply
// (an object). Throws ModelCallError for anything else.
nlohmann::json post_json(http::HttpsClient& client, const Endpoint& endpoint, std::string_view api_path,
                         const nlohmann::json& body);

// Closed: calls go through. After `failures_to_open` failures in a row it opens: calls are
// refused until `cool_down` has passed, then one trial call is let through (half-open); its
// success closes the breaker, its failure opens it again. Thread-safe. The clock is injectable so
// tests move time instead of sleeping.
class CircuitBreaker {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  CircuitBreaker(
      int failures_to_open, std::chrono::milliseconds cool_down,
      Clock now = [] { return std::chrono::steady_clock::now(); });

  // Whether a call may be made now. In the half-open state only the first caller gets true.
  bool allow();
  void record_success();
  void record_failure();
  bool open() const;

 private:
  mutable std::mutex mutex_;
  const int failures_to_open_;
  const std::chrono::milliseconds cool_down_;
  const Clock now_;
  int failures_ = 0;
  bool open_ = false;
  bool trial_in_flight_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

}  // namespace roundup::adapters::model
