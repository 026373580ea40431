// The command-line contract, exercised on the built binary: exit codes, JSON shapes, the
// bundled corpus end to end.

#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "adapters/http/client.h"
#include "tests/support/child_process.h"
#include "tests/support/run_process.h"
#include "tests/support/temp_dir.h"

using nlohmann::json;
using roundup::testing::run_process;
using roundup::testing::TempDir;
using roundup::testing::write_file;

namespace {

// A config pointing at the bundled corpus and lexicon, with its index in a temp dir.
struct BundledCorpus {
  TempDir tmp;
  std::string config = (tmp / "config.json").string();
  BundledCorpus() {
    const std::string root = ROUNDUP_SOURCE_DIR;
    write_file(config, json{{"corpus_dir", root + "/data/roundups"},
                            {"data_dir", (tmp / "var").string()},
                            {"retrieval", {{"lexicon_dir", root + "/data/lexicon"}}}}
                           .dump());
  }
  roundup::testing::ProcessResult run(std::vector<std::string> args, const std::string& input = "") const {
    args.insert(args.begin(), {ROUNDUP_BINARY, "--config", config});
    return run_process(args, tmp.path(), input);
  }
};

}  // namespace

TEST_CASE("cli: usage errors exit 2 with a message") {
  TempDir tmp;
  auto r = run_process({ROUNDUP_BINARY}, tmp.path());
  CHECK(r.exit_code == 2);
  r = run_process({ROUNDUP_BINARY, "frobnicate"}, tmp.path());
  CHECK(r.exit_code == 2);
  r = run_process({ROUNDUP_BINARY, "search", "--top-k", "0", "x"}, tmp.path());
  CHECK(r.exit_code == 2);
  r = run_process({ROUNDUP_BINARY, "--help"}, tmp.path());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("search") != std::string::npos);
}

TEST_CASE("cli: a mistyped config names the key and exits 2") {
  TempDir tmp;
  write_file(tmp / "bad.json", R"({"corpus_dir": 5, "retrieval": {"top_kk": 3}})");
  const auto r = run_process({ROUNDUP_BINARY, "--config", (tmp / "bad.json").string(), "ask", "hi"}, tmp.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("corpus_dir") != std::string::npos);
  CHECK(r.err.find("retrieval.top_kk") != std::string::npos);
  CHECK(r.err.find("did you mean 'top_k'") != std::string::npos);
  const auto missing = run_process({ROUNDUP_BINARY, "--config", (tmp / "nope.json").string(), "index"}, tmp.path());
  CHECK(missing.exit_code == 2);
}

TEST_CASE("cli: a missing corpus is a runtime failure (exit 1) with a clear message") {
  TempDir tmp;
  write_file(tmp / "c.json",
             json{{"corpus_dir", (tmp / "nowhere").string()}, {"data_dir", (tmp / "var").string()}}.dump());
  const auto r = run_process({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "index"}, tmp.path());
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("nowhere") != std::string::npos);
}

