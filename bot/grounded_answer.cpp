#include "bot/grounded_answer.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "text/unicode.h"

namespace roundup::bot {

namespace {

// Full-width forms a Chinese reply may use: ［ ］ ， and the enumeration comma 、.
constexpr std::string_view k_open_wide = "\xEF\xBC\xBB";
constexpr std::string_view k_close_wide = "\xEF\xBC\xBD";
constexpr std::string_view k_comma_wide = "\xEF\xBC\x8C";
constexpr std::string_view k_comma_ideographic = "\xE3\x80\x81";

// A group cites at most this many passages; more is not a citation.
constexpr std::size_t k_max_markers_per_group = 16;

// The length of the bracket starting at `pos` (0 when there is none).
std::size_t bracket_at(std::string_view text, std::size_t pos, char ascii, std::string_view wide) {
  if (text[pos] == ascii) return 1;
  return text.substr(pos).starts_with(wide) ? wide.size() : 0;
}

std::size_t separator_at(std::string_view text, std::size_t pos) {
  if (text[pos] == ',' || text[pos] == ' ') return 1;
  for (const std::string_view wide : {k_comma_wide, k_comma_ideographic})
    if (text.substr(pos).starts_with(wide)) return wide.size();
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// A marker group at `pos` ("[1]", "[1, 2]", "［3］"): its end, and its numbers in `numbers`;
// `pos` itself when there is none. The bytes a failed scan passes (digits, commas, spaces) hold
// no opening bracket, so split_markers retries each of them in constant time: linear overall.
std::size_t marker_group(std::string_view text, std::size_t pos, std::vector<std::size_t>& numbers) {
  numbers.clear();
  std::size_t at = pos + bracket_at(text, pos, '[', k_open_wide);
  if (at == pos) return pos;
  bool expect_number = true;
  while (at < text.size()) {
    if (is_digit(text[at])) {
      if (!expect_number || text[at] == '0') return pos;  // "[1 2]" and "[0]", "[01]" are not citations
      std::size_t n = 0;
      const std::size_t first = at;
      while (at < text.size() && is_digit(text[at]) && at - first < 3)
        n = n * 10 + static_cast<std::size_t>(text[at++] - '0');
      if (at < text.size() && is_digit(text[at])) return pos;
      if (numbers.size() == k_max_markers_per_group) return pos;
      numbers.push_back(n);
      expect_number = false;
    } else if (const std::size_t close = bracket_at(text, at, ']', k_close_wide); close > 0) {
      return numbers.empty() || expect_number ? pos : at + close;  // "[]", "[1,]" are not citations
    } else if (const std::size_t separator = separator_at(text, at); separator > 0) {
      if (text[at] != ' ') {
        if (expect_number) return pos;  // "[,1]", "[1,,2]"
        expect_number = true;
      }
      at += separator;
    } else {
      return pos;
    }
  }
  return pos;
}

// Whether prose holds something a reader would take for a citation: a bracket, then a digit.
bool looks_like_marker(std::string_view prose) {
  for (std::size_t i = 0; i < prose.size(); ++i) {
    std::size_t at = i + bracket_at(prose, i, '[', k_open_wide);
    if (at == i) continue;
    while (at < prose.size() && prose[at] == ' ') ++at;
    if (at < prose.size() && is_digit(prose[at])) return true;
  }
  return false;
}

// Phrases with which a model says the passages do not answer, instead of the sentinel.
bool says_not_covered(std::string_view reply) {
  static constexpr std::array<std::string_view, 16> k_phrases{
      "do not cover",    "don't cover",    "does not cover",   "doesn't cover",  "not covered", "do not answer",
      "does not answer", "do not mention", "does not mention", "no information", "没有涉及",    "未涉及",
      "没有提到",        "未提及",         "无法回答",         "没有相关"};
  const std::string lower = text::ascii_lower(reply);
  return std::any_of(k_phrases.begin(), k_phrases.end(),
                     [&](std::string_view phrase) { return lower.find(phrase) != std::string::npos; });
}

// At most `max_bytes` of `raw`, cut before a code point, with "…" when cut.
std::string cut_utf8(std::string_view raw, std::size_t max_bytes) {
  if (raw.size() <= max_bytes) return std::string(raw);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(raw[cut]) & 0xC0) == 0x80) --cut;
  return std::string(raw.substr(0, cut)) + "\xE2\x80\xA6";
}

std::string roundup_months(const PaperCitation& paper) {
  std::string out;
  for (const RoundupCitation& roundup : paper.roundups) {
    if (!out.empty()) out += "; ";
    out += roundup.title;
    if (!roundup.month.empty()) out += " (" + roundup.month + ")";
  }
  return out.empty() ? "unknown" : out;
}

constexpr std::string_view k_rules =
    "You answer questions about monthly machine-learning paper roundups. The user's message holds a "
    "question and numbered passages: summaries of papers from the roundups.\n"
    "Rules:\n"
    "1. Answer in the language the message names (English or Chinese), in a few sentences.\n"
    "2. Use only what the passages say; add nothing from elsewhere.\n"
    "3. Cite every claim with the number of its passage in square brackets, such as [1] or [1][2]. "
    "Cite only the numbers given.\n"
    "4. If the passages do not answer the question, reply with exactly NOT_COVERED and nothing else.\n"
    "5. Plain text only: no Markdown, no links, no headings.";

void notify(const GroundingObserver& observer, GroundingOutcome::Kind kind, std::string reason = {}) {
  if (observer) observer(GroundingOutcome{kind, std::move(reason)});
}

// The question in `input`: "/ask <question>" ("/ask@RoundupBot" in Telegram groups) asks it
// too. Other commands never yield an answer the Responder lets the model rewrite, so only the
// eligibility flag decides; this only keeps the command word out of the prompt.
std::string question_of(std::string_view input) {
  std::string trimmed = text::trim(input);
  if (trimmed.empty() || trimmed.front() != '/') return trimmed;
  const std::size_t space = trimmed.find(' ');
  return space == std::string::npos ? std::string() : text::trim(std::string_view(trimmed).substr(space + 1));
}

}  // namespace

