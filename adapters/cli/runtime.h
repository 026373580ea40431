#pragma once
// The composition root: builds the retrieval stack (and the settings the responder answers with)
// from a Config. Answers go through Library, the one bot::Knowledge.

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "bot/responder.h"
#include "config/config.h"
#include "retrieval/analyzer.h"
#include "retrieval/embedder.h"
#include "retrieval/knowledge_base.h"
#include "retrieval/search_engine.h"

namespace roundup::adapters::cli {

class Runtime {
 public:
  explicit Runtime(config::Config config);

  const config::Config& config() const { return config_; }
  retrieval::BuildSettings build_settings() const;
  // Builds or refreshes the index; prints warnings to `log`.
  retrieval::BuildReport reindex(std::ostream& log) const;
  // Opens the index, building it first when there is none. Throws retrieval::IndexError.
  std::shared_ptr<const retrieval::SearchEngine> engine(std::ostream& log) const;
  // retrieval.fusion, with the embedder's own weights (retrieval.embedder.fusion) where it has them.
  retrieval::FusionSettings fusion_settings() const;
  bot::ResponderSettings responder_settings() const;

  const std::vector<std::string>& warnings() const { return warnings_; }
  const retrieval::Analyzer& analyzer() const { return *analyzer_; }
  const retrieval::Embedder& embedder() const { return *embedder_; }

 private:
  config::Config config_;
  std::vector<std::string> warnings_;
  std::shared_ptr<const retrieval::Analyzer> analyzer_;
  std::shared_ptr<const retrieval::Embedder> embedder_;
};

}  // namespace roundup::adapters::cli
