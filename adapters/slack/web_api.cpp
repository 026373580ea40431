#include "adapters/slack/web_api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

namespace roundup::adapters::slack {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds k_default_rate_limit_wait{1000};
constexpr milliseconds k_max_retry_after{std::chrono::minutes(15)};
constexpr milliseconds k_call_timeout{15000};

// Errors that mean "try again later" rather than "this request can never work".
constexpr std::array<std::string_view, 6> k_transient = {"ratelimited",         "internal_error",  "fatal_error",
                                                         "service_unavailable", "request_timeout", "team_added_to_org"};
constexpr std::array<std::string_view, 4> k_block_errors = {"invalid_blocks", "invalid_blocks_format",
                                                            "msg_blocks_too_long", "too_many_blocks"};

bool contains(std::span<const std::string_view> list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bot::Delivery from_error(const ApiError& error) {
  if (error.retryable()) return bot::Delivery::retry(error.error(), error.retry_after());
  return bot::Delivery::failed(error.error());
}

}  // namespace

bool is_transient_slack_error(std::string_view error) {
  return contains(k_transient, error);
}

milliseconds parse_retry_after(const std::optional<std::string>& header, milliseconds fallback) {
  if (!header) return fallback;
  long seconds = 0;
  const char* begin = header->data();
  const char* end = begin + header->size();
  while (begin < end && *begin == ' ') ++begin;
  const auto [rest, ec] = std::from_chars(begin, end, seconds);
  if (ec != std::errc() || seconds < 0 || rest == begin) return fallback;
  return std::min<milliseconds>(milliseconds(seconds * 1000), k_max_retry_after);
}

WebApi::WebApi(http::HttpsClient& client, std::string api_base, std::string bot_token, std::string app_token)
    : client_(client),
      api_base_(std::move(api_base)),
      bot_token_(std::move(bot_token)),
      app_token_(std::move(app_token)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

json WebApi::call(const std::string& method, const json& body, const std::string& token) {
  http::ClientRequest request;
  request.url = api_base_ + "/" + method;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"Authorization", "Bearer " + token}};
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = k_call_timeout;
  http::ClientResponse response;
  try {
    response = client_.send(request);
  } catch (const http::TransportError& error) {
    // A TLS failure is almost always configuration (a proxy, a missing CA): retrying is still
    // right, the operator sees it in the log line.
    throw ApiError(method + ": " + std::string(http::to_string(error.kind())) + " error: " + error.what(), true);
  }
  if (response.status == 429) {
    throw ApiError("ratelimited", true, parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait));
  }
  if (response.status >= 500) throw ApiError(method + ": HTTP " + std::to_string(response.status), true);
  json reply = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object() || !reply.contains("ok")) {
    throw ApiError(method + ": HTTP " + std::to_string(response.status) + " without a Slack reply",
                   response.status >= 500);
  }
  if (reply.value("ok", false) != true) {
    const std::string error = reply.value("error", std::string("unknown_error"));
    throw ApiError(error, is_transient_slack_error(error),
                   error == "ratelimited" ? parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait)
                                          : milliseconds{0});
  }
  return reply;
}

AuthIdentity WebApi::auth_test() {
  const json reply = call("auth.test", json::object(), bot_token_);
  AuthIdentity identity{reply.value("user_id", std::string()), reply.value("bot_id", std::string()),
                        reply.value("team", std::string())};
  if (identity.user_id.empty()) throw ApiError("auth.test returned no user_id", false);
  return identity;
}

std::string WebApi::open_socket_connection() {
  const json reply = call("apps.connections.open", json::object(), app_token_);
  std::string url = reply.value("url", std::string());
  if (url.rfind("wss://", 0) != 0 && url.rfind("ws://", 0) != 0) {
    throw ApiError("apps.connections.open returned no wss:// url", true);
  }
  return url;
}

bot::Delivery WebApi::post_message(json body) {
  try {
    call("chat.postMessage", body, bot_token_);
    return bot::Delivery::ok();
  } catch (const ApiError& error) {
    if (!contains(k_block_errors, error.error()) || !body.contains("blocks")) return from_error(error);
  }
  body.erase("blocks");
  try {
    call("chat.postMessage", body, bot_token_);
    return bot::Delivery::ok();
  } catch (const ApiError& error) {
    return from_error(error);
  }
}

bot::Delivery WebApi::post_response(const std::string& response_url, const json& body) {
  http::ClientRequest request;
  request.url = response_url;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = k_call_timeout;
  try {
    const auto response = client_.send(request);
    if (response.status >= 200 && response.status < 300) return bot::Delivery::ok();
    if (response.status == 429) {
      return bot::Delivery::retry("ratelimited",
                                  parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait));
    }
    if (response.status >= 500) return bot::Delivery::retry("response_url: HTTP " + std::to_string(response.status));
    // 404 expired_url / used_url and friends: the URL will not work again.
    return bot::Delivery::failed("response_url: HTTP " + std::to_string(response.status) + " " +
                                 response.body.substr(0, 80));
  } catch (const http::TransportError& error) {
    return bot::Delivery::retry("response_url: " + std::string(http::to_string(error.kind())) +
                                " error: " + error.what());
  }
}

}  // namespace roundup::adapters::slack
