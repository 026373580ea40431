// The chat-completions client behind the core's LanguageModel port, against a fake
// OpenAI-compatible server on 127.0.0.1 (TLS with the test CA, and plain HTTP as a local Ollama
// serves it): what it sends, every failure as a short reason, the deadline, the circuit breaker on
// an injected clock, and the metrics it records.

#include "adapters/model/chat_model.h"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/fake_api.h"
#include "tests/support/fake_model.h"
#include "tests/support/log_watch.h"
#include "tests/support/metrics_text.h"

namespace model = roundup::adapters::model;
namespace http = roundup::adapters::http;
using roundup::bot::ChatMessage;
using roundup::bot::ModelReply;
using roundup::testing::chat_completion;
using roundup::testing::FakeApi;
using roundup::testing::sample_number;
using roundup::testing::test_pki;

namespace {

const std::string k_path = "/v1/chat/completions";
const std::string k_key = "sk-LEAK-secret-42";
const std::string k_prompt = "What does the paper about PROMPT-LEAK say?";

const std::vector<ChatMessage> k_messages = {{"system", "Answer from the passages only."}, {"user", k_prompt}};

model::ChatModelSettings settings_for(const std::string& base_url, std::string key = "") {
  model::ChatModelSettings settings;
  settings.endpoint = model::Endpoint{base_url, std::move(key), std::chrono::seconds(10)};
  settings.model = "qwen2.5:7b-instruct";
  settings.max_tokens = 300;
  settings.temperature = 0.1;
  settings.client.ca_file = test_pki().ca_file.string();
  settings.client.use_system_store = false;
  return settings;
}

// complete() on another thread, waited for with the test's own deadline: a client that ignored its
// timeout fails the test instead of hanging it.
ModelReply complete_within_deadline(const model::ChatCompletionsModel& llm) {
  auto pending = std::async(std::launch::async, [&] { return llm.complete(k_messages); });
  REQUIRE(pending.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  return pending.get();
}

std::string calls(const roundup::telemetry::Registry& registry, const std::string& outcome) {
  return std::to_string(
      static_cast<int>(sample_number(registry.render(), "roundup_llm_calls_total{outcome=\"" + outcome + "\"}")));
}

}  // namespace

TEST_CASE("chat model: a completion over verified TLS returns the text and the token counts") {
  FakeApi fake;
  fake.script(k_path, FakeApi::json_reply(chat_completion("\n  MusicLM generates music from text.  \n")));
  roundup::telemetry::Registry registry;
  const model::ChatCompletionsModel llm(settings_for(fake.base(), k_key), registry);

  const ModelReply reply = llm.complete(k_messages);
  CHECK(reply.status == ModelReply::Status::ok);
  CHECK(reply.text == "MusicLM generates music from text.");
  CHECK(reply.failure.empty());
  CHECK(reply.prompt_tokens == 120);
  CHECK(reply.completion_tokens == 17);

  const auto seen = fake.requests(k_path);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].request.method == "POST");
  const auto body = nlohmann::json::parse(seen[0].request.body);
  CHECK(body.at("model") == "qwen2.5:7b-instruct");
  CHECK(body.at("max_tokens") == 300);
  CHECK(body.at("temperature").get<double>() == doctest::Approx(0.1));
  CHECK(body.at("stream") == false);
  REQUIRE(body.at("messages").size() == 2);
  CHECK(body.at("messages")[0] == nlohmann::json{{"role", "system"}, {"content", "Answer from the passages only."}});
  CHECK(body.at("messages")[1] == nlohmann::json{{"role", "user"}, {"content", k_prompt}});
  CHECK(seen[0].request.headers.at("authorization") == "Bearer " + k_key);
  CHECK(seen[0].request.headers.at("content-type") == "application/json");

  const std::string text = registry.render();
  CHECK(calls(registry, "ok") == "1");
  CHECK(sample_number(text, "roundup_llm_tokens_total{kind=\"prompt\"}") == 120);
  CHECK(sample_number(text, "roundup_llm_tokens_total{kind=\"completion\"}") == 17);
  CHECK(sample_number(text, "roundup_llm_call_seconds_count") == 1);
}

