// Remote embeddings over the OpenAI-compatible POST /v1/embeddings (issue 17), against a fake
// server whose vectors come from a bag of concepts: paraphrases that share no word share a vector,
// so only the dense side can join them. Indexing (batches, bounded retries, replies of the wrong
// shape), questions when the server fails (lexical ranking, counted and logged), the cache of
// vectors across reindexes, and the runtime's wiring of the configuration.

#include "adapters/model/openai_embedder.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"
#include "adapters/http/client.h"
#include "retrieval/knowledge_base.h"
#include "retrieval/search_engine.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "tests/support/fake_api.h"
#include "tests/support/metrics_text.h"
#include "tests/support/temp_dir.h"

namespace model = roundup::adapters::model;
namespace http = roundup::adapters::http;
namespace retrieval = roundup::retrieval;
namespace fs = std::filesystem;
using nlohmann::json;
using roundup::testing::FakeApi;
using roundup::testing::TempDir;
using roundup::testing::test_pki;
using roundup::testing::write_file;

namespace {

constexpr int k_dim = 8;
const std::string k_path = "/v1/embeddings";
const std::string k_key = "sk-embed-secret-42";

// Concept slots and the words (lower-case substrings) that land in each.
const std::vector<std::vector<std::string>> k_concepts = {
    {"smaller models", "more tokens", "compact network", "lots of data"},
    {"watermark", "hidden signal"},
    {"music", "melod", "song"},
};

// A deterministic embedding: one count per concept, plus a constant so no vector is zero.
std::vector<double> concept_vector(const std::string& text, int dimension = k_dim) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<double> v(static_cast<std::size_t>(dimension), 0.0);
  for (std::size_t c = 0; c < k_concepts.size(); ++c)
    for (const std::string& word : k_concepts[c])
      if (lower.find(word) != std::string::npos) v[c] += 1.0;
  v.back() = 0.05;
  return v;
}

// The fake's reply: the data items in reverse order (their `index` says where each belongs),
// `dimension` numbers each, `drop` items left out.
http::Response embeddings_reply(const http::Request& request, int dimension = k_dim, std::size_t drop = 0) {
  const json body = json::parse(request.body);
  const json& input = body.at("input");
  json data = json::array();
  for (std::size_t i = input.size(); i-- > drop;)
    data.push_back(
        {{"object", "embedding"}, {"index", i}, {"embedding", concept_vector(input[i].get<std::string>(), dimension)}});
  return FakeApi::json_reply(json{{"object", "list"}, {"model", body.at("model")}, {"data", data}}.dump());
}

// Every input the fake was sent, in order.
std::vector<std::string> inputs_sent(FakeApi& fake) {
  std::vector<std::string> out;
  for (const auto& r : fake.requests(k_path)) {
    const json body = json::parse(r.request.body);
    for (const json& text : body.at("input")) out.push_back(text.get<std::string>());
  }
  return out;
}

const char* const k_roundup_march = R"(# Paper digest — March 2022

## [Training Compute-Optimal Language Models](https://arxiv.org/abs/2203.15556)

*Jordan Hoffmann et al.*

Smaller models trained on more tokens match far larger ones for the same budget.

## [Watermarking Language Model Outputs](https://arxiv.org/abs/2203.00001)

*Alice Smith*

A hidden signal in generated text lets anyone detect machine authorship.
)";

const char* const k_roundup_april = R"(# Paper digest — April 2022

## [MusicLM: Generating Music From Text](https://arxiv.org/abs/2204.00003)

*Dan Brown*

Melodies and songs composed from a written description.
)";

http::ClientOptions trusting_test_ca() {
  http::ClientOptions options;
  options.ca_file = test_pki().ca_file.string();
  options.use_system_store = false;
  return options;
}

// A corpus of two roundups, an index built through the remote embedder, and the search engine.
struct Remote {
  std::unique_ptr<FakeApi> fake;
  TempDir tmp;
  roundup::telemetry::Registry registry;
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::vector<std::chrono::milliseconds> waits;
  std::shared_ptr<retrieval::Analyzer> analyzer =
      std::make_shared<retrieval::Analyzer>(std::make_shared<retrieval::Lexicon>());
  std::shared_ptr<model::OpenAiEmbedder> embedder;
  retrieval::BuildSettings settings;

