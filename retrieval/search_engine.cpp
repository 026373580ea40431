#include "retrieval/search_engine.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "retrieval/confidence.h"
#include "retrieval/names.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

// How much an unstructured passage's fused score counts against a recognised item's.
constexpr double k_passage_weight = 0.6;

// Question words that carry no topic: Han bigrams of "which paper", "what is", ...
bool is_question_term(const std::string& term) {
  static const std::unordered_set<std::string> k_terms = {
      "哪篇",   "篇论",    "论文",    "是哪",    "哪个", "哪些",    "什么",  "一篇",     "这篇",   "有哪",
      "哪一",   "文章",    "提到",    "介绍",    "关于", "的论",    "的模",  "的是",     "是什",   "么论",
      "请问",   "哪里",    "怎么",    "如何",    "为什", "么是",    "其中",  "question", "answer", "roundup",
      "digest", "discuss", "describ", "mention", "show", "explain", "propos"};
  return k_terms.count(term) > 0;
}

// The base of an English comparative or superlative, as the analyzer stems it: "smaller" ->
// "small", "bigger" -> "big", "easier" -> "easi" (the stem of "easy"), "largest" -> "larg".
// None for other words; whether the base is a word is the caller's to check.
std::optional<std::string> comparative_base(const std::string& term) {
  for (const std::string_view suffix : {"est", "er"}) {
    if (term.size() < suffix.size() + 3 || term.compare(term.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::string base = term.substr(0, term.size() - suffix.size());
    const std::size_t n = base.size();
    if (base[n - 1] == base[n - 2] && std::string_view("aeiou").find(base[n - 1]) == std::string_view::npos)
      base.pop_back();  // "bigg" -> "big"
    return Analyzer::stem(base);
  }
  return std::nullopt;
}

}  // namespace

SearchEngine::SearchEngine(std::shared_ptr<const KnowledgeBase> kb, std::shared_ptr<const Analyzer> analyzer,
                           std::shared_ptr<const Embedder> embedder, FusionSettings fusion)
    : kb_(std::move(kb)), analyzer_(std::move(analyzer)), embedder_(std::move(embedder)), fusion_(fusion) {}

SearchEngine::QueryTerms SearchEngine::query_terms(std::string_view text, std::string_view names_from) const {
  Analysis a = analyzer_->analyze_question(text);
  QueryTerms q;
  q.names = versioned_names(names_from);
  q.versions = version_mentions(
      names_from, [this](const std::string& word) { return analyzer_->generality(Analyzer::stem(word)) == 0; });
  // "question answering" names a field (问答): there the two words are its topic, not framing.
  bool names_qa = false;
  for (std::size_t i = 0; i + 1 < a.native.size(); ++i)
    names_qa = names_qa || (a.native[i] == "question" && a.native[i + 1] == "answer");
  const auto framing = [names_qa](const std::string& t) {
    return is_question_term(t) && !(names_qa && (t == "question" || t == "answer"));
  };
  std::unordered_set<std::string> seen;
  for (const auto* list : {&a.native, &a.gloss}) {
    for (const std::string& t : *list) {
      if (framing(t) || !seen.insert(t).second) continue;
      q.terms.push_back(t);
      q.weights.push_back(kb_->idf(t));
    }
  }
  // A concept weighs what its most informative term found in the corpus weighs; one that the
  // corpus holds in no form weighs as much as an unseen term, for the question asks about
  // something the roundups do not hold.
  std::set<std::vector<std::string>> seen_concepts;
  for (Concept& c : a.concepts) {
    std::erase_if(c.native, framing);
    if (c.native.empty() || !seen_concepts.insert(c.native).second) continue;
    double weight = -1;
    for (const auto* list : {&c.native, &c.gloss})
      for (const std::string& t : *list)
        if (kb_->document_frequency(t) > 0) weight = std::max(weight, kb_->idf(t));
    // A comparative no passage holds is read as its base word, which the stemmer leaves alone
    // ("smaller" -> "small", "bigger" -> "big", "easier" -> "easi", "largest" -> "larg").
    if (weight < 0 && c.native.size() == 1 && c.gloss.empty()) {
      if (auto base = comparative_base(c.native.front()); base && kb_->document_frequency(*base) > 0) {
        if (seen.insert(*base).second) {
          q.terms.push_back(*base);
          q.weights.push_back(kb_->idf(*base));
        }
        weight = kb_->idf(*base);
        c.native = {std::move(*base)};
      }
    }
    // A word no passage holds may be a misspelling of one that some passage does.
    if (weight < 0 && c.native.size() == 1 && c.gloss.empty()) {
      if (auto fixed = spelling().correct(c.native.front())) {
        q.corrections.push_back({c.native.front(), *fixed});
        if (seen.insert(*fixed).second) {
          q.terms.push_back(*fixed);
          q.weights.push_back(kb_->idf(*fixed));
        }
        weight = kb_->idf(*fixed);
        c.native.push_back(std::move(*fixed));
        c.corrected = true;
      }
    }
    q.concept_weights.push_back((weight < 0 ? kb_->idf(c.native.front()) : weight) * specificity(c));
    q.concept_known.push_back(weight >= 0);
    q.concepts.push_back(std::move(c));
  }
  return q;
}

const std::string* SearchEngine::unknown_word(const Concept& c) const {
  // Glosses belong to Chinese words; a corrected word was read as one the index knows.
  if (c.native.size() != 1 || c.corrected || !c.gloss.empty()) return nullptr;
  const std::string& t = c.native.front();
  const bool latin =
      !t.empty() && std::isalpha(static_cast<unsigned char>(t.front())) &&
      std::all_of(t.begin(), t.end(), [](char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); });
  return latin && analyzer_->generality(t) == 0 ? &t : nullptr;
}

