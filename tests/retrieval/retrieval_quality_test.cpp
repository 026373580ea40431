// The project's own retrieval and answer-quality bars on its question sets in tests/data (never
// the release's held-out sets):
// - in scope: retrieval-questions.jsonl (paraphrases, Chinese questions, news and tools),
//   in-scope-natural-questions.jsonl (chat phrasing, typos, mixed languages, full-width forms)
//   and fact-questions.jsonl;
// - off-topic-questions.jsonl: chit-chat, general knowledge, how-to, ML the roundups do not
//   hold, and near misses that share words with them.
// Search results are scored exactly like ../shared/eval (tests/support/question_match.h). Figures: bench/RESULTS.md,
// "Answer quality (issue 13)".

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "adapters/cli/json_output.h"
#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"
#include "tests/support/question_match.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;
using roundup::bot::Answer;

namespace {

const std::string k_root = ROUNDUP_SOURCE_DIR;
const std::vector<std::string> k_in_scope = {"/tests/data/retrieval-questions.jsonl",
                                             "/tests/data/in-scope-natural-questions.jsonl",
                                             "/tests/data/fact-questions.jsonl"};

std::vector<json> read_questions(const std::string& file) {
  return roundup::testing::read_questions(k_root + file);
}

// The bundled corpus and lexicon, with the index in tmp.
roundup::config::Config bundled_corpus_config(const roundup::testing::TempDir& tmp) {
  roundup::config::Config config = roundup::config::default_config();
  config.corpus_dir = k_root + "/data/roundups";
  config.retrieval.lexicon_dir = k_root + "/data/lexicon";
  config.data_dir = tmp.path();
  return config;
}

// The bot as the platforms run it (their conversations end in Knowledge::answer), over the
// bundled corpus with its index in a temporary dir.
struct BundledBot {
  roundup::testing::TempDir tmp;
  std::ostringstream log;
  roundup::adapters::cli::Library library{bundled_corpus_config(tmp)};
  BundledBot() { library.open(log); }
  Answer answer(const std::string& question) const { return library.answer(question); }
};

// The search engine over the bundled corpus, with its index in a temporary dir.
struct BundledEngine {
  roundup::testing::TempDir tmp;
  std::ostringstream log;
  roundup::adapters::cli::Runtime runtime{bundled_corpus_config(tmp)};
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine = runtime.engine(log);
};

// The answer's own first sentence: after the notes a reply may open with (a spelling reading, a
// "not sure" for a closest match).
std::string first_answer_line(const Answer& a) {
  for (const std::string& line : a.lines)
    if (line.rfind("Reading \"", 0) != 0 && line.rfind("I am not sure", 0) != 0) return line;
  return {};
}

}  // namespace

TEST_CASE("retrieval quality: recall@1 >= 0.85 and recall@5 >= 0.95 on the in-scope question sets" *
          doctest::timeout(600)) {
  roundup::testing::TempDir tmp;
  roundup::adapters::cli::Runtime runtime(bundled_corpus_config(tmp));
  REQUIRE_MESSAGE(runtime.warnings().empty(), "lexicon missing: run scripts/fetch-lexicon.sh");
  std::ostringstream log;
  const auto engine = runtime.engine(log);
  double n = 0, r1 = 0, r5 = 0, mrr = 0;
  std::map<std::string, std::pair<int, int>> by_kind;  // kind -> (hits@5, total)
  for (const std::string& file : k_in_scope) {
    for (const json& q : read_questions(file)) {
      const std::string text = q["q"].get<std::string>();
      const json results =
          roundup::adapters::cli::search_json(text, engine->search(text, 5), engine->catalog())["results"];
      const std::optional<std::size_t> rank = roundup::testing::rank_of_answer(results, q);
      n += 1;
      auto& kind = by_kind[q.value("kind", q.contains("number") ? "fact" : "other")];
      ++kind.second;
      if (rank) {
        r5 += 1;
        r1 += *rank == 0;
        mrr += 1.0 / static_cast<double>(*rank + 1);
        ++kind.first;
      } else {
        MESSAGE("miss: " << text << " -> "
                         << (results.empty() ? std::string("(nothing)") : results[0]["title"].get<std::string>()));
      }
    }
  }
  REQUIRE(n >= 200);
  for (const auto& [kind, counts] : by_kind)
    MESSAGE(kind << ": " << counts.first << "/" << counts.second << " in top 5");
  MESSAGE("questions=" << n << " recall@1=" << r1 / n << " recall@5=" << r5 / n << " mrr=" << mrr / n);
  CHECK(r1 / n >= 0.85);
  CHECK(r5 / n >= 0.95);
}

