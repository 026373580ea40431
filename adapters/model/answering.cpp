#include "adapters/model/answering.h"

#include <string>

#include "adapters/model/chat_model.h"
#include "bot/grounded_answer.h"
#include "telemetry/log.h"

namespace roundup::adapters::model {

std::shared_ptr<bot::Knowledge> with_language_model(std::shared_ptr<bot::Knowledge> knowledge,
                                                    const config::Config& config, telemetry::Registry& registry) {
  if (!config.llm) return knowledge;
  auto model = std::make_shared<ChatCompletionsModel>(chat_model_settings(*config.llm, config.tls), registry);
  // Reasons are a small fixed set ("failed: http 503", "no citation", "not covered"), so they
  // make a bounded label; the counter is looked up per fallback, which is rare and cheap enough.
  auto observer = [&registry](const bot::GroundingOutcome& outcome) {
    if (outcome.kind != bot::GroundingOutcome::Kind::fell_back) return;
    registry
        .counter("roundup_llm_fallbacks_total",
                 "Answers the language model was asked to write and the extractive answer replaced, by reason",
                 {{"reason", outcome.reason}})
        .inc();
  };
  log::info("model", "answers are written by a language model", {{"llm", config::llm_summary(config)}});
  return std::make_shared<bot::GroundedKnowledge>(std::move(knowledge), std::move(model), std::move(observer));
}

}  // namespace roundup::adapters::model
