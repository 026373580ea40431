#include "retrieval/fusion.h"

#include <doctest/doctest.h>

using namespace roundup::retrieval;

namespace {
RankedList list(std::vector<std::pair<std::size_t, double>> entries, double weight) {
  return RankedList{std::move(entries), weight};
}
}  // namespace

TEST_CASE("fusion: RRF rewards agreement between retrievers") {
  // Key 2 is second in both lists; keys 1 and 3 are first in one list and absent from the other.
  const auto fused =
      fuse({list({{1, 9.0}, {2, 5.0}}, 1.0), list({{3, 0.9}, {2, 0.8}}, 1.0)}, FusionSettings::Method::rrf, 60);
  REQUIRE(fused.size() == 3);
  CHECK(fused[0].key == 2);
  CHECK(fused[0].score == doctest::Approx(2.0 / 62 / (2.0 / 61)));
  CHECK(fused[1].key == 1);  // tie with key 3 broken by the smaller key
  CHECK(fused[2].key == 3);
}

TEST_CASE("fusion: score fusion keeps how far ahead a result is") {
  // BM25 says key 1 is far ahead; the dense list mildly prefers key 2. RRF would rank key 2 first.
  const std::vector<RankedList> lists = {list({{1, 12.0}, {2, 4.0}}, 1.0), list({{2, 0.50}, {1, 0.45}}, 0.4)};
  const auto by_score = fuse(lists, FusionSettings::Method::score, 60);
  CHECK(by_score[0].key == 1);
  CHECK(by_score[0].score == doctest::Approx((1.0 + 0.4 * 0.45 / 0.5) / 1.4));
  const auto by_rank =
      fuse({list({{1, 12.0}, {2, 4.0}}, 1.0), list({{2, 0.50}, {1, 0.45}}, 1.5)}, FusionSettings::Method::rrf, 60);
  CHECK(by_rank[0].key == 2);
}

TEST_CASE("fusion: weights - empty lists and normalisation") {
  CHECK(fuse({}, FusionSettings::Method::score, 60).empty());
  const auto only_lexical = fuse({list({{7, 3.0}}, 1.0), list({}, 0.4)}, FusionSettings::Method::score, 60);
  REQUIRE(only_lexical.size() == 1);
  CHECK(only_lexical[0].score == doctest::Approx(1.0 / 1.4));  // missing from one list: not a perfect score
  const auto perfect = fuse({list({{7, 3.0}}, 1.0), list({{7, 0.9}}, 0.4)}, FusionSettings::Method::score, 60);
  CHECK(perfect[0].score == doctest::Approx(1.0));
  // Negative scores (never produced by BM25 here, but possible from other retrievers) add nothing.
  const auto negative = fuse({list({{1, 2.0}, {2, -1.0}}, 1.0)}, FusionSettings::Method::score, 60);
  CHECK(negative[1].score == doctest::Approx(0.0));
  // A zero-weight list changes nothing.
  const auto zero = fuse({list({{1, 2.0}, {2, 1.0}}, 1.0), list({{2, 1.0}}, 0.0)}, FusionSettings::Method::score, 60);
  CHECK(zero[0].key == 1);
}
