#include "bot/dialogue.h"

#include <nlohmann/json.hpp>

#include "retrieval/query_intent.h"
#include "text/unicode.h"

namespace roundup::bot {

using nlohmann::json;
using retrieval::Attribute;

namespace {

const char* attribute_name(Attribute attribute) {
  switch (attribute) {
    case Attribute::authors: return "authors";
    case Attribute::link: return "link";
    case Attribute::when: return "when";
    case Attribute::none: break;
  }
  return "";
}

Attribute attribute_named(const std::string& name) {
  for (const Attribute a : {Attribute::authors, Attribute::link, Attribute::when})
    if (name == attribute_name(a)) return a;
  return Attribute::none;
}

std::string cut(std::string_view text) {
  return utf8_prefix(text, DialogueState::k_max_turn_bytes / 4);
}

Resolution clarify(std::vector<std::string> lines) {
  Resolution r;
  r.kind = Resolution::Kind::clarify;
  r.clarification.kind = Answer::Kind::clarify;
  r.clarification.heading = "Which paper do you mean?";
  r.clarification.lines = std::move(lines);
  return r;
}

Resolution about(std::string paper, std::string_view message) {
  Resolution r;
  r.kind = Resolution::Kind::follow_up;
  r.follow_up.text = std::string(message);
  r.follow_up.papers = {std::move(paper)};
  return r;
}

std::string in_quotes(std::string_view word) {
  return "\"" + std::string(word) + "\"";
}

}  // namespace

std::string dialogue_to_json(const DialogueState& state) {
  json turns = json::array();
  for (const DialogueTurn& t : state.turns) turns.push_back({{"said", t.said}, {"asked", t.asked}});
  return json{{"v", 1},
              {"focus", state.focus},
              {"list", state.list},
              {"attribute", attribute_name(state.attribute)},
              {"turns", std::move(turns)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

DialogueState dialogue_from_json(std::string_view json_text) {
  DialogueState state;
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("v", 0) != 1) return state;
  auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string(); };
  state.focus = text(j.value("focus", json()));
  if (const json& list = j.value("list", json::array()); list.is_array())
    for (const json& id : list)
      if (id.is_string() && state.list.size() < DialogueState::k_max_list) state.list.push_back(id.get<std::string>());
  state.attribute = attribute_named(text(j.value("attribute", json())));
  if (const json& turns = j.value("turns", json::array()); turns.is_array())
    for (const json& t : turns)
      if (t.is_object() && state.turns.size() < DialogueState::k_max_turns)
        state.turns.push_back({cut(text(t.value("said", json()))), cut(text(t.value("asked", json())))});
  return state;
}

Resolution resolve_follow_up(const DialogueState& state, std::string_view message) {
  const std::string typed = text::trim(message);
  Resolution standalone;
  standalone.question = typed;
  if (typed.empty() || typed[0] == '/') return standalone;
  const retrieval::FollowUpCues cues = retrieval::read_follow_up_cues(typed);

  if (cues.ordinal != 0) {
    if (state.list.empty())
      return clarify({"I have not shown a list in this conversation yet, so I do not know which one you mean.",
                      "Ask about the paper by name, or ask for a list first (\"what was in the latest roundup?\")."});
    const std::size_t n = cues.ordinal < 0 ? state.list.size() : static_cast<std::size_t>(cues.ordinal);
    if (n == 0 || n > state.list.size())
      return clarify({"The last list I showed has " + std::to_string(state.list.size()) +
                      (state.list.size() == 1 ? " paper" : " papers") + ": ask about one of the first " +
                      std::to_string(state.list.size()) + ", or name the paper."});
    return about(state.list[n - 1], typed);
  }
  if (cues.narrows) {
    if (state.list.empty())
      return clarify({"I have not shown a list in this conversation yet, so I do not know which papers you mean."});
    if (cues.content.empty()) return clarify({"Which of them? Say \"the second one\", or what the paper is about."});
    Resolution r;
    r.kind = Resolution::Kind::follow_up;
    r.follow_up.text = cues.content;
    r.follow_up.papers = state.list;
    r.follow_up.choose = true;
    return r;
  }
  // "who wrote it?", "link?", "作者是谁": a pronoun, or a record field with nothing else named.
  if (cues.refers_back || (cues.attribute != Attribute::none && cues.content.empty())) {
    if (!state.focus.empty()) return about(state.focus, typed);
    if (state.list.size() == 1) return about(state.list.front(), typed);
    const std::string word = cues.referring_word.empty() ? "that" : cues.referring_word;
    if (!state.list.empty())
      return clarify({"Which one? The last list I showed has " + std::to_string(state.list.size()) +
                      " papers: say \"the second one\", or name the paper."});
    return clarify({"I don't know what " + in_quotes(word) + " refers to: we have not talked about a paper yet.",
                    "Ask about it by name, for example \"who wrote the Chinchilla paper?\"."});
  }
  // "and PaLM?": the last question's record field, asked of a new subject; without one, the new
  // subject on its own. Context adds no words that could make an off-topic subject answerable.
  if (cues.ellipsis && !state.turns.empty()) {
    standalone.question = state.attribute != Attribute::none
                              ? retrieval::attribute_question(state.attribute, *cues.ellipsis)
                              : *cues.ellipsis;
  }
  return standalone;
}

void remember_turn(DialogueState& state, std::string_view message, const Resolution& resolution, const Answer& answer) {
  if (resolution.kind == Resolution::Kind::clarify) return;  // nothing was answered
  const std::string asked =
      resolution.kind == Resolution::Kind::standalone ? resolution.question : resolution.follow_up.text;
  state.turns.push_back({cut(message), cut(asked)});
  if (state.turns.size() > DialogueState::k_max_turns)
    state.turns.erase(state.turns.begin(), state.turns.end() - DialogueState::k_max_turns);

  auto ids = [](const std::vector<PaperCitation>& papers) {
    std::vector<std::string> out;
    for (const PaperCitation& p : papers)
      if (out.size() < DialogueState::k_max_list) out.push_back(p.paper_id);
    return out;
  };
  switch (answer.kind) {
    case Answer::Kind::answer:
    case Answer::Kind::roundups:
      if (!answer.citations.empty()) state.focus = answer.citations.front().paper_id;
      // "Related" is a list too ("the second related one"); a list shown before stays otherwise.
      if (!answer.related.empty()) state.list = ids(answer.related);
      // A model's answer shows its sources numbered [1]..[n] and no related list: "the second
      // one" is source [2].
      if (answer.written_by_model && answer.citations.size() > 1) state.list = ids(answer.citations);
      state.attribute = resolution.kind == Resolution::Kind::standalone
                            ? retrieval::find_attribute(fold(resolution.question))
                            : retrieval::find_attribute(fold(resolution.follow_up.text));
      break;
    case Answer::Kind::listing:
    case Answer::Kind::catalogue:
      state.list = ids(answer.citations);
      state.focus = state.list.size() == 1 ? state.list.front() : std::string();
      state.attribute = Attribute::none;
      break;
    case Answer::Kind::no_match:
      // A declined question leaves nothing in focus: "it" next would mean what was declined.
      state.focus.clear();
      state.attribute = Attribute::none;
      break;
    case Answer::Kind::help:
    case Answer::Kind::notice:
    case Answer::Kind::clarify: break;
  }
}

Answer answer_in_dialogue(const Knowledge& knowledge, DialogueState& state, std::string_view message,
                          const CommandSpelling& commands) {
  const Resolution resolution = resolve_follow_up(state, message);
  Answer answer;
  switch (resolution.kind) {
    case Resolution::Kind::clarify: answer = resolution.clarification; break;
    case Resolution::Kind::follow_up: answer = knowledge.follow_up(resolution.follow_up, commands); break;
    case Resolution::Kind::standalone: answer = knowledge.answer(resolution.question, commands); break;
  }
  remember_turn(state, message, resolution, answer);
  return answer;
}

}  // namespace roundup::bot
