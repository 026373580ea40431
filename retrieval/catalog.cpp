#include "retrieval/catalog.h"

#include <algorithm>
#include <tuple>

#include "retrieval/hashing.h"
#include "retrieval/links.h"
#include "text/unicode.h"

namespace roundup::retrieval {

const char* to_string(ItemKind kind) {
  switch (kind) {
    case ItemKind::paper: return "paper";
    case ItemKind::listed_paper: return "listed_paper";
    case ItemKind::news: return "news";
    case ItemKind::tool: return "tool";
    case ItemKind::passage: return "passage";
  }
  return "paper";
}

const char* to_string(MonthSource source) {
  switch (source) {
    case MonthSource::text: return "text";
    case MonthSource::arxiv_ids: return "arxiv_ids";
    case MonthSource::metadata: return "metadata";
    case MonthSource::page: return "page";
    case MonthSource::unknown: return "unknown";
  }
  return "unknown";
}

std::string normalized_title(std::string_view title) {
  std::string out;
  for (char32_t cp : decode_utf8(fold(title)))
    if (is_alnum(cp)) append_utf8(out, cp);
  return out;
}

namespace {
bool is_paper_kind(ItemKind kind) {
  return kind == ItemKind::paper || kind == ItemKind::listed_paper;
}

std::string hash_id(std::string_view prefix, std::string_view key) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(key)));
  return std::string(prefix) + ":" + std::string(buf, 12);
}

// Mostly-ASCII titles are the original English ones; translated titles are kept only when no
// original exists.
double ascii_share(std::string_view s) {
  if (s.empty()) return 0;
  std::size_t ascii = 0;
  for (unsigned char c : s) ascii += c < 0x80;
  return static_cast<double>(ascii) / static_cast<double>(s.size());
}
}  // namespace

