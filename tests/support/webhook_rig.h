#pragma once
// What a test or benchmark needs to run the service in webhook mode against a fake platform API:
// the shared credentials, the fake's routes, the configuration, and a Slack event or slash
// command to send.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/platform_config.h"
#include "tests/support/test_tls.h"

namespace roundup::testing {

inline constexpr const char* k_rig_slack_secret = "8f742231b10e8888abcd99yyyzzz85a5";
inline constexpr std::int64_t k_rig_now = 1'700'000'000;  // the pinned Slack clock events are signed with
inline constexpr const char* k_rig_tg_token = "123:TEST";
inline constexpr const char* k_rig_tg_secret = "webhook-secret_1";
inline const std::string k_rig_tg_bot = std::string("/bot") + k_rig_tg_token;

// The Web API / Bot API methods the service calls in Slack events mode or Telegram webhook mode,
// and Slack's response_url, all succeeding. `on_reply` sees the body of each chat.postMessage / sendMessage.
inline void serve_platform_api(FakeApi& api, const std::string& platform,
                               std::function<void(const nlohmann::json&)> on_reply = {}) {
  const auto reply = [on_reply](const std::string& ok_body) {
    return [on_reply, ok_body](const adapters::http::Request& request) {
      if (on_reply) on_reply(nlohmann::json::parse(request.body, nullptr, false));
      return FakeApi::json_reply(ok_body);
    };
  };
  if (platform == "slack") {
    api.on("/api/auth.test", [](const auto&) {
      return FakeApi::json_reply(R"({"ok":true,"user_id":"UBOT","bot_id":"BBOT","team":"Test"})");
    });
    api.on("/api/chat.postMessage", reply(R"({"ok":true,"ts":"1.1"})"));
    api.on("/commands/respond", [](const auto&) { return FakeApi::json_reply("ok"); });  // slash_command_form()
    for (const char* method : {"/api/assistant.threads.setSuggestedPrompts", "/api/assistant.threads.setStatus",
                               "/api/assistant.threads.setTitle"}) {
      api.on(method, [](const auto&) { return FakeApi::json_reply(R"({"ok":true})"); });
    }
  } else {
    api.on(k_rig_tg_bot + "/getMe", [](const auto&) {
      return FakeApi::json_reply(
          R"({"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Roundup","username":"RoundupBot"}})");
    });
    for (const char* method : {"/setMyCommands", "/setWebhook", "/deleteWebhook"}) {
      api.on(k_rig_tg_bot + method, [](const auto&) { return FakeApi::json_reply(R"({"ok":true,"result":true})"); });
    }
    api.on(k_rig_tg_bot + "/sendMessage", reply(R"({"ok":true,"result":{"message_id":1}})"));
  }
}

// The bundled corpus in `data`, listening on 127.0.0.1:0, with `platform` ("slack" in events mode
// or "telegram" in webhook mode) talking to `api` over TLS with the test CA.
inline config::Config webhook_config(const std::filesystem::path& data, const std::string& platform,
                                     const FakeApi& api) {
  auto config = bundled_config(data);
  config.listen = "127.0.0.1:0";
  config.tls.ca_file = test_pki().ca_file;
  if (platform == "slack") {
    slack_of(config).enabled = true;
    slack_of(config).mode = "events";
    slack_of(config).signing_secret.value = k_rig_slack_secret;
    slack_of(config).bot_token.value = "xoxb-test-token";
    slack_of(config).api_base = api.base() + "/api";
  } else {
    telegram_of(config).enabled = true;
    telegram_of(config).mode = "webhook";
    telegram_of(config).bot_token.value = k_rig_tg_token;
    telegram_of(config).secret_token.value = k_rig_tg_secret;
    telegram_of(config).public_url = "https://bot.example.com/telegram/webhook";
    telegram_of(config).api_base = api.base();
  }
  return config;
}

// A Slack Events API app_mention by U1 in channel C1 at ts 1700000000.000100.
inline std::string mention_event(const std::string& event_id, const std::string& text) {
  return nlohmann::json{
      {"type", "event_callback"},
      {"event_id", event_id},
      {"team_id", "T1"},
      {"event",
       {{"type", "app_mention"}, {"user", "U1"}, {"channel", "C1"}, {"ts", "1700000000.000100"}, {"text", text}}}}
      .dump();
}

// A Slack slash command's form body (`/roundup <text>` by `user` in channel C9), as Slack posts
// it, with its response_url on `response_host` (the fake Slack's origin, "https://127.0.0.1:N").
// `text` is form-encoded already ("search+Chinchilla").
inline std::string slash_command_form(const std::string& response_host, const std::string& text,
                                      const std::string& user, const std::string& trigger_id) {
  std::string encoded_url;
  for (const char c : response_host + "/commands/respond") {
    if (c == ':')
      encoded_url += "%3A";
    else if (c == '/')
      encoded_url += "%2F";
    else
      encoded_url += c;
  }
  return "token=x&team_id=T1&channel_id=C9&user_id=" + user + "&command=%2Froundup&text=" + text +
         "&response_url=" + encoded_url + "&trigger_id=" + trigger_id;
}

}  // namespace roundup::testing