// The targets are 90% and 3%. Measured 85.5% and 2.9% on these sets (5-fold
// cross-validated before comparatives were read: 83.6% and 4.5%; bench/RESULTS.md). This guards what was reached until
// the gap is closed.
TEST_CASE("answer quality: >= 85% of off-topic questions are declined and <= 4% of in-scope ones" *
          doctest::timeout(600)) {
  const BundledBot bot;
  std::map<std::string, std::pair<int, int>> declined_by_kind;  // kind -> (declined, total)
  std::size_t off_total = 0, off_declined = 0, off_closest = 0, in_total = 0, in_declined = 0, in_closest = 0;
  for (const json& q : read_questions("/tests/data/off-topic-questions.jsonl")) {
    const Answer a = bot.answer(q["q"].get<std::string>());
    const bool declined = a.kind == Answer::Kind::no_match;
    ++off_total;
    off_declined += declined;
    off_closest += a.closest_match;
    auto& kind = declined_by_kind["off-topic " + q.value("kind", "other")];
    ++kind.second;
    kind.first += declined;
    if (!declined)
      MESSAGE("answered off-topic (" << q.value("kind", "") << "): " << q["q"].get<std::string>() << " -> " << a.heading
                                     << " [" << a.reason << "]");
  }
  for (const std::string& file : k_in_scope) {
    for (const json& q : read_questions(file)) {
      const Answer a = bot.answer(q["q"].get<std::string>());
      const bool declined = a.kind == Answer::Kind::no_match;
      ++in_total;
      in_declined += declined;
      in_closest += a.closest_match;
      if (declined) MESSAGE("declined in-scope: " << q["q"].get<std::string>() << " [" << a.reason << "]");
    }
  }
  REQUIRE(off_total >= 150);
  for (const auto& [kind, counts] : declined_by_kind)
    MESSAGE(kind << ": " << counts.first << "/" << counts.second << " declined");
  const double declined = static_cast<double>(off_declined + in_declined);
  MESSAGE("off-topic declined " << off_declined << "/" << off_total << " (refusal recall "
                                << static_cast<double>(off_declined) / static_cast<double>(off_total)
                                << ", refusal precision " << static_cast<double>(off_declined) / declined
                                << "); in-scope declined " << in_declined << "/" << in_total
                                << "; closest-match replies: off-topic " << off_closest << ", in-scope " << in_closest);
  CHECK(static_cast<double>(off_declined) >= 0.85 * static_cast<double>(off_total));
  CHECK(static_cast<double>(in_declined) <= 0.04 * static_cast<double>(in_total));
  // Off-topic questions that are not near misses (chit-chat, general knowledge, how-to, ML the
  // roundups lack) are the easy part: measured 154/162.
  std::size_t easy_declined = 0, easy_total = 0;
  for (const auto& [kind, counts] : declined_by_kind) {
    if (kind == "off-topic near_miss") continue;
    easy_declined += static_cast<std::size_t>(counts.first);
    easy_total += static_cast<std::size_t>(counts.second);
  }
  CHECK(static_cast<double>(easy_declined) >= 0.90 * static_cast<double>(easy_total));
}

TEST_CASE("answer quality: a topical question lists the papers on its topic, and only a real topic" *
          doctest::timeout(600)) {
  const BundledBot bot;
  // A topic several papers share: each of them alone is an unsure answer, together a list.
  for (const char* question : {"what did the roundups say about diffusion models?", "有哪些关于扩散模型的论文?",
                               "papers on speech, audio or music", "any papers about question answering?"}) {
    CAPTURE(question);
    const Answer a = bot.answer(question);
    CHECK(a.kind == Answer::Kind::listing);
    CHECK(a.citations.size() >= 2);
    CHECK(a.citations.size() <= 8);
  }
  // Parts of a list each find their own papers: music and speech are both listed.
  const Answer audio = bot.answer("papers on speech, audio or music");
  std::string titles;
  for (const auto& c : audio.citations) titles += c.title + "\n";
  CHECK(titles.find("MusicLM") != std::string::npos);
  // Generic words are no topic, and a topic no roundup holds cites nothing.
  for (const char* question : {"papers on models", "any papers about sourdough baking?", "有哪些关于烘焙面包的论文?"}) {
    CAPTURE(question);
    CHECK(bot.answer(question).kind == Answer::Kind::no_match);
  }
}