Catalog::Catalog(std::vector<Roundup> roundups) : roundups_(std::move(roundups)) {
  std::unordered_map<std::string, std::size_t> by_key;  // arxiv id or normalised title -> paper
  paper_of_item_.resize(roundups_.size());
  for (std::size_t r = 0; r < roundups_.size(); ++r) {
    const Roundup& roundup = roundups_[r];
    paper_of_item_[r].resize(roundup.items.size());
    for (std::size_t i = 0; i < roundup.items.size(); ++i) {
      const Item& item = roundup.items[i];
      const std::string title_key = normalized_title(item.title);
      std::optional<std::size_t> found;
      if (is_paper_kind(item.kind)) {
        if (item.arxiv_id) {
          if (auto it = by_key.find("arxiv:" + *item.arxiv_id); it != by_key.end()) found = it->second;
        }
        if (!found && !title_key.empty()) {
          if (auto it = by_key.find("title:" + title_key); it != by_key.end()) found = it->second;
        }
      }
      if (!found) {
        Paper paper;
        paper.kind = item.kind;
        if (is_paper_kind(item.kind)) {
          paper.id = item.arxiv_id ? "arxiv:" + *item.arxiv_id : hash_id("paper", title_key);
        } else {
          paper.id = hash_id(to_string(item.kind), roundup.id + "\n" + std::to_string(item.ordinal) + "\n" + title_key);
        }
        papers_.push_back(std::move(paper));
        found = papers_.size() - 1;
      }
      Paper& paper = papers_[*found];
      const bool first = paper.occurrences.empty();
      paper.occurrences.push_back(ItemRef{r, i});
      if (paper.roundups.empty() || paper.roundups.back().id != roundup.id) paper.roundups.push_back(roundup_ref(r));
      if (item.kind == ItemKind::paper) paper.kind = ItemKind::paper;
      if (first || ascii_share(item.title) > ascii_share(paper.title) + 0.2) paper.title = item.title;
      // Original (Latin-script) author names win over transliterations, then longer lists.
      const auto share = [](const std::vector<std::string>& names) {
        return names.empty() ? -1.0 : ascii_share(names.front());
      };
      if (share(item.authors) > share(paper.authors) + 0.2 ||
          (share(item.authors) >= share(paper.authors) - 0.2 && item.authors.size() > paper.authors.size()))
        paper.authors = item.authors;
      if (!paper.arxiv_id && item.arxiv_id) paper.arxiv_id = item.arxiv_id;
      if (paper.url.empty() && !item.url.empty()) paper.url = item.url;
      if (is_paper_kind(item.kind)) {
        if (item.arxiv_id) by_key.emplace("arxiv:" + *item.arxiv_id, *found);
        if (!title_key.empty()) by_key.emplace("title:" + title_key, *found);
      }
      paper_of_item_[r][i] = *found;
    }
  }
  // Links: an item's own link and arXiv id first, then the other links it gives, so a paper is
  // found by its link even when another item also cites it. Unstructured passages (often a
  // month's contents, linking to every paper) are no item's link.
  for (const bool primary : {true, false}) {
    for (std::size_t r = 0; r < roundups_.size(); ++r) {
      for (std::size_t i = 0; i < roundups_[r].items.size(); ++i) {
        const Item& item = roundups_[r].items[i];
        if (item.kind == ItemKind::passage) continue;
        const auto add = [&](std::string key) {
          if (!key.empty()) by_link_.emplace(std::move(key), paper_of_item_[r][i]);
        };
        if (primary) {
          if (item.arxiv_id) add("arxiv:" + *item.arxiv_id);
          add(link_key(item.url));
        } else {
          for (const std::string& link : item.links) add(link_key(link));
        }
      }
    }
  }
  std::unordered_map<std::string, bool> seen_authors;
  for (std::size_t r = 0; r < roundups_.size(); ++r) {
    const std::string id = fold(roundups_[r].id);
    roundup_by_name_.emplace(id, r);
    const std::string prefix = id.substr(0, id.find('_'));
    if (prefix != id && prefix.size() >= 3) roundup_by_name_.emplace(prefix, r);
    for (const Item& item : roundups_[r].items)
      for (const std::string& a : item.authors)
        if (seen_authors.emplace(a, true).second) authors_.emplace_back(a, fold(a));
  }
  for (std::size_t p = 0; p < papers_.size(); ++p) {
    Paper& paper = papers_[p];
    if (paper.arxiv_id) {
      paper.url = arxiv_abs_url(*paper.arxiv_id);
    } else if (paper.url.empty() && is_paper_kind(paper.kind)) {
      paper.url = arxiv_title_search_url(paper.title);
    } else if (paper.url.empty()) {
      paper.url = roundups_[paper.occurrences.front().roundup].source_url;
    }
    by_id_.emplace(paper.id, p);
  }
}

std::vector<std::size_t> Catalog::roundups_by_month() const {
  std::vector<std::size_t> order(roundups_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    const Roundup& x = roundups_[a];
    const Roundup& y = roundups_[b];
    // "YYYY-MM" sorts as text; an unknown month (empty) goes last.
    return std::make_tuple(x.month.empty(), x.month, x.id) < std::make_tuple(y.month.empty(), y.month, y.id);
  });
  return order;
}

std::optional<std::size_t> Catalog::paper_with_link(const std::string& key) const {
  const auto it = by_link_.find(key);
  if (it == by_link_.end()) return std::nullopt;
  return it->second;
}

const Paper* Catalog::find(const std::string& paper_id) const {
  auto it = by_id_.find(paper_id);
  return it == by_id_.end() ? nullptr : &papers_[it->second];
}

std::size_t Catalog::paper_index_of(ItemRef ref) const {
  return paper_of_item_[ref.roundup][ref.item];
}

RoundupRef Catalog::roundup_ref(std::size_t roundup_index) const {
  const Roundup& r = roundups_[roundup_index];
  return RoundupRef{r.id, r.title, r.month};
}

std::optional<std::size_t> Catalog::roundup_by_name(const std::string& folded_name) const {
  auto it = roundup_by_name_.find(folded_name);
  if (it == roundup_by_name_.end()) return std::nullopt;
  return it->second;
}

const Item& Catalog::best_item(const Paper& paper) const {
  const Item* best = &item(paper.occurrences.front());
  for (const ItemRef& ref : paper.occurrences)
    if (item(ref).summary.size() > best->summary.size()) best = &item(ref);
  return *best;
}

}  // namespace roundup::retrieval
