#include "adapters/model/openai_embedder.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "adapters/http/client.h"
#include "adapters/http/url.h"
#include "bot/backoff.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::model {

namespace {

using nlohmann::json;

constexpr std::string_view k_fallback_names[] = {"timeout", "transport", "http_status", "malformed", "circuit_open"};

ModelCallError malformed(const std::string& why) {
  return ModelCallError(ModelCallError::Kind::malformed, "POST /v1/embeddings: " + why);
}

// Worth another try while indexing: the server is busy, restarting or briefly unreachable. A 4xx
// other than 429 (a wrong model name, a refused key, an input too long) would fail again.
bool transient(const ModelCallError& e) {
  switch (e.kind()) {
    case ModelCallError::Kind::timeout:
    case ModelCallError::Kind::transport: return true;
    case ModelCallError::Kind::status: return e.http_status() == 429 || e.http_status() >= 500;
    case ModelCallError::Kind::malformed: return false;
  }
  return false;
}

}  // namespace

OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbedderSettings settings, const http::ClientOptions& client,
                               OpenAiEmbedderHooks hooks)
    : settings_(std::move(settings)),
      origin_(http::parse_url(settings_.endpoint.base_url, "https", "http", "embedder base_url").origin),
      client_(std::make_unique<http::HttpsClient>(client)),
      breaker_(
          settings_.breaker_failures, settings_.breaker_cool_down,
          hooks.clock ? std::move(hooks.clock) : [] { return std::chrono::steady_clock::now(); }),
      wait_(hooks.wait ? std::move(hooks.wait) : [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }) {
  if (settings_.dimension <= 0) throw std::invalid_argument("embedder dimension must be positive");
  if (settings_.batch == 0) settings_.batch = 1;
  telemetry::Registry& registry = hooks.metrics ? *hooks.metrics : telemetry::metrics();
  for (std::size_t i = 0; i < k_fallback_reasons; ++i) {
    fallbacks_[i] = &registry.counter(
        "roundup_embedder_query_fallbacks_total",
        "Questions ranked by the lexical side alone because the remote embedder gave no vector, by reason.",
        {{"reason", std::string(k_fallback_names[i])}});
  }
}

OpenAiEmbedder::~OpenAiEmbedder() = default;

std::string OpenAiEmbedder::id() const {
  return "openai:model=" + settings_.model + ":dim=" + std::to_string(settings_.dimension);
}

void OpenAiEmbedder::request(const std::vector<std::string>& texts, std::chrono::milliseconds timeout,
                             float* out) const {
  Endpoint endpoint = settings_.endpoint;
  endpoint.timeout = timeout;
  const json reply = post_json(*client_, endpoint, "embeddings", {{"model", settings_.model}, {"input", texts}});
  const auto data = reply.find("data");
  if (data == reply.end() || !data->is_array()) throw malformed("the reply has no \"data\" array");
  if (data->size() != texts.size())
    throw malformed("the reply has " + std::to_string(data->size()) + " vectors for " + std::to_string(texts.size()) +
                    " inputs");
  const auto dim = static_cast<std::size_t>(settings_.dimension);
  std::vector<bool> filled(texts.size(), false);
  for (std::size_t i = 0; i < data->size(); ++i) {
    const json& item = (*data)[i];
    if (!item.is_object()) throw malformed("an item of \"data\" is not an object");
    // Servers answer in input order and say so in `index`; the index is what counts.
    std::size_t at = i;
    if (const auto index = item.find("index"); index != item.end()) {
      if (!index->is_number_unsigned() || index->get<std::size_t>() >= texts.size())
        throw malformed("an item's \"index\" is not one of the inputs");
      at = index->get<std::size_t>();
    }
    if (filled[at]) throw malformed("two vectors have index " + std::to_string(at));
    filled[at] = true;
    const auto embedding = item.find("embedding");
    if (embedding == item.end() || !embedding->is_array()) throw malformed("an item has no \"embedding\" array");
    if (embedding->size() != dim)
      throw malformed("the model's vectors have " + std::to_string(embedding->size()) +
                      " numbers, retrieval.embedder.dimension is " + std::to_string(dim) +
                      " (set it to the model's size)");
    float* row = out + at * dim;
    double norm = 0;
    for (std::size_t j = 0; j < dim; ++j) {
      const json& x = (*embedding)[j];
      if (!x.is_number()) throw malformed("a vector holds something other than numbers");
      const double v = x.get<double>();
      if (!std::isfinite(v)) throw malformed("a vector holds a number that is not finite");
      row[j] = static_cast<float>(v);
      norm += v * v;
    }
    // Inner product over unit vectors is cosine similarity, what these models are trained for.
    if (norm > 0) {
      const auto inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (std::size_t j = 0; j < dim; ++j) row[j] *= inv;
    }
  }
}

void OpenAiEmbedder::embed_documents(const std::vector<std::string>& texts, float* out) const {
  const auto dim = static_cast<std::size_t>(settings_.dimension);
  for (std::size_t begin = 0; begin < texts.size(); begin += settings_.batch) {
    const std::size_t end = std::min(texts.size(), begin + settings_.batch);
    const std::vector<std::string> part(texts.begin() + static_cast<std::ptrdiff_t>(begin),
                                        texts.begin() + static_cast<std::ptrdiff_t>(end));
    bot::Backoff backoff(settings_.retry_min, settings_.retry_max);
    for (int attempt = 1;; ++attempt) {
      try {
        request(part, settings_.endpoint.timeout, out + begin * dim);
        break;
      } catch (const ModelCallError& e) {
        const bool again = transient(e);
        if (!again || attempt >= settings_.document_attempts) {
          throw std::runtime_error("the embedding server " + origin_ + " (model '" + settings_.model +
                                   "'): " + e.what() +
                                   (again ? " (gave up after " + std::to_string(attempt) + " attempts)" : ""));
        }
        wait_(backoff.next());
      }
    }
  }
}

bool OpenAiEmbedder::embed_query(std::string_view text, const TermWeight& /*weight*/, float* out) const {
  if (!breaker_.allow()) {
    fall_back(Fallback::circuit_open, "not called: the circuit breaker is open after repeated failures");
    return false;
  }
  try {
    request({std::string(text)}, settings_.query_timeout, out);
  } catch (const ModelCallError& e) {
    breaker_.record_failure();
    switch (e.kind()) {
      case ModelCallError::Kind::timeout: fall_back(Fallback::timeout, e.what()); break;
      case ModelCallError::Kind::transport: fall_back(Fallback::transport, e.what()); break;
      case ModelCallError::Kind::status: fall_back(Fallback::http_status, e.what()); break;
      case ModelCallError::Kind::malformed: fall_back(Fallback::malformed, e.what()); break;
    }
    return false;
  }
  breaker_.record_success();
  return true;
}

void OpenAiEmbedder::fall_back(Fallback reason, std::string_view detail) const {
  const auto index = static_cast<std::size_t>(reason);
  fallbacks_[index]->inc();
  // Every question while the server is down would log a line: one per reason per minute, with
  // the count held back.
  if (const auto suppressed = fallback_log_.admit(k_fallback_names[index])) {
    log::warn("embedder", "a question was ranked without the remote embedder (lexical ranking only)",
              {{"reason", std::string(k_fallback_names[index])},
               {"server", origin_},
               {"model", settings_.model},
               {"detail", std::string(detail)},
               {"suppressed", std::to_string(*suppressed)}});
  }
}

}  // namespace roundup::adapters::model