  explicit Remote(bool tls = true, std::chrono::milliseconds query_timeout = std::chrono::seconds(3))
      : fake(std::make_unique<FakeApi>(tls)) {
    fake->on(k_path, [](const http::Request& r) { return embeddings_reply(r); });
    settings.corpus_dir = tmp / "corpus";
    settings.data_dir = tmp / "data";
    write_file(settings.corpus_dir / "a.md", k_roundup_march);
    write_file(settings.corpus_dir / "b.md", k_roundup_april);
    embedder = make_embedder(query_timeout);
  }

  std::shared_ptr<model::OpenAiEmbedder> make_embedder(std::chrono::milliseconds query_timeout,
                                                       const std::string& model_name = "fake-concepts") {
    model::OpenAiEmbedderSettings s;
    s.endpoint = {fake->base(), k_key, std::chrono::seconds(10)};
    s.model = model_name;
    s.dimension = k_dim;
    s.batch = 2;
    s.query_timeout = query_timeout;
    model::OpenAiEmbedderHooks hooks;
    hooks.metrics = &registry;
    hooks.clock = [this] { return now; };
    hooks.wait = [this](std::chrono::milliseconds d) { waits.push_back(d); };
    return std::make_shared<model::OpenAiEmbedder>(std::move(s), trusting_test_ca(), std::move(hooks));
  }

  retrieval::BuildReport build() { return retrieval::build_index(settings, *analyzer, *embedder); }
  std::shared_ptr<const retrieval::SearchEngine> engine() {
    return std::make_shared<retrieval::SearchEngine>(retrieval::KnowledgeBase::open(settings.data_dir, *embedder),
                                                     analyzer, embedder, retrieval::FusionSettings{});
  }
  double fallbacks(const std::string& reason) {
    return roundup::testing::sample_number(registry.render(),
                                           "roundup_embedder_query_fallbacks_total{reason=\"" + reason + "\"}");
  }
};

std::string top_title(const retrieval::SearchEngine& engine, const retrieval::SearchResponse& response) {
  return response.hits.empty() ? std::string("(none)") : engine.catalog().papers()[response.hits[0].paper].title;
}

