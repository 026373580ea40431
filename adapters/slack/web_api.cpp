#include "adapters/slack/web_api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <span>
#include <string_view>

namespace roundup::adapters::slack {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds k_default_rate_limit_wait{1000};
constexpr milliseconds k_max_retry_after{std::chrono::minutes(15)};
constexpr milliseconds k_call_timeout{15000};
// The AI surface's calls decorate a reply that is on its way: worth a few seconds at most.
constexpr milliseconds k_surface_call_timeout{5000};

// Errors that mean "try again later" rather than "this request can never work".
constexpr std::array<std::string_view, 6> k_transient = {"ratelimited",         "internal_error",  "fatal_error",
                                                         "service_unavailable", "request_timeout", "team_added_to_org"};
constexpr std::array<std::string_view, 4> k_block_errors = {"invalid_blocks", "invalid_blocks_format",
                                                            "msg_blocks_too_long", "too_many_blocks"};

bool contains(std::span<const std::string_view> list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Slack's replies are read by type: a member of another type than documented (a proxy's or a
// broken server's JSON) reads as absent, never as an exception from nlohmann.
std::string string_member(const json& reply, const char* name, std::string_view fallback = {}) {
  const auto found = reply.find(name);
  return found != reply.end() && found->is_string() ? found->get<std::string>() : std::string(fallback);
}

// Slack's codes for a token it no longer accepts, and the HTTP status that says the same.
constexpr std::array<std::string_view, 6> k_credential_errors = {"invalid_auth",  "not_authed",    "account_inactive",
                                                                 "token_revoked", "token_expired", "http_401"};

std::string http_code(int status) {
  return "http_" + std::to_string(status);
}

bot::Delivery from_error(const ApiError& error) {
  if (error.code() == "ratelimited")
    return bot::Delivery::rate_limited(error.code(), error.error(), error.retry_after());
  if (error.retryable()) return bot::Delivery::transient(error.code(), error.error(), error.retry_after());
  if (contains(k_credential_errors, error.code())) return bot::Delivery::auth_revoked(error.code(), error.error());
  return bot::Delivery::refused(error.code(), error.error());
}

}  // namespace

bool is_transient_slack_error(std::string_view error) {
  return contains(k_transient, error);
}

milliseconds parse_retry_after(const std::optional<std::string>& header, milliseconds fallback) {
  if (!header) return fallback;
  // RFC 9110 delay-seconds is 1*DIGIT; a date, a sign, a fraction or an exponent falls back. A
  // number too long to matter is capped before any conversion, so nothing can overflow.
  std::string_view text = *header;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return fallback;
  }
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  constexpr auto k_max_seconds = std::chrono::duration_cast<std::chrono::seconds>(k_max_retry_after).count();
  if (text.size() > std::to_string(k_max_seconds).size()) return k_max_retry_after;
  std::int64_t seconds = 0;
  std::from_chars(text.data(), text.data() + text.size(), seconds);
  return std::min<milliseconds>(std::chrono::seconds(seconds), k_max_retry_after);
}

WebApi::WebApi(http::HttpsClient& client, std::string api_base, std::string bot_token, std::string app_token)
    : client_(client),
      api_base_(std::move(api_base)),
      bot_token_(std::move(bot_token)),
      app_token_(std::move(app_token)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

json WebApi::call(const std::string& method, const json& body, const std::string& token, milliseconds timeout) {
  http::ClientRequest request;
  request.url = api_base_ + "/" + method;
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"Authorization", "Bearer " + token}};
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = timeout;
  http::ClientResponse response;
  try {
    response = client_.send(request);
  } catch (const http::TransportError& error) {
    // A TLS failure is almost always configuration (a proxy, a missing CA): retrying is still
    // right, the operator sees it in the log line.
    throw ApiError(method + ": " + std::string(http::to_string(error.kind())) + " error: " + error.what(), true, {},
                   "transport");
  }
  if (response.status == 429) {
    throw ApiError("ratelimited", true, parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait));
  }
  if (response.status >= 500) {
    throw ApiError(method + ": HTTP " + std::to_string(response.status), true, {}, http_code(response.status));
  }
  json reply = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const auto ok = reply.is_object() ? reply.find("ok") : reply.end();
  if (!reply.is_object() || ok == reply.end() || !ok->is_boolean()) {
    throw ApiError(method + ": HTTP " + std::to_string(response.status) + " without a Slack reply", false, {},
                   http_code(response.status));
  }
  if (!ok->get<bool>()) {
    const std::string error = string_member(reply, "error", "unknown_error");
    throw ApiError(error, is_transient_slack_error(error),
                   error == "ratelimited" ? parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait)
                                          : milliseconds{0});
  }
  return reply;
}

