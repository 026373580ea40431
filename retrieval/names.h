#pragma once
// Versioned names: "GPT-4", "PaLM 2", "BBTv2", "Point-E", "ConvNeXt V2". A question that names
// a version asks about that version; a paper that mentions only a sibling ("GPT-3", "PaLM",
// "ConvNet") does not answer it, however many words they share. Word overlap cannot see this:
// "gpt" and "4" are both in a GPT-3 summary.

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace roundup::retrieval {

// The versioned names a question mentions, as keys: case-folded, separators removed
// ("GPT-4" -> "gpt4", "DALL·E 3" -> "dalle3"). Linear in the text.
std::vector<std::string> versioned_names(std::string_view text);

// Every key a text could be said to mention: runs of up to four adjacent Latin or digit tokens,
// concatenated ("PaLM 2" -> "palm", "2", "palm2"). Tokens separated by Han characters or by
// punctuation other than a hyphen, dot, middle dot, underscore or slash are not adjacent.
// Also the initials of runs of two to five adjacent words, so an acronym the text never writes
// is still found ("LLM" in "large language models").
class NameMentions {
 public:
  explicit NameMentions(std::string_view text);
  bool mentions(const std::string& key) const { return keys_.count(key) > 0; }
  bool abbreviates(const std::string& acronym) const { return initials_.count(acronym) > 0; }

 private:
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> initials_;
};

}  // namespace roundup::retrieval
