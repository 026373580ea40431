#include "adapters/service/measured_knowledge.h"

#include <chrono>

#include "adapters/service/service_metrics.h"

namespace roundup::adapters::service {

bot::Answer MeasuredKnowledge::answer(std::string_view input, const bot::CommandSpelling& commands) const {
  const auto start = std::chrono::steady_clock::now();
  bot::Answer answer = inner_->answer(input, commands);
  service_metrics().retrieval_seconds.observe(seconds_since(start));
  return answer;
}

bot::Answer MeasuredKnowledge::follow_up(const bot::FollowUpQuestion& question,
                                         const bot::CommandSpelling& commands) const {
  const auto start = std::chrono::steady_clock::now();
  bot::Answer answer = inner_->follow_up(question, commands);
  service_metrics().retrieval_seconds.observe(seconds_since(start));
  return answer;
}

bot::Knowledge::ReindexOutcome MeasuredKnowledge::reindex() {
  const auto start = std::chrono::steady_clock::now();
  ReindexOutcome outcome = inner_->reindex();
  service_metrics().reindex_seconds.observe(seconds_since(start));
  reindexed_(outcome);
  return outcome;
}

}  // namespace roundup::adapters::service