std::vector<std::string> SearchEngine::name_words(std::string_view text) const {
  std::vector<std::string> out;
  const std::string folded = fold(bounded_question(text));
  for (std::size_t i = 0; i < folded.size();) {
    std::size_t j = i;
    while (j < folded.size() && std::isalnum(static_cast<unsigned char>(folded[j]))) ++j;
    const std::string word = folded.substr(i, j - i);
    // Dictionaries know words by their stems ("watermarking" is "watermark").
    if (word.size() >= 3 && std::isalpha(static_cast<unsigned char>(word.front())) &&
        analyzer_->generality(Analyzer::stem(word)) == 0)
      out.push_back(word);
    i = j + 1;
  }
  return out;
}

bool SearchEngine::is_acronym_like(const Concept& c) const {
  // A short Latin word that no dictionary knows ("llm", "rlhf"), not a word that happens to be
  // short ("cat" would match the initials of "conditional adversarial training").
  const std::string* t = unknown_word(c);
  return t && t->size() >= 2 && t->size() <= 5 &&
         std::all_of(t->begin(), t->end(), [](char ch) { return ch >= 'a' && ch <= 'z'; });
}

bool SearchEngine::is_name_like(const Concept& c) const {
  // A Latin word of three or more characters that no dictionary knows: a product, model or
  // person ("sora", "colbert", "khattab").
  const std::string* t = unknown_word(c);
  return t && t->size() >= 3;
}

double SearchEngine::specificity(const Concept& c) const {
  // A small corpus cannot tell a general word from a specific one by its own frequencies (a
  // word in 3 of 100 passages looks rare): everyday English ("world", "today", "paper") is
  // discounted by how general a background dictionary says it is. Numbers ("2022", "540B") are
  // half-weight; Han words without glosses count fully.
  const auto is_digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  // A Chinese word is as specific as its senses are on average: an everyday word ("今天", "效果")
  // has some specific-sounding sense among its general ones, and the most specific alone would
  // make chit-chat look like a question about a paper. The ML glossary's senses are all specific.
  const bool han = !c.native.empty() && !c.native.front().empty() &&
                   !std::isalnum(static_cast<unsigned char>(c.native.front().front()));
  if (han && !c.gloss.empty() && !c.domain) {
    double sum = 0;
    for (const std::string& t : c.gloss) {
      const double general = analyzer_->generality(t);
      sum += (1 - general) * (1 - general);
    }
    return sum / static_cast<double>(c.gloss.size());
  }
  double best = -1;
  for (const auto* list : {&c.native, &c.gloss}) {
    for (const std::string& t : *list) {
      if (t.empty() || !std::isalnum(static_cast<unsigned char>(t.front()))) continue;  // Han
      const bool quantity = t.size() > 1 && t.front() == 'q' && is_digit(t[1]);         // "q5p4e11"
      if (is_digit(t.front())) {
        best = std::max(best, k_number_specificity);
      } else if (!quantity) {
        const double general = analyzer_->generality(t);
        best = std::max(best, (1 - general) * (1 - general));
      }
    }
  }
  return best < 0 ? 1.0 : best;
}