TEST_CASE("cli: index - papers --json - search --json and ask on the bundled corpus") {
  BundledCorpus corpus;
  const auto index = corpus.run({"index"});
  REQUIRE(index.exit_code == 0);
  CHECK(index.out.find("files: 5 (5 added") != std::string::npos);
  CHECK(index.out.find("passages:") != std::string::npos);
  CHECK(index.out.find("time:") != std::string::npos);
  const auto again = corpus.run({"index"});
  CHECK(again.out.find("5 unchanged") != std::string::npos);
  CHECK(again.out.find("0 embedded") != std::string::npos);

  SUBCASE("papers --json: every featured paper with title, link and month, no furniture") {
    const auto r = corpus.run({"papers", "--json"});
    REQUIRE(r.exit_code == 0);
    const json papers = json::parse(r.out);
    std::map<std::string, int> featured_by_roundup;
    for (const json& p : papers) {
      CHECK_FALSE(p["title"].get<std::string>().empty());
      CHECK(p["url"].get<std::string>().rfind("http", 0) == 0);
      REQUIRE_FALSE(p["roundups"].empty());
      for (const json& r : p["roundups"]) {
        CHECK_FALSE(r["month"].is_null());
        if (p["kind"] == "paper") ++featured_by_roundup[r["id"].get<std::string>()];
      }
      const std::string all = p.dump();
      for (const char* furniture : {"转载", "THE END", "公众号", "广告", "评论", "7993401"})
        CHECK_MESSAGE(all.find(furniture) == std::string::npos, all);
    }
    CHECK(featured_by_roundup["000_23e3586c227f749e"] == 10);
    CHECK(featured_by_roundup["001_1dbaee74712196a5"] == 10);
    CHECK(featured_by_roundup["002_381a2dde42fdada2"] == 7);
    CHECK(featured_by_roundup["003_a3808abbd3678fc4"] == 7);
    CHECK(featured_by_roundup["004_4d998eb36a89468e"] == 10);
    // Chinchilla is in two roundups: one paper listing both.
    bool chinchilla = false;
    for (const json& p : papers)
      if (p["arxiv_id"] == "2203.15556") chinchilla = p["roundups"].size() == 2;
    CHECK(chinchilla);
  }
  SUBCASE("search --json has the contract's shape") {
    const auto r = corpus.run({"search", "--json", "--top-k", "3", "watermark", "for", "LLM", "outputs"});
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["query"] == "watermark for LLM outputs");
    REQUIRE(j["results"].size() == 3);
    const json& top = j["results"][0];
    for (const char* key : {"rank", "id", "kind", "title", "authors", "arxiv_id", "url", "roundups", "snippet", "score",
                            "confidence", "evidence"})
      CHECK_MESSAGE(top.contains(key), key);
    CHECK(top["confidence"].get<double>() > j["results"][2]["confidence"].get<double>());
    CHECK(top["rank"] == 1);
    CHECK(top["arxiv_id"] == "2301.10226");
    CHECK(top["roundups"][0]["month"] == "2023-02");
  }
  SUBCASE("ask answers with a citation and a link") {
    const auto r = corpus.run({"ask", "5400亿参数的模型是哪篇?"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("PaLM") != std::string::npos);
    CHECK(r.out.find("https://") != std::string::npos);
  }
  SUBCASE("ask lists a month's roundup from metadata") {
    const auto r = corpus.run({"ask", "what was in the February 2023 roundup?"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("MusicLM") != std::string::npos);
    CHECK(r.out.find("PADL") != std::string::npos);
  }
  SUBCASE("ask --json: an answer with its confidence, reason, text and citations") {
    const auto r = corpus.run({"ask", "--json", "how many TPU chips trained PaLM?"});
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["answered"] == true);
    CHECK(j["kind"] == "answer");
    CHECK(j["confidence"].get<double>() >= 0.5);
    CHECK_FALSE(j["reason"].get<std::string>().empty());
    CHECK(j["text"].get<std::string>().find("6144") != std::string::npos);
    REQUIRE(j["citations"].size() >= 1);
    CHECK(j["citations"][0]["title"].get<std::string>().find("PaLM") != std::string::npos);
    for (const char* key : {"id", "title", "url", "roundups"}) CHECK_MESSAGE(j["citations"][0].contains(key), key);
  }
  SUBCASE("ask --json: a declined question is not answered and cites nothing") {
    const auto r = corpus.run({"ask", "--json", "Who won the 2022 World Cup?"});
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["answered"] == false);
    CHECK(j["kind"] == "refusal");
    CHECK(j["citations"].empty());
    CHECK(j["confidence"].get<double>() < 0.5);
    CHECK(j["text"].get<std::string>().find("/papers") != std::string::npos);
  }
  SUBCASE("ask reads a misspelt name as the indexed one and says so") {
    const auto r = corpus.run({"ask", "what is Kubirc?"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Reading \"Kubirc\" as \"Kubric\"") != std::string::npos);
    CHECK(r.out.find("2203.03570") != std::string::npos);
  }
  SUBCASE("ask says so when nothing matches") {
    const auto r = corpus.run({"ask", "best pizza recipes for cats"});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("No good match") != std::string::npos);
    CHECK(r.out.find("2023-02") != std::string::npos);
  }
  SUBCASE("/papers lists the roundups oldest first, and suggests the latest month") {
    const auto r = corpus.run({"chat"}, "/papers\n");
    REQUIRE(r.exit_code == 0);
    std::vector<std::size_t> at;
    for (const char* month : {"2021-11 ", "2022-02 ", "2022-03 ", "2022-04 ", "2023-02 "}) {
      at.push_back(r.out.find(month));
      CHECK_MESSAGE(at.back() != std::string::npos, month);
    }
    CHECK(std::is_sorted(at.begin(), at.end()));
    CHECK(r.out.find("/papers 2023-02") != std::string::npos);
  }
  SUBCASE("chat reads commands and questions until end of input") {
    const auto r = corpus.run({"chat"}, "/help\n/papers 2021-11\nwhich roundups covered Chinchilla?\n/quit\n");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("/papers") != std::string::npos);
    CHECK(r.out.find("Dagster") != std::string::npos);
    CHECK(r.out.find("2 roundups") != std::string::npos);
  }
}

