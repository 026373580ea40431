#include "retrieval/search_engine.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "retrieval/text.h"

namespace roundup::retrieval {

namespace {

// How much an unstructured passage's fused score counts against a recognised item's.
constexpr double k_passage_weight = 0.6;

// Question words that carry no topic: Han bigrams of "which paper", "what is", ...
bool is_question_term(const std::string& term) {
  static const std::unordered_set<std::string> k_terms = {
      "哪篇",   "篇论",    "论文",   "是哪",    "哪个",    "哪些",    "什么", "一篇",    "这篇",
      "有哪",   "哪一",    "文章",   "提到",    "介绍",    "关于",    "的论", "的模",    "的是",
      "是什",   "么论",    "请问",   "哪里",    "怎么",    "如何",    "为什", "么是",    "question",
      "answer", "roundup", "digest", "discuss", "describ", "mention", "show", "explain", "propos"};
  return k_terms.count(term) > 0;
}

}  // namespace

SearchEngine::SearchEngine(std::shared_ptr<const KnowledgeBase> kb, std::shared_ptr<const Analyzer> analyzer,
                           std::shared_ptr<const Embedder> embedder, FusionSettings fusion)
    : kb_(std::move(kb)), analyzer_(std::move(analyzer)), embedder_(std::move(embedder)), fusion_(fusion) {}

SearchEngine::QueryTerms SearchEngine::query_terms(std::string_view text) const {
  const Analysis a = analyzer_->analyze(text);
  QueryTerms q;
  std::unordered_set<std::string> seen;
  for (const auto* list : {&a.native, &a.gloss}) {
    for (const std::string& t : *list) {
      if (is_question_term(t) || !seen.insert(t).second) continue;
      q.terms.push_back(t);
      q.weights.push_back(kb_->idf(t));
    }
  }
  return q;
}

std::vector<std::string> SearchEngine::selective_terms(const QueryTerms& q) const {
  // FTS5 scores every matching row once per query term, so a long question (60 terms from a
  // Chinese sentence and its glosses) costs milliseconds even on a small corpus and far more on a
  // large one. The most selective terms carry nearly all of BM25's signal; terms found in most
  // passages carry almost none.
  std::vector<std::size_t> order(q.terms.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return q.weights[a] > q.weights[b]; });
  // FTS5's cost is about the number of rows it scores, the sum of the chosen terms' document
  // frequencies: terms are taken rarest first within a budget of rows. On the bundled corpus the
  // budget never binds; on a large one, common terms are left to the dense retriever, and a query
  // with no term rare enough gets no lexical list at all.
  std::vector<std::string> out;
  double rows = 0;
  for (std::size_t i : order) {
    if (out.size() >= k_max_lexical_terms || q.weights[i] < k_min_lexical_idf) break;
    const double df = kb_->document_frequency(q.terms[i]);
    // A term no passage holds matches no row, yet has the highest IDF: without this, the Han
    // bigrams of a Chinese question over English summaries would fill every slot and leave out
    // the English gloss terms that do match.
    if (df == 0) continue;
    if (rows + df > k_lexical_row_budget) {
      if (out.empty() && kb_->passage_count() <= k_lexical_row_budget) out.push_back(q.terms[i]);
      break;
    }
    rows += df;
    out.push_back(q.terms[i]);
  }
  if (out.empty() && !order.empty() && kb_->passage_count() <= k_lexical_row_budget) out.push_back(q.terms[order[0]]);
  return out;
}

std::shared_ptr<const PaperAnalysis> SearchEngine::paper_text(std::size_t paper_index) const {
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = paper_text_cache_.find(paper_index); it != paper_text_cache_.end()) return it->second;
  }
  auto text = std::make_shared<const PaperAnalysis>(kb_->paper_analysis(paper_index));
  std::lock_guard lock(cache_mutex_);
  if (paper_text_cache_.size() >= k_paper_text_cache_size) paper_text_cache_.clear();
  paper_text_cache_.emplace(paper_index, text);
  return text;
}

