#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bot/knowledge.h"

namespace roundup::adapters::service {

// The knowledge base as the conversation uses it, with retrieval and reindex timings recorded.
class MeasuredKnowledge final : public bot::Knowledge {
 public:
  // `reindexed` runs after every reindex (the index's size on disk has changed), with its outcome.
  MeasuredKnowledge(std::shared_ptr<bot::Knowledge> inner, std::function<void(const ReindexOutcome&)> reindexed)
      : inner_(std::move(inner)), reindexed_(std::move(reindexed)) {}
  bot::Answer answer(std::string_view input, const bot::CommandSpelling& commands) const override;
  bot::Answer follow_up(const bot::FollowUpQuestion& question, const bot::CommandSpelling& commands) const override;
  std::shared_ptr<const retrieval::SearchEngine> engine() const override { return inner_->engine(); }
  ReindexOutcome reindex() override;
  std::vector<std::string> stats_lines() const override { return inner_->stats_lines(); }
  std::uintmax_t index_bytes() const override { return inner_->index_bytes(); }
  std::string index_generation() const override { return inner_->index_generation(); }

 private:
  std::shared_ptr<bot::Knowledge> inner_;
  std::function<void(const ReindexOutcome&)> reindexed_;
};

}  // namespace roundup::adapters::service
