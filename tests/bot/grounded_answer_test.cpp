// Answers a language model writes (bot/grounded_answer.h): the prompt, the check of its reply,
// the fallback to the extractive answer, and which answers never reach the model. The model is a
// scripted fake that counts its calls; nothing here touches the network.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "bot/grounded_answer.h"
#include "bot/responder.h"
#include "tests/support/bundled_knowledge.h"
#include "text/unicode.h"

using roundup::bot::Answer;
using roundup::bot::ChatMessage;
using roundup::bot::GroundedKnowledge;
using roundup::bot::GroundingOutcome;
using roundup::bot::ModelReply;
using roundup::bot::PaperCitation;

namespace {

class ScriptedModel final : public roundup::bot::LanguageModel {
 public:
  explicit ScriptedModel(ModelReply reply) : reply_(std::move(reply)) {}
  ModelReply complete(const std::vector<ChatMessage>& messages) const override {
    ++calls;
    prompt = messages;
    return reply_;
  }
  // Single-threaded tests read these after the call.
  mutable int calls = 0;
  mutable std::vector<ChatMessage> prompt;

 private:
  ModelReply reply_;
};

std::shared_ptr<ScriptedModel> replying(std::string text) {
  ModelReply reply;
  reply.status = ModelReply::Status::ok;
  reply.text = std::move(text);
  return std::make_shared<ScriptedModel>(std::move(reply));
}

PaperCitation paper(std::string id, std::string title, std::string month, std::string summary) {
  PaperCitation p;
  p.paper_id = std::move(id);
  p.kind = "paper";
  p.title = std::move(title);
  p.url = "https://arxiv.org/abs/" + p.paper_id;
  p.roundups = {{"r-" + month, "ML roundup " + month, month}};
  p.summary = std::move(summary);
  return p;
}

// An answer retrieval was sure of, from one cited and two related papers.
Answer extractive() {
  Answer a;
  a.kind = Answer::Kind::answer;
  a.heading = "A Watermark for Large Language Models";
  a.lines = {"The extractive sentence."};
  a.citations = {paper("2301.10226", "A Watermark for Large Language Models", "2023-01", "Green-list tokens.")};
  a.related = {paper("2302.00001", "Detecting Model Text", "2023-02", "A detector."),
               paper("2303.00002", "Robust Watermarks", "2023-03", "Paraphrase attacks.")};
  a.confidence = 0.8;
  a.reason = "strong match";
  a.model_may_rewrite = true;
  return a;
}

// Answers every input with the same scripted Answer; engine and admin calls are not used here.
class FixedKnowledge final : public roundup::bot::Knowledge {
 public:
  explicit FixedKnowledge(Answer answer) : answer_(std::move(answer)) {}
  Answer answer(std::string_view, const roundup::bot::CommandSpelling&) const override { return answer_; }
  Answer follow_up(const roundup::bot::FollowUpQuestion&, const roundup::bot::CommandSpelling&) const override {
    return answer_;
  }
  std::shared_ptr<const roundup::retrieval::SearchEngine> engine() const override { return nullptr; }
  ReindexOutcome reindex() override { return {}; }
  std::vector<std::string> stats_lines() const override { return {"Papers: 3"}; }
  std::uintmax_t index_bytes() const override { return 42; }

 private:
  Answer answer_;
};

struct Run {
  Answer answer;
  std::vector<GroundingOutcome> outcomes;
};

Run ask(const Answer& extractive_answer, const std::shared_ptr<ScriptedModel>& model,
        std::string_view question = "which paper is about watermarking?") {
  Run run;
  const GroundedKnowledge knowledge(std::make_shared<FixedKnowledge>(extractive_answer), model,
                                    [&run](const GroundingOutcome& outcome) { run.outcomes.push_back(outcome); });
  run.answer = knowledge.answer(question);
  return run;
}

void check_fell_back(const Run& run, const std::string& reason) {
  CHECK_FALSE(run.answer.written_by_model);
  CHECK(run.answer.lines == extractive().lines);
  CHECK(run.answer.citations.size() == 1);
  CHECK(run.answer.related.size() == 2);
  REQUIRE(run.outcomes.size() == 1);
  CHECK(run.outcomes[0].kind == GroundingOutcome::Kind::fell_back);
  CHECK(run.outcomes[0].reason == reason);
}

}  // namespace