std::string index_manifest(const fs::path& data_dir) {
  std::ifstream in(data_dir / "index" / "current" / "manifest.json");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("openai embedder: an index built over HTTPS answers a paraphrase through the dense side") {
  Remote r;
  const retrieval::BuildReport report = r.build();
  CHECK(report.passages_embedded == report.passages);
  // Batches of `batch`, one request at a time, each with the model and the key in its header.
  const auto requests = r.fake->requests(k_path);
  CHECK(inputs_sent(*r.fake).size() == report.passages);
  CHECK(requests.size() == (report.passages + 1) / 2);
  for (const auto& request : requests) {
    const json body = json::parse(request.request.body);
    CHECK(body.at("model") == "fake-concepts");
    CHECK(body.at("input").size() <= 2);
    bool bearer = false;
    for (const auto& [name, value] : request.request.headers) bearer |= value == "Bearer " + k_key;
    CHECK(bearer);
  }
  const json manifest = json::parse(index_manifest(r.settings.data_dir));
  CHECK(manifest.at("embedder").at("kind") == "openai");
  CHECK(manifest.at("embedder").at("model") == "fake-concepts");
  CHECK(manifest.at("embedder").at("dimension") == k_dim);
  CHECK(manifest.at("embedder").at("id") == "openai:model=fake-concepts:dim=8");
  CHECK(index_manifest(r.settings.data_dir).find(k_key) == std::string::npos);

  const auto engine = r.engine();
  // No word of the question is in the corpus: only the shared concept joins them.
  const auto response = engine->search("Which work says a compact network fed lots of data wins?", 3);
  REQUIRE_FALSE(response.hits.empty());
  CHECK(top_title(*engine, response) == "Training Compute-Optimal Language Models");
  CHECK(response.hits[0].evidence.dense_rank == 0);
  CHECK(response.hits[0].evidence.lexical_rank == -1);
  CHECK_FALSE(response.hits[0].evidence.dense_unavailable);
  CHECK(r.fallbacks("timeout") + r.fallbacks("http_status") + r.fallbacks("transport") == 0);
}

TEST_CASE("openai embedder: over plain HTTP, vectors come back in input order and L2-normalised") {
  Remote r(/*tls=*/false);
  CHECK(r.fake->base().rfind("http://", 0) == 0);
  std::vector<float> out(3 * k_dim);
  r.embedder->embed_documents({"music and songs", "a watermark", "smaller models, more tokens"}, out.data());
  CHECK(r.fake->requests(k_path).size() == 2);  // batch of 2, then 1
  for (int row = 0; row < 3; ++row) {
    double norm = 0;
    for (int j = 0; j < k_dim; ++j) norm += out[row * k_dim + j] * out[row * k_dim + j];
    CHECK(std::sqrt(norm) == doctest::Approx(1.0));
  }
  CHECK(out[0 * k_dim + 2] > 0.9f);  // music, though the fake answered in reverse order
  CHECK(out[1 * k_dim + 1] > 0.9f);  // watermark
  CHECK(out[2 * k_dim + 0] > 0.9f);  // scaling
  std::vector<float> q(k_dim);
  CHECK(r.embedder->embed_query("a melody", {}, q.data()));
  CHECK(q[2] > 0.9f);
  CHECK(r.embedder->id() == "openai:model=fake-concepts:dim=8");
}

TEST_CASE("openai embedder: a question is ranked lexically while the server fails - hangs - refuses or is gone") {
  Remote r(/*tls=*/true, std::chrono::milliseconds(1500));
  r.build();
  const auto engine = r.engine();
  std::ostringstream log;
  roundup::log::set_sink(&log);
  const std::string question = "watermark in generated text";
  const auto lexical_answer = [&](const std::string& why) {
    CAPTURE(why);
    const auto response = engine->search(question, 3);
    REQUIRE_FALSE(response.hits.empty());
    CHECK(top_title(*engine, response) == "Watermarking Language Model Outputs");
    CHECK(response.hits[0].evidence.dense_unavailable);
    CHECK(response.hits[0].confidence > 0);
  };
  const auto requests = [&] { return r.fake->requests(k_path).size(); };

  // A server error.
  r.fake->script(k_path, FakeApi::json_reply(R"({"error":"overloaded"})", 500));
  lexical_answer("500");
  CHECK(r.fallbacks("http_status") == 1);

  // A server that does not answer within query_timeout.
  r.fake->hold(k_path);
  lexical_answer("hung");
  r.fake->release(k_path);
  CHECK(r.fallbacks("timeout") == 1);

  // A reply that is not embeddings: the third failure in a row opens the breaker...
  r.fake->script(k_path, FakeApi::json_reply(R"({"data": "nope"})"));
  lexical_answer("malformed");
  CHECK(r.fallbacks("malformed") == 1);
  // ...and then questions do not call the server at all until the cool-down has passed.
  const std::size_t before = requests();
  lexical_answer("breaker open");
  CHECK(requests() == before);
  CHECK(r.fallbacks("circuit_open") == 1);

  r.now += std::chrono::seconds(31);
  const auto healthy = engine->search(question, 3);
  REQUIRE_FALSE(healthy.hits.empty());
  CHECK_FALSE(healthy.hits[0].evidence.dense_unavailable);
  CHECK(requests() == before + 1);

  // The server is gone.
  r.fake.reset();
  lexical_answer("stopped");
  CHECK(r.fallbacks("transport") == 1);

  roundup::log::set_sink(nullptr);
  const std::string lines = log.str();
  CHECK(lines.find("ranked without the remote embedder") != std::string::npos);
  CHECK(lines.find("reason=http_status") != std::string::npos);
  CHECK(lines.find(k_key) == std::string::npos);
}

TEST_CASE(
    "openai embedder: a reply of the wrong dimension or count fails the reindex clearly, and the old index stays") {
  Remote r;
  r.build();
  const std::string generation = retrieval::KnowledgeBase::open(r.settings.data_dir, *r.embedder)->generation();
  write_file(r.settings.corpus_dir / "c.md",
             "# Digest — May 2022\n\n## [A Song Corpus](https://arxiv.org/abs/2205.00004)\n\n*Eve*\n\nMore music.\n");

  const auto failure = [&](const std::function<http::Response(const http::Request&)>& reply) {
    r.fake->on(k_path, reply);
    const std::size_t before = r.fake->requests(k_path).size();
    std::string message;
    try {
      r.build();
      FAIL("the build should have failed");
    } catch (const retrieval::IndexError& e) {
      message = e.what();
    }
    CHECK(r.fake->requests(k_path).size() == before + 1);  // a reply of the wrong shape is not retried
    CHECK(r.waits.empty());
    CHECK(message.find("the current index is kept") != std::string::npos);
    CHECK(message.find(r.fake->base()) != std::string::npos);
    CHECK(message.find("fake-concepts") != std::string::npos);
    CHECK(message.find(k_key) == std::string::npos);
    // The previous generation still answers.
    const auto kb = retrieval::KnowledgeBase::open(r.settings.data_dir, *r.embedder);
    CHECK(kb->generation() == generation);
    CHECK(kb->catalog().find("arxiv:2205.00004") == nullptr);
    return message;
  };
  const std::string wrong_dimension = failure([](const http::Request& q) { return embeddings_reply(q, 4); });
  CHECK(wrong_dimension.find("vectors have 4 numbers, retrieval.embedder.dimension is 8") != std::string::npos);
  const std::string wrong_count = failure([](const http::Request& q) { return embeddings_reply(q, k_dim, 1); });
  CHECK(wrong_count.find("vectors for") != std::string::npos);

  r.fake->on(k_path, [](const http::Request& q) { return embeddings_reply(q); });
  CHECK(r.build().passages_embedded >= 1);
  CHECK(retrieval::KnowledgeBase::open(r.settings.data_dir, *r.embedder)->catalog().find("arxiv:2205.00004"));
}

TEST_CASE("openai embedder: a busy server is retried a bounded number of times while indexing, never forever") {
  Remote r;
  std::vector<float> out(2 * k_dim);
  r.fake->script(k_path, FakeApi::json_reply(R"({"error":"busy"})", 503));
  r.fake->script(k_path, FakeApi::json_reply(R"({"error":"slow down"})", 429));
  r.embedder->embed_documents({"music", "watermark"}, out.data());
  CHECK(r.fake->requests(k_path).size() == 3);
  CHECK(r.waits.size() == 2);

  r.waits.clear();
  for (int i = 0; i < 4; ++i) r.fake->script(k_path, FakeApi::json_reply(R"({"error":"down"})", 502));
  try {
    r.embedder->embed_documents({"music"}, out.data());
    FAIL("expected a failure");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("HTTP 502 (gave up after 4 attempts)") != std::string::npos);
  }
  CHECK(r.waits.size() == 3);
  CHECK(r.fake->requests(k_path).size() == 3 + 4);

  // A refused request (a wrong model name, a bad key) is not worth another try.
  r.waits.clear();
  r.fake->script(k_path, FakeApi::json_reply(R"({"error":"model not found"})", 404));
  try {
    r.embedder->embed_documents({"music"}, out.data());
    FAIL("expected a failure");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("HTTP 404") != std::string::npos);
    CHECK(std::string(e.what()).find("attempts") == std::string::npos);
  }
  CHECK(r.waits.empty());
}

