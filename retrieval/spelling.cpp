#include "retrieval/spelling.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace roundup::retrieval {

namespace {

// Every string obtained from word by deleting up to max_deletes characters, word included.
// Level by level, so a variant reached early is still expanded as far as its level allows.
void deletion_variants(const std::string& word, int max_deletes, std::unordered_set<std::string>& out) {
  out.insert(word);
  std::vector<std::string> level{word};
  for (int d = 0; d < max_deletes; ++d) {
    std::vector<std::string> next;
    for (const std::string& w : level) {
      for (std::size_t i = 0; w.size() > 1 && i < w.size(); ++i) {
        std::string shorter = w.substr(0, i) + w.substr(i + 1);
        if (out.insert(shorter).second) next.push_back(std::move(shorter));
      }
    }
    level = std::move(next);
  }
}

std::uint64_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

constexpr std::size_t k_swap_only_length = 4;

bool is_swap_only(std::string_view word) {
  return word.size() == k_swap_only_length &&
         std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

}  // namespace

bool SpellingIndex::correctable(std::string_view word) {
  if (word.size() < k_swap_only_length || word.size() > 24) return false;
  return std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

int SpellingIndex::max_distance(std::size_t length) {
  return length <= 7 ? 1 : 2;
}

int SpellingIndex::distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  // Three rows: the transposition rule looks two rows back.
  std::vector<int> two_back(m + 1), previous(m + 1), current(m + 1);
  for (std::size_t j = 0; j <= m; ++j) previous[j] = static_cast<int>(j);
  for (std::size_t i = 1; i <= n; ++i) {
    current[0] = static_cast<int>(i);
    for (std::size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], two_back[j - 2] + 1);
    }
    std::swap(two_back, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

SpellingIndex::SpellingIndex(std::vector<Word> vocabulary, std::size_t max_words) {
  for (const Word& w : vocabulary)
    if (is_swap_only(w.term) && short_words_.size() < max_words) short_words_.emplace(w.term, w.frequency);
  std::erase_if(vocabulary, [](const Word& w) { return !correctable(w.term) || is_swap_only(w.term); });
  if (vocabulary.size() > max_words) {
    std::nth_element(vocabulary.begin(), vocabulary.begin() + static_cast<std::ptrdiff_t>(max_words), vocabulary.end(),
                     [](const Word& a, const Word& b) { return a.frequency > b.frequency; });
    vocabulary.resize(max_words);
  }
  words_ = std::move(vocabulary);
  std::unordered_set<std::string> variants;
  for (std::uint32_t i = 0; i < words_.size(); ++i) {
    variants.clear();
    deletion_variants(words_[i].term, max_distance(words_[i].term.size()), variants);
    for (const std::string& v : variants) variants_.emplace_back(hash_of(v), i);
  }
  std::sort(variants_.begin(), variants_.end());
}

std::optional<std::string> SpellingIndex::correct(std::string_view word) const {
  if (is_swap_only(word)) {
    if (short_words_.count(std::string(word))) return std::nullopt;  // indexed as typed
    std::optional<std::string> best;
    double best_frequency = -1;
    for (std::size_t i = 1; i + 1 < word.size(); ++i) {
      std::string swapped(word);
      std::swap(swapped[i], swapped[i + 1]);
      const auto it = short_words_.find(swapped);
      if (it != short_words_.end() && it->second > best_frequency) {
        best = swapped;
        best_frequency = it->second;
      }
    }
    return best;
  }
  if (!correctable(word)) return std::nullopt;
  const int limit = max_distance(word.size());
  std::unordered_set<std::string> variants;
  deletion_variants(std::string(word), limit, variants);
  const Word* best = nullptr;
  int best_distance = limit + 1;
  std::unordered_set<std::uint32_t> compared;
  for (const std::string& v : variants) {
    const std::uint64_t h = hash_of(v);
    auto it = std::lower_bound(variants_.begin(), variants_.end(), std::make_pair(h, std::uint32_t{0}));
    for (; it != variants_.end() && it->first == h; ++it) {
      if (!compared.insert(it->second).second) continue;
      const Word& candidate = words_[it->second];
      if (candidate.term == word) return std::nullopt;  // indexed as typed
      // A misspelling rarely changes the first letter, and allowing it doubles the neighbours.
      if (candidate.term.front() != word.front()) continue;
      const int d = distance(word, candidate.term);
      if (d > std::min(limit, max_distance(candidate.term.size()))) continue;
      if (d < best_distance || (d == best_distance && best &&
                                (candidate.frequency > best->frequency ||
                                 (candidate.frequency == best->frequency && candidate.term < best->term)))) {
        best = &candidate;
        best_distance = d;
      }
    }
  }
  if (!best) return std::nullopt;
  return best->term;
}

}  // namespace roundup::retrieval
