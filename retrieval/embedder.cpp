#include "retrieval/embedder.h"

#include <cmath>
#include <unordered_map>

#include "retrieval/hashing.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {
constexpr double k_gloss_weight = 0.6;
constexpr double k_trigram_weight = 0.25;
constexpr int k_feature_version = 3;
// About the norm of a 200-character passage's features.
constexpr double k_norm_pivot = 16.0;

bool is_ascii_word(std::string_view term) {
  for (unsigned char c : term)
    if (!(c >= 'a' && c <= 'z')) return false;
  return term.size() >= 4;
}
}  // namespace

HashedEmbedder::HashedEmbedder(std::shared_ptr<const Analyzer> analyzer, int dimension)
    : analyzer_(std::move(analyzer)), dimension_(dimension) {}

std::string HashedEmbedder::id() const {
  return "hashed-v" + std::to_string(k_feature_version) + ":dim=" + std::to_string(dimension_) +
         ":lexicon=" + analyzer_->lexicon().fingerprint();
}

void HashedEmbedder::embed(std::string_view text, const TermWeight& weight, bool is_query, float* out) const {
  std::unordered_map<std::string, double> features;
  const Analysis analysis = analyzer_->analyze(text);
  for (const std::string& t : analysis.native) {
    features[t] += 1.0;
    if (is_ascii_word(t)) {
      // Character trigrams of stems catch spelling variants the stemmer does not join.
      const std::string padded = "<" + t + ">";
      for (std::size_t i = 0; i + 3 <= padded.size(); ++i) features["#" + padded.substr(i, 3)] += k_trigram_weight;
    }
  }
  for (const std::string& t : analysis.gloss) features[t] += k_gloss_weight;

  std::fill(out, out + dimension_, 0.0f);
  for (const auto& [term, tf] : features) {
    double w = 1.0 + std::log(1.0 + tf);
    if (weight && term.front() != '#') w *= weight(term);
    const std::uint64_t h = fnv1a64(term);
    const auto slot = static_cast<std::size_t>(h % static_cast<std::uint64_t>(dimension_));
    out[slot] += static_cast<float>((h >> 63) ? -w : w);
  }
  double norm = 0;
  for (int i = 0; i < dimension_; ++i) norm += static_cast<double>(out[i]) * out[i];
  norm = std::sqrt(norm);
  // Documents are divided by max(norm, pivot) rather than their norm: plain cosine lets a
  // title-only passage outscore a full summary that matches the same words.
  if (!is_query) norm = std::max(norm, k_norm_pivot);
  if (norm > 0) {
    const float inv = static_cast<float>(1.0 / norm);
    for (int i = 0; i < dimension_; ++i) out[i] *= inv;
  }
}

void HashedEmbedder::embed_documents(const std::vector<std::string>& texts, float* out) const {
  for (std::size_t i = 0; i < texts.size(); ++i)
    embed(texts[i], {}, false, out + i * static_cast<std::size_t>(dimension_));
}

bool HashedEmbedder::embed_query(std::string_view text, const TermWeight& weight, float* out) const {
  embed(text, weight, true, out);
  return true;
}

}  // namespace roundup::retrieval