TEST_CASE("grounded answer: markers split from prose, in ASCII and full-width forms") {
  using roundup::bot::split_markers;
  const auto segments = split_markers("A [1] b [2, 3]c［4，5］[1][2] [0] [1-3] [1234] [] end");
  std::vector<std::size_t> markers;
  std::string prose;
  for (const auto& s : segments) {
    if (s.marker > 0)
      markers.push_back(s.marker);
    else
      prose += std::string(s.text) + "|";
  }
  CHECK(markers == std::vector<std::size_t>{1, 2, 3, 4, 5, 1, 2});
  CHECK(prose == "A | b |c| [0] [1-3] [1234] [] end|");
  CHECK(split_markers("").empty());
  CHECK(split_markers("[[[[1").size() == 1);
}

TEST_CASE("grounded answer: the prompt carries the question, its language and the numbered passages") {
  using roundup::bot::grounded_prompt;
  const std::vector<PaperCitation> passages = roundup::bot::passages_of(extractive());
  REQUIRE(passages.size() == 3);
  const std::vector<ChatMessage> prompt = grounded_prompt("Which paper is about watermarking?", passages);
  REQUIRE(prompt.size() == 2);
  CHECK(prompt[0].role == "system");
  CHECK(prompt[0].content.find("NOT_COVERED") != std::string::npos);
  CHECK(prompt[0].content.find("[1]") != std::string::npos);
  CHECK(prompt[1].role == "user");
  const std::string& user = prompt[1].content;
  CHECK(user.find("Question: Which paper is about watermarking?") != std::string::npos);
  CHECK(user.find("Answer in: English") != std::string::npos);
  CHECK(user.find("[1] Title: A Watermark for Large Language Models\nRoundup: ML roundup 2023-01 (2023-01)\n"
                  "Summary: Green-list tokens.") != std::string::npos);
  CHECK(user.find("[2] Title: Detecting Model Text") != std::string::npos);
  CHECK(user.find("[3] Title: Robust Watermarks\nRoundup: ML roundup 2023-03 (2023-03)") != std::string::npos);
  CHECK(user.find("[4]") == std::string::npos);

  CHECK(grounded_prompt("哪篇论文是关于水印的?", passages)[1].content.find("Answer in: Chinese") != std::string::npos);
  CHECK(grounded_prompt("AlexNet 的作者是谁", passages)[1].content.find("Answer in: Chinese") != std::string::npos);
  CHECK(grounded_prompt("What does 思维链 mean?", passages)[1].content.find("Answer in: English") != std::string::npos);

  // Passages are bounded in number and each summary in bytes, cut between code points.
  Answer many = extractive();
  std::string long_summary;
  for (int i = 0; i < 1000; ++i) long_summary += "水";
  for (int i = 0; i < 10; ++i) many.related.push_back(paper("x" + std::to_string(i), "T", "2023-04", long_summary));
  const std::vector<PaperCitation> bounded = roundup::bot::passages_of(many);
  CHECK(bounded.size() == roundup::bot::k_max_passages);
  const std::string bounded_user = grounded_prompt("q", bounded)[1].content;
  CHECK(roundup::is_valid_utf8(bounded_user));
  CHECK(bounded_user.size() < roundup::bot::k_max_passages * (roundup::bot::k_max_passage_summary_bytes + 200));
}

TEST_CASE("grounded answer: a grounded reply becomes the answer, its sources the passages in marker order") {
  const auto model =
      replying("It marks green-list tokens [1], which a detector can test [2][3].\n\n \x07More\t[1, 3].");
  const Run run = ask(extractive(), model);
  CHECK(model->calls == 1);
  CHECK(run.answer.written_by_model);
  CHECK(run.answer.lines ==
        std::vector<std::string>{"It marks green-list tokens [1], which a detector can test [2][3].", "More [1, 3]."});
  REQUIRE(run.answer.citations.size() == 3);
  CHECK(run.answer.citations[0].paper_id == "2301.10226");
  CHECK(run.answer.citations[1].paper_id == "2302.00001");
  CHECK(run.answer.citations[2].paper_id == "2303.00002");
  CHECK(run.answer.related.empty());
  CHECK(run.answer.heading == extractive().heading);
  CHECK(run.answer.confidence == extractive().confidence);
  CHECK(run.answer.reason == extractive().reason);
  REQUIRE(run.outcomes.size() == 1);
  CHECK(run.outcomes[0].kind == GroundingOutcome::Kind::model_answered);
}