namespace {

// The bundled corpus and lexicon, with the index in data_dir.
roundup::config::Config bundled_config(const fs::path& data_dir) {
  roundup::config::Config config = roundup::config::default_config();
  config.corpus_dir = fs::path(ROUNDUP_SOURCE_DIR) / "data" / "roundups";
  config.retrieval.lexicon_dir = fs::path(ROUNDUP_SOURCE_DIR) / "data" / "lexicon";
  config.data_dir = data_dir;
  return config;
}

// The bundled corpus copied to a temp dir, indexed through the fake server by the runtime as the
// configuration asks.
struct RemoteRuntime {
  FakeApi fake;
  TempDir tmp;
  roundup::config::Config config = bundled_config(tmp / "var");

  RemoteRuntime() {
    fake.on(k_path, [](const http::Request& r) { return embeddings_reply(r); });
    for (const auto& entry : fs::directory_iterator(fs::path(ROUNDUP_SOURCE_DIR) / "data" / "roundups"))
      if (entry.path().extension() == ".txt" || entry.path().extension() == ".md")
        write_file(tmp / "corpus" / entry.path().filename(), roundup::testing::read_file(entry.path()));
    config.corpus_dir = tmp / "corpus";
    config.tls.ca_file = test_pki().ca_file;
    auto& e = config.retrieval.embedder;
    e.kind = "openai";
    e.base_url = fake.base() + "/v1";
    e.model = "fake-concepts";
    e.dimension = k_dim;
    e.batch = 64;
  }
};

}  // namespace