TEST_CASE("chat model: a local server over plain HTTP gets no Authorization without a key") {
  FakeApi fake(/*tls=*/false);
  // A server that reports no usage: the counts stay unknown.
  fake.script(k_path, FakeApi::json_reply(R"({"choices":[{"message":{"role":"assistant","content":"Yes."}}]})"));
  roundup::telemetry::Registry registry;
  const model::ChatCompletionsModel llm(settings_for(fake.base()), registry);

  const ModelReply reply = llm.complete(k_messages);
  CHECK(reply.status == ModelReply::Status::ok);
  CHECK(reply.text == "Yes.");
  CHECK(reply.prompt_tokens == -1);
  CHECK(reply.completion_tokens == -1);
  const auto seen = fake.requests(k_path);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].request.headers.count("authorization") == 0);
  CHECK(sample_number(registry.render(), "roundup_llm_tokens_total{kind=\"prompt\"}") == 0);
}

TEST_CASE("chat model: every failure is a failed reply with a short reason - never the key or the prompt") {
  for (const bool tls : {true, false}) {
    CAPTURE(tls);
    FakeApi fake(tls);
    roundup::testing::LogWatch log(fake.signal);
    roundup::telemetry::Registry registry;
    model::ChatModelSettings settings = settings_for(fake.base(), k_key);
    settings.failures_to_open = 100;  // the breaker has its own test
    const model::ChatCompletionsModel llm(settings, registry);

    struct Case {
      roundup::adapters::http::Response response;
      std::string reason;
    };
    const std::vector<Case> cases = {
        {FakeApi::json_reply(R"({"error":{"message":"rate limited"}})", 429), "http 429"},
        {FakeApi::json_reply(R"({"error":"boom"})", 500), "http 500"},
        {FakeApi::json_reply(R"({"choices": [)"), "malformed JSON"},
        {FakeApi::json_reply("[]"), "malformed JSON"},
        {FakeApi::json_reply(R"({"choices":[]})"), "no choices"},
        {FakeApi::json_reply(R"({"object":"chat.completion"})"), "no choices"},
        {FakeApi::json_reply(R"({"choices":["text"]})"), "malformed choice"},
        {FakeApi::json_reply(R"({"choices":[{"message":{"role":"assistant","content":null}}]})"), "no content"},
        {FakeApi::json_reply(R"({"choices":[{"message":{"content":["a","b"]}}]})"), "no content"},
        {FakeApi::json_reply(chat_completion("")), "empty content"},
        {FakeApi::json_reply(chat_completion(" \n\t ")), "empty content"},
        {FakeApi::json_reply(chat_completion("MusicLM is a model that", "length")), "truncated"},
        {FakeApi::json_reply(chat_completion("", "content_filter")), "content filtered"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.reason);
      fake.script(k_path, c.response);
      const ModelReply reply = complete_within_deadline(llm);
      CHECK(reply.status == ModelReply::Status::failed);
      CHECK(reply.failure == c.reason);
      CHECK(reply.text.empty());
    }
    CHECK(fake.requests(k_path).size() == cases.size());
    CHECK(calls(registry, "failed") == std::to_string(cases.size()));
    CHECK(calls(registry, "ok") == "0");
    // A truncated reply still cost its tokens.
    CHECK(sample_number(registry.render(), "roundup_llm_tokens_total{kind=\"completion\"}") == 17 * 4);

    REQUIRE(log.wait_for("reason=\"content filtered\""));
    const std::string logged = log.text();
    CHECK(logged.find("reason=\"http 429\"") != std::string::npos);
    CHECK(logged.find("LEAK") == std::string::npos);
  }
}

TEST_CASE("chat model: a server that never answers fails with timeout within the deadline") {
  FakeApi fake;
  fake.hold(k_path);
  roundup::telemetry::Registry registry;
  model::ChatModelSettings settings = settings_for(fake.base(), k_key);
  settings.endpoint.timeout = std::chrono::milliseconds(300);
  const model::ChatCompletionsModel llm(settings, registry);

  const ModelReply reply = complete_within_deadline(llm);
  CHECK(reply.status == ModelReply::Status::failed);
  CHECK(reply.failure == "timeout");
  CHECK(fake.wait_for(k_path, 1));
  fake.release(k_path);
  CHECK(calls(registry, "failed") == "1");
}

