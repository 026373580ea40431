#pragma once
// What in a message points back into the conversation, in English and Chinese: a pronoun or
// demonstrative ("it", "that paper", "它", "这篇"), an ordinal over a list shown before ("the
// second one", "第三篇"), a request to narrow that list ("which of those is about …", "其中"),
// ellipsis ("and PaLM?", "那 PaLM 呢?"), and a record attribute ("who wrote", "link", "when",
// "作者"). Only reads the message; bot/dialogue.h decides what the cues mean with the state it
// keeps. Every pattern is RE2, so any message costs linear time.

#include <optional>
#include <string>
#include <string_view>

namespace roundup::retrieval {

// A field of a paper's record a question asks for; answered from the record, not the summary.
enum class Attribute { none, authors, link, when };

// "who wrote …", "authors of …", "作者是谁" -> authors; "link to …", "url", "链接" -> link;
// "when was …", "什么时候" -> when. The phrase is removed from *rest when given. `folded` is
// case-folded text (text::fold).
Attribute find_attribute(std::string_view folded, std::string* rest = nullptr);

// How to ask for `attribute` about `subject`: "who wrote PaLM?" (ellipsis carries the attribute of
// the previous question to a new subject).
std::string attribute_question(Attribute attribute, std::string_view subject);

struct FollowUpCues {
  // 1-based position in the last list ("the second one" -> 2); -1 for "the last one"; 0: none.
  int ordinal = 0;
  bool refers_back = false;    // a pronoun or demonstrative ("it", "that paper", "它", "这篇")
  std::string referring_word;  // as typed, for a clarifying question ("it")
  bool narrows = false;        // "which of those …", "其中 …": choose within the last list
  // "and PaLM?", "what about PaLM?", "那 PaLM 呢?": the new subject ("palm"), folded.
  std::optional<std::string> ellipsis;
  Attribute attribute = Attribute::none;
  // The message with the cues above, the attribute phrase and filler words removed, folded:
  // what it says on its own ("is about watermarking" -> "watermarking"). Empty for "who wrote
  // it?" or "the second one".
  std::string content;
};

// Reads bounded_question(message) (query_intent.h).
FollowUpCues read_follow_up_cues(std::string_view message);

}  // namespace roundup::retrieval
