#include "retrieval/knowledge_base.h"

#include <doctest/doctest.h>

#include "retrieval/search_engine.h"
#include "tests/support/temp_dir.h"

using namespace roundup::retrieval;
using roundup::testing::TempDir;
using roundup::testing::write_file;

namespace {

const char* const k_roundup_a = R"(# Paper digest — March 2022

## [Watermarking Language Model Outputs](https://arxiv.org/abs/2203.00001)

*Alice Smith, Bob Jones*

这项工作提出了一种为语言模型输出添加水印的方法。检测时不需要访问模型。

## [Fast Image Synthesis with GANs](https://arxiv.org/abs/2203.00002)

*Carol White et al.*

GAN 一次前向传递即可生成图像,比扩散模型快得多。
)";

const char* const k_roundup_b = R"(# Paper digest — April 2022

## [Recursive Book Summarization](https://arxiv.org/abs/2204.00003)

*Dan Brown*

将一本书分成几大块,然后递归地总结每一块。
)";

struct Fixture {
  TempDir tmp;
  std::shared_ptr<Analyzer> analyzer = std::make_shared<Analyzer>(std::make_shared<Lexicon>());
  std::shared_ptr<HashedEmbedder> embedder = std::make_shared<HashedEmbedder>(analyzer, 768);
  BuildSettings settings;

  Fixture() {
    settings.corpus_dir = tmp / "corpus";
    settings.data_dir = tmp / "data";
    write_file(settings.corpus_dir / "a.md", k_roundup_a);
    write_file(settings.corpus_dir / "b.md", k_roundup_b);
  }
  BuildReport build() { return build_index(settings, *analyzer, *embedder); }
  std::shared_ptr<KnowledgeBase> open() { return KnowledgeBase::open(settings.data_dir, *embedder); }
};

}  // namespace

TEST_CASE("knowledge base: build - persist - reopen and search") {
  Fixture f;
  const BuildReport report = f.build();
  CHECK(report.files == 2);
  CHECK(report.files_added == 2);
  CHECK(report.papers == 3);
  CHECK(report.passages_embedded == report.passages);
  auto kb = f.open();
  CHECK(kb->catalog().roundups().size() == 2);
  CHECK(kb->passages().size() == report.passages);
  const Paper* p = kb->catalog().find("arxiv:2203.00001");
  REQUIRE(p != nullptr);
  CHECK(p->authors == std::vector<std::string>{"Alice Smith", "Bob Jones"});

  const auto lexical = kb->lexical_search({"水印"}, 5);
  REQUIRE_FALSE(lexical.empty());
  CHECK(kb->catalog().item(kb->passages()[lexical[0].passage].item).arxiv_id == "2203.00001");

  std::vector<float> q(768);
  CHECK(f.embedder->embed_query("GAN 图像", {}, q.data()));
  const auto dense = kb->dense_search(q.data(), 3);
  REQUIRE_FALSE(dense.empty());
  CHECK(kb->catalog().item(kb->passages()[dense[0].passage].item).arxiv_id == "2203.00002");
  CHECK(kb->idf("水印") > kb->idf("模型") - 10);  // defined for known and unknown terms
  CHECK(kb->idf("never-seen-term") >= kb->idf("水印"));
}

TEST_CASE("knowledge base: reindex re-embeds only changed files") {
  Fixture f;
  f.build();
  BuildReport again = f.build();
  CHECK(again.files_unchanged == 2);
  CHECK(again.passages_embedded == 0);

  write_file(f.settings.corpus_dir / "b.md", std::string(k_roundup_b) + "\n这是新增加的一段话,描述更多细节。\n");
  write_file(f.settings.corpus_dir / "c.md",
             "# Digest — May 2022\n\n## [New Paper](https://arxiv.org/abs/2205.00004)\n\n*Eve*\n\n新论文。\n");
  std::filesystem::remove(f.settings.corpus_dir / "a.md");
  const BuildReport changed = f.build();
  CHECK(changed.added == std::vector<std::string>{"c.md"});
  CHECK(changed.changed == std::vector<std::string>{"b.md"});
  CHECK(changed.removed == std::vector<std::string>{"a.md"});
  CHECK(changed.passages_embedded > 0);
  CHECK(changed.passages_embedded < changed.passages + 1);
  auto kb = f.open();
  CHECK(kb->catalog().find("arxiv:2205.00004") != nullptr);
  CHECK(kb->catalog().find("arxiv:2203.00001") == nullptr);
}

TEST_CASE("knowledge base: an index built by another embedder is a clear error") {
  Fixture f;
  f.build();
  HashedEmbedder other(f.analyzer, 64);
  try {
    KnowledgeBase::open(f.settings.data_dir, other);
    FAIL("expected IndexError");
  } catch (const IndexError& e) {
    CHECK(std::string(e.what()).find("roundup-bot index") != std::string::npos);
    CHECK(std::string(e.what()).find("dim=768") != std::string::npos);
  }
  // Reindexing with the new embedder replaces it and embeds everything again.
  const BuildReport rebuilt = build_index(f.settings, *f.analyzer, other);
  CHECK(rebuilt.passages_embedded == rebuilt.passages);
  CHECK_FALSE(rebuilt.previous_index_note.empty());
  CHECK_NOTHROW(KnowledgeBase::open(f.settings.data_dir, other));
}

