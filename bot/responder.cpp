#include "bot/responder.h"

#include <algorithm>
#include <cctype>

#include "bot/citation.h"
#include "retrieval/confidence.h"
#include "retrieval/follow_up_cues.h"
#include "retrieval/names.h"
#include "retrieval/query_intent.h"
#include "text/unicode.h"

namespace roundup::bot {

using retrieval::QueryIntent;
using retrieval::SearchHit;

namespace {

// "2,000".
std::string with_thousands(std::size_t n) {
  std::string digits = std::to_string(n);
  for (auto at = static_cast<std::ptrdiff_t>(digits.size()) - 3; at > 0; at -= 3)
    digits.insert(static_cast<std::size_t>(at), ",");
  return digits;
}

// The word of text (Latin letters and digits) whose analyzer term is term; term itself if none.
std::string surface_word(std::string_view text, const std::string& term) {
  for (std::size_t i = 0; i < text.size();) {
    std::size_t j = i;
    while (j < text.size() && std::isalnum(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i && retrieval::Analyzer::stem(text::fold(text.substr(i, j - i))) == term)
      return std::string(text.substr(i, j - i));
    i = j + 1;
  }
  return term;
}

// "Reading "chinchila" as "Chinchilla"." for the spelling corrections the search made: the
// asker's word, and the cited paper's where it uses the corrected one.
std::string spelling_note(const std::vector<retrieval::SpellingCorrection>& corrections, std::string_view question,
                          const PaperCitation& cited) {
  std::string note;
  const std::string cited_text = cited.title + " " + cited.summary;
  for (const retrieval::SpellingCorrection& c : corrections)
    note += (note.empty() ? "Reading \"" : ", \"") + surface_word(question, c.typed) + "\" as \"" +
            surface_word(cited_text, c.corrected) + "\"";
  return note.empty() ? note : note + ".";
}

}  // namespace

Answer question_too_long() {
  Answer a;
  a.kind = Answer::Kind::notice;
  a.heading = "That question is too long";
  a.lines = {"I read questions of up to " + with_thousands(retrieval::k_max_question_chars) +
             " characters (counted after Unicode normalisation). Please ask a shorter one: one topic, paper or "
             "author at a time works best."};
  return a;
}

std::string short_authors(const std::vector<std::string>& authors) {
  if (authors.empty()) return {};
  if (authors.size() <= 2) return authors.size() == 1 ? authors[0] : authors[0] + ", " + authors[1];
  return authors[0] + ", " + authors[1] + " et al.";
}

Responder::Responder(std::shared_ptr<const retrieval::SearchEngine> engine, ResponderSettings settings)
    : engine_(std::move(engine)), settings_(settings) {}

PaperCitation Responder::cite(const SearchHit& hit) const {
  return cite_paper(engine_->catalog().papers()[hit.paper], hit.snippet);
}

namespace {
// The papers a roundup lists (not its news, tools or passages): what its counts say.
std::size_t papers_in(const retrieval::Roundup& r) {
  return static_cast<std::size_t>(std::count_if(r.items.begin(), r.items.end(), [](const retrieval::Item& item) {
    return item.kind == retrieval::ItemKind::paper;
  }));
}
}  // namespace

std::vector<std::string> Responder::coverage_lines() const {
  std::vector<std::string> out;
  const retrieval::Catalog& catalog = engine_->catalog();
  for (const std::size_t index : catalog.roundups_by_month()) {
    const retrieval::Roundup& r = catalog.roundups()[index];
    out.push_back((r.month.empty() ? std::string("(month unknown)") : r.month) + " — " + r.title + " (" +
                  std::to_string(papers_in(r)) + " papers)");
  }
  return out;
}

namespace {
// The share of a question's weighted terms an unstructured passage must hold to be an answer.
constexpr double k_passage_min_coverage = 0.5;
// A topical list keeps papers whose fused score is at least this share of the best one's.
constexpr double k_topical_min_score_share = 0.5;
// A topical list of up to 8 papers is chosen from this many candidates.
constexpr std::size_t k_topical_candidates = 20;
// ... and that hold at least this share of the topic's weighted concepts.
constexpr double k_topical_min_coverage = 0.7;
// ... and whose most specific matched concept is at least this specific (Evidence::best_matched):
// a topic is a subject, and a paper that shares only "model" or "learning" with it is not on it.
// Several common words together name a subject too ("text-to-image generation"): a paper that
// holds nearly all of them is on it.
constexpr double k_topical_min_specificity = 0.15;
constexpr double k_topical_whole_coverage = 0.9;
// ... and of whose topic at most this share is unknown to the roundups: "papers on cooking and
// diffusion" is half about something no roundup holds.
constexpr double k_topical_max_unknown_share = 0.25;

// Whether a paper holds the topic a question asks about (a topical list, a narrowing of a list;
// the list also keeps only papers near the best). The answer confidence asks
// instead whether one paper answers a question, and pays for the margin over the others: on a
// topic several papers share, every one of them is unsure.
bool holds_topic(const SearchHit& hit) {
  const retrieval::Evidence& e = hit.evidence;
  return e.coverage >= k_topical_min_coverage &&
         (e.best_matched >= k_topical_min_specificity ||
          (e.matched_concepts >= 2 && e.coverage >= k_topical_whole_coverage)) &&
         e.unknown_share <= k_topical_max_unknown_share && e.missing_names == 0 && e.unknown_names == 0;
}
}  // namespace

Answer Responder::no_match(std::string_view why) const {
  Answer a;
  a.kind = Answer::Kind::no_match;
  a.heading = "No good match";
  a.lines.emplace_back(why);
  a.lines.emplace_back("The roundups I know cover:");
  a.suggestions = coverage_lines();
  return a;
}

Answer Responder::not_answered(std::string_view why, const SearchHit* best, const CommandSpelling& commands) const {
  Answer a = no_match(why);
  // Before "The roundups I know cover:", which the list of roundups follows.
  a.lines.insert(a.lines.begin() + 1, "Browse with " + commands("papers") + " [month], or look things up with " +
                                          commands("search") + " <words>.");
  if (best) {
    a.confidence = best->confidence;
    a.reason = retrieval::confidence_reason(best->evidence);
  } else {
    a.reason = "no paper matched any word of the question";
  }
  return a;
}

Answer Responder::help(const CommandSpelling& commands) const {
  Answer a;
  a.kind = Answer::Kind::help;
  a.heading = "Roundup Bot";
  a.lines = {
      "Ask me about the papers, news and tools in the monthly ML paper roundups, in English or Chinese.",
      commands("papers") + " [month] — list the roundups, or the papers of one month (e.g. " + commands("papers") +
          " 2023-02)",
      commands("search") + " <words> — the best matching papers",
      commands("ask") + " <question> — or just type the question",
      commands("subscribe") + " — the daily paper digest in this chat (" + commands("unsubscribe") + " to stop it)",
      std::string("Examples: \"which paper trained a smaller model on more tokens?\", ") +
          "\"what was in the February 2023 roundup?\", \"papers by Carlini\", \"5400亿参数的模型是哪篇?\""};
  return a;
}

Answer Responder::papers(std::string_view month_or_roundup, const CommandSpelling& commands) const {
  const std::string arg = text::trim(month_or_roundup);
  if (arg.empty()) {
    Answer a;
    a.kind = Answer::Kind::catalogue;
    a.heading = "Roundups";
    a.lines = coverage_lines();
    // The latest month with a roundup, as the example.
    const retrieval::Catalog& catalog = engine_->catalog();
    std::string latest = "2023-02";
    for (const std::size_t index : catalog.roundups_by_month())
      if (!catalog.roundups()[index].month.empty()) latest = catalog.roundups()[index].month;
    a.suggestions.emplace_back("Try " + commands("papers") + " " + latest);
    return a;
  }
  retrieval::SearchFilter filter;
  filter.month = retrieval::find_month(arg);
  if (!filter.month) {
    for (const auto& r : engine_->catalog().roundups())
      if (r.id == arg || r.id.rfind(arg + "_", 0) == 0) filter.roundup_id = r.id;
  }
  if (!filter.month && !filter.roundup_id)
    return no_match("I could not read \"" + arg + "\" as a month (try 2023-02 or \"February 2023\") or a roundup id.");
  const retrieval::SearchResponse response = engine_->search(filter.month ? *filter.month : *filter.roundup_id, 200);
  if (response.hits.empty())
    return no_match("There is no roundup for " + (filter.month ? *filter.month : *filter.roundup_id) + ".");
  Answer a;
  a.kind = Answer::Kind::catalogue;
  for (const SearchHit& hit : response.hits) a.citations.push_back(cite(hit));
  const auto& first = a.citations.front().roundups;
  a.heading = "Papers in " + (filter.month ? "the " + *filter.month + " roundup" : "roundup " + *filter.roundup_id);
  if (!first.empty()) a.lines.push_back(first.front().title);
  return a;
}

Answer Responder::search(std::string_view query) const {
  const retrieval::SearchResponse response = engine_->search(query, settings_.top_k);
  if (response.hits.empty()) return no_match("Nothing in the roundups matches \"" + std::string(query) + "\".");
  Answer a;
  a.kind = Answer::Kind::listing;
  a.heading = "Results for \"" + text::trim(query) + "\"";
  for (const SearchHit& hit : response.hits) a.citations.push_back(cite(hit));
  return a;
}

Answer Responder::ask(std::string_view question, const CommandSpelling& commands) const {
  if (!retrieval::question_within_limits(question)) return question_too_long();
  const std::string q = text::trim(question);
  if (q.empty()) return help(commands);
  retrieval::SearchResponse response = engine_->search(q, settings_.top_k);
  const QueryIntent& intent = response.intent;
  // Unstructured passages (roundup text that is no paper, news or tool) answer only with strong
  // evidence: a loose match to an intro paragraph is not worth citing.
  std::erase_if(response.hits, [this](const SearchHit& hit) {
    return engine_->catalog().papers()[hit.paper].kind == retrieval::ItemKind::passage &&
           hit.evidence.coverage < k_passage_min_coverage;
  });
  const auto& hits = response.hits;

  if (intent.kind == QueryIntent::Kind::list_months) return papers("", commands);
  if (intent.kind == QueryIntent::Kind::count_papers) return count_papers(intent.month);
  if (intent.kind == QueryIntent::Kind::list_roundups && intent.since) {
    if (hits.empty())
      return no_match("There is no roundup from " + *intent.since + " on; the latest is " + latest_month() + ".");
    Answer a;
    a.kind = Answer::Kind::catalogue;
    a.heading = "Papers since " + *intent.since;
    std::vector<std::string> months;
    for (const SearchHit& hit : hits) {
      a.citations.push_back(cite(hit));
      for (const auto& r : a.citations.back().roundups)
        if (r.month >= *intent.since && std::find(months.begin(), months.end(), r.month) == months.end())
          months.push_back(r.month);
    }
    std::sort(months.begin(), months.end());
    std::string line = "From the roundups of";
    for (std::size_t i = 0; i < months.size(); ++i) line += (i == 0 ? " " : ", ") + months[i];
    a.lines.push_back(line + ":");
    return a;
  }
  if (intent.kind == QueryIntent::Kind::list_roundups) {
    if (hits.empty())
      return no_match("There is no roundup for " + intent.month.value_or(intent.roundup_id.value_or("that")) + ".");
    Answer a;
    a.kind = Answer::Kind::catalogue;
    for (const SearchHit& hit : hits) a.citations.push_back(cite(hit));
    a.heading = "What was in the " + intent.month.value_or(intent.roundup_id.value_or("")) + " roundup";
    for (const auto& r : a.citations.front().roundups) a.lines.push_back(r.title);
    return a;
  }
  if (intent.link && hits.empty()) {
    Answer a = not_answered("The roundups do not include " + intent.link_shown + ".", nullptr, commands);
    a.reason = "no paper in the roundups has that link";
    return a;
  }
  // A topical question is answered by every paper on its topic, however many share it; a topic
  // that one paper holds is answered as any question.
  if (intent.kind == QueryIntent::Kind::topical) {
    const retrieval::SearchFilter filter{intent.month, intent.roundup_id, intent.author, intent.since};
    if (Answer list =
            topical_list(engine_->rank_topic(intent.topic, q, filter, k_topical_candidates), intent.topic, commands);
        list.citations.size() > 1)
      return list;
  }
  if (hits.empty() || hits.front().confidence < settings_.min_confidence) {
    if (intent.kind == QueryIntent::Kind::by_author && hits.empty())
      return no_match("I found no papers by " + intent.author.value_or("that author") + ".");
    return not_answered("I don't know: nothing in the roundups answers that well.",
                        hits.empty() ? nullptr : &hits.front(), commands);
  }
  Answer a;
  const SearchHit& best = hits.front();
  a.confidence = best.confidence;
  a.reason = retrieval::confidence_reason(best.evidence);
  if (intent.kind == QueryIntent::Kind::by_author && intent.topic.empty()) {
    a.kind = Answer::Kind::catalogue;
    a.heading = "Papers by " + *intent.author;
    for (const SearchHit& hit : hits) a.citations.push_back(cite(hit));
    return a;
  }
  if (intent.attribute != retrieval::Attribute::none && !names_paper(best.paper, intent.topic)) {
    // "AlexNet 的作者是谁": a paper that mentions AlexNet in passing is not AlexNet's paper, and
    // its authors are not the answer.
    Answer refusal = not_answered("I don't know: the roundups do not hold that paper itself.", &best, commands);
    refusal.reason = "the question's subject is not what the best match is about";
    return refusal;
  }
  const PaperCitation top = cite(best);
  a.closest_match = best.confidence < settings_.sure_confidence;
  if (intent.kind == QueryIntent::Kind::which_roundups) {
    a.kind = Answer::Kind::roundups;
    a.heading = a.closest_match ? "Closest match: " + top.title : top.title;
    std::string line = top.roundups.size() == 1 ? "Covered in 1 roundup:"
                                                : "Covered in " + std::to_string(top.roundups.size()) + " roundups:";
    a.lines.push_back(line);
    for (const auto& r : top.roundups) a.lines.push_back(r.title + (r.month.empty() ? "" : " (" + r.month + ")"));
  } else {
    a.kind = Answer::Kind::answer;
    a.heading = a.closest_match ? "Closest match: " + top.title : top.title;
    a.lines =
        intent.attribute != retrieval::Attribute::none
            ? record_lines(best.paper, intent.attribute)
            : engine_->best_sentences(best.paper, intent.topic.empty() ? q : intent.topic, 3, intent.asks_quantity);
    // A paper's record (authors, link, roundups) is the answer as it stands; passages may be reworded.
    a.model_may_rewrite = intent.attribute == retrieval::Attribute::none && !a.closest_match;
  }
  if (a.closest_match)
    a.lines.insert(a.lines.begin(),
                   "I am not sure this answers your question; it is the nearest thing in the roundups.");
  if (const std::string read_as = spelling_note(response.corrections, q, top); !read_as.empty())
    a.lines.insert(a.lines.begin(), read_as);
  a.citations.push_back(top);
  // Related papers must be nearly as relevant as the answer, not merely above the floor.
  for (std::size_t i = 1; !a.closest_match && i < hits.size() && a.related.size() < 3; ++i) {
    if (hits[i].confidence >= std::max(settings_.min_confidence, 0.8 * best.confidence) &&
        hits[i].score >= 0.5 * best.score)
      a.related.push_back(cite(hits[i]));
  }
  return a;
}

bool Responder::names_paper(std::size_t paper_index, const std::string& subject) const {
  // A paper's own name is in its title, or recurs in its summary; a name its summary mentions
  // once is context ("AlexNet" in the ConvNeXt summary). Only names are checked (words no
  // dictionary knows); a subject described in words ("the watermarking paper") is the ranking's
  // to judge.
  const retrieval::Catalog& catalog = engine_->catalog();
  const retrieval::Paper& paper = catalog.papers()[paper_index];
  const retrieval::NameMentions title(paper.title);
  const std::string summary = text::fold(catalog.best_item(paper).summary);
  for (const std::string& name : engine_->name_words(subject)) {
    const std::string stem = retrieval::Analyzer::stem(name);  // "watermarking" in "A Watermark for …"
    if (title.mentions(name) || title.abbreviates(name) || title.mentions_stem_then(stem, "")) continue;
    const std::size_t first = summary.find(stem);
    if (first == std::string::npos || summary.find(stem, first + stem.size()) == std::string::npos) return false;
  }
  return true;
}

std::string Responder::latest_month() const {
  const retrieval::Catalog& catalog = engine_->catalog();
  std::string latest;
  for (const std::size_t index : catalog.roundups_by_month())
    if (!catalog.roundups()[index].month.empty()) latest = catalog.roundups()[index].month;
  return latest;
}

Answer Responder::count_papers(const std::optional<std::string>& month) const {
  const retrieval::Catalog& catalog = engine_->catalog();
  Answer a;
  a.kind = Answer::Kind::catalogue;
  a.confidence = 1;
  a.reason = "counted in the catalogue";
  // Papers, as the roundup lists count them; a paper two roundups covered counts once in all.
  if (month) {
    for (const retrieval::Roundup& r : catalog.roundups()) {
      if (r.month != *month) continue;
      a.heading = "Papers in the " + *month + " roundup";
      a.lines.push_back("The " + *month + " roundup (" + r.title + ") has " + std::to_string(papers_in(r)) +
                        " papers, and " + std::to_string(r.items.size() - papers_in(r)) + " other items.");
    }
    if (a.lines.empty()) return no_match("There is no roundup for " + *month + ".");
    return a;
  }
  const std::size_t total = static_cast<std::size_t>(
      std::count_if(catalog.papers().begin(), catalog.papers().end(),
                    [](const retrieval::Paper& p) { return p.kind == retrieval::ItemKind::paper; }));
  a.heading = "Papers in the roundups";
  a.lines.push_back("The " + std::to_string(catalog.roundups().size()) + " roundups hold " + std::to_string(total) +
                    " papers:");
  for (std::string& line : coverage_lines()) a.lines.push_back(std::move(line));
  return a;
}

Answer Responder::topical_list(const std::vector<SearchHit>& hits, const std::string& topic,
                               const CommandSpelling& commands) const {
  // Every paper that answers nearly as well as the best one, and no filler: a paper far below
  // the best, or below the confidence floor, is not about the topic.
  constexpr std::size_t k_max_listed = 8;
  // "diffusion models?" -> "diffusion models", for the heading and the /search hint.
  std::string subject = topic;
  while (!subject.empty() && std::string_view("?!.,;: ").find(subject.back()) != std::string_view::npos)
    subject.pop_back();
  Answer a;
  a.kind = Answer::Kind::listing;
  a.heading = "Papers on " + subject;
  if (hits.empty()) return a;
  // The confidence says whether one paper answers a question, and ranks below the first pay for
  // the margin to it; a list asks instead how much of the topic each paper holds.
  const SearchHit& best = hits.front();
  for (const SearchHit& hit : hits) {
    if (a.citations.size() == k_max_listed) break;
    if (engine_->catalog().papers()[hit.paper].kind == retrieval::ItemKind::passage) continue;
    if (!holds_topic(hit) || hit.score < k_topical_min_score_share * best.score) continue;
    if (a.citations.empty()) {
      // How sure the list is: how much of the topic its first paper holds.
      a.confidence = hit.evidence.coverage;
      a.reason = retrieval::confidence_reason(hit.evidence);
    }
    a.citations.push_back(cite(hit));
  }
  a.suggestions.push_back("More with " + commands("search") + " " + subject);
  return a;
}

std::vector<std::string> Responder::record_lines(std::size_t paper_index, retrieval::Attribute attribute) const {
  const retrieval::Paper& paper = engine_->catalog().papers()[paper_index];
  switch (attribute) {
    case retrieval::Attribute::authors: {
      if (paper.authors.empty()) return {"The roundups do not name its authors."};
      // Long author lists (PaLM has 67) are cut: the link has the rest.
      constexpr std::size_t k_shown = 12;
      std::string line = "Authors: ";
      for (std::size_t i = 0; i < paper.authors.size() && i < k_shown; ++i)
        line += (i == 0 ? "" : ", ") + paper.authors[i];
      if (paper.authors.size() > k_shown) line += " and " + std::to_string(paper.authors.size() - k_shown) + " more";
      return {line + "."};
    }
    case retrieval::Attribute::link:
      return {"Link: " + paper.url + (paper.arxiv_id ? " (arXiv " + *paper.arxiv_id + ")" : "")};
    case retrieval::Attribute::when:
    case retrieval::Attribute::none: break;
  }
  // When: the roundups that covered it, and their months.
  std::vector<std::string> lines;
  lines.push_back(paper.roundups.size() == 1 ? "Covered in 1 roundup:"
                                             : "Covered in " + std::to_string(paper.roundups.size()) + " roundups:");
  for (const auto& r : paper.roundups)
    lines.push_back((r.month.empty() ? std::string("(month unknown)") : r.month) + " — " + r.title);
  return lines;
}

Answer Responder::follow_up(const FollowUpQuestion& question, const CommandSpelling& commands) const {
  if (!retrieval::question_within_limits(question.text)) return question_too_long();
  if (question.choose) return choose(question, commands);
  const retrieval::Catalog& catalog = engine_->catalog();
  const retrieval::Paper* paper = question.papers.empty() ? nullptr : catalog.find(question.papers.front());
  if (!paper) {
    Answer a;
    a.kind = Answer::Kind::clarify;
    a.heading = "Which paper do you mean?";
    a.lines = {
        "The paper we were talking about is no longer in the roundups I have (they were reindexed). "
        "Please ask about it by name."};
    return a;
  }
  const auto index = static_cast<std::size_t>(paper - catalog.papers().data());
  const QueryIntent intent = retrieval::understand_query(question.text, catalog);
  Answer a;
  a.kind = Answer::Kind::answer;
  a.heading = paper->title;
  a.confidence = 1;
  a.reason = "the paper this conversation is about";
  if (intent.attribute != retrieval::Attribute::none || intent.kind == QueryIntent::Kind::which_roundups) {
    a.lines = record_lines(
        index, intent.kind == QueryIntent::Kind::which_roundups ? retrieval::Attribute::when : intent.attribute);
  } else {
    // What the message asks beyond "it" ("what dataset did it use?" -> "dataset use"); with
    // nothing beyond it ("tell me more"), the summary's lead sentences.
    const std::string asked = retrieval::read_follow_up_cues(question.text).content;
    a.lines = engine_->best_sentences(index, asked.empty() ? paper->title : asked, 3, intent.asks_quantity);
    a.model_may_rewrite = true;
  }
  a.citations.push_back(cite_paper(*paper, {}));
  return a;
}

Answer Responder::choose(const FollowUpQuestion& question, const CommandSpelling& commands) const {
  const retrieval::Catalog& catalog = engine_->catalog();
  // Every paper of the corpus is ranked, so that a listed paper is found wherever it falls.
  retrieval::SearchResponse response = engine_->search(question.text, catalog.papers().size());
  std::erase_if(response.hits, [&](const SearchHit& hit) {
    const std::string& id = catalog.papers()[hit.paper].id;
    return std::find(question.papers.begin(), question.papers.end(), id) == question.papers.end();
  });
  // Among the listed papers, one that holds the topic is the answer, however unsure it would be
  // against the whole corpus: the question asks which of these, not which of all.
  if (response.hits.empty() ||
      (response.hits.front().confidence < settings_.min_confidence && !holds_topic(response.hits.front()))) {
    Answer a = not_answered("None of the " + std::to_string(question.papers.size()) + " papers I listed is about \"" +
                                text::trim(question.text) + "\".",
                            response.hits.empty() ? nullptr : &response.hits.front(), commands);
    return a;
  }
  const SearchHit& best = response.hits.front();
  Answer a;
  a.kind = Answer::Kind::answer;
  a.confidence = best.confidence;
  a.reason = retrieval::confidence_reason(best.evidence);
  a.heading = best.confidence < settings_.sure_confidence ? "Closest match: " + cite(best).title : cite(best).title;
  a.closest_match = best.confidence < settings_.sure_confidence;
  a.lines = engine_->best_sentences(best.paper, question.text, 3, response.intent.asks_quantity);
  a.model_may_rewrite = !a.closest_match;
  a.citations.push_back(cite(best));
  return a;
}

Answer Responder::handle(std::string_view input, const CommandSpelling& commands) const {
  if (!retrieval::question_within_limits(input)) return question_too_long();
  const std::string text = text::trim(input);
  if (text.empty() || text[0] != '/') return ask(text, commands);
  const std::size_t space = text.find(' ');
  std::string command = text.substr(1, space == std::string::npos ? std::string::npos : space - 1);
  // "/papers@RoundupBot" on Telegram: the bot name is not part of the command.
  if (const auto at = command.find('@'); at != std::string::npos) command.erase(at);
  const std::string arg = space == std::string::npos ? std::string() : text::trim(text.substr(space + 1));
  if (command == "help" || command == "start") return help(commands);
  if (command == "papers") return papers(arg, commands);
  if (command == "search") return arg.empty() ? help(commands) : search(arg);
  if (command == "ask") return ask(arg, commands);
  Answer a;
  a.kind = Answer::Kind::notice;
  a.heading = "Unknown command " + commands(command);
  a.lines = {"Try " + commands("help") + " for what I can do."};
  return a;
}

}  // namespace roundup::bot