const SpellingIndex& SearchEngine::spelling() const {
  std::call_once(spelling_once_, [this] {
    std::vector<SpellingIndex::Word> words;
    kb_->for_each_term('a', 'z', [&words](std::string_view term, double df) {
      if (SpellingIndex::correctable(term)) words.push_back({std::string(term), df});
    });
    spelling_ = std::make_unique<const SpellingIndex>(std::move(words));
  });
  return *spelling_;
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

Evidence SearchEngine::evidence(const QueryTerms& q, std::size_t paper_index) const {
  Evidence e;
  if (q.concepts.empty()) return e;
  const auto text = paper_text(paper_index);
  const auto any_in = [](const std::vector<std::string>& terms, const std::unordered_set<std::string>& set) {
    return std::any_of(terms.begin(), terms.end(), [&set](const std::string& t) { return set.count(t) > 0; });
  };
  // The paper's own writing, for names and acronyms; read only when the question needs it.
  std::optional<NameMentions> mentions;
  const auto paper_mentions = [&]() -> const NameMentions& {
    if (!mentions) {
      std::string all;
      for (const ItemRef& ref : catalog().papers()[paper_index].occurrences) {
        const Item& item = catalog().item(ref);
        all += item.title + "\n" + item.summary + "\n";
      }
      mentions.emplace(all);
    }
    return *mentions;
  };
  // How surely the paper holds a concept: in its own words; through the glosses of the
  // question's Chinese word (a Chinese question, an English summary); or only through the
  // glosses of the paper's Chinese words (an English question, a Chinese summary).
  // by_author_only: only an author's name holds it.
  const auto held_of = [&](const Concept& c, bool* by_author_only) {
    *by_author_only = false;
    if (c.corrected && !text->native_terms.count(c.native.front()) && text->native_terms.count(c.native.back()))
      return k_corrected_evidence;
    // A Chinese word is its character pairs; the paper holds the word when it holds them all.
    const bool han = !c.native.empty() && static_cast<unsigned char>(c.native.front()[0]) >= 0x80;
    if (han && c.native.size() > 1 && any_in(c.native, text->native_terms) &&
        !std::all_of(c.native.begin(), c.native.end(),
                     [&](const std::string& t) { return text->native_terms.count(t); }))
      return k_partial_han_evidence;
    if (any_in(c.native, text->native_terms)) {
      *by_author_only = std::all_of(c.native.begin(), c.native.end(), [&](const std::string& t) {
        return !text->native_terms.count(t) || text->author_only_terms.count(t);
      });
      return 1.0;
    }
    if (any_in(c.gloss, text->native_terms)) return c.domain ? k_domain_gloss_evidence : k_question_gloss_evidence;
    if (any_in(c.native, text->domain_terms)) return k_domain_gloss_evidence;
    if (any_in(c.native, text->gloss_terms) || any_in(c.gloss, text->gloss_terms)) return k_gloss_evidence;
    if (is_acronym_like(c) && paper_mentions().abbreviates(c.native.front())) return k_acronym_evidence;
    return 0.0;
  };
  const double unseen = kb_->idf(std::string());  // the IDF of a term no passage holds
  double found = 0, total = 0, unknown = 0;
  for (std::size_t i = 0; i < q.concepts.size(); ++i) {
    const Concept& c = q.concepts[i];
    bool by_author_only = false;
    double held = held_of(c, &by_author_only);
    // A name of the question that is only an author's is who wrote the paper, not what it is
    // about: the same author's other work shares it ("Jason Wei's emergent abilities paper" is
    // not his Flan Collection). It adds to the coverage a little, and is no distinctive match.
    if (by_author_only) held = k_author_evidence;
    const double w = q.concept_weights[i];
    total += w;
    found += held * w;
    if (!q.concept_known[i]) unknown += w;
    if (!q.concept_known[i] && is_name_like(c)) ++e.unknown_names;
    const double specificity = std::min(1.0, w / unseen);
    if (by_author_only) {
      e.held_terms.push_back(c.native.back());
    } else if (held >= k_gloss_evidence) {
      e.best_matched = std::max(e.best_matched, specificity);
      ++e.matched_concepts;
      e.held_terms.push_back(c.native.back());
    } else {
      e.best_missing = std::max(e.best_missing, specificity);
      e.missing_terms.push_back(c.native.back());
    }
  }
  e.coverage = total > 0 ? found / total : 0;
  e.unknown_share = total > 0 ? unknown / total : 0;
  if (!q.names.empty()) {
    // A misspelt name ("StyelGAN-T") counts as mentioned when its corrected spelling is.
    const auto mentioned = [&](const std::string& name) {
      if (paper_mentions().mentions(name)) return true;
      return std::any_of(q.corrections.begin(), q.corrections.end(), [&](const SpellingCorrection& c) {
        const std::size_t at = name.find(c.typed);
        if (at == std::string::npos) return false;
        std::string fixed = name;
        if (paper_mentions().mentions(fixed.replace(at, c.typed.size(), c.corrected))) return true;
        // The correction is a stem ("objectfold"); the paper writes the word whole ("ObjectFolder 2.0").
        return at == 0 && paper_mentions().mentions_stem_then(c.corrected, name.substr(c.typed.size()));
      });
    };
    e.missing_names = static_cast<int>(std::count_if(q.names.begin(), q.names.end(), std::not_fn(mentioned)));
  }
  for (const VersionMention& m : q.versions) {
    // Counted once with the versioned names above.
    if (std::find(q.names.begin(), q.names.end(), m.words + m.version) != q.names.end()) continue;
    if (paper_mentions().names_only_other_versions(m)) ++e.missing_names;
  }
  return e;
}

bool SearchEngine::passes(const Paper& paper, std::size_t roundup_index, const SearchFilter& filter) const {
  const Roundup& r = catalog().roundups()[roundup_index];
  if (filter.month && r.month != *filter.month) return false;
  if (filter.since && (r.month.empty() || r.month < *filter.since)) return false;
  if (filter.roundup_id && r.id != *filter.roundup_id) return false;
  if (filter.author) {
    const std::string want = fold(*filter.author);
    return std::any_of(paper.authors.begin(), paper.authors.end(),
                       [&](const std::string& a) { return fold(a) == want; });
  }
  return true;
}

std::vector<std::string> SearchEngine::best_sentences(std::size_t paper_index, std::string_view question,
                                                      std::size_t max_sentences, bool lead_with_number) const {
  const std::string bounded = bounded_question(question);
  return best_sentences(paper_index, query_terms(bounded, bounded), max_sentences, lead_with_number);
}

std::vector<std::string> SearchEngine::best_sentences(std::size_t paper_index, const QueryTerms& q,
                                                      std::size_t max_sentences, bool lead_with_number) const {
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
  // A question about a quantity is answered first by the best-matching sentence that states one
  // (a summary may state the number without repeating the question's words: "a 137B model").
  std::optional<std::size_t> lead;
  if (lead_with_number) {
    for (const auto& [score, index] : scored) {
      if (std::any_of(sentences[index].begin(), sentences[index].end(), [](char c) { return c >= '0' && c <= '9'; })) {
        lead = index;
        break;
      }
    }
  }
  std::vector<std::string> out;
  out.reserve(chosen.size() + 1);
  if (lead) out.push_back(sentences[*lead]);
  for (std::size_t i : chosen)
    if (i != lead && out.size() < max_sentences) out.push_back(sentences[i]);
  return out;
}

SearchHit SearchEngine::hit_for(std::size_t paper_index, double score, const QueryTerms& q) const {
  SearchHit hit;
  hit.paper = paper_index;
  hit.score = score;
  std::string snippet;
  for (const std::string& s : best_sentences(paper_index, q, 2, false)) {
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
    hit.evidence.coverage = 1.0;
    hit.confidence = 1.0;  // chosen by metadata (month, roundup, author), not by matching text
    out.push_back(std::move(hit));
  }
  return out;
}

std::vector<SearchHit> SearchEngine::rank(std::string_view raw_topic, std::string_view question,
                                          const SearchFilter& filter, std::size_t top_k,
                                          std::vector<SpellingCorrection>* corrections) const {
  std::string topic = bounded_question(raw_topic);
  const std::string typed = bounded_question(question);
  const QueryTerms q = query_terms(topic, typed);
  if (corrections) corrections->insert(corrections->end(), q.corrections.begin(), q.corrections.end());
  // The dense side reads text: the corrected words join the question.
  for (const SpellingCorrection& c : q.corrections) topic += " " + c.corrected;
  if (q.terms.empty()) return filter.any() ? list_papers(filter, top_k) : std::vector<SearchHit>{};
  const auto& passages = kb_->passages();
  const auto& papers = catalog().papers();

  const std::size_t pool = fusion_.candidates * (filter.any() ? 4 : 1);
  const std::vector<ScoredPassage> lexical = kb_->lexical_search(selective_terms(q), pool);
  std::vector<float> qvec(static_cast<std::size_t>(embedder_->dimension()));
  // A remote embedder may have no vector for the question (its server down or slow): the lexical
  // side then ranks alone, and the answer is no worse than a keyword search.
  const bool dense_ranked = embedder_->embed_query(
      topic, [this](const std::string& t) { return kb_->idf(t); }, qvec.data());
  const std::vector<ScoredPassage> dense =
      dense_ranked ? kb_->dense_search(qvec.data(), pool) : std::vector<ScoredPassage>{};

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
  const RankedList lexical_papers = to_papers(lexical, fusion_.lexical_weight);
  const RankedList dense_papers = to_papers(dense, fusion_.dense_weight);
  const auto rank_in = [](const RankedList& list, std::size_t paper) {
    for (std::size_t i = 0; i < list.entries.size(); ++i)
      if (list.entries[i].first == paper) return static_cast<int>(i);
    return -1;
  };
  // Without the dense side, fusion normalises by the lexical list alone: a paper first there
  // scores 1, as one first in both lists does, so confidence keeps its meaning.
  std::vector<FusedEntry> fused = dense_ranked ? fuse({lexical_papers, dense_papers}, fusion_.method, fusion_.rrf_k)
                                               : fuse({lexical_papers}, fusion_.method, fusion_.rrf_k);
  // Unstructured passages (text no paper, news or tool took) are the fallback: a recognised item
  // that matches as well is the better answer.
  for (FusedEntry& entry : fused)
    if (papers[entry.key].kind == ItemKind::passage) entry.score *= k_passage_weight;
  std::stable_sort(fused.begin(), fused.end(),
                   [](const FusedEntry& a, const FusedEntry& b) { return a.score > b.score; });

  // The fused order ranks by shared words; the evidence says how much of the question each paper
  // holds. The first few candidates are reordered by the confidence their evidence gives, so a
  // paper that holds the whole question ("StyleGAN-T 生成一张图要几步") is not left below one
  // that the dense side likes for a common word.
  struct Candidate {
    std::size_t paper;
    Evidence evidence;
    double confidence = 0;
  };
  std::vector<Candidate> candidates;
  const std::size_t depth = std::min(fused.size(), std::max(top_k, k_rerank_depth));
  for (std::size_t i = 0; i < depth; ++i) {
    Candidate c{fused[i].key, evidence(q, fused[i].key)};
    c.evidence.lexical_rank = rank_in(lexical_papers, c.paper);
    c.evidence.dense_rank = rank_in(dense_papers, c.paper);
    c.evidence.dense_unavailable = !dense_ranked;
    c.evidence.score = fused[i].score;
    c.evidence.names_title = writes_name(typed, short_name(papers[c.paper].title));
    candidates.push_back(c);
  }
  // Margins are over the best other candidate, so a candidate's confidence does not depend on
  // the order it is being sorted into. An unstructured passage does not compete with an item:
  // it is often a contents line that names every paper of the month.
  const auto is_passage = [&papers](const Candidate& c) { return papers[c.paper].kind == ItemKind::passage; };
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    double best_score = 0, best_coverage = 0;
    for (std::size_t j = 0; j < candidates.size(); ++j) {
      if (j == i || (is_passage(candidates[j]) && !is_passage(candidates[i]))) continue;
      best_score = std::max(best_score, candidates[j].evidence.score);
      best_coverage = std::max(best_coverage, candidates[j].evidence.coverage);
    }
    Evidence& e = candidates[i].evidence;
    e.margin = e.score - best_score;
    e.coverage_margin = e.coverage - best_coverage;
    candidates[i].confidence = answer_confidence(e);
  }
  // Unstructured passages stay behind recognised items that are as sure.
  const auto rerank_key = [&](const Candidate& c) { return c.confidence * (is_passage(c) ? k_passage_weight : 1.0); };
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](const Candidate& a, const Candidate& b) { return rerank_key(a) > rerank_key(b); });

  std::vector<SearchHit> out;
  for (std::size_t i = 0; i < candidates.size() && out.size() < top_k; ++i) {
    const Candidate& c = candidates[i];
    SearchHit hit = hit_for(c.paper, c.evidence.score, q);
    hit.passage = best_passage[c.paper];
    hit.evidence = c.evidence;
    hit.confidence = c.confidence;
    out.push_back(std::move(hit));
  }
  return out;
}