TEST_CASE("grounded answer: an ungrounded reply falls back to the extractive answer") {
  check_fell_back(ask(extractive(), replying("Watermarks work [7].")), "cites a passage it was not given");
  check_fell_back(ask(extractive(), replying("Watermarks work [1, 4].")), "cites a passage it was not given");
  check_fell_back(ask(extractive(), replying("Watermarks work.")), "no citation");
  check_fell_back(ask(extractive(), replying("NOT_COVERED")), "not covered");
  check_fell_back(ask(extractive(), replying("  NOT_COVERED.\n")), "not covered");
  check_fell_back(ask(extractive(), replying("The roundups do not cover that [1].")),
                  "says the passages do not answer");
  check_fell_back(ask(extractive(), replying("这些论文没有涉及这个问题 [1]。")), "says the passages do not answer");
  check_fell_back(ask(extractive(), replying("")), "empty");
  check_fell_back(ask(extractive(), replying(" \n\t ")), "empty");
  check_fell_back(ask(extractive(), replying("Bad \xff byte [1].")), "invalid UTF-8");
  check_fell_back(ask(extractive(), replying(std::string(roundup::bot::k_max_reply_bytes, 'a') + " [1]")), "too long");
  check_fell_back(ask(extractive(), replying("See [1-3] and [2].")), "malformed citation");
  check_fell_back(ask(extractive(), replying("See [0].")), "malformed citation");
  check_fell_back(ask(extractive(), replying("\x1b[31mRed [1].")), "malformed citation");  // a terminal escape
}

TEST_CASE("grounded answer: a failed or skipped model call falls back") {
  ModelReply failed;
  failed.status = ModelReply::Status::failed;
  failed.failure = "timeout";
  check_fell_back(ask(extractive(), std::make_shared<ScriptedModel>(failed)), "failed: timeout");
  ModelReply skipped;
  skipped.status = ModelReply::Status::skipped;
  skipped.failure = "circuit open";
  check_fell_back(ask(extractive(), std::make_shared<ScriptedModel>(skipped)), "skipped: circuit open");
}

TEST_CASE("grounded answer: answers retrieval did not give from passages never reach the model") {
  const auto model = replying("Grounded [1].");
  auto check_not_sent = [&](const Answer& answer, std::string_view input) {
    const Run run = ask(answer, model, input);
    CHECK_FALSE(run.answer.written_by_model);
    CHECK(run.answer.lines == answer.lines);
    REQUIRE(run.outcomes.size() == 1);
    CHECK(run.outcomes[0].kind == GroundingOutcome::Kind::not_eligible);
  };
  Answer attribute = extractive();
  attribute.model_may_rewrite = false;  // what the Responder does for "who wrote it?"
  check_not_sent(attribute, "who wrote the watermarking paper?");
  Answer closest = extractive();
  closest.closest_match = true;
  check_not_sent(closest, "which paper is about watermarking?");
  Answer listing = extractive();
  listing.kind = Answer::Kind::listing;
  check_not_sent(listing, "watermarking papers");
  Answer refusal = extractive();
  refusal.kind = Answer::Kind::no_match;
  check_not_sent(refusal, "best pizza recipe?");
  CHECK(model->calls == 0);
}

TEST_CASE("grounded answer: over the bundled corpus, only a sure answer from passages reaches the model") {
  const auto model = replying("Grounded [1].");
  const GroundedKnowledge knowledge(roundup::testing::bundled_knowledge(), model);
  const auto calls_for = [&](std::string_view question) {
    const int before = model->calls;
    (void)knowledge.answer(question);
    return model->calls - before;
  };
  CHECK(calls_for("what is the best pizza recipe?") == 0);
  CHECK(calls_for("/papers 2023-01") == 0);
  CHECK(calls_for("/help") == 0);
  // An answer from the paper's record, not a refusal: the model is kept from it by the flag.
  for (const char* who : {"who wrote Chinchilla?", "Chinchilla 的作者是谁"}) {
    const Answer record = roundup::testing::bundled_knowledge()->answer(who);
    CHECK(record.kind == Answer::Kind::answer);
    CHECK_FALSE(record.model_may_rewrite);
    CHECK(calls_for(who) == 0);
  }
  const Answer sure = knowledge.answer("which paper is about watermarking?");
  CHECK(model->calls == 1);
  CHECK(sure.written_by_model);
  CHECK(sure.lines == std::vector<std::string>{"Grounded [1]."});
  CHECK_FALSE(sure.citations.empty());
  // "/ask" asks too; the command word stays out of the prompt.
  CHECK(knowledge.answer("/ask which paper is about watermarking?").written_by_model);
  CHECK(model->calls == 2);
  CHECK(model->prompt.at(1).content.starts_with("Question: which paper is about watermarking?\n"));
  // The admin operations are the inner knowledge base's.
  CHECK(knowledge.stats_lines() == roundup::testing::bundled_knowledge()->stats_lines());
  CHECK(knowledge.engine() == roundup::testing::bundled_knowledge()->engine());
}
