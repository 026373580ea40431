#pragma once
// Versioned names: "GPT-4", "PaLM 2", "BBTv2", "Point-E", "ConvNeXt V2". A question that names
// a version asks about that version; a paper that mentions only a sibling ("GPT-3", "PaLM",
// "ConvNet") does not answer it, however many words they share. Word overlap cannot see this:
// "gpt" and "4" are both in a GPT-3 summary.

#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace roundup::retrieval {

// The versioned names a question mentions, as keys: case-folded, separators removed
// ("GPT-4" -> "gpt4", "DALL·E 3" -> "dalle3"). Linear in the text.
std::vector<std::string> versioned_names(std::string_view text);

// A version written after words, in any casing: "kdd cup 2022", "gpt 4", "tensor programs vi".
struct VersionMention {
  std::string words;    // the one to three words before the version, folded and joined ("kddcup")
  std::string version;  // "2022", "4", "vi", "3.5", "v2"
};

// Every such mention of a question whose words include one that is_name_word accepts (a word no
// dictionary knows: "kdd", "gpt"), so "table 2" and "top 5" are not names. Years count as
// versions here: "KDD Cup 2022" is not "KDD Cup 2020". Linear in the text.
std::vector<VersionMention> version_mentions(std::string_view text,
                                             const std::function<bool(const std::string&)>& is_name_word);

// Every key a text could be said to mention: runs of up to four adjacent Latin or digit tokens,
// concatenated ("PaLM 2" -> "palm", "2", "palm2"). Tokens separated by Han characters or by
// punctuation other than a hyphen, dot, middle dot, underscore or slash are not adjacent.
// Also the initials of runs of two to five adjacent words, so an acronym the text never writes
// is still found ("LLM" in "large language models").
class NameMentions {
 public:
  explicit NameMentions(std::string_view text);
  bool mentions(const std::string& key) const { return keys_.count(key) > 0; }
  // Mentions a key made of a word with this stem ("objectfold", of "ObjectFolder") and then
  // rest ("2.0"): a name whose word the question misspelt, read through its corrected stem.
  bool mentions_stem_then(const std::string& stem, const std::string& rest) const;
  bool abbreviates(const std::string& acronym) const { return initials_.count(acronym) > 0; }
  // The text writes the mention's words with other versions only ("KDD Cup 2020" for "kdd cup
  // 2022"): it is about a sibling.
  bool names_only_other_versions(const VersionMention& m) const;

 private:
  std::unordered_set<std::string> keys_;
  std::unordered_set<std::string> initials_;
  std::map<std::string, std::set<std::string>> versions_after_;  // words -> versions written after them
};

// A title's own name, the part before its colon when that is one to three words with a Latin
// letter ("PaLM" of "PaLM: Scaling Language Modeling with Pathways", "P-Tuning v2"); empty
// otherwise ("Training Compute-Optimal Large Language Models").
std::string short_name(std::string_view title);

// Whether `typed` writes `name` exactly, in its casing, as a whole word or words: "what is PaLM?"
// writes "PaLM", "palm oil" and "PaLMs" do not. Linear in the text.
bool writes_name(std::string_view typed, std::string_view name);

}  // namespace roundup::retrieval
