#include "retrieval/fusion.h"

#include <algorithm>
#include <unordered_map>

namespace roundup::retrieval {

std::vector<FusedEntry> fuse(const std::vector<RankedList>& lists, FusionSettings::Method method, int rrf_k) {
  std::unordered_map<std::size_t, double> scores;
  double best_possible = 0;
  for (const RankedList& list : lists) {
    best_possible += method == FusionSettings::Method::rrf ? list.weight / (rrf_k + 1) : list.weight;
    if (list.entries.empty()) continue;
    // Score fusion: each list is divided by its own best score, so BM25 and cosine scales meet.
    const double top = std::max(list.entries.front().second, 1e-9);
    for (std::size_t rank = 0; rank < list.entries.size(); ++rank) {
      const auto& [key, score] = list.entries[rank];
      scores[key] += method == FusionSettings::Method::rrf
                         ? list.weight / static_cast<double>(rrf_k + static_cast<int>(rank) + 1)
                         : list.weight * std::max(0.0, score) / top;
    }
  }
  std::vector<FusedEntry> out;
  out.reserve(scores.size());
  for (const auto& [key, score] : scores) out.push_back({key, best_possible > 0 ? score / best_possible : 0});
  std::sort(out.begin(), out.end(), [](const FusedEntry& a, const FusedEntry& b) {
    return a.score != b.score ? a.score > b.score : a.key < b.key;
  });
  return out;
}

}  // namespace roundup::retrieval
