#include "retrieval/names.h"

#include <doctest/doctest.h>

using roundup::retrieval::NameMentions;
using roundup::retrieval::short_name;
using roundup::retrieval::version_mentions;
using roundup::retrieval::versioned_names;
using roundup::retrieval::VersionMention;
using roundup::retrieval::writes_name;
using Names = std::vector<std::string>;

TEST_CASE("names: versioned names in a question, in any writing") {
  CHECK(versioned_names("how many parameters does GPT-4 have?") == Names{"gpt4"});
  CHECK(versioned_names("how many parameters does gpt-4 have?") == Names{"gpt4"});
  CHECK(versioned_names("谷歌 2023 年发布的 PaLM 2 比第一代 PaLM 参数更少吗") == Names{"palm2"});
  CHECK(versioned_names("ConvNeXt V2 用了什么") == Names{"convnextv2"});
  CHECK(versioned_names("DALL·E 3 和 Midjourney") == Names{"dalle3"});
  CHECK(versioned_names("bbtv2 from tianxiang sun, vs the B200") == Names{"bbtv2", "b200"});
  CHECK(versioned_names("alex nichol's point-e") == Names{"pointe"});
  CHECK(versioned_names("in P-Tuning v2, what ratio") == Names{"ptuningv2"});
  CHECK(versioned_names("GPT-3.5 or GPT-4") == Names{"gpt3.5", "gpt4"});
  CHECK(versioned_names("ＳｔｙｌｅＧＡＮ－Ｔ 生成一张图要几步") == Names{"stylegant"});
  CHECK(versioned_names("Tensor Programs VI") == Names{"programsvi"});
}

TEST_CASE("names: ordinary words, numbers and quantities are not names") {
  CHECK(versioned_names("which paper trained on 1.4T tokens in 2022?").empty());
  CHECK(versioned_names("a 540B model with 6144 chips").empty());
  CHECK(versioned_names("step 2 of the text-to-image pipeline, p-tuning, self-instruct").empty());
  CHECK(versioned_names("see table 2 and section 3.5").empty());
  CHECK(versioned_names("").empty());
  CHECK(versioned_names("\xff\xfe v2 - 3").empty());
}

TEST_CASE("names: a text mentions a name in any spacing, but not its sibling") {
  const NameMentions summary("我们训练了 GPT-3 (175B) 和 PaLM 540B；P-Tuning v2 也在其中。DALL·E 2 和 BBTv2。");
  CHECK(summary.mentions("gpt3"));
  CHECK(summary.mentions("ptuningv2"));
  CHECK(summary.mentions("dalle2"));
  CHECK(summary.mentions("bbtv2"));
  CHECK_FALSE(summary.mentions("gpt4"));
  CHECK_FALSE(summary.mentions("palm2"));
  CHECK_FALSE(summary.mentions("dalle3"));
  // Han characters separate: "PaLM 在 2 个" does not mention "PaLM 2".
  CHECK_FALSE(NameMentions("PaLM在2个数据中心").mentions("palm2"));
}

TEST_CASE("names: a text abbreviates the runs of words it writes out") {
  const NameMentions summary(
      "A Watermark for Large Language Models. 基于人类反馈的强化学习 (reinforcement learning from human feedback)");
  CHECK(summary.abbreviates("llm"));
  CHECK(summary.abbreviates("lm"));
  CHECK(summary.abbreviates("rlhf"));
  CHECK(summary.abbreviates("rlfhf"));
  CHECK(NameMentions("chain of thought prompting").abbreviates("cot"));
  CHECK_FALSE(summary.abbreviates("gan"));
  CHECK_FALSE(summary.abbreviates("l"));
}

namespace {
// Words no dictionary knows, for these tests.
bool unknown_word(const std::string& w) {
  return w == "kdd" || w == "gpt" || w == "cvpr" || w == "mujoco";
}
std::vector<std::string> mention_keys(std::string_view text) {
  std::vector<std::string> out;
  for (const VersionMention& m : version_mentions(text, unknown_word)) out.push_back(m.words + "|" + m.version);
  return out;
}
}  // namespace

TEST_CASE("names: versions after words in any casing, when a word is a name") {
  CHECK(mention_keys("who won the kdd cup 2022 and what was the task") == Names{"kddcup|2022"});
  // Runs of up to three words before the version, each with a name in it.
  CHECK(mention_keys("does gpt 4 beat gpt-3.5?") == Names{"gpt|4", "doesgpt|4", "gpt|3.5", "beatgpt|3.5"});
  CHECK(mention_keys("CVPR 2023 best paper") == Names{"cvpr|2023"});
  // Ordinary words with a number are not names; neither are counts and quantities.
  CHECK(mention_keys("see table 2, step 3 and the top 5 in 2022").empty());
  CHECK(mention_keys("a 540B model with 6144 chips").empty());
  CHECK(mention_keys("").empty());
}

TEST_CASE("names: a text that writes a name only with another version names a sibling") {
  const NameMentions summary("AutoGraph Challenge at KDD Cup 2020. 我们在 GPT-3 上测试。MuJoCo 开源了。");
  const auto sibling = [&](const std::string& words, const std::string& version) {
    return summary.names_only_other_versions(VersionMention{words, version});
  };
  CHECK(sibling("kddcup", "2022"));
  CHECK(sibling("gpt", "4"));
  CHECK_FALSE(sibling("kddcup", "2020"));  // the version it writes
  CHECK_FALSE(sibling("mujoco", "3"));     // written with no version: not known to be a sibling
  CHECK_FALSE(sibling("palm", "2"));       // never written
}

TEST_CASE("names: a misspelt name is found through its corrected stem") {
  const NameMentions summary("ObjectFolder 2.0: A Multisensory Object Dataset");
  CHECK(summary.mentions_stem_then("objectfold", "2.0"));
  CHECK_FALSE(summary.mentions_stem_then("objectfold", "3.0"));
  CHECK_FALSE(summary.mentions_stem_then("object", "2.0"));  // "objectfolder" is more than an ending
}

TEST_CASE("names: a title's own name, and a question that writes it") {
  CHECK(short_name("PaLM: Scaling Language Modeling with Pathways") == "PaLM");
  CHECK(short_name("P-Tuning v2: Prompt Tuning Can Be Comparable to Fine-tuning") == "P-Tuning v2");
  CHECK(short_name("StyTr^2 :Image Style Transfer with Transformers") == "StyTr^2");
  CHECK(short_name("Training Compute-Optimal Large Language Models").empty());
  CHECK(short_name("A Watermark for Large Language Models: and more").empty());  // four words: a phrase
  CHECK(short_name("路径:ML 和 PaLM 的异步分布式数据流").empty());               // no Latin letter
  CHECK(writes_name("what is PaLM?", "PaLM"));
  CHECK(writes_name("PaLM的参数有多少", "PaLM"));
  CHECK(writes_name("tell me about P-Tuning v2", "P-Tuning v2"));
  CHECK_FALSE(writes_name("how do I grow a palm tree?", "PaLM"));  // its casing is part of the name
  CHECK_FALSE(writes_name("PaLMs and more", "PaLM"));
  CHECK_FALSE(writes_name("anything", ""));
}
