#pragma once
// One Responder over the bundled corpus, built once per test process (the lexicon and index take
// a second or two) and shared by the service integration tests.

#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "adapters/cli/runtime.h"
#include "bot/responder.h"
#include "tests/support/temp_dir.h"

namespace roundup::testing {

inline config::Config bundled_config(const std::filesystem::path& data_dir) {
  config::Config config = config::default_config();
  const std::string root = ROUNDUP_SOURCE_DIR;
  config.corpus_dir = root + "/data/roundups";
  config.retrieval.lexicon_dir = root + "/data/lexicon";
  config.data_dir = data_dir;
  return config;
}

inline std::shared_ptr<const bot::Responder> bundled_responder() {
  static std::mutex mutex;
  static std::shared_ptr<const bot::Responder> responder;
  static TempDir index_dir;
  std::lock_guard lock(mutex);
  if (!responder) {
    app::Runtime runtime(bundled_config(index_dir.path()));
    std::ostringstream log;
    responder = std::make_shared<const bot::Responder>(runtime.responder(log));
  }
  return responder;
}

}  // namespace roundup::testing