AuthIdentity WebApi::auth_test() {
  const json reply = call("auth.test", json::object(), bot_token_, k_call_timeout);
  AuthIdentity identity{string_member(reply, "user_id"), string_member(reply, "bot_id"), string_member(reply, "team")};
  if (identity.user_id.empty()) throw ApiError("auth.test returned no user_id", false);
  return identity;
}

std::string WebApi::open_socket_connection() {
  const json reply = call("apps.connections.open", json::object(), app_token_, k_call_timeout);
  std::string url = string_member(reply, "url");
  if (url.rfind("wss://", 0) != 0 && url.rfind("ws://", 0) != 0) {
    throw ApiError("apps.connections.open returned no wss:// url", true);
  }
  return url;
}

bot::Delivery WebApi::post_message(json body) {
  try {
    call("chat.postMessage", body, bot_token_, k_call_timeout);
    return bot::Delivery::ok();
  } catch (const ApiError& error) {
    if (!contains(k_block_errors, error.error()) || !body.contains("blocks")) return from_error(error);
  }
  body.erase("blocks");
  try {
    call("chat.postMessage", body, bot_token_, k_call_timeout);
    return bot::Delivery::ok();
  } catch (const ApiError& error) {
    return from_error(error);
  }
}

void WebApi::set_suggested_prompts(const std::string& channel, const std::string& thread_ts, const std::string& title,
                                   const json& prompts) {
  json body = {{"channel_id", channel}, {"title", title}, {"prompts", prompts}};
  if (!thread_ts.empty()) body["thread_ts"] = thread_ts;
  call("assistant.threads.setSuggestedPrompts", body, bot_token_, k_surface_call_timeout);
}

void WebApi::set_status(const std::string& channel, const std::string& thread_ts, const std::string& status) {
  call("assistant.threads.setStatus", {{"channel_id", channel}, {"thread_ts", thread_ts}, {"status", status}},
       bot_token_, k_surface_call_timeout);
}

void WebApi::set_title(const std::string& channel, const std::string& thread_ts, const std::string& title) {
  call("assistant.threads.setTitle", {{"channel_id", channel}, {"thread_ts", thread_ts}, {"title", title}}, bot_token_,
       k_surface_call_timeout);
}

void WebApi::add_reaction(const std::string& channel, const std::string& ts, const std::string& name) {
  call("reactions.add", {{"channel", channel}, {"timestamp", ts}, {"name", name}}, bot_token_, k_surface_call_timeout);
}

void WebApi::remove_reaction(const std::string& channel, const std::string& ts, const std::string& name) {
  call("reactions.remove", {{"channel", channel}, {"timestamp", ts}, {"name", name}}, bot_token_,
       k_surface_call_timeout);
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
      return bot::Delivery::rate_limited("ratelimited", "response_url: HTTP 429",
                                         parse_retry_after(response.header("retry-after"), k_default_rate_limit_wait));
    }
    const std::string status = "response_url: HTTP " + std::to_string(response.status);
    if (response.status >= 500) return bot::Delivery::transient(http_code(response.status), status);
    // 404 expired_url / used_url and friends: the URL will not work again.
    return bot::Delivery::refused(http_code(response.status), status + " " + response.body.substr(0, 80));
  } catch (const http::TransportError& error) {
    return bot::Delivery::transient(
        "transport", "response_url: " + std::string(http::to_string(error.kind())) + " error: " + error.what());
  }
}

}  // namespace roundup::adapters::slack