TEST_CASE("answer quality: a question that writes a paper's own name is answered with it" * doctest::timeout(600)) {
  const BundledBot bot;
  // "palm" is a dictionary word, and another paper's title mentions PaLM: the one-answer
  // evidence alone was unsure (0.15) and declined it.
  const Answer palm = bot.answer("what is PaLM?");
  REQUIRE(palm.kind == Answer::Kind::answer);
  CHECK(palm.citations.front().title.rfind("PaLM: Scaling", 0) == 0);
  CHECK_FALSE(palm.closest_match);
  // The word in other casing is no name, and a sibling version is still not the paper.
  CHECK(bot.answer("how do I grow a palm tree?").kind == Answer::Kind::no_match);
  CHECK(bot.answer("is PaLM 2 better than GPT-4?").kind == Answer::Kind::no_match);
}

TEST_CASE("answer quality: a factual question's answer states the number in its first sentence" *
          doctest::timeout(600)) {
  const BundledBot bot;
  std::size_t total = 0, stated = 0;
  std::map<std::string, std::pair<int, int>> by_lang;
  for (const json& q : read_questions("/tests/data/fact-questions.jsonl")) {
    const Answer a = bot.answer(q["q"].get<std::string>());
    const std::string first = first_answer_line(a);
    const bool ok = a.kind == Answer::Kind::answer && first.find(q["number"].get<std::string>()) != std::string::npos;
    ++total;
    stated += ok;
    auto& lang = by_lang[q.value("lang", "?")];
    ++lang.second;
    lang.first += ok;
    if (!ok)
      MESSAGE("number " << q["number"].get<std::string>() << " not stated: " << q["q"].get<std::string>() << " -> "
                        << a.heading << ": " << first);
  }
  REQUIRE(total >= 25);
  for (const auto& [lang, counts] : by_lang) MESSAGE(lang << ": " << counts.first << "/" << counts.second);
  MESSAGE("facts stated " << stated << "/" << total);
  // Measured 27/37: misses are the sentence choice within the right paper (another number
  // scores higher) and questions declined for low confidence.
  CHECK(static_cast<double>(stated) >= 0.70 * static_cast<double>(total));
}

TEST_CASE("answer quality: a Chinese word is held whole, not through one of its character pairs" *
          doctest::timeout(600)) {
  const BundledEngine bundled;
  const auto& engine = bundled.engine;
  // "机器人" (robot) shares "机器" with "机器翻译" (machine translation): that paper is no robot paper.
  const auto response = engine->search("关于机器人的论文", 20);
  REQUIRE_FALSE(response.hits.empty());
  CHECK(response.hits.front().evidence.coverage >= 0.7);
  bool saw_translation = false;
  for (const auto& hit : response.hits) {
    const std::string& title = engine->catalog().papers()[hit.paper].title;
    if (title.find("Neural Machine Translation") == std::string::npos) continue;
    saw_translation = true;
    CHECK(hit.evidence.coverage < 0.7);
  }
  CHECK(saw_translation);  // it is ranked, but holds too little of the question to be listed
}

TEST_CASE("answer quality: a paper that names only a sibling version does not answer" * doctest::timeout(600)) {
  const BundledEngine bundled;
  const auto& engine = bundled.engine;
  const auto top = [&](const std::string& question) {
    const auto response = engine->search(question, 1);
    REQUIRE_FALSE(response.hits.empty());
    return response.hits.front();
  };
  // The casing of the question as typed marks the name: "PaLM 2" is not the PaLM paper's.
  const auto palm2 = top("how many parameters does PaLM 2 have?");
  CHECK(palm2.evidence.missing_names == 1);
  CHECK(palm2.confidence <= 0.1);
  const auto palm = top("how many parameters does PaLM have?");
  CHECK(palm.evidence.missing_names == 0);
  CHECK(palm.confidence > 0.3);  // the default min_confidence: answered
  // In any casing, a name written with another version: the KDD Cup 2020 paper for 2022.
  const auto kdd = top("who won the kdd cup 2022?");
  CHECK(kdd.evidence.missing_names == 1);
  CHECK(top("the kdd cup 2020 autograph challenge").evidence.missing_names == 0);
  // A misspelt name is read through its correction.
  const auto folder = top("ObjectFoldr 2.0 multisensory dataset");
  CHECK(folder.evidence.missing_names == 0);
  CHECK(engine->catalog().papers()[folder.paper].title.find("ObjectFolder 2.0") != std::string::npos);
}

