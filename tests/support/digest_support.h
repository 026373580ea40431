#pragma once
// What the digest tests share: UTC instants to pin clocks to, and the bundled corpus's catalog
// (parsed once per test process; no index needed).

#include <chrono>
#include <memory>
#include <string>

#include "retrieval/catalog.h"
#include "retrieval/corpus.h"

namespace roundup::testing {

inline std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{hour} + std::chrono::minutes{minute};
}

inline std::shared_ptr<const retrieval::Catalog> bundled_catalog() {
  static const auto catalog = std::make_shared<const retrieval::Catalog>(
      retrieval::load_corpus(std::string(ROUNDUP_SOURCE_DIR) + "/data/roundups", 4u << 20).roundups);
  return catalog;
}

}  // namespace roundup::testing