TEST_CASE("cli: search builds the index first when there is none - and rebuilds one from another embedder") {
  BundledCorpus corpus;
  const auto r = corpus.run({"search", "--json", "Kubric"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out)["results"][0]["arxiv_id"] == "2203.03570");
  // Same data_dir, different embedder dimension (as after an upgrade that changes the index):
  // the index is rebuilt from the corpus, with a note saying why, and the search works.
  TempDir other;
  const json cfg = json::parse(roundup::testing::read_file(corpus.config));
  json changed = cfg;
  changed["retrieval"]["embedder"] = {{"dimension", 64}};
  write_file(other / "c.json", changed.dump());
  const auto stale = run_process(
      {ROUNDUP_BINARY, "--config", (other / "c.json").string(), "search", "--json", "Kubric"}, other.path());
  CHECK(stale.exit_code == 0);
  CHECK(stale.err.find("cannot be used") != std::string::npos);
  CHECK(json::parse(stale.out)["results"][0]["arxiv_id"] == "2203.03570");
}

TEST_CASE("cli: serve refuses a configuration that cannot run - naming every key (exit 2)") {
  TempDir tmp;
  write_file(tmp / "c.json", R"({"listen": "127.0.0.1:0", "slack": {"bot_token": "xoxp-user"}})");
  const auto r = run_process({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "serve"}, tmp.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("slack.bot_token") != std::string::npos);
  CHECK(r.err.find("slack.signing_secret") != std::string::npos);
  CHECK(r.err.find("xoxp-user") == std::string::npos);  // secrets are never echoed
}

TEST_CASE("cli: serve refuses to start without its lexicon unless the config allows it (exit 2)" *
          doctest::timeout(120)) {
  TempDir tmp;
  const std::string root = ROUNDUP_SOURCE_DIR;
  json config = {{"corpus_dir", root + "/data/roundups"},
                 {"data_dir", (tmp / "var").string()},
                 {"listen", "127.0.0.1:0"},
                 {"retrieval", {{"lexicon_dir", (tmp / "empty-lexicon").string()}}}};
  std::filesystem::create_directories(tmp / "empty-lexicon");  // there, but its files are not
  write_file(tmp / "c.json", config.dump());
  const auto refused = run_process({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "serve"}, tmp.path());
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("retrieval.lexicon_dir") != std::string::npos);
  CHECK(refused.err.find("require_lexicon") != std::string::npos);
  // ask only warns, and answers.
  const auto asked =
      run_process({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "ask", "what is Kubric?"}, tmp.path());
  CHECK(asked.exit_code == 0);
  CHECK(asked.err.find("warning: lexicon file") != std::string::npos);
  CHECK(asked.out.find("Kubric") != std::string::npos);
  // With require_lexicon false, serve starts even with no lexicon directory at all.
  config["retrieval"] = {{"lexicon_dir", (tmp / "no-such-dir").string()}, {"require_lexicon", false}};
  write_file(tmp / "c.json", config.dump());
  roundup::testing::ChildProcess serve({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "serve"}, tmp.path());
  REQUIRE_MESSAGE(serve.read_until("msg=listening"), serve.seen());
}