// A second pair of sets, written by a helper who read only the corpus (never the sets above or
// the code), and not tuned on: 80 in-scope and 120 off-topic questions. The refusal decision met
// them first with the build before 2026-12-07 at 110/120 and 4/80 declined, and at 109/120
// and 4/80 after that day's changes (bench/RESULTS.md).
TEST_CASE("answer quality: on the fresh sets, >= 88% of off-topic questions are declined and <= 6% of in-scope ones" *
          doctest::timeout(600)) {
  const BundledBot bot;
  const auto declined_share = [&](const std::string& file, bool off_topic) {
    std::size_t declined = 0, total = 0;
    for (const json& q : read_questions(file)) {
      const Answer a = bot.answer(q["q"].get<std::string>());
      const bool no = a.kind == Answer::Kind::no_match;
      ++total;
      declined += no;
      if (no != off_topic)
        MESSAGE(std::string(off_topic ? "answered off-topic: " : "declined in-scope: ")
                << q["q"].get<std::string>() << " [" << a.reason << "]");
    }
    REQUIRE(total >= 80);
    MESSAGE(file << ": declined " << declined << "/" << total);
    return static_cast<double>(declined) / static_cast<double>(total);
  };
  CHECK(declined_share("/tests/data/fresh-off-topic-questions.jsonl", true) >= 0.88);
  CHECK(declined_share("/tests/data/fresh-in-scope-questions.jsonl", false) <= 0.06);
}

// Issue 20's bar: a link or arXiv id is matched exactly, in every form, before any ranking, and
// a link the roundups do not hold is declined without citing anything else.
TEST_CASE("answer quality: links and arXiv ids find their paper exactly, and unknown links cite nothing" *
          doctest::timeout(600)) {
  const BundledBot bot;
  std::size_t total = 0, exact = 0;
  for (const json& q : read_questions("/tests/data/link-questions.jsonl")) {
    const std::string text = q["q"].get<std::string>();
    const Answer a = bot.answer(text);
    ++total;
    bool ok = false;
    if (q["expect_id"].is_null()) {
      ok = a.kind == Answer::Kind::no_match && a.citations.empty() && a.related.empty() &&
           a.lines.front().find("do not include") != std::string::npos;
    } else {
      ok = a.kind != Answer::Kind::no_match && !a.citations.empty() && !a.closest_match &&
           a.citations.front().paper_id == q["expect_id"].get<std::string>() && a.confidence == 1.0;
    }
    exact += ok;
    if (!ok) MESSAGE("not exact: " << text << " -> " << a.heading);
  }
  REQUIRE(total >= 40);
  MESSAGE("links exact " << exact << "/" << total);
  CHECK(exact == total);
}

TEST_CASE("answer quality: a comparative no passage holds is read as its base word" * doctest::timeout(600)) {
  const BundledEngine bundled;
  const auto& engine = bundled.engine;
  const auto response = engine->search("which paper showed smaller models trained on more tokens beat bigger ones?", 1);
  REQUIRE_FALSE(response.hits.empty());
  const auto& top = response.hits.front();
  CHECK(engine->catalog().papers()[top.paper].arxiv_id == "2203.15556");
  const auto& missing = top.evidence.missing_terms;
  CHECK(std::find(missing.begin(), missing.end(), "bigger") == missing.end());  // read as "big"
  CHECK(std::find(missing.begin(), missing.end(), "big") != missing.end());     // which Chinchilla's text lacks
  CHECK(top.evidence.unknown_share < 0.5);  // was 0.70 with both comparatives unknown
  CHECK(top.confidence >= 0.6);             // the default sure_confidence: answered, not "closest match"
}
