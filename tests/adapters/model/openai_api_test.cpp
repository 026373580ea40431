// The OpenAI-compatible transport shared by the chat and embeddings clients: URLs, the
// Authorization header, every failure turned into a ModelCallError that names no secret, and the
// circuit breaker on an injected clock.

#include "adapters/model/openai_api.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "adapters/http/client.h"
#include "tests/support/fake_api.h"

namespace model = roundup::adapters::model;
namespace http = roundup::adapters::http;
using roundup::testing::FakeApi;
using roundup::testing::test_pki;

namespace {

http::ClientOptions trusting_test_ca() {
  http::ClientOptions options;
  options.ca_file = test_pki().ca_file.string();
  options.use_system_store = false;
  return options;
}

model::ModelCallError::Kind failure(http::HttpsClient& client, const model::Endpoint& endpoint,
                                    std::string* message = nullptr) {
  try {
    model::post_json(client, endpoint, "chat/completions", nlohmann::json{{"model", "m"}});
  } catch (const model::ModelCallError& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  FAIL("post_json did not throw");
  return model::ModelCallError::Kind::transport;
}

}  // namespace

TEST_CASE("model api: the URL is <root>/v1/<path> whether or not the base names /v1") {
  CHECK(model::api_url("http://127.0.0.1:11434", "chat/completions") == "http://127.0.0.1:11434/v1/chat/completions");
  CHECK(model::api_url("http://127.0.0.1:11434/", "/embeddings") == "http://127.0.0.1:11434/v1/embeddings");
  CHECK(model::api_url("https://api.example.com/v1", "embeddings") == "https://api.example.com/v1/embeddings");
  CHECK(model::api_url("https://api.example.com/v1/", "embeddings") == "https://api.example.com/v1/embeddings");
}

TEST_CASE("model api: a JSON POST over verified TLS carries the key only in Authorization") {
  FakeApi fake;
  fake.on("/v1/chat/completions", [](const http::Request&) { return FakeApi::json_reply(R"({"ok":1})"); });
  http::HttpsClient client(trusting_test_ca());
  const model::Endpoint endpoint{fake.base(), "sk-secret-123", std::chrono::seconds(10)};
  const nlohmann::json reply = model::post_json(client, endpoint, "chat/completions", {{"model", "m"}});
  CHECK(reply.at("ok") == 1);
  const auto seen = fake.requests("/v1/chat/completions");
  REQUIRE(seen.size() == 1);
  CHECK(nlohmann::json::parse(seen[0].request.body).at("model") == "m");
  bool bearer = false;
  for (const auto& [name, value] : seen[0].request.headers) bearer |= value == "Bearer sk-secret-123";
  CHECK(bearer);
}

TEST_CASE("model api: failures are typed and never echo the key") {
  FakeApi fake;
  http::HttpsClient client(trusting_test_ca());
  model::Endpoint endpoint{fake.base(), "sk-secret-123", std::chrono::seconds(10)};
  std::string message;

  fake.script("/v1/chat/completions", FakeApi::json_reply(R"({"error":"slow down"})", 429));
  CHECK(failure(client, endpoint, &message) == model::ModelCallError::Kind::status);
  CHECK(message.find("429") != std::string::npos);
  CHECK(message.find("sk-secret") == std::string::npos);

  fake.script("/v1/chat/completions", FakeApi::json_reply("{\"choices\": [", 200));
  CHECK(failure(client, endpoint) == model::ModelCallError::Kind::malformed);
  fake.script("/v1/chat/completions", FakeApi::json_reply("[1,2]", 200));
  CHECK(failure(client, endpoint) == model::ModelCallError::Kind::malformed);

  // A server that does not answer within the deadline.
  fake.hold("/v1/chat/completions");
  endpoint.timeout = std::chrono::milliseconds(200);
  CHECK(failure(client, endpoint, &message) == model::ModelCallError::Kind::timeout);
  CHECK(message.find("sk-secret") == std::string::npos);
  fake.release("/v1/chat/completions");

  // A certificate the client does not trust is a transport failure, not a reply.
  http::ClientOptions system_only;
  system_only.use_system_store = false;
  http::HttpsClient untrusting(system_only);
  endpoint.timeout = std::chrono::seconds(10);
  CHECK(failure(untrusting, endpoint) == model::ModelCallError::Kind::transport);
}

TEST_CASE("model api: the circuit breaker opens after repeated failures and lets one trial through later") {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  model::CircuitBreaker breaker(3, std::chrono::seconds(30), [&] { return now; });
  CHECK(breaker.allow());
  breaker.record_failure();
  breaker.record_failure();
  CHECK(breaker.allow());
  breaker.record_success();  // a success resets the count
  breaker.record_failure();
  breaker.record_failure();
  CHECK_FALSE(breaker.open());
  breaker.record_failure();
  CHECK(breaker.open());
  CHECK_FALSE(breaker.allow());
  now += std::chrono::seconds(29);
  CHECK_FALSE(breaker.allow());
  now += std::chrono::seconds(2);
  CHECK(breaker.allow());        // the trial call
  CHECK_FALSE(breaker.allow());  // only one at a time
  breaker.record_failure();      // the trial failed: open for another cool-down
  CHECK_FALSE(breaker.allow());
  now += std::chrono::seconds(31);
  CHECK(breaker.allow());
  breaker.record_success();
  CHECK_FALSE(breaker.open());
  CHECK(breaker.allow());
  CHECK(breaker.allow());
}