std::vector<SearchHit> SearchEngine::rank_topic(std::string_view topic, std::string_view question,
                                                const SearchFilter& filter, std::size_t top_k,
                                                std::vector<SpellingCorrection>* corrections) const {
  const std::vector<std::string> parts = topic_parts(bounded_question(topic));
  if (parts.size() < 2) return rank(topic, question, filter, top_k, corrections);
  struct Listed {
    SearchHit hit;
    int parts_held = 0;
  };
  std::unordered_map<std::size_t, Listed> listed;
  for (const std::string& part : parts) {
    std::vector<SearchHit> hits = rank(part, part, filter, top_k, corrections);
    if (hits.empty()) continue;
    const double best = std::max(hits.front().score, 1e-9);
    for (SearchHit& hit : hits) {
      hit.score = std::min(1.0, hit.score / best);
      auto [at, fresh] = listed.try_emplace(hit.paper, Listed{hit, 0});
      if (hit.evidence.coverage >= k_topic_part_held) ++at->second.parts_held;
      if (!fresh && hit.score > at->second.hit.score) at->second.hit = std::move(hit);
    }
  }
  std::vector<Listed> order;
  order.reserve(listed.size());
  for (auto& [paper, entry] : listed) order.push_back(std::move(entry));
  std::sort(order.begin(), order.end(), [](const Listed& a, const Listed& b) {
    if (a.parts_held != b.parts_held) return a.parts_held > b.parts_held;
    if (a.hit.score != b.hit.score) return a.hit.score > b.hit.score;
    return a.hit.paper < b.hit.paper;  // a stable answer whatever the map's order
  });
  std::vector<SearchHit> out;
  for (std::size_t i = 0; i < order.size() && i < top_k; ++i) out.push_back(std::move(order[i].hit));
  return out;
}

