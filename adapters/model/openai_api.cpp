#include "adapters/model/openai_api.h"

#include <nlohmann/json.hpp>

#include "adapters/http/client.h"

namespace roundup::adapters::model {

std::string api_url(std::string_view base_url, std::string_view api_path) {
  std::string root(base_url);
  while (!root.empty() && root.back() == '/') root.pop_back();
  // Operators copy either form from their server's docs; both mean the same API.
  if (root.size() >= 3 && root.compare(root.size() - 3, 3, "/v1") == 0) root.resize(root.size() - 3);
  while (!api_path.empty() && api_path.front() == '/') api_path.remove_prefix(1);
  return root + "/v1/" + std::string(api_path);
}

std::string ModelCallError::reason() const {
  switch (kind_) {
    case Kind::transport: return "transport";
    case Kind::timeout: return "timeout";
    case Kind::status: return "http " + std::to_string(http_status_);
    case Kind::malformed: return "malformed JSON";
  }
  return "unknown";
}

nlohmann::json post_json(http::HttpsClient& client, const Endpoint& endpoint, std::string_view api_path,
                         const nlohmann::json& body) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = api_url(endpoint.base_url, api_path);
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("Accept", "application/json");
  if (!endpoint.api_key.empty()) request.headers.emplace_back("Authorization", "Bearer " + endpoint.api_key);
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.timeout = endpoint.timeout;

  const std::string where = "POST /v1/" + std::string(api_path);
  http::ClientResponse response;
  try {
    response = client.send(request);
  } catch (const http::TransportError& e) {
    const auto kind = e.kind() == http::TransportError::Kind::timeout ? ModelCallError::Kind::timeout
                                                                      : ModelCallError::Kind::transport;
    // TransportError's message names the method and origin only (adapters/http/client.h).
    throw ModelCallError(kind, where + ": " + e.what());
  } catch (const std::invalid_argument& e) {
    throw ModelCallError(ModelCallError::Kind::transport, where + ": invalid request: " + e.what());
  }
  if (response.status < 200 || response.status > 299)
    throw ModelCallError(ModelCallError::Kind::status, where + ": HTTP " + std::to_string(response.status),
                         response.status);
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    throw ModelCallError(ModelCallError::Kind::malformed, where + ": the reply is not a JSON object");
  return parsed;
}

CircuitBreaker::CircuitBreaker(int failures_to_open, std::chrono::milliseconds cool_down, Clock now)
    : failures_to_open_(failures_to_open < 1 ? 1 : failures_to_open), cool_down_(cool_down), now_(std::move(now)) {}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mutex_);
  if (!open_) return true;
  if (trial_in_flight_ || now_() - opened_at_ < cool_down_) return false;
  trial_in_flight_ = true;
  return true;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mutex_);
  failures_ = 0;
  open_ = false;
  trial_in_flight_ = false;
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mutex_);
  trial_in_flight_ = false;
  if (open_ || ++failures_ >= failures_to_open_) {
    open_ = true;
    opened_at_ = now_();
  }
}

bool CircuitBreaker::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace roundup::adapters::model