TEST_CASE("knowledge base: missing and corrupted index files are reported - not crashed on") {
  Fixture f;
  CHECK_THROWS_AS(f.open(), IndexError);
  f.build();
  const auto current = std::filesystem::canonical(f.settings.data_dir / "index" / "current");
  SUBCASE("corrupted vectors") {
    write_file(current / "vectors.faiss", "not a faiss index");
    CHECK_THROWS_AS(f.open(), IndexError);
  }
  SUBCASE("corrupted manifest") {
    write_file(current / "manifest.json", "{ broken");
    CHECK_THROWS_AS(f.open(), IndexError);
  }
  SUBCASE("corrupted database") {
    write_file(current / "kb.sqlite", std::string(4096, 'x'));
    CHECK_THROWS_AS(f.open(), IndexError);
  }
  SUBCASE("a rebuild repairs it") {
    write_file(current / "vectors.faiss", "garbage");
    f.build();
    CHECK_NOTHROW(f.open());
  }
}

TEST_CASE("knowledge base: a failed build keeps the good index") {
  Fixture f;
  f.build();
  const auto before = std::filesystem::canonical(f.settings.data_dir / "index" / "current");
  // Every file unusable: the build fails and `current` still points at the old generation.
  std::filesystem::remove_all(f.settings.corpus_dir);
  write_file(f.settings.corpus_dir / "empty.md", "");
  write_file(f.settings.corpus_dir / "binary.txt", std::string("\xff\xfe\x00garbage", 10));
  CHECK_THROWS_AS(f.build(), IndexError);
  CHECK(std::filesystem::canonical(f.settings.data_dir / "index" / "current") == before);
  CHECK(f.open()->catalog().find("arxiv:2203.00001") != nullptr);
}

TEST_CASE("knowledge base: bad files are skipped with one warning each - the rest indexes") {
  Fixture f;
  write_file(f.settings.corpus_dir / "empty.md", "   \n");
  write_file(f.settings.corpus_dir / "latin1.txt", "caf\xe9 au lait\n");
  write_file(f.settings.corpus_dir / "huge.md", std::string(5000, 'a'));
  write_file(f.settings.corpus_dir / "ignored.pdf", "not a roundup");
  f.settings.max_file_bytes = 4096;
  const BuildReport report = f.build();
  CHECK(report.files == 2);
  REQUIRE(report.warnings.size() == 3);
  std::string all;
  for (const auto& w : report.warnings) all += w + "\n";
  CHECK(all.find("empty.md: it is empty") != std::string::npos);
  CHECK(all.find("latin1.txt: it is not valid UTF-8") != std::string::npos);
  CHECK(all.find("huge.md: it is 5000 bytes") != std::string::npos);
}

TEST_CASE("knowledge base: large corpora use an IVF index that still finds and reuses vectors") {
  Fixture f;
  std::string big = "# Digest — June 2022\n\n";
  for (int i = 0; i < 300; ++i) {
    big += "## [Synthetic Paper Number " + std::to_string(i) + "](https://arxiv.org/abs/2206." +
           std::to_string(10000 + i) + ")\n\n*Author " + std::to_string(i) + "*\n\n";
    big += "This paper studies topic" + std::to_string(i) + " with method" + std::to_string(i * 7) + ".\n\n";
  }
  write_file(f.settings.corpus_dir / "big.md", big);
  f.settings.ivf_min_passages = 100;
  const BuildReport report = f.build();
  CHECK(report.vector_index.rfind("ivf", 0) == 0);
  auto kb = f.open();
  std::vector<float> q(768);
  CHECK(f.embedder->embed_query(
      "topic42 method294", [&](const std::string& t) { return kb->idf(t); }, q.data()));
  const auto dense = kb->dense_search(q.data(), 5);
  REQUIRE_FALSE(dense.empty());
  const Item& top = kb->catalog().item(kb->passages()[dense[0].passage].item);
  CHECK_MESSAGE(top.arxiv_id == "2206.10042", top.title << " | " << top.summary << " | " << top.url);
  kb.reset();
  const BuildReport again = f.build();
  CHECK(again.passages_embedded == 0);
  CHECK(again.vector_index == report.vector_index);
}

TEST_CASE("knowledge base: an index built with a fuller lexicon is never replaced by one built without it") {
  Fixture f;
  auto lexicon = std::make_shared<Lexicon>();
  lexicon->add("水印", "watermark", Lexicon::Source::glossary);
  lexicon->add("扩散模型", "diffusion model", Lexicon::Source::glossary);
  const auto full = std::make_shared<Analyzer>(lexicon);
  const auto full_embedder = std::make_shared<HashedEmbedder>(full, 768);
  build_index(f.settings, *full, *full_embedder);
  CHECK(KnowledgeBase::built_lexicon_entries(f.settings.data_dir) == 2);
  const std::string generation = KnowledgeBase::open(f.settings.data_dir, *full_embedder)->generation();

  // A process whose lexicon went missing (a wrong lexicon_dir) may not rebuild the shared index.
  std::string error;
  try {
    f.build();
  } catch (const IndexError& e) {
    error = e.what();
  }
  CHECK(error.find("lexicon of 2 entries") != std::string::npos);
  CHECK(error.find("the current index is kept") != std::string::npos);
  CHECK(KnowledgeBase::open(f.settings.data_dir, *full_embedder)->generation() == generation);
  // With the same lexicon it rebuilds as usual.
  CHECK_NOTHROW(build_index(f.settings, *full, *full_embedder));
}
