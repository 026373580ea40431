#pragma once
// Passages: the units that are embedded and indexed. A paper's summary is cut into chunks of
// about chunk_chars code points at paragraph, then sentence, boundaries.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "retrieval/catalog.h"

namespace roundup::retrieval {

struct Passage {
  std::int64_t id = 0;  // stable: derived from roundup id, item ordinal and chunk text
  ItemRef item;
  int chunk = 0;
  std::string title;  // the item's title and authors, indexed as their own field
  std::string text;   // the chunk
};

// Splits text into sentences (Chinese and English terminators), keeping the terminators.
std::vector<std::string> split_sentences(std::string_view text);

std::vector<std::string> chunk_text(std::string_view text, std::size_t chunk_chars);

// Passages of one roundup (roundup_index into the catalog).
std::vector<Passage> passages_of(const Catalog& catalog, std::size_t roundup_index, std::size_t chunk_chars);

}  // namespace roundup::retrieval
