#include "adapters/cli/runtime.h"

#include <ostream>

#include "adapters/http/client.h"
#include "adapters/model/openai_embedder.h"

namespace roundup::adapters::cli {

namespace {

std::shared_ptr<const retrieval::Embedder> make_embedder(const config::Config& config,
                                                         std::shared_ptr<const retrieval::Analyzer> analyzer) {
  const config::EmbedderConfig& e = config.retrieval.embedder;
  if (e.kind != "openai") return std::make_shared<retrieval::HashedEmbedder>(std::move(analyzer), e.dimension);
  model::OpenAiEmbedderSettings settings;
  settings.endpoint = {e.base_url, e.api_key.value, std::chrono::milliseconds(e.timeout_ms)};
  settings.model = e.model;
  settings.dimension = e.dimension;
  settings.batch = static_cast<std::size_t>(e.batch);
  settings.query_timeout = std::chrono::milliseconds(e.query_timeout_ms);
  http::ClientOptions client;
  client.ca_file = config.tls.ca_file.string();
  return std::make_shared<model::OpenAiEmbedder>(std::move(settings), client);
}

}  // namespace

Runtime::Runtime(config::Config config) : config_(std::move(config)) {
  auto lexicon =
      std::make_shared<retrieval::Lexicon>(retrieval::Lexicon::load(config_.retrieval.lexicon_dir, warnings_));
  analyzer_ = std::make_shared<retrieval::Analyzer>(std::move(lexicon));
  embedder_ = make_embedder(config_, analyzer_);
}

retrieval::BuildSettings Runtime::build_settings() const {
  retrieval::BuildSettings s;
  s.corpus_dir = config_.corpus_dir;
  s.data_dir = config_.data_dir;
  s.chunk_chars = static_cast<std::size_t>(config_.retrieval.chunk_chars);
  s.max_file_bytes = static_cast<std::uintmax_t>(config_.retrieval.max_file_bytes);
  return s;
}

retrieval::BuildReport Runtime::reindex(std::ostream& log) const {
  retrieval::BuildReport report = retrieval::build_index(build_settings(), *analyzer_, *embedder_);
  for (const std::string& w : report.warnings) log << "warning: " << w << "\n";
  return report;
}

std::shared_ptr<const retrieval::SearchEngine> Runtime::engine(std::ostream& log) const {
  const std::string index_dir = (config_.data_dir / "index").string();
  const auto rebuild = [&](const std::string& why) {
    log << why << ": building it from " << config_.corpus_dir.string() << "\n";
    const retrieval::BuildReport report = reindex(log);
    log << "indexed " << report.roundups << " roundups, " << report.papers << " papers, " << report.passages
        << " passages in " << report.seconds << " s\n";
  };
  if (!retrieval::KnowledgeBase::exists(config_.data_dir)) rebuild("no index yet in " + index_dir);
  // An index from another format version or embedder (an upgrade, a changed `embedder` setting)
  // or a damaged one is rebuilt from the corpus, which is the source of truth, rather than
  // leaving the bot down until someone runs `roundup-bot index`.
  std::shared_ptr<retrieval::KnowledgeBase> knowledge_base;
  try {
    knowledge_base = retrieval::KnowledgeBase::open(config_.data_dir, *embedder_);
  } catch (const retrieval::IndexError& e) {
    rebuild("the index in " + index_dir + " cannot be used (" + e.what() + ")");
    knowledge_base = retrieval::KnowledgeBase::open(config_.data_dir, *embedder_);
  }
  return std::make_shared<retrieval::SearchEngine>(std::move(knowledge_base), analyzer_, embedder_, fusion_settings());
}

retrieval::FusionSettings Runtime::fusion_settings() const {
  retrieval::FusionSettings fusion;
  const auto& f = config_.retrieval.fusion;
  fusion.method =
      f.method == "score" ? retrieval::FusionSettings::Method::score : retrieval::FusionSettings::Method::rrf;
  // The embedder's own weights, when it has them: a model's cosine scores are not the hashed
  // embedder's, which retrieval.fusion was tuned for.
  const config::EmbedderFusionConfig& own = config_.retrieval.embedder.fusion;
  fusion.lexical_weight = own.lexical_weight.value_or(f.lexical_weight);
  fusion.dense_weight = own.dense_weight.value_or(f.dense_weight);
  fusion.rrf_k = f.rrf_k;
  return fusion;
}

bot::ResponderSettings Runtime::responder_settings() const {
  bot::ResponderSettings settings;
  settings.top_k = static_cast<std::size_t>(config_.retrieval.top_k);
  settings.min_confidence = config_.retrieval.min_confidence;
  settings.sure_confidence = config_.retrieval.sure_confidence;
  return settings;
}

}  // namespace roundup::adapters::cli