double SearchEngine::coverage(const QueryTerms& q, std::size_t paper_index) const {
  if (q.terms.empty()) return 0;
  const auto text = paper_text(paper_index);
  double found = 0, total = 0;
  for (std::size_t i = 0; i < q.terms.size(); ++i) {
    total += q.weights[i];
    if (text->native_terms.count(q.terms[i])) {
      found += q.weights[i];
    } else if (text->domain_terms.count(q.terms[i])) {
      found += k_domain_gloss_evidence * q.weights[i];
    } else if (text->gloss_terms.count(q.terms[i])) {
      found += k_gloss_evidence * q.weights[i];
    }
  }
  return total > 0 ? found / total : 0;
}

bool SearchEngine::passes(const Paper& paper, std::size_t roundup_index, const SearchFilter& filter) const {
  const Roundup& r = catalog().roundups()[roundup_index];
  if (filter.month && r.month != *filter.month) return false;
  if (filter.roundup_id && r.id != *filter.roundup_id) return false;
  if (filter.author) {
    const std::string want = fold(*filter.author);
    return std::any_of(paper.authors.begin(), paper.authors.end(),
                       [&](const std::string& a) { return fold(a) == want; });
  }
  return true;
}

std::vector<std::string> SearchEngine::best_sentences(std::size_t paper_index, std::string_view question,
                                                      std::size_t max_sentences) const {
  return best_sentences(paper_index, query_terms(bounded_question(question)), max_sentences);
}

std::vector<std::string> SearchEngine::best_sentences(std::size_t paper_index, const QueryTerms& q,
                                                      std::size_t max_sentences) const {
  const auto text = paper_text(paper_index);
  const auto& sentences = text->sentences;
  if (sentences.empty()) return {};
  std::vector<std::pair<double, std::size_t>> scored;
  scored.reserve(sentences.size());
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    double s = 0;
    for (std::size_t t = 0; t < q.terms.size(); ++t)
      if (text->sentence_terms[i].count(q.terms[t])) s += q.weights[t];
    // Very short fragments ("图 2 网络结构") make poor answers.
    if (utf8_length(sentences[i]) < 12) s *= 0.3;
    scored.emplace_back(s, i);
  }
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::size_t> chosen;
  for (const auto& [score, index] : scored) {
    if (chosen.size() >= max_sentences) break;
    if (score <= 0 && !chosen.empty()) break;
    chosen.push_back(index);
  }
  if (scored.front().first <= 0) chosen = {0};
  std::sort(chosen.begin(), chosen.end());
  std::vector<std::string> out;
  out.reserve(chosen.size());
  for (std::size_t i : chosen) out.push_back(sentences[i]);
  return out;
}

SearchHit SearchEngine::hit_for(std::size_t paper_index, double score, const QueryTerms& q) const {
  SearchHit hit;
  hit.paper = paper_index;
  hit.score = score;
  std::string snippet;
  for (const std::string& s : best_sentences(paper_index, q, 2)) {
    if (!snippet.empty()) snippet += " ";
    snippet += s;
  }
  hit.snippet = utf8_prefix(snippet, 400);
  return hit;
}