TEST_CASE("cli: serve with no platform answers health checks and exits 0 on SIGTERM" * doctest::timeout(120)) {
  TempDir tmp;
  const std::string root = ROUNDUP_SOURCE_DIR;
  write_file(tmp / "c.json", json{{"corpus_dir", root + "/data/roundups"},
                                  {"data_dir", (tmp / "var").string()},
                                  {"listen", "127.0.0.1:0"},
                                  {"retrieval", {{"lexicon_dir", root + "/data/lexicon"}}}}
                                 .dump());
  roundup::testing::ChildProcess serve({ROUNDUP_BINARY, "--config", (tmp / "c.json").string(), "serve"}, tmp.path());
  REQUIRE(serve.read_until("no chat platform is enabled"));
  const auto listening = serve.read_until("msg=listening");
  REQUIRE_MESSAGE(listening, serve.seen());
  const auto port_at = listening->find("port=");
  REQUIRE(port_at != std::string::npos);
  const std::string port = listening->substr(port_at + 5);

  roundup::adapters::http::HttpsClient client;
  roundup::adapters::http::ClientRequest health;
  health.method = "GET";
  health.url = "http://127.0.0.1:" + port + "/healthz";
  CHECK(client.send(health).status == 200);
  roundup::adapters::http::ClientRequest slack;
  slack.url = "http://127.0.0.1:" + port + "/slack/events";
  CHECK(client.send(slack).status == 404);  // Slack is not enabled

  serve.signal(SIGTERM);
  REQUIRE(serve.read_until("msg=stopped"));
  CHECK(serve.wait() == 0);
}

TEST_CASE("cli: config check lists every mistake with its key path and exits 2 - a good file is summarised") {
  TempDir tmp;
  write_file(tmp / "bad.json", R"({
    "digest": {"time": "9am", "timezone": "Europe/Berln", "channels": ["slack:C1"]},
    "admins": ["U0123"], "log_format": "text", "telegram": {"bot_token": "secret-token-value"},
    "corpus_dir": "no-such-dir"})");
  const auto bad =
      run_process({ROUNDUP_BINARY, "config", "check", "--config", (tmp / "bad.json").string()}, tmp.path());
  CHECK(bad.exit_code == 2);
  // Malformed values and what cannot run, in one report.
  for (const char* path : {"digest.time:", "digest.timezone:", "admins[0]:", "log_format:", "telegram.bot_token:",
                           "digest.channels[0]: slack is not enabled", "corpus_dir:"}) {
    CHECK_MESSAGE(bad.err.find(path) != std::string::npos, path);
  }
  CHECK(bad.err.find("secret-token-value") == std::string::npos);

  // Well-formed, but it cannot run: a digest channel on a platform that is off, a missing corpus.
  write_file(tmp / "unrunnable.json", R"({"corpus_dir": "no-such-dir", "digest": {"channels": ["slack:C1"]}})");
  const auto unrunnable =
      run_process({ROUNDUP_BINARY, "--config", (tmp / "unrunnable.json").string(), "config", "check"}, tmp.path());
  CHECK(unrunnable.exit_code == 2);
  CHECK(unrunnable.err.find("digest.channels[0]: slack is not enabled") != std::string::npos);
  CHECK(unrunnable.err.find("corpus_dir:") != std::string::npos);

  const std::string root = ROUNDUP_SOURCE_DIR;
  write_file(tmp / "good.json", json{{"corpus_dir", root + "/data/roundups"},
                                     {"data_dir", (tmp / "var").string()},
                                     {"retrieval", {{"lexicon_dir", root + "/data/lexicon"}}},
                                     {"digest", {{"timezone", "Asia/Shanghai"}}}}
                                    .dump());
  const auto good =
      run_process({ROUNDUP_BINARY, "config", "check", "--config", (tmp / "good.json").string()}, tmp.path());
  CHECK(good.exit_code == 0);
  CHECK(good.out.find("configuration OK") != std::string::npos);
  CHECK(good.out.find("09:00 Asia/Shanghai") != std::string::npos);
  CHECK(good.out.find("  llm: off\n") != std::string::npos);
}