std::vector<MarkerSegment> split_markers(std::string_view text) {
  std::vector<MarkerSegment> segments;
  std::vector<std::size_t> numbers;
  std::size_t prose = 0;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t end = marker_group(text, i, numbers);
    if (end == i) {
      ++i;
      continue;
    }
    if (i > prose) segments.push_back({text.substr(prose, i - prose), 0});
    for (const std::size_t n : numbers) segments.push_back({{}, n});
    prose = i = end;
  }
  if (prose < text.size()) segments.push_back({text.substr(prose), 0});
  return segments;
}

QuestionLanguage question_language(std::string_view question) {
  ScriptCounts counts;
  count_scripts(question, counts);
  // A question with no Han at all ("2203.15556") is not Chinese.
  return counts.han > 0 && counts.mostly_han() ? QuestionLanguage::chinese : QuestionLanguage::english;
}

std::vector<PaperCitation> passages_of(const Answer& answer) {
  std::vector<PaperCitation> passages;
  for (const auto* list : {&answer.citations, &answer.related}) {
    for (const PaperCitation& paper : *list) {
      if (passages.size() == k_max_passages) return passages;
      const bool seen = std::any_of(passages.begin(), passages.end(), [&](const PaperCitation& p) {
        return !paper.paper_id.empty() && p.paper_id == paper.paper_id;
      });
      if (!seen) passages.push_back(paper);
    }
  }
  return passages;
}

