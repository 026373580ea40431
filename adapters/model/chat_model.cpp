#include "adapters/model/chat_model.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "telemetry/log.h"
#include "text/unicode.h"

namespace roundup::adapters::model {
namespace {

using nlohmann::json;
using Status = bot::ModelReply::Status;

constexpr std::string_view k_component = "llm";

// A model answers in about a second to a minute; the deadline can be up to ten minutes.
const std::vector<double>& call_seconds_buckets() {
  static const std::vector<double> buckets = {0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300};
  return buckets;
}

// One call's result, and whether it counts against the server for the breaker. A server that
// answered with a well-formed but unusable reply (blank, cut short, filtered) is up: opening the
// breaker for it would skip the next question's call for nothing.
struct Attempt {
  bot::ModelReply reply;
  bool server_failed = false;
};

Attempt failure(std::string reason, bool server_failed) {
  Attempt attempt;
  attempt.reply.status = Status::failed;
  attempt.reply.failure = std::move(reason);
  attempt.server_failed = server_failed;
  return attempt;
}

// A count from the reply's "usage"; -1 when the server left it out or sent something else (nlohmann
// reads every non-negative integer as unsigned).
std::int64_t token_count(const json& usage, const char* key) {
  const auto it = usage.find(key);
  if (it == usage.end() || !it->is_number_unsigned()) return -1;
  return static_cast<std::int64_t>(
      std::min<std::uint64_t>(it->get<std::uint64_t>(), std::numeric_limits<std::int64_t>::max()));
}

// The text of choices[0], or why there is none. Tokens are read first: a reply that is cut short
// still cost them.
Attempt read_reply(const json& reply) {
  std::int64_t prompt_tokens = -1, completion_tokens = -1;
  if (const auto usage = reply.find("usage"); usage != reply.end() && usage->is_object()) {
    prompt_tokens = token_count(*usage, "prompt_tokens");
    completion_tokens = token_count(*usage, "completion_tokens");
  }
  Attempt attempt = [&] {
    const auto choices = reply.find("choices");
    if (choices == reply.end() || !choices->is_array() || choices->empty()) return failure("no choices", true);
    const json& choice = choices->front();
    const auto message = choice.is_object() ? choice.find("message") : choice.end();
    if (!choice.is_object() || message == choice.end() || !message->is_object())
      return failure("malformed choice", true);
    if (const auto finish = choice.find("finish_reason"); finish != choice.end() && finish->is_string()) {
      // Half an answer reads as a whole one; the caller's retrieval answer is better.
      if (*finish == "length") return failure("truncated", false);
      if (*finish == "content_filter") return failure("content filtered", false);
    }
    const auto content = message->find("content");
    if (content == message->end() || !content->is_string()) return failure("no content", true);
    Attempt ok;
    ok.reply.status = Status::ok;
    ok.reply.text = trim(content->get_ref<const std::string&>());
    if (ok.reply.text.empty()) return failure("empty content", false);
    return ok;
  }();
  attempt.reply.prompt_tokens = prompt_tokens;
  attempt.reply.completion_tokens = completion_tokens;
  return attempt;
}

// Non-streaming: the reply is wanted whole, to be checked before anyone sees it.
json request_body(const ChatModelSettings& settings, const std::vector<bot::ChatMessage>& messages) {
  json list = json::array();
  for (const bot::ChatMessage& message : messages)
    list.push_back({{"role", message.role}, {"content", message.content}});
  return {{"model", settings.model},
          {"messages", std::move(list)},
          {"max_tokens", settings.max_tokens},
          {"temperature", settings.temperature},
          {"stream", false}};
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

}  // namespace

ChatModelSettings chat_model_settings(const config::LlmConfig& llm, const config::TlsConfig& tls) {
  ChatModelSettings settings;
  settings.endpoint = Endpoint{llm.base_url, llm.api_key.value, std::chrono::milliseconds(llm.timeout_ms)};
  settings.model = llm.model;
  settings.max_tokens = llm.max_tokens;
  settings.temperature = llm.temperature;
  settings.client.ca_file = tls.ca_file.string();
  settings.client.use_system_store = true;
  return settings;
}

ChatCompletionsModel::ChatCompletionsModel(ChatModelSettings settings, telemetry::Registry& registry,
                                           CircuitBreaker::Clock clock)
    : settings_(std::move(settings)),
      client_(std::make_unique<http::HttpsClient>(settings_.client)),
      breaker_(settings_.failures_to_open, settings_.cool_down, std::move(clock)),
      ok_(registry.counter("roundup_llm_calls_total", "Language-model calls, by outcome", {{"outcome", "ok"}})),
      failed_(registry.counter("roundup_llm_calls_total", "Language-model calls, by outcome", {{"outcome", "failed"}})),
      skipped_(
          registry.counter("roundup_llm_calls_total", "Language-model calls, by outcome", {{"outcome", "skipped"}})),
      seconds_(registry.histogram("roundup_llm_call_seconds", "Time a language-model call took (skipped ones excluded)",
                                  {}, call_seconds_buckets())),
      prompt_tokens_(registry.counter("roundup_llm_tokens_total", "Tokens the language-model server reported",
                                      {{"kind", "prompt"}})),
      completion_tokens_(registry.counter("roundup_llm_tokens_total", "Tokens the language-model server reported",
                                          {{"kind", "completion"}})) {}

ChatCompletionsModel::~ChatCompletionsModel() = default;

bot::ModelReply ChatCompletionsModel::complete(const std::vector<bot::ChatMessage>& messages) const {
  try {
    if (!breaker_.allow()) {
      skipped_.inc();
      bot::ModelReply skipped;
      skipped.status = Status::skipped;
      skipped.failure = "circuit open";
      return skipped;
    }
    const auto start = std::chrono::steady_clock::now();
    Attempt attempt;
    try {
      attempt =
          read_reply(post_json(*client_, settings_.endpoint, "chat/completions", request_body(settings_, messages)));
    } catch (const ModelCallError& e) {
      attempt = failure(e.reason(), true);
    } catch (const std::exception&) {
      // Out of memory, say: still a failed call, and the breaker must hear of it (a half-open
      // breaker waits for its trial's result).
      attempt = failure("internal error", true);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (attempt.server_failed) {
      breaker_.record_failure();
    } else {
      breaker_.record_success();
    }
    seconds_.observe(seconds);
    if (attempt.reply.prompt_tokens > 0) prompt_tokens_.add(static_cast<std::uint64_t>(attempt.reply.prompt_tokens));
    if (attempt.reply.completion_tokens > 0)
      completion_tokens_.add(static_cast<std::uint64_t>(attempt.reply.completion_tokens));
    if (attempt.reply.status == Status::ok) {
      ok_.inc();
    } else {
      failed_.inc();
      // The reason and the breaker's state only: never the key, the prompt or the reply.
      log::warn(k_component, "model call failed",
                {{"reason", attempt.reply.failure},
                 {"seconds", seconds_text(seconds)},
                 {"circuit", breaker_.open() ? "open" : "closed"}});
    }
    return std::move(attempt.reply);
  } catch (const std::exception&) {
    bot::ModelReply failed;
    failed.failure = "internal error";
    return failed;
  }
}

}  // namespace roundup::adapters::model
