#pragma once
// An Answer built from fuzz input, for the renderer targets (Slack Block Kit, Telegram HTML). Its
// strings stand for corpus and user text: any bytes, invalid UTF-8 included. A string may be
// repeated up to 32 times, so that the splitters see texts over the platforms' limits (4,096
// UTF-16 units, 3,000-byte sections) without the fuzzer having to grow inputs of that size; more
// would only slow each run down.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <string>
#include <vector>

#include "bot/answer.h"

namespace roundup::fuzz {

inline std::string fuzzed_text(FuzzedDataProvider& input) {
  const std::string piece = input.ConsumeRandomLengthString(512);
  const int copies = 1 << input.ConsumeIntegralInRange(0, 5);
  std::string out;
  out.reserve(piece.size() * static_cast<std::size_t>(copies));
  for (int i = 0; i < copies; ++i) out += piece;
  return out;
}

// Mostly web links, as the corpus has them, but any string can be a URL.
inline std::string fuzzed_url(FuzzedDataProvider& input) {
  switch (input.ConsumeIntegralInRange(0, 2)) {
    case 0: return "https://" + input.ConsumeRandomLengthString(256);
    case 1: return "http://arxiv.org/abs/" + input.ConsumeRandomLengthString(64);
    default: return input.ConsumeRandomLengthString(256);
  }
}

inline std::vector<std::string> fuzzed_lines(FuzzedDataProvider& input, int max_count) {
  std::vector<std::string> lines(static_cast<std::size_t>(input.ConsumeIntegralInRange(0, max_count)));
  for (std::string& line : lines) line = fuzzed_text(input);
  return lines;
}

inline bot::PaperCitation fuzzed_citation(FuzzedDataProvider& input) {
  bot::PaperCitation paper;
  paper.paper_id = input.ConsumeRandomLengthString(64);
  paper.kind = input.ConsumeBool() ? "paper" : "news";
  paper.title = fuzzed_text(input);
  paper.authors = fuzzed_text(input);
  paper.url = fuzzed_url(input);
  const int roundups = input.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < roundups; ++i) {
    paper.roundups.push_back(
        {input.ConsumeRandomLengthString(32), fuzzed_text(input), input.ConsumeRandomLengthString(16)});
  }
  paper.summary = fuzzed_text(input);
  return paper;
}

inline bot::Answer fuzzed_answer(FuzzedDataProvider& input) {
  bot::Answer answer;
  answer.kind = static_cast<bot::Answer::Kind>(input.ConsumeIntegralInRange(0, 5));
  answer.heading = fuzzed_text(input);
  answer.lines = fuzzed_lines(input, 8);
  // Over 25 papers (two blocks each) a Slack message is full.
  const int citations = input.ConsumeIntegralInRange(0, 30);
  for (int i = 0; i < citations; ++i) answer.citations.push_back(fuzzed_citation(input));
  const int related = input.ConsumeIntegralInRange(0, 6);
  for (int i = 0; i < related; ++i) answer.related.push_back(fuzzed_citation(input));
  answer.suggestions = fuzzed_lines(input, 4);
  return answer;
}

}  // namespace roundup::fuzz
