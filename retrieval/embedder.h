#pragma once
// Embedders turn text into fixed-size vectors for the FAISS index. The built-in one works offline
// with no model weights: signed feature hashing of the analyzer's terms (native terms, cross-
// lingual gloss terms) plus character trigrams of Latin words, log-scaled, L2-normalised.
// A remote embedder (adapters/model/openai_embedder.h, an HTTP model service) implements the
// same interface; it may have no vector for a question when its server is down or slow.

#include <cstddef>
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
  // "hashed", "openai": recorded in the index manifest with model() and dimension().
  virtual std::string kind() const = 0;
  // The model that makes the vectors, for embedders that call one; empty otherwise.
  virtual std::string model() const { return {}; }
  virtual int dimension() const = 0;
  // How many embed_documents calls a build may run at once; 0 = one per core. A remote server
  // is shared with the questions the running bot embeds, so a build must not flood it.
  virtual std::size_t max_concurrent_calls() const { return 0; }
  // Writes texts.size() * dimension() floats, row-major, each row L2-normalised (or all zero).
  // Throws (with a message saying why) when it cannot: the build fails and the old index stays.
  virtual void embed_documents(const std::vector<std::string>& texts, float* out) const = 0;
  // Weight of a query term (e.g. its IDF in the corpus); embedders that work on terms may use it.
  using TermWeight = std::function<double(const std::string& term)>;
  // Writes dimension() floats. False when there is no vector this time (a remote server down,
  // slow or refusing): the question is then ranked by the lexical side alone. Never throws.
  [[nodiscard]] virtual bool embed_query(std::string_view text, const TermWeight& weight, float* out) const = 0;
};

class HashedEmbedder final : public Embedder {
 public:
  HashedEmbedder(std::shared_ptr<const Analyzer> analyzer, int dimension);
  std::string id() const override;
  std::string kind() const override { return "hashed"; }
  int dimension() const override { return dimension_; }
  void embed_documents(const std::vector<std::string>& texts, float* out) const override;
  // Always true: it needs nothing but the analyzer.
  bool embed_query(std::string_view text, const TermWeight& weight, float* out) const override;

 private:
  void embed(std::string_view text, const TermWeight& weight, bool is_query, float* out) const;

  std::shared_ptr<const Analyzer> analyzer_;
  int dimension_;
};

}  // namespace roundup::retrieval