SearchResponse SearchEngine::search(std::string_view raw_question, std::size_t top_k) const {
  // Bounded here too, for callers that did not check question_within_limits (the CLI's search).
  const std::string question = bounded_question(raw_question);
  SearchResponse response;
  response.intent = understand_query(question, catalog());
  const QueryIntent& intent = response.intent;
  SearchFilter filter{intent.month, intent.roundup_id, intent.author, intent.since};
  if (intent.link) {
    // A link is looked up, never ranked: a paper whose words resemble the URL is not its paper.
    if (const auto paper = catalog().paper_with_link(*intent.link)) {
      SearchHit hit = hit_for(*paper, 1.0, query_terms(intent.topic, question));
      hit.confidence = 1;
      hit.evidence.exact_link = true;
      response.hits.push_back(std::move(hit));
    }
    return response;
  }
  switch (intent.kind) {
    case QueryIntent::Kind::list_roundups:
      response.hits = list_papers(filter, std::max<std::size_t>(top_k, 200));
      break;
    case QueryIntent::Kind::by_author:
      response.hits = intent.topic.empty() ? list_papers(filter, std::max<std::size_t>(top_k, 200))
                                           : rank(intent.topic, question, filter, top_k, &response.corrections);
      break;
    case QueryIntent::Kind::which_roundups:
    case QueryIntent::Kind::topic:
    case QueryIntent::Kind::topical:
      response.hits =
          rank(intent.topic.empty() ? question : intent.topic, question, filter, top_k, &response.corrections);
      break;
    case QueryIntent::Kind::list_months:
    case QueryIntent::Kind::count_papers: break;  // answered from the catalog itself
  }
  return response;
}

}  // namespace roundup::retrieval
