#pragma once
// Fusing ranked lists from several retrievers into one ranking, by weighted reciprocal rank
// fusion or by weighted, max-normalised scores.

#include <cstddef>
#include <utility>
#include <vector>

namespace roundup::retrieval {

struct FusionSettings {
  enum class Method { rrf, score };
  Method method = Method::score;
  double lexical_weight = 1.0;
  double dense_weight = 0.4;
  int rrf_k = 60;
  std::size_t candidates = 200;  // passages fetched from each retriever
};

struct RankedList {
  // Best first, each key at most once; scores are the retriever's (higher is better).
  std::vector<std::pair<std::size_t, double>> entries;
  double weight = 1.0;
};

struct FusedEntry {
  std::size_t key = 0;
  double score = 0;  // 0..1: 1 means first (or top-scored) in every list
};

// Best first; ties broken by the smaller key so that results are deterministic.
std::vector<FusedEntry> fuse(const std::vector<RankedList>& lists, FusionSettings::Method method, int rrf_k);

}  // namespace roundup::retrieval
