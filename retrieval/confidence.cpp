#include "retrieval/confidence.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "retrieval/search_engine.h"

namespace roundup::retrieval {

namespace {

constexpr std::size_t k_features = 15;

// The features, in the order of scripts/fit-confidence.py `features`.
std::array<double, k_features> confidence_features(const Evidence& e) {
  const double lexical = e.lexical_rank >= 0 ? e.lexical_rank : 200;
  // Without a dense list, a paper absent from it would look like one the dense side ranked last.
  // The two ranks agree more often than not, so the lexical rank stands in for it.
  const double dense = e.dense_unavailable ? lexical : e.dense_rank >= 0 ? e.dense_rank : 200;
  return {e.coverage,
          e.best_matched,
          e.best_missing,
          e.unknown_share,
          std::log1p(e.matched_concepts),
          std::log1p(lexical),
          std::log1p(dense),
          e.score,
          e.margin,
          e.coverage_margin,
          e.coverage * e.best_matched,
          e.matched_concepts >= 2 ? 1.0 : 0.0,
          e.coverage * e.coverage,
          e.missing_names > 0 ? 1.0 : 0.0,
          e.unknown_names > 0 ? 1.0 : 0.0};
}

// A logistic regression fitted by scripts/fit-confidence.py on the project's question sets
// (tests/data: 243 in-scope, 275 off-topic questions); bench/RESULTS.md, "Answer quality
// (issue 13)", has the cross-validated figures. Refit when the evidence changes.
constexpr std::array<double, k_features> k_weights = {
    +0.9666,  // coverage
    +0.4376,  // best_matched
    -0.2967,  // best_missing
    -0.5325,  // unknown_share
    +3.2152,  // log_matched_concepts
    -0.2930,  // log_lexical_rank
    -0.0603,  // log_dense_rank
    +1.5834,  // score
    +1.4391,  // margin
    +2.1378,  // coverage_margin
    +1.6647,  // coverage_x_best_matched
    +0.3083,  // two_or_more_matched
    +1.0382,  // coverage_squared
    -3.3739,  // misses_a_name
    -0.8919,  // names_the_unknown
};
constexpr double k_bias = -8.0159;
constexpr double k_sibling_confidence = 0.1;
// A question that writes a paper's own name is about that paper: as sure as the default
// "closest match" line (sure_confidence), unless it names something the roundups lack too.
constexpr double k_named_confidence = 0.6;

}  // namespace

double answer_confidence(const Evidence& e) {
  if (e.exact_link) return 1;
  if (e.matched_concepts == 0) return 0;  // nothing of the question is in the paper
  const auto x = confidence_features(e);
  double z = k_bias;
  for (std::size_t i = 0; i < k_features; ++i) z += k_weights[i] * x[i];
  const double p = 1 / (1 + std::exp(-z));
  // A paper that never names the version asked about ("GPT-4" of a GPT-3 paper, "KDD Cup 2022"
  // of the 2020 one) is about a sibling however much else it shares: never more than a guess.
  if (e.missing_names > 0) return std::min(p, k_sibling_confidence);
  return e.names_title && e.unknown_names == 0 ? std::max(p, k_named_confidence) : p;
}

std::string confidence_reason(const Evidence& e) {
  if (e.exact_link) return "the question's link is this paper's";
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "holds %d of the question's concepts, %.0f%% of its weight; %.0f%% of the question is unknown to "
                "the roundups; most specific match %.2f, most specific miss %.2f",
                e.matched_concepts, 100 * e.coverage, 100 * e.unknown_share, e.best_matched, e.best_missing);
  return e.names_title ? "the question writes this paper's own name; " + std::string(buf) : std::string(buf);
}

}  // namespace roundup::retrieval