TEST_CASE("openai embedder: a reindex re-sends only the changed passages - another model re-embeds everything") {
  RemoteRuntime t;
  std::ostringstream log;
  const roundup::adapters::cli::Runtime runtime(t.config);
  CHECK(runtime.embedder().kind() == "openai");
  const retrieval::BuildReport first = runtime.reindex(log);
  CHECK(inputs_sent(t.fake).size() == first.passages);
  CHECK(first.passages_embedded == first.passages);

  // One paragraph of one roundup changes.
  const fs::path file = t.config.corpus_dir / "002_381a2dde42fdada2.txt";
  std::string text = roundup::testing::read_file(file);
  const std::string anchor = "绝对值得一读！";
  REQUIRE(text.find(anchor) != std::string::npos);
  text.replace(text.find(anchor), anchor.size(), anchor + "报告还预测了明年的芯片短缺。");
  write_file(file, text);

  const std::size_t sent_before = inputs_sent(t.fake).size();
  const retrieval::BuildReport second = runtime.reindex(log);
  const std::vector<std::string> all = inputs_sent(t.fake);
  const std::vector<std::string> resent(all.begin() + static_cast<std::ptrdiff_t>(sent_before), all.end());
  CHECK(second.changed == std::vector<std::string>{"002_381a2dde42fdada2.txt"});
  CHECK(second.passages_embedded == resent.size());
  REQUIRE_FALSE(resent.empty());
  bool has_new_sentence = false;
  for (const std::string& input : resent) has_new_sentence |= input.find("芯片短缺") != std::string::npos;
  CHECK(has_new_sentence);
  // Only passages of that roundup, and not all of them.
  const auto kb = retrieval::KnowledgeBase::open(t.config.data_dir, runtime.embedder());
  const auto changed_file = std::find_if(kb->files().begin(), kb->files().end(), [](const retrieval::SourceFile& f) {
    return f.name == "002_381a2dde42fdada2.txt";
  });
  REQUIRE(changed_file != kb->files().end());
  std::size_t of_that_roundup = 0, resent_found = 0;
  for (const retrieval::Passage& p : kb->passages()) {
    const bool changed_roundup = kb->catalog().roundups()[p.item.roundup].id == changed_file->roundup_id;
    of_that_roundup += changed_roundup ? 1 : 0;
    if (std::find(resent.begin(), resent.end(), p.title + "\n" + p.text) != resent.end()) {
      CHECK(changed_roundup);
      ++resent_found;
    }
  }
  CHECK(resent_found == resent.size());
  CHECK(resent.size() < of_that_roundup);
  MESSAGE("passages: " << first.passages << ", re-sent after one paragraph changed: " << resent.size() << " of "
                       << of_that_roundup << " in that roundup");

  // Another model: nothing of the old index is reused.
  auto other = t.config;
  other.retrieval.embedder.model = "fake-concepts-2";
  const roundup::adapters::cli::Runtime switched(other);
  const std::size_t before_switch = inputs_sent(t.fake).size();
  const retrieval::BuildReport third = switched.reindex(log);
  CHECK(inputs_sent(t.fake).size() - before_switch == third.passages);
  CHECK(third.passages_embedded == third.passages);
  CHECK_FALSE(third.previous_index_note.empty());
  CHECK(json::parse(index_manifest(t.config.data_dir)).at("embedder").at("model") == "fake-concepts-2");
}

TEST_CASE("openai embedder: the runtime applies the embedder's fusion weights, and a failed reindex keeps answering") {
  RemoteRuntime t;
  t.config.retrieval.fusion.lexical_weight = 0.8;
  t.config.retrieval.embedder.fusion.dense_weight = 1.5;
  roundup::adapters::cli::Library library(t.config);
  std::ostringstream log;
  library.open(log);
  const retrieval::FusionSettings fusion = library.runtime().fusion_settings();
  CHECK(fusion.lexical_weight == doctest::Approx(0.8));
  CHECK(fusion.dense_weight == doctest::Approx(1.5));
  const auto before = library.engine();
  CHECK_FALSE(library.answer("Chinchilla compute-optimal tokens").citations.empty());

  // The server now answers with vectors of another size: the reindex fails and says why.
  t.fake.on(k_path, [](const http::Request& r) { return embeddings_reply(r, 16); });
  write_file(t.config.corpus_dir / "009_new.md",
             "# Digest — May 2023\n\n## [A Song Corpus](https://arxiv.org/abs/2305.00004)\n\n*Eve*\n\nMore music.\n");
  const auto failed = library.rebuild();
  CHECK_FALSE(failed.ok);
  CHECK(failed.error.find("retrieval.embedder.dimension is 8") != std::string::npos);
  CHECK(roundup::adapters::cli::describe(failed).find("The previous index is still answering.") != std::string::npos);
  CHECK(library.engine() == before);
  CHECK_FALSE(library.answer("Chinchilla compute-optimal tokens").citations.empty());

  // Without a remote embedder the runtime is the hashed one, with retrieval.fusion's weights.
  const roundup::adapters::cli::Runtime offline(bundled_config(t.tmp / "offline"));
  CHECK(offline.embedder().kind() == "hashed");
  CHECK(offline.embedder().id().rfind("hashed-v3:dim=768:", 0) == 0);
  CHECK(offline.fusion_settings().dense_weight == doctest::Approx(0.4));
}
