#include "adapters/telegram/bot_api.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace roundup::adapters::telegram {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds k_poll_margin{15};
constexpr std::chrono::seconds k_max_retry_after{3600};

// The Bot API's replies are read by type: a member of another type than documented (a proxy's or
// a broken server's JSON, {"ok":"yes"}) reads as absent, never as an exception from nlohmann.
bool is_true(const json& object, const char* name) {
  const auto found = object.find(name);
  return found != object.end() && found->is_boolean() && found->get<bool>();
}

// parameters.retry_after: whole seconds, as Telegram sends it; a fraction is rounded up and a
// huge value capped without conversion, so nothing overflows. 0 (no hint: the caller's own
// backoff applies) when absent, not a number, or not positive.
std::chrono::milliseconds retry_after_of(const json& reply) {
  const auto parameters = reply.find("parameters");
  if (parameters == reply.end() || !parameters->is_object()) return {};
  const auto value = parameters->find("retry_after");
  if (value == parameters->end()) return {};
  const auto cap = static_cast<std::uint64_t>(k_max_retry_after.count());
  if (value->is_number_unsigned()) {
    return std::chrono::seconds(std::clamp<std::uint64_t>(value->get<std::uint64_t>(), 1, cap));
  }
  if (value->is_number_float()) {
    const double seconds = value->get<double>();
    if (!(seconds > 0)) return {};  // also NaN
    return seconds >= static_cast<double>(cap) ? k_max_retry_after
                                               : std::chrono::seconds(static_cast<std::int64_t>(std::ceil(seconds)));
  }
  return {};  // negative integers, strings, objects
}

}  // namespace

BotApi::BotApi(http::HttpsClient& client, std::string api_base, const std::string& token) : client_(client) {
  while (!api_base.empty() && api_base.back() == '/') api_base.pop_back();
  base_ = api_base + "/bot" + token + "/";
}

json BotApi::call(const std::string& method, const json& params, std::chrono::milliseconds timeout) {
  http::ClientRequest request;
  request.url = base_ + method;
  request.headers = {{"Content-Type", "application/json"}};
  request.body = params.dump(-1, ' ', false, json::error_handler_t::replace);
  request.timeout = timeout;
  http::ClientResponse response;
  try {
    response = client_.send(request);
  } catch (const http::TransportError& error) {
    throw BotApiError(0, method + ": " + std::string(http::to_string(error.kind())) + " error: " + error.what());
  }
  const json reply = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_object() && is_true(reply, "ok") && reply.contains("result")) return reply["result"];
  std::string description = method + ": HTTP " + std::to_string(response.status);
  std::chrono::milliseconds retry_after{0};
  if (reply.is_object()) {
    if (const auto found = reply.find("description"); found != reply.end() && found->is_string()) {
      description += " " + found->get<std::string>();
    }
    retry_after = retry_after_of(reply);
  } else {
    description += " without a Bot API reply";
  }
  // A 2xx without {"ok": true} is a broken server: treat as transient.
  const int status = response.status >= 200 && response.status < 300 ? 502 : response.status;
  throw BotApiError(status, description, retry_after);
}

BotIdentity BotApi::get_me() {
  const json me = call("getMe", json::object());
  BotIdentity identity;
  if (me.is_object()) {
    if (const auto id = me.find("id"); id != me.end() && id->is_number_integer()) {
      identity.id = id->get<std::int64_t>();
    }
    if (const auto username = me.find("username"); username != me.end() && username->is_string()) {
      identity.username = username->get<std::string>();
    }
  }
  if (identity.id == 0 || identity.username.empty()) throw BotApiError(502, "getMe returned no id or username");
  return identity;
}

json BotApi::get_updates(std::int64_t offset, int timeout_seconds) {
  const json params = {{"offset", offset}, {"timeout", timeout_seconds}, {"allowed_updates", json::array({"message"})}};
  const json result = call("getUpdates", params, std::chrono::seconds(timeout_seconds) + k_poll_margin);
  return result.is_array() ? result : json::array();
}

bot::Delivery to_delivery(const BotApiError& error) {
  const std::string code = error.status() == 0 ? "transport" : "http_" + std::to_string(error.status());
  if (error.status() == 429) return bot::Delivery::rate_limited(code, error.what(), error.retry_after());
  if (error.retryable()) return bot::Delivery::transient(code, error.what(), error.retry_after());
  // 401: the token was revoked. 403 (blocked by the user, kicked) and 400 are this chat's or this
  // message's, and final.
  if (error.status() == 401) return bot::Delivery::auth_revoked(code, error.what());
  return bot::Delivery::refused(code, error.what());
}

bot::Delivery BotApi::send_message(json params, const std::string& plain_text, std::int64_t* sent_id) {
  // The sent Message's id, for a caller that keeps track of what replies to it.
  const auto note_id = [sent_id](const json& message) {
    if (sent_id && message.is_object() && message.contains("message_id") && message["message_id"].is_number_integer())
      *sent_id = message["message_id"].get<std::int64_t>();
  };
  try {
    note_id(call("sendMessage", params));
    return bot::Delivery::ok();
  } catch (const BotApiError& error) {
    const std::string what = error.what();
    if (error.status() != 400 || what.find("can't parse entities") == std::string::npos) return to_delivery(error);
  }
  params.erase("parse_mode");
  params["text"] = plain_text;
  try {
    note_id(call("sendMessage", params));
    return bot::Delivery::ok();
  } catch (const BotApiError& error) {
    return to_delivery(error);
  }
}

}  // namespace roundup::adapters::telegram