TEST_CASE("chat model: nothing listening is a transport failure") {
  unsigned short port = 0;
  {
    FakeApi gone(/*tls=*/false);
    port = gone.port();
  }
  roundup::telemetry::Registry registry;
  const model::ChatCompletionsModel llm(settings_for("http://127.0.0.1:" + std::to_string(port)), registry);
  const ModelReply reply = complete_within_deadline(llm);
  CHECK(reply.status == ModelReply::Status::failed);
  CHECK(reply.failure == "transport");
}

TEST_CASE("chat model: the breaker skips calls after repeated failures - and lets a trial through after cool-down") {
  FakeApi fake;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  roundup::telemetry::Registry registry;
  model::ChatModelSettings settings = settings_for(fake.base(), k_key);
  settings.failures_to_open = 3;
  settings.cool_down = std::chrono::seconds(30);
  const model::ChatCompletionsModel llm(settings, registry, [&now] { return now; });

  for (int i = 0; i < 3; ++i) fake.script(k_path, FakeApi::json_reply(R"({"error":"overloaded"})", 503));
  for (int i = 0; i < 3; ++i) CHECK(llm.complete(k_messages).failure == "http 503");
  CHECK(fake.requests(k_path).size() == 3);

  // Open: no request reaches the server.
  for (int i = 0; i < 2; ++i) {
    const ModelReply skipped = llm.complete(k_messages);
    CHECK(skipped.status == ModelReply::Status::skipped);
    CHECK(skipped.failure == "circuit open");
  }
  CHECK(fake.requests(k_path).size() == 3);
  now += std::chrono::seconds(29);
  CHECK(llm.complete(k_messages).status == ModelReply::Status::skipped);
  CHECK(fake.requests(k_path).size() == 3);

  // After the cool-down one trial goes; its success closes the breaker.
  now += std::chrono::seconds(2);
  fake.on(k_path, [](const http::Request&) { return FakeApi::json_reply(chat_completion("Back again.")); });
  const ModelReply trial = llm.complete(k_messages);
  CHECK(trial.status == ModelReply::Status::ok);
  CHECK(trial.text == "Back again.");
  CHECK(llm.complete(k_messages).status == ModelReply::Status::ok);
  CHECK(fake.requests(k_path).size() == 5);

  CHECK(calls(registry, "ok") == "2");
  CHECK(calls(registry, "failed") == "3");
  CHECK(calls(registry, "skipped") == "3");
  // Skipped calls take no time worth measuring: only the five made are in the histogram.
  CHECK(sample_number(registry.render(), "roundup_llm_call_seconds_count") == 5);
}

TEST_CASE("chat model: an unusable reply from a healthy server does not open the breaker") {
  FakeApi fake;
  roundup::telemetry::Registry registry;
  model::ChatModelSettings settings = settings_for(fake.base());
  settings.failures_to_open = 2;
  const model::ChatCompletionsModel llm(settings, registry);
  for (int i = 0; i < 3; ++i) fake.script(k_path, FakeApi::json_reply(chat_completion("Half an", "length")));
  for (int i = 0; i < 3; ++i) CHECK(llm.complete(k_messages).failure == "truncated");
  fake.script(k_path, FakeApi::json_reply(chat_completion("Whole.")));
  CHECK(llm.complete(k_messages).status == ModelReply::Status::ok);
  CHECK(fake.requests(k_path).size() == 4);
}

TEST_CASE("chat model: settings from the configuration - the key, the deadline and the bot's CA file") {
  roundup::config::LlmConfig llm;
  llm.base_url = "https://api.example.com/v1";
  llm.model = "gpt-4o-mini";
  llm.api_key.value = k_key;
  llm.timeout_ms = 1500;
  llm.max_tokens = 64;
  llm.temperature = 0.7;
  roundup::config::TlsConfig tls;
  tls.ca_file = "/etc/roundup/proxy-ca.pem";
  const model::ChatModelSettings settings = model::chat_model_settings(llm, tls);
  CHECK(settings.endpoint.base_url == "https://api.example.com/v1");
  CHECK(settings.endpoint.api_key == k_key);
  CHECK(settings.endpoint.timeout == std::chrono::milliseconds(1500));
  CHECK(settings.model == "gpt-4o-mini");
  CHECK(settings.max_tokens == 64);
  CHECK(settings.temperature == doctest::Approx(0.7));
  CHECK(settings.client.ca_file == "/etc/roundup/proxy-ca.pem");
  CHECK(settings.client.use_system_store);
}