std::vector<SearchHit> SearchEngine::list_papers(const SearchFilter& filter, std::size_t limit) const {
  // Featured papers first, then listed papers, news and tools; each group in roundup order.
  std::vector<std::pair<int, std::size_t>> order;
  const auto& papers = catalog().papers();
  for (std::size_t p = 0; p < papers.size(); ++p) {
    const bool in = std::any_of(papers[p].occurrences.begin(), papers[p].occurrences.end(),
                                [&](const ItemRef& ref) { return passes(papers[p], ref.roundup, filter); });
    if (in) order.emplace_back(static_cast<int>(papers[p].kind), p);
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<SearchHit> out;
  for (const auto& [kind, p] : order) {
    if (out.size() >= limit) break;
    SearchHit hit = hit_for(p, 1.0, QueryTerms{});
    hit.coverage = 1.0;
    out.push_back(std::move(hit));
  }
  return out;
}

std::vector<SearchHit> SearchEngine::rank(std::string_view raw_topic, const SearchFilter& filter,
                                          std::size_t top_k) const {
  const std::string topic = bounded_question(raw_topic);
  const QueryTerms q = query_terms(topic);
  if (q.terms.empty()) return filter.any() ? list_papers(filter, top_k) : std::vector<SearchHit>{};
  const auto& passages = kb_->passages();
  const auto& papers = catalog().papers();

  const std::size_t candidates = fusion_.candidates * (filter.any() ? 4 : 1);
  const std::vector<ScoredPassage> lexical = kb_->lexical_search(selective_terms(q), candidates);
  std::vector<float> qvec(static_cast<std::size_t>(embedder_->dimension()));
  embedder_->embed_query(
      topic, [this](const std::string& t) { return kb_->idf(t); }, qvec.data());
  const std::vector<ScoredPassage> dense = kb_->dense_search(qvec.data(), candidates);

  // Passages -> papers: a paper's rank in each list is that of its best passage.
  std::unordered_map<std::size_t, std::size_t> best_passage;
  const auto to_papers = [&](const std::vector<ScoredPassage>& list, double weight) {
    RankedList ranked;
    ranked.weight = weight;
    std::unordered_set<std::size_t> seen;
    for (const ScoredPassage& sp : list) {
      const Passage& passage = passages[sp.passage];
      const std::size_t paper = catalog().paper_index_of(passage.item);
      if (!passes(papers[paper], passage.item.roundup, filter) || !seen.insert(paper).second) continue;
      ranked.entries.emplace_back(paper, sp.score);
      best_passage.emplace(paper, sp.passage);
    }
    return ranked;
  };
  std::vector<FusedEntry> fused =
      fuse({to_papers(lexical, fusion_.lexical_weight), to_papers(dense, fusion_.dense_weight)}, fusion_.method,
           fusion_.rrf_k);
  // Unstructured passages (text no paper, news or tool took) are the fallback: a recognised item
  // that matches as well is the better answer.
  for (FusedEntry& entry : fused)
    if (papers[entry.key].kind == ItemKind::passage) entry.score *= k_passage_weight;
  std::stable_sort(fused.begin(), fused.end(),
                   [](const FusedEntry& a, const FusedEntry& b) { return a.score > b.score; });

  std::vector<SearchHit> out;
  for (const FusedEntry& entry : fused) {
    if (out.size() >= top_k) break;
    SearchHit hit = hit_for(entry.key, entry.score, q);
    hit.passage = best_passage[entry.key];
    hit.coverage = coverage(q, entry.key);
    out.push_back(std::move(hit));
  }
  return out;
}

SearchResponse SearchEngine::search(std::string_view raw_question, std::size_t top_k) const {
  // Bounded here too, for callers that did not check question_within_limits (the CLI's search).
  const std::string question = bounded_question(raw_question);
  SearchResponse response;
  response.intent = understand_query(question, catalog());
  const QueryIntent& intent = response.intent;
  SearchFilter filter{intent.month, intent.roundup_id, intent.author};
  switch (intent.kind) {
    case QueryIntent::Kind::list_roundups:
      response.hits = list_papers(filter, std::max<std::size_t>(top_k, 200));
      break;
    case QueryIntent::Kind::by_author:
      response.hits = intent.topic.empty() ? list_papers(filter, std::max<std::size_t>(top_k, 200))
                                           : rank(intent.topic, filter, top_k);
      break;
    case QueryIntent::Kind::which_roundups:
    case QueryIntent::Kind::topic:
      response.hits = rank(intent.topic.empty() ? question : intent.topic, filter, top_k);
      break;
  }
  return response;
}

}  // namespace roundup::retrieval
