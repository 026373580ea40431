#pragma once
// The slice of Slack's Web API the bot uses, on the shared HTTPS client: auth.test at start,
// chat.postMessage for answers, response_url posts for slash commands, apps.connections.open for
// Socket Mode. Results are classified for the outbox: delivered, retry (429 with Retry-After,
// 5xx, network errors, Slack's transient error codes) or failed (permanent Slack errors).

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "adapters/http/client.h"
#include "bot/outbox.h"

namespace roundup::adapters::slack {

struct AuthIdentity {
  std::string user_id;  // our bot user: messages from it are ignored, mentions of it stripped
  std::string bot_id;
  std::string team;
};

// A Web API call that did not succeed. `error` is Slack's error code ("invalid_auth") or a
// transport/HTTP description; `code` is Slack's error code, "http_<status>" or "transport" (empty
// in the constructor: the same as `error`); `retryable` says whether trying again can help.
class ApiError : public std::runtime_error {
 public:
  ApiError(std::string error, bool retryable, std::chrono::milliseconds retry_after = {}, std::string code = {})
      : std::runtime_error(error),
        error_(std::move(error)),
        code_(code.empty() ? error_ : std::move(code)),
        retryable_(retryable),
        retry_after_(retry_after) {}
  const std::string& error() const noexcept { return error_; }
  const std::string& code() const noexcept { return code_; }
  bool retryable() const noexcept { return retryable_; }
  std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }

 private:
  std::string error_;
  std::string code_;
  bool retryable_;
  std::chrono::milliseconds retry_after_;
};

class WebApi {
 public:
  // `api_base` like "https://slack.com/api". The client must outlive this object.
  WebApi(http::HttpsClient& client, std::string api_base, std::string bot_token, std::string app_token = {});

  // Throws ApiError.
  AuthIdentity auth_test();
  // Socket Mode: a fresh wss:// URL (app-level token). Throws ApiError.
  std::string open_socket_connection();

  // One chat.postMessage; `body` already has channel, text, blocks, thread_ts. When Slack
  // rejects the blocks (invalid_blocks, msg_blocks_too_long, ...) the same message is resent
  // once as plain text, so content is never dropped for a rendering problem.
  bot::Delivery post_message(nlohmann::json body);
  // One post to a slash command's response_url.
  bot::Delivery post_response(const std::string& response_url, const nlohmann::json& body);

  // The AI-app surface (assistant.threads.*, scope assistant:write). Best-effort extras beside the
  // replies, so each call is tried once with a short timeout and throws ApiError on failure.
  // Suggested prompts (at most 4 {title, message}) go to the DM `channel`: with an empty
  // `thread_ts` for the agent messaging experience (Slack drops the call silently for an agent app
  // when thread_ts is set), in the thread for the legacy assistant pane.
  void set_suggested_prompts(const std::string& channel, const std::string& thread_ts, const std::string& title,
                             const nlohmann::json& prompts);
  // "<app name> <status>" under the thread until the next reply there (or two minutes).
  void set_status(const std::string& channel, const std::string& thread_ts, const std::string& status);
  // The thread's name in the app's history.
  void set_title(const std::string& channel, const std::string& thread_ts, const std::string& title);
  // reactions.add / reactions.remove of the emoji `name` ("eyes") on the message `ts`.
  void add_reaction(const std::string& channel, const std::string& ts, const std::string& name);
  void remove_reaction(const std::string& channel, const std::string& ts, const std::string& name);

 private:
  // POSTs JSON with the given token and returns Slack's parsed reply; throws ApiError.
  nlohmann::json call(const std::string& method, const nlohmann::json& body, const std::string& token,
                      std::chrono::milliseconds timeout);

  http::HttpsClient& client_;
  std::string api_base_;
  std::string bot_token_;
  std::string app_token_;
};

// Classifies a Slack error code from {"ok": false, "error": ...}.
bool is_transient_slack_error(std::string_view error);
// "Retry-After: 3" -> 3000 ms; missing or malformed -> fallback.
std::chrono::milliseconds parse_retry_after(const std::optional<std::string>& header,
                                            std::chrono::milliseconds fallback);

}  // namespace roundup::adapters::slack
