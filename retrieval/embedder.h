#pragma once
// Embedders turn text into fixed-size vectors for the FAISS index. The built-in one works offline
// with no model weights: signed feature hashing of the analyzer's terms (native terms, cross-
// lingual gloss terms) plus character trigrams of Latin words, log-scaled, L2-normalised.
// A remote embedder (an HTTP model service) can implement the same interface later.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/analyzer.h"

namespace roundup::retrieval {

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Names the method and everything that changes its output; stored in the index manifest.
  virtual std::string id() const = 0;
  virtual int dimension() const = 0;
  // Writes texts.size() * dimension() floats, row-major, each row L2-normalised (or all zero).
  virtual void embed_documents(const std::vector<std::string>& texts, float* out) const = 0;
  // Weight of a query term (e.g. its IDF in the corpus); embedders that work on terms may use it.
  using TermWeight = std::function<double(const std::string& term)>;
  virtual void embed_query(std::string_view text, const TermWeight& weight, float* out) const = 0;
};

class HashedEmbedder final : public Embedder {
 public:
  HashedEmbedder(std::shared_ptr<const Analyzer> analyzer, int dimension);
  std::string id() const override;
  int dimension() const override { return dimension_; }
  void embed_documents(const std::vector<std::string>& texts, float* out) const override;
  void embed_query(std::string_view text, const TermWeight& weight, float* out) const override;

 private:
  void embed(std::string_view text, const TermWeight& weight, bool is_query, float* out) const;

  std::shared_ptr<const Analyzer> analyzer_;
  int dimension_;
};

}  // namespace roundup::retrieval