std::vector<ChatMessage> grounded_prompt(std::string_view question, const std::vector<PaperCitation>& passages) {
  std::string user = "Question: " + text::trim(question) + "\nAnswer in: " +
                     (question_language(question) == QuestionLanguage::chinese ? "Chinese" : "English") +
                     "\n\nPassages:";
  for (std::size_t i = 0; i < passages.size(); ++i) {
    const PaperCitation& paper = passages[i];
    user += "\n\n[" + std::to_string(i + 1) + "] Title: " + paper.title + "\nRoundup: " + roundup_months(paper) +
            "\nSummary: " + cut_utf8(paper.summary, k_max_passage_summary_bytes);
  }
  return {{"system", std::string(k_rules)}, {"user", std::move(user)}};
}

std::string ungrounded_reason(std::string_view reply, std::size_t passage_count) {
  if (reply.size() > k_max_reply_bytes) return "too long";
  if (!is_valid_utf8(reply)) return "invalid UTF-8";
  if (text::trim(reply).empty()) return "empty";
  if (reply.find(k_not_covered) != std::string_view::npos) return "not covered";
  if (says_not_covered(reply)) return "says the passages do not answer";
  bool cited = false;
  for (const MarkerSegment& segment : split_markers(reply)) {
    if (segment.marker == 0 && looks_like_marker(segment.text)) return "malformed citation";
    if (segment.marker > passage_count) return "cites a passage it was not given";
    cited = cited || segment.marker > 0;
  }
  return cited ? std::string() : "no citation";
}

std::vector<std::string> reply_lines(std::string_view reply) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= reply.size()) {
    const std::size_t end = std::min(reply.find('\n', start), reply.size());
    std::string line;
    for (const char c : reply.substr(start, end - start)) {
      const auto byte = static_cast<unsigned char>(c);
      if (c == '\t')
        line += ' ';
      else if (byte >= 0x20 && byte != 0x7F)
        line += c;
    }
    if (std::string trimmed = text::trim(line); !trimmed.empty()) lines.push_back(std::move(trimmed));
    start = end + 1;
  }
  return lines;
}

Answer ground_answer(std::string_view question, Answer answer, const LanguageModel& model,
                     const GroundingObserver& observer) {
  std::vector<PaperCitation> passages = passages_of(answer);
  if (!answer.model_may_rewrite || answer.kind != Answer::Kind::answer || answer.closest_match || passages.empty()) {
    notify(observer, GroundingOutcome::Kind::not_eligible);
    return answer;
  }
  const ModelReply reply = model.complete(grounded_prompt(question, passages));
  if (reply.status != ModelReply::Status::ok) {
    const std::string status = reply.status == ModelReply::Status::skipped ? "skipped" : "failed";
    notify(observer, GroundingOutcome::Kind::fell_back, status + ": " + reply.failure);
    return answer;
  }
  if (std::string why = ungrounded_reason(reply.text, passages.size()); !why.empty()) {
    notify(observer, GroundingOutcome::Kind::fell_back, std::move(why));
    return answer;
  }
  answer.lines = reply_lines(reply.text);
  // The sources are exactly the passages, so that [n] is citations[n-1] on every surface.
  answer.citations = std::move(passages);
  answer.related.clear();
  answer.written_by_model = true;
  notify(observer, GroundingOutcome::Kind::model_answered);
  return answer;
}

GroundedKnowledge::GroundedKnowledge(std::shared_ptr<Knowledge> inner, std::shared_ptr<const LanguageModel> model,
                                     GroundingObserver observer)
    : inner_(std::move(inner)), model_(std::move(model)), observer_(std::move(observer)) {
  if (!inner_ || !model_) throw std::invalid_argument("GroundedKnowledge needs a knowledge base and a model");
}

Answer GroundedKnowledge::answer(std::string_view input, const CommandSpelling& commands) const {
  return ground_answer(question_of(input), inner_->answer(input, commands), *model_, observer_);
}

Answer GroundedKnowledge::follow_up(const FollowUpQuestion& question, const CommandSpelling& commands) const {
  return ground_answer(question.text, inner_->follow_up(question, commands), *model_, observer_);
}

}  // namespace roundup::bot