TEST_CASE("cli: digest --dry-run prints the next digest without writing state") {
  BundledCorpus corpus;
  const auto r = corpus.run({"digest", "--dry-run", "--channel", "telegram:-1001"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("Daily digest") != std::string::npos);
  CHECK(r.out.find("https://") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(corpus.tmp / "var" / "state" / "bot.sqlite"));
  CHECK(corpus.run({"digest"}).exit_code == 2);  // --dry-run is required: posting is serve's job
  CHECK(corpus.run({"digest", "--dry-run", "--channel", "C1"}).exit_code == 2);
}

namespace {
std::string repeated(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}
}  // namespace

TEST_CASE("cli: hostile questions get a reply - not a crash (issue 12)") {
  BundledCorpus corpus;
  REQUIRE(corpus.run({"index"}).exit_code == 0);
  // Each was a SIGSEGV (std::regex recursing over the whole question) or 12 s of CPU.
  for (const std::string& question : {"papers by " + repeated("abc ", 10000), "papers by " + repeated("\uFDFA", 4000),
                                      "的论文" + repeated("\uFB03", 4090)}) {
    const auto r = corpus.run({"ask", question});
    CHECK(r.exit_code == 0);
    // Over the limit: said so, as in the chat platforms, rather than answered from a part of it.
    CHECK(r.out.find("That question is too long") != std::string::npos);
    CHECK(r.out.find("up to 2,000 characters") != std::string::npos);
  }
  // `chat` reads line by line: a long line is refused and the next one answered.
  const auto chat =
      corpus.run({"chat"}, "papers by " + repeated("\uFDFA", 4000) + "\nwhich roundups covered Chinchilla?\n");
  CHECK(chat.exit_code == 0);
  CHECK(chat.out.find("That question is too long") != std::string::npos);
  CHECK(chat.out.find("2 roundups") != std::string::npos);  // the next line was answered
  // `search` reads the first 2,000 characters of a longer query (README, "Limits").
  const auto r = corpus.run({"search", "--json", "watermark for LLM outputs " + repeated("\uFDFA", 4000)});
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  REQUIRE_FALSE(j["results"].empty());
  CHECK(j["results"][0]["arxiv_id"] == "2301.10226");
}

TEST_CASE("cli: the same search gives the same ids from the checkout and from elsewhere - no config, and one file" *
          doctest::timeout(300)) {
  const std::string root = ROUNDUP_SOURCE_DIR;
  const std::vector<std::string> search = {"search", "--json", "--top-k", "5", "水印 large language models"};
  auto ids = [](const roundup::testing::ProcessResult& r) {
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> out;
    const json doc = json::parse(r.out);  // kept: a range-for over a temporary's member dangles
    for (const json& hit : doc["results"]) out.push_back(hit["id"]);
    return out;
  };
  TempDir elsewhere;
  // No config: the defaults live where the executable is (the checkout it was built in), never
  // in the working directory.
  std::vector<std::string> args = {ROUNDUP_BINARY};
  args.insert(args.end(), search.begin(), search.end());
  const auto from_checkout = ids(run_process(args, root));
  CHECK_FALSE(from_checkout.empty());
  CHECK(ids(run_process(args, elsewhere.path())) == from_checkout);
  CHECK_FALSE(std::filesystem::exists(elsewhere / "var"));  // nothing written to the working directory
  // One file with relative paths: read against the file's directory, from anywhere.
  TempDir conf;
  std::filesystem::create_directories(conf / "etc");
  write_file(
      conf / "etc" / "config.json",
      json{{"corpus_dir", std::filesystem::relative(root + "/data/roundups", conf / "etc").string()},
           {"data_dir", "../var"},
           {"retrieval", {{"lexicon_dir", std::filesystem::relative(root + "/data/lexicon", conf / "etc").string()}}}}
          .dump());
  args = {ROUNDUP_BINARY, "--config", (conf / "etc" / "config.json").string()};
  args.insert(args.end(), search.begin(), search.end());
  const auto with_file = ids(run_process(args, conf / "etc"));
  CHECK(with_file == from_checkout);
  CHECK(ids(run_process(args, elsewhere.path())) == with_file);
  CHECK(ids(run_process(args, root)) == with_file);
}
