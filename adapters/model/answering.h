#pragma once
// The composition of issue 17's answers: with an `llm` section, the knowledge the bot answers with
// is the library's, rewritten by the model where retrieval decided to answer (bot::GroundedKnowledge
// over a ChatCompletionsModel); without one it is the library itself, unchanged.

#include <memory>

#include "bot/knowledge.h"
#include "config/config.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::model {

// `knowledge` when config.llm is absent. Otherwise the grounded decorator, whose outcomes are
// counted in `registry` (which must outlive it): roundup_llm_fallbacks_total{reason} for every
// answer the model was asked for and did not write, besides the model's own call metrics.
// Throws std::runtime_error when the model's client cannot be built (an unreadable tls.ca_file).
std::shared_ptr<bot::Knowledge> with_language_model(std::shared_ptr<bot::Knowledge> knowledge,
                                                    const config::Config& config, telemetry::Registry& registry);

}  // namespace roundup::adapters::model
