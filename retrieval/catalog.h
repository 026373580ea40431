#pragma once
// The catalog: roundup items merged into papers. The same paper in two roundups (same arXiv id,
// or same normalised title) is one Paper listing both roundups. News and tool items stay per
// roundup. Every paper gets a link: its own, its arXiv page, or an arXiv title search.

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "retrieval/roundup.h"

namespace roundup::retrieval {

struct RoundupRef {
  std::string id;
  std::string title;
  std::string month;  // "YYYY-MM" or empty
};

struct ItemRef {
  std::size_t roundup = 0;  // index into Catalog::roundups()
  std::size_t item = 0;     // index into that roundup's items
};

struct Paper {
  std::string id;  // "arxiv:2203.15556", "paper:<hash>", "news:<hash>", "tool:<hash>"
  ItemKind kind = ItemKind::paper;
  std::string title;
  std::vector<std::string> authors;
  std::optional<std::string> arxiv_id;
  std::string url;
  std::vector<RoundupRef> roundups;  // in corpus order
  std::vector<ItemRef> occurrences;  // parallel to roundups
};

class Catalog {
 public:
  Catalog() = default;
  explicit Catalog(std::vector<Roundup> roundups);

  const std::vector<Roundup>& roundups() const { return roundups_; }
  // Indexes into roundups(), oldest month first; roundups of unknown month last, by id.
  std::vector<std::size_t> roundups_by_month() const;
  const std::vector<Paper>& papers() const { return papers_; }
  const Paper* find(const std::string& paper_id) const;
  // The paper whose item gives this link (a links.h link_key), if any.
  std::optional<std::size_t> paper_with_link(const std::string& key) const;
  std::size_t paper_index_of(ItemRef ref) const;  // the paper an item belongs to
  const Item& item(ItemRef ref) const { return roundups_[ref.roundup].items[ref.item]; }
  RoundupRef roundup_ref(std::size_t roundup_index) const;
  // The longest summary among the paper's occurrences.
  const Item& best_item(const Paper& paper) const;
  // A roundup named by its folded id or the id's prefix before '_' ("000" for "000_23e3...").
  std::optional<std::size_t> roundup_by_name(const std::string& folded_name) const;
  // Distinct author names (as written) and their folded forms, for author questions.
  const std::vector<std::pair<std::string, std::string>>& authors() const { return authors_; }

 private:
  std::vector<Roundup> roundups_;
  std::vector<Paper> papers_;
  std::unordered_map<std::string, std::size_t> by_id_;
  std::unordered_map<std::string, std::size_t> by_link_;  // link_key -> paper
  std::vector<std::vector<std::size_t>> paper_of_item_;
  std::unordered_map<std::string, std::size_t> roundup_by_name_;
  std::vector<std::pair<std::string, std::string>> authors_;
};

// Key used to recognise the same title written twice: folded, letters and digits only.
std::string normalized_title(std::string_view title);

}  // namespace roundup::retrieval
