#pragma once
// A conversation's short memory, and follow-ups read against it. This is dialogue state plus
// query rewriting, the usual design in conversational retrieval: the state holds the paper in
// focus, the last list shown and the last record field asked for; a deterministic resolver turns
// a follow-up ("who wrote it?", "the second one", "and PaLM?", "which of those is about …",
// "第三篇", "它的作者是谁") into a standalone question or a question about named papers, or asks
// what the message refers to when nothing does. It never guesses: no antecedent, no answer.
//
// The state is small and bounded (kept turns, list length, bytes per turn), serialised as JSON
// for the store (bot::DialogueMemory), and read back leniently: unreadable state is no state.

#include <string>
#include <string_view>
#include <vector>

#include "bot/answer.h"
#include "bot/knowledge.h"
#include "retrieval/follow_up_cues.h"

namespace roundup::bot {

struct DialogueTurn {
  std::string said;   // the message as typed (cut to k_max_turn_bytes)
  std::string asked;  // what was answered: the message, or its standalone rewrite
};

struct DialogueState {
  std::string focus;              // the paper the last answer was about (catalog id), or empty
  std::vector<std::string> list;  // the last list shown, in the order shown
  retrieval::Attribute attribute = retrieval::Attribute::none;  // the field the last question asked for
  std::vector<DialogueTurn> turns;                              // oldest first, at most k_max_turns

  static constexpr std::size_t k_max_turns = 6;
  static constexpr std::size_t k_max_list = 50;
  static constexpr std::size_t k_max_turn_bytes = 300;
};

std::string dialogue_to_json(const DialogueState& state);
// Unreadable or foreign JSON gives an empty state; over-long parts are cut to the bounds.
DialogueState dialogue_from_json(std::string_view json_text);

struct Resolution {
  enum class Kind {
    standalone,  // answer `question` on its own (the message, or an ellipsis rewritten)
    follow_up,   // answer `follow_up`, about papers named before
    clarify,     // `clarification` asks what the message refers to
  };
  Kind kind = Kind::standalone;
  std::string question;
  FollowUpQuestion follow_up;
  Answer clarification;
};

// Reads `message` against the state. Commands ("/papers") are standalone.
Resolution resolve_follow_up(const DialogueState& state, std::string_view message);

// Updates the state with the turn just answered.
void remember_turn(DialogueState& state, std::string_view message, const Resolution& resolution, const Answer& answer);

// resolve_follow_up, the answer from `knowledge`, then remember_turn.
Answer answer_in_dialogue(const Knowledge& knowledge, DialogueState& state, std::string_view message,
                          const CommandSpelling& commands);

}  // namespace roundup::bot
