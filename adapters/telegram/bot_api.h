#pragma once
// The slice of the Telegram Bot API the bot uses, on the shared HTTPS client. Every call is a
// POST of JSON to <api_base>/bot<token>/<method>; the token is part of the URL, so URLs are never
// logged (the HTTPS client names only the origin in its errors).

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "adapters/http/client.h"
#include "adapters/telegram/update.h"
#include "bot/outbox.h"

namespace roundup::adapters::telegram {

// A call that did not return {"ok": true}. `status` is the HTTP status (0 for transport errors);
// `retry_after` comes from parameters.retry_after on 429.
class BotApiError : public std::runtime_error {
 public:
  BotApiError(int status, std::string description, std::chrono::milliseconds retry_after = {})
      : std::runtime_error(description), status_(status), retry_after_(retry_after) {}
  int status() const noexcept { return status_; }
  std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }
  // 429, 5xx and transport failures can succeed later; 4xx (bad request, forbidden,
  // unauthorized, conflict) cannot without someone changing something.
  bool retryable() const noexcept { return status_ == 0 || status_ == 429 || status_ >= 500; }

 private:
  int status_;
  std::chrono::milliseconds retry_after_;
};

class BotApi {
 public:
  BotApi(http::HttpsClient& client, std::string api_base, const std::string& token);

  // Returns the "result" member. Throws BotApiError. `timeout` bounds the whole exchange.
  nlohmann::json call(const std::string& method, const nlohmann::json& params,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15));

  BotIdentity get_me();
  // Long polling; `timeout_seconds` is Telegram's wait, the HTTP deadline is 15 s above it.
  nlohmann::json get_updates(std::int64_t offset, int timeout_seconds);

  // sendMessage with `params` (chat_id, text, parse_mode, ...). When Telegram cannot parse the
  // HTML entities (400 "can't parse entities"), the same content is sent again as `plain_text`,
  // so a rendering problem never loses an answer. The sent message's id goes to *sent_id, when
  // given and Telegram returns it.
  bot::Delivery send_message(nlohmann::json params, const std::string& plain_text, std::int64_t* sent_id = nullptr);

 private:
  http::HttpsClient& client_;
  std::string base_;  // api_base + "/bot" + token + "/"
};

bot::Delivery to_delivery(const BotApiError& error);

}  // namespace roundup::adapters::telegram
