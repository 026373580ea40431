#include "adapters/telegram/bot_api.h"

#include <algorithm>

namespace roundup::adapters::telegram {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds k_poll_margin{15};
constexpr std::chrono::seconds k_max_retry_after{3600};

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
  if (reply.is_object() && reply.value("ok", false) == true && reply.contains("result")) return reply["result"];
  std::string description = method + ": HTTP " + std::to_string(response.status);
  std::chrono::milliseconds retry_after{0};
  if (reply.is_object()) {
    if (reply.contains("description") && reply["description"].is_string()) {
      description += " " + reply["description"].get<std::string>();
    }
    const auto parameters = reply.find("parameters");
    if (parameters != reply.end() && parameters->is_object() && parameters->contains("retry_after") &&
        (*parameters)["retry_after"].is_number_integer()) {
      const auto seconds =
          std::clamp<std::int64_t>((*parameters)["retry_after"].get<std::int64_t>(), 1, k_max_retry_after.count());
      retry_after = std::chrono::seconds(seconds);
    }
  }
  // A 2xx without {"ok": true} is a broken server: treat as transient.
  const int status = response.status >= 200 && response.status < 300 ? 502 : response.status;
  throw BotApiError(status, description, retry_after);
}

BotIdentity BotApi::get_me() {
  const json me = call("getMe", json::object());
  BotIdentity identity;
  if (me.is_object()) {
    identity.id = me.value("id", std::int64_t{0});
    identity.username = me.value("username", std::string());
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
  if (error.retryable()) return bot::Delivery::retry(error.what(), error.retry_after());
  return bot::Delivery::failed(error.what());
}

bot::Delivery BotApi::send_message(json params, const std::string& plain_text) {
  try {
    call("sendMessage", params);
    return bot::Delivery::ok();
  } catch (const BotApiError& error) {
    const std::string what = error.what();
    if (error.status() != 400 || what.find("can't parse entities") == std::string::npos) return to_delivery(error);
  }
  params.erase("parse_mode");
  params["text"] = plain_text;
  try {
    call("sendMessage", params);
    return bot::Delivery::ok();
  } catch (const BotApiError& error) {
    return to_delivery(error);
  }
}

}  // namespace roundup::adapters::telegram
