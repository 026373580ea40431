// roundup-ha-demo: the driver behind scripts/ha-demo.sh. Two `roundup-bot serve` replicas share a
// throwaway PostgreSQL 15 cluster (tests/support/postgres_cluster.h) and one Slack app and one
// Telegram bot, faked on 127.0.0.1 over TLS with a CA generated for the run
// (tests/soak/fake_platforms.h; each replica reaches them under its own /r/<replica> prefix, so
// the fakes can tell who sent what and who polled). It then:
//   - sends QUESTIONS questions, alternating Slack Events API webhooks (round-robin over the two
//     replicas, as a load balancer would) and Telegram updates (long polling: whichever replica
//     holds the poller lease takes them); 10% are delivered twice, a Slack retry going to the
//     other replica;
//   - in the middle, SIGKILLs the replica that polls Telegram, waits until the other has taken
//     polling over, and restarts it;
//   - has the daily digest fall due during the run, in one Slack channel and one Telegram group
//     configured on both replicas;
//   - adds a roundup to the shared corpus and sends an admin /reindex through one replica.
// It prints one table and exits 1 unless every question was answered exactly once, the digest was
// posted once per channel, only one replica polled Telegram at any time, and both replicas end
// on the same, new, index generation.
//
//   roundup-ha-demo --bot build/roundup-bot --source . --work DIR [--questions 2000] [--rate 40]

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/slack/signature.h"
#include "storage/postgres.h"
#include "tests/soak/bot_process.h"
#include "tests/soak/fake_platforms.h"
#include "tests/soak/utc_text.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/test_tls.h"

namespace {

namespace fs = std::filesystem;
namespace http = roundup::adapters::http;
using nlohmann::json;
using roundup::soak::BotProcess;
using roundup::soak::Clock;
using roundup::soak::FakePlatforms;
using namespace std::chrono_literals;

constexpr const char* k_slack_token = "xoxb-ha-demo";
constexpr const char* k_tg_token = "4242:HA_demo_bot";
constexpr std::int64_t k_tg_admin = 4242001;
constexpr const char* k_digest_slack = "CDIGEST";
constexpr std::int64_t k_digest_telegram = -1004242;
const std::vector<std::string> k_replicas = {"A", "B"};

struct Options {
  std::string bot;
  fs::path source;
  fs::path work;
  std::size_t questions = 2000;
  double rate = 40;
};

// One question as sent, and the reply key the fakes file its answer under.
struct Question {
  bool slack = true;
  std::string reply_key;
  std::string body;     // the Slack event, or the Telegram update
  std::string replica;  // Slack: where it was sent first
  bool twice = false;
};

std::atomic<pid_t> g_children[2] = {0, 0};

void on_fatal_signal(int sig) {
  for (auto& child : g_children) {
    const pid_t pid = child.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  ::_exit(128 + sig);
}

std::string fixed(double value, int digits = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::vector<std::string> load_questions(const fs::path& source) {
  std::vector<std::string> texts;
  for (const char* file : {"in-scope-natural-questions.jsonl", "fact-questions.jsonl"}) {
    std::ifstream in(source / "tests" / "data" / file);
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line, nullptr, false);
      if (row.is_object() && row.contains("q") && row["q"].is_string()) texts.push_back(row["q"]);
    }
  }
  if (texts.empty()) texts.emplace_back("which paper showed smaller models trained on more tokens beat bigger ones?");
  return texts;
}

double metric_sum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    try {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    } catch (const std::exception&) {
    }
  }
  return sum;
}

class Replicas {
 public:
  Replicas(const Options& options, const std::map<std::string, fs::path>& configs) {
    for (std::size_t i = 0; i < k_replicas.size(); ++i) {
      const auto& name = k_replicas[i];
      processes_[name] = std::make_unique<BotProcess>(name, options.bot, configs.at(name), options.work);
      index_[name] = i;
    }
  }
  bool start(const std::string& name) {
    auto& process = *processes_.at(name);
    process.start();
    g_children[index_.at(name)] = process.pid();
    if (process.wait_ready(300s)) return true;
    std::cerr << "ha-demo: replica " << name << " did not start; see " << process.log_file(process.starts()) << "\n";
    return false;
  }
  BotProcess& operator[](const std::string& name) { return *processes_.at(name); }
  bool up(const std::string& name) { return processes_.at(name)->port() != 0 && processes_.at(name)->running(); }

 private:
  std::map<std::string, std::unique_ptr<BotProcess>> processes_;
  std::map<std::string, std::size_t> index_;
};

struct Row {
  std::string figure;
  std::string value;
  std::string check;  // "ok", "FAIL ...", or "" (informational)
};

int run(const Options& options) {
  const auto began = Clock::now();
  fs::create_directories(options.work);
  std::vector<Row> rows;
  bool ok = true;
  const auto check = [&](const std::string& figure, const std::string& value, bool passed, const std::string& why) {
    rows.push_back({figure, value, passed ? "ok" : "FAIL " + why});
    ok = ok && passed;
  };

  // ---- PostgreSQL, the fakes, the shared corpus (one roundup held back for the reindex)
  std::cerr << "ha-demo: starting a throwaway PostgreSQL 15 cluster\n";
  roundup::testing::PostgresCluster postgres;
  const std::string state_url = postgres.create_database("roundup_ha");
  roundup::soak::FaultPlan no_faults;
  no_faults.rate_limit_every = 0;
  no_faults.server_error_every = 0;
  no_faults.stall_every = std::chrono::hours(24);
  no_faults.poll_fault_every = 0;
  FakePlatforms fakes(no_faults);
  fakes.add_telegram_bot(k_tg_token, "T");

  const fs::path corpus = options.work / "corpus";
  fs::create_directories(corpus);
  std::vector<fs::path> roundups;
  for (const auto& entry : fs::directory_iterator(options.source / "data" / "roundups"))
    roundups.push_back(entry.path());
  std::sort(roundups.begin(), roundups.end());
  if (roundups.size() < 2) throw std::runtime_error("the bundled corpus has fewer than two roundups");
  for (std::size_t i = 0; i + 1 < roundups.size(); ++i) fs::copy_file(roundups[i], corpus / roundups[i].filename());

  // The digest falls due at the first minute boundary at least 40 s away: during the load.
  const auto due_wall = std::chrono::ceil<std::chrono::minutes>(std::chrono::system_clock::now() + 40s);
  const std::string due_time = roundup::soak::utc_text(due_wall, "%H:%M");
  const std::string due_date = roundup::soak::utc_text(due_wall, "%Y-%m-%d");

  const std::string slack_secret = "0123456789abcdef0123456789abcdef";
  std::map<std::string, fs::path> configs;
  for (const auto& name : k_replicas) {
    const std::string prefix = "/r/" + name;
    const std::string slack_base = fakes.slack_api_base();  // https://127.0.0.1:P/api
    const std::string slack_api = slack_base.substr(0, slack_base.size() - 4) + prefix + "/api";
    json config = {
        {"corpus_dir", corpus.string()},
        {"data_dir", (options.work / ("data-" + name)).string()},
        {"listen", "127.0.0.1:0"},
        {"metrics_listen", "127.0.0.1:0"},
        {"log_level", "info"},
        {"workers", 2},
        {"admins", {"telegram:" + std::to_string(k_tg_admin)}},
        {"digest",
         {{"time", due_time},
          {"timezone", "UTC"},
          {"channels", {std::string("slack:") + k_digest_slack, "telegram:" + std::to_string(k_digest_telegram)}}}},
        {"retrieval", {{"lexicon_dir", (options.source / "data" / "lexicon").string()}}},
        {"tls", {{"ca_file", roundup::testing::test_pki().ca_file.string()}}},
        {"state", {{"backend", "postgresql"}, {"url", state_url}}},
        {"slack",
         {{"mode", "events"}, {"signing_secret", slack_secret}, {"bot_token", k_slack_token}, {"api_base", slack_api}}},
        {"telegram", {{"mode", "polling"}, {"bot_token", k_tg_token}, {"api_base", fakes.telegram_base() + prefix}}}};
    configs[name] = options.work / ("replica-" + name + ".json");
    std::ofstream(configs[name]) << config.dump(2) << "\n";
  }

  Replicas replicas(options, configs);
  std::cerr << "ha-demo: starting replicas A and B (each builds its index first)\n";
  for (const auto& name : k_replicas) {
    if (!replicas.start(name)) return 1;
  }
  const double startup_s = seconds_between(began, Clock::now());

  // The generation both serve before the reindex, as each reports it in the database.
  roundup::storage::postgres::Connection db(
      state_url, [](const std::string& message) { throw std::runtime_error("ha-demo: " + message); });
  const auto generations = [&] {
    std::map<std::string, std::string> by_replica;
    const auto result = db.query("SELECT key, value FROM kv WHERE key LIKE 'index.replica.%' ORDER BY key");
    for (int row = 0; row < result.rows(); ++row) {
      by_replica[result.text(row, 0).substr(14)] = json::parse(result.text(row, 1)).value("generation", "");
    }
    return by_replica;
  };
  std::string first_generation;
  for (const auto& [replica, generation] : generations()) first_generation = generation;

  // ---- the questions
  const auto texts = load_questions(options.source);
  std::vector<Question> questions;
  std::int64_t update_id = 1000;
  for (std::size_t i = 0; i < options.questions; ++i) {
    Question q;
    q.slack = i % 2 == 0;
    q.twice = i % 10 == 3;
    const std::string& text = texts[(i * 7) % texts.size()];
    const std::string n = std::to_string(i + 1);
    if (q.slack) {
      const std::string channel = "CQ" + std::to_string(i % 40);
      const std::string ts = std::to_string(1800000000 + i) + ".000100";
      q.reply_key = "se:" + channel + ":" + ts;
      q.replica = k_replicas[(i / 2) % 2];
      q.body = json{{"type", "event_callback"},
                    {"event_id", "EvHA" + n},
                    {"team_id", "THA"},
                    {"api_app_id", "AHA"},
                    {"event_time", 1800000000 + i},
                    {"event",
                     {{"type", "app_mention"},
                      {"user", "UQ" + std::to_string(i % 50)},
                      {"channel", channel},
                      {"ts", ts},
                      {"text", "<@UBOT> " + text}}}}
                   .dump();
    } else {
      const std::int64_t id = ++update_id;
      const std::int64_t chat = 300000 + static_cast<std::int64_t>(i % 40);
      const std::int64_t message_id = 10 * id + 7;
      q.reply_key = "tgT:" + std::to_string(chat) + ":" + std::to_string(message_id);
      q.body = json{{"update_id", id},
                    {"message",
                     {{"message_id", message_id},
                      {"date", 1800000000},
                      {"chat", {{"id", chat}, {"type", "private"}, {"first_name", "HA"}}},
                      {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "HA"}}},
                      {"text", text}}}}
                   .dump();
    }
    questions.push_back(std::move(q));
  }

  http::HttpsClient client;
  std::size_t failed_over_posts = 0;  // Slack events sent to the other replica because theirs was down
  // Signs and posts a Slack event to `replica`, or to the other one while it is down, until one
  // acks it (bounded).
  const auto post_slack = [&](const Question& q, const std::string& replica, bool retry) {
    const auto deadline = Clock::now() + 60s;
    std::string target = replica;
    while (Clock::now() < deadline) {
      if (!replicas.up(target)) {
        target = target == "A" ? "B" : "A";
        ++failed_over_posts;
        continue;
      }
      http::ClientRequest request;
      request.method = "POST";
      request.url = "http://127.0.0.1:" + std::to_string(replicas[target].port()) + "/slack/events";
      request.body = q.body;
      request.timeout = 10s;
      const std::string ts = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
              .count());
      request.headers = {{"Content-Type", "application/json"},
                         {"X-Slack-Request-Timestamp", ts},
                         {"X-Slack-Signature", roundup::adapters::slack::compute_signature(slack_secret, ts, q.body)}};
      if (retry) {
        request.headers.emplace_back("X-Slack-Retry-Num", "1");
        request.headers.emplace_back("X-Slack-Retry-Reason", "http_timeout");
      }
      try {
        if (client.send(request).status == 200) return true;
      } catch (const std::exception&) {
      }
      target = target == "A" ? "B" : "A";  // as a load balancer retries elsewhere
      fakes.wait_change(100ms);
    }
    return false;
  };
  const auto send = [&](const Question& q, bool again) {
    if (!q.slack) {
      // A duplicate is served twice in its first batch and once more after it was confirmed.
      fakes.push_update(k_tg_token, json::parse(q.body), q.twice);
      return true;
    }
    return post_slack(q, again ? (q.replica == "A" ? "B" : "A") : q.replica, again);
  };

  const auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / options.rate));
  auto next_send = Clock::now();
  std::vector<std::size_t> twice_pending;  // sent once; their second copy follows a little later
  std::size_t unsent = 0;
  const auto send_range = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      std::this_thread::sleep_until(next_send);  // pacing the load, not synchronisation
      next_send += interval;
      if (!send(questions[i], false)) ++unsent;
      if (questions[i].twice && questions[i].slack) twice_pending.push_back(i);
      // A tenth of the questions arrive twice: Slack retries the event 20 questions later at the
      // other replica (Telegram's duplicates are the fake's, see send()).
      while (!twice_pending.empty() && twice_pending.front() + 20 <= i) {
        send(questions[twice_pending.front()], true);
        twice_pending.erase(twice_pending.begin());
      }
    }
  };

  std::cerr << "ha-demo: " << options.questions << " questions at " << options.rate << "/s; digest due at " << due_time
            << " UTC\n";
  const auto load_began = Clock::now();
  send_range(0, options.questions / 2);

  // ---- the kill: the replica polling Telegram, once nothing it sent is unrecorded
  const auto pollers = fakes.poller_changes(k_tg_token);
  const std::string victim = pollers.empty() ? "A" : pollers.back().second;
  const std::string survivor = victim == "A" ? "B" : "A";
  // A message between the platform's success and the replica's record of it would be sent again
  // after the kill (no platform dedupes a post; docs/RELIABILITY.md): the fakes hold new posts
  // until the victim has recorded what they answered.
  fakes.freeze();
  const auto quiesce_deadline = Clock::now() + 15s;
  auto& victim_process = replicas[victim];
  while (Clock::now() < quiesce_deadline) {
    http::ClientRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(victim_process.metrics_port()) + "/metrics";
    request.timeout = 5s;
    double sent = -1;
    try {
      sent = metric_sum(client.send(request).body, "roundup_messages_sent_total");
    } catch (const std::exception&) {
    }
    if (static_cast<std::uint64_t>(sent) == fakes.delivered_count(victim)) break;
    fakes.wait_change(100ms);
  }
  const bool quiesced = Clock::now() < quiesce_deadline;
  const auto killed_at = Clock::now();
  victim_process.signal(SIGKILL);
  const bool killed = victim_process.wait_exit(10s).has_value();
  fakes.thaw();
  std::cerr << "ha-demo: SIGKILLed replica " << victim << " (the Telegram poller); waiting for " << survivor
            << " to take polling over\n";
  // Questions keep coming meanwhile (Slack goes to the survivor) until the survivor polls.
  std::optional<Clock::time_point> taken_over;
  std::size_t sent_upto = options.questions / 2;
  const auto takeover_deadline = killed_at + 150s;
  while (!taken_over && Clock::now() < takeover_deadline) {
    if (sent_upto < options.questions * 3 / 4) {
      send_range(sent_upto, sent_upto + 1);
      ++sent_upto;
    } else {
      fakes.wait_change(250ms);
    }
    for (const auto& [at, replica] : fakes.poller_changes(k_tg_token)) {
      if (at > killed_at && replica == survivor) taken_over = at;
    }
  }
  const bool restarted = killed && replicas.start(victim);
  std::cerr << "ha-demo: replica " << victim << " restarted\n";
  send_range(sent_upto, options.questions);
  const auto load_ended = Clock::now();

  // ---- the reindex through one replica: a new roundup in the shared corpus, /reindex from the admin
  fs::copy_file(roundups.back(), corpus / roundups.back().filename());
  const std::int64_t reindex_update = ++update_id;
  const std::string reindex_reply = "tgT:" + std::to_string(k_tg_admin) + ":" + std::to_string(10 * reindex_update + 7);
  fakes.push_update(k_tg_token,
                    json{{"update_id", reindex_update},
                         {"message",
                          {{"message_id", 10 * reindex_update + 7},
                           {"date", 1800000000},
                           {"chat", {{"id", k_tg_admin}, {"type", "private"}, {"first_name", "Admin"}}},
                           {"from", {{"id", k_tg_admin}, {"is_bot", false}, {"first_name", "Admin"}}},
                           {"text", "/reindex"},
                           {"entities", json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", 8}}})}}}},
                    false);

  // ---- drain (bounded): every question answered, the digests and the reindex reply delivered,
  // both replicas on one generation other than the first
  std::cerr << "ha-demo: draining\n";
  const auto drain_deadline = Clock::now() + 180s;
  std::map<std::string, std::string> final_generations;
  const auto settled = [&] {
    const auto replied = fakes.replied_keys();
    for (const auto& q : questions) {
      if (replied.count(q.reply_key) == 0) return false;
    }
    if (replied.count(reindex_reply) == 0) return false;
    bool digests = false;
    for (const auto& [hash, receipt] : fakes.receipts()) {
      if (receipt.digest_date == due_date && receipt.delivered > 0) digests = true;
    }
    if (!digests || std::chrono::system_clock::now() < due_wall) return false;
    try {
      final_generations = generations();
    } catch (const std::exception&) {
      return false;
    }
    std::set<std::string> distinct;
    for (const auto& [replica, generation] : final_generations) distinct.insert(generation);
    return final_generations.size() == 2 && distinct.size() == 1 && *distinct.begin() != first_generation;
  };
  while (!settled() && Clock::now() < drain_deadline) fakes.wait_change(500ms);
  // Late duplicates would show up here: give the outboxes a moment to empty, bounded.
  const auto empty_deadline = Clock::now() + 30s;
  while (Clock::now() < empty_deadline &&
         db.query("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").integer(0, 0) > 0) {
    fakes.wait_change(250ms);
  }

  // ---- the checks
  const auto receipts = fakes.receipts();
  const auto replied = fakes.replied_keys();
  std::map<std::string, std::set<std::string>> replicas_by_reply;  // reply key -> who answered it
  std::size_t delivered_twice = 0;
  std::map<std::string, std::size_t> messages_by_replica;
  std::map<std::string, std::set<std::string>> digest_posters;  // channel -> replicas
  std::map<std::string, std::size_t> digest_messages;
  for (const auto& [hash, receipt] : receipts) {
    if (receipt.delivered == 0) continue;
    if (receipt.delivered > 1) ++delivered_twice;
    replicas_by_reply[receipt.reply_key].insert(receipt.instance);
    messages_by_replica[receipt.instance] += static_cast<std::size_t>(receipt.delivered);
    if (receipt.digest_date == due_date) {
      digest_posters[receipt.reply_key].insert(receipt.instance);
      ++digest_messages[receipt.reply_key];
    }
  }
  std::size_t unanswered = 0;
  std::size_t answered_by_both = 0;
  for (const auto& q : questions) {
    if (replied.count(q.reply_key) == 0) ++unanswered;
    if (replicas_by_reply[q.reply_key].size() > 1) ++answered_by_both;
  }
  const std::size_t sent_twice = static_cast<std::size_t>(
      std::count_if(questions.begin(), questions.end(), [](const Question& q) { return q.twice; }));

  rows.push_back({"questions sent (Slack / Telegram)",
                  std::to_string(questions.size()) + " (" + std::to_string((questions.size() + 1) / 2) + " / " +
                      std::to_string(questions.size() / 2) + ")",
                  ""});
  rows.push_back({"delivered twice on purpose", std::to_string(sent_twice), ""});
  check("questions not accepted by either replica", std::to_string(unsent), unsent == 0, "a webhook was refused");
  check("questions unanswered", std::to_string(unanswered), unanswered == 0, "a question was lost");
  check("messages delivered more than once", std::to_string(delivered_twice), delivered_twice == 0, "duplicates");
  check("questions answered by both replicas", std::to_string(answered_by_both), answered_by_both == 0,
        "work was copied, not claimed");
  // Copied work shows in the database even when both copies sent the same text (one receipt): a
  // second handler run of an item. Only the items the killed replica was running may have one.
  const auto rerun = db.query("SELECT COUNT(*) FROM inbound WHERE attempts > 1").integer(0, 0);
  check("items whose handler ran more than once", std::to_string(rerun), rerun <= 2,
        "more than the killed replica's 2 workers were running");
  std::string split;
  for (const auto& [replica, count] : messages_by_replica) {
    split += (split.empty() ? "" : ", ") + replica + " " + std::to_string(count);
  }
  rows.push_back({"messages sent by each replica", split, ""});
  rows.push_back({"Slack events re-routed while a replica was down", std::to_string(failed_over_posts), ""});
  for (const std::string& channel :
       {std::string("slack:") + k_digest_slack, "telegram:" + std::to_string(k_digest_telegram)}) {
    const std::string key = "post:" + std::string(channel.rfind("slack:", 0) == 0 ? "A:" : "T:") + channel;
    const auto posters = digest_posters[key];
    std::string who;
    for (const auto& replica : posters) who += (who.empty() ? "" : "+") + replica;
    check("digest " + due_date + " in " + channel,
          std::to_string(digest_messages[key]) + " message(s) by " + (who.empty() ? "nobody" : who),
          digest_messages[key] > 0 && posters.size() == 1, "not posted exactly once by one replica");
  }
  const auto conflicts = fakes.poll_conflicts(k_tg_token);
  check("getUpdates while another replica polled (409)", std::to_string(conflicts), conflicts == 0,
        "two Telegram pollers at once");
  std::string poll_history;
  for (const auto& [at, replica] : fakes.poller_changes(k_tg_token)) {
    poll_history += (poll_history.empty() ? "" : ", ") + replica + " from +" + fixed(seconds_between(load_began, at));
  }
  const auto handovers = fakes.poller_changes(k_tg_token).size();
  check("Telegram poller (s since the load began)", poll_history, handovers == 2,
        "expected one poller, then the survivor only");
  check("SIGKILL of the poller and restart",
        "replica " + victim + " at +" + fixed(seconds_between(load_began, killed_at)) +
            (quiesced ? "" : " (its sends not all recorded)"),
        killed && restarted && quiesced, "the replica did not settle, die or come back");
  check("Telegram polling taken over by " + survivor,
        taken_over ? "after " + fixed(seconds_between(killed_at, *taken_over)) + " s" : "never", taken_over.has_value(),
        "no failover");
  std::string generations_text;
  std::set<std::string> distinct;
  for (const auto& [replica, generation] : final_generations) {
    generations_text += (generations_text.empty() ? "" : ", ") + replica + " " + generation;
    distinct.insert(generation);
  }
  check("index generation after /reindex (was " + first_generation + ")",
        generations_text.empty() ? "unknown" : generations_text,
        final_generations.size() == 2 && distinct.size() == 1 && *distinct.begin() != first_generation,
        "replicas differ or did not rebuild");
  check("/reindex answered", replied.count(reindex_reply) ? "yes" : "no", replied.count(reindex_reply) > 0, "no reply");
  for (const auto& name : k_replicas) {
    const auto alarms = replicas[name].alarms();
    check("crash or sanitizer lines in replica " + name + "'s log", std::to_string(alarms.size()), alarms.empty(),
          alarms.empty() ? "" : alarms.front());
  }
  rows.push_back({"start-up (both replicas, with their index builds)", fixed(startup_s) + " s", ""});
  rows.push_back({"load", fixed(seconds_between(load_began, load_ended)) + " s", ""});

  for (const auto& name : k_replicas) {
    replicas[name].signal(SIGTERM);
    replicas[name].wait_exit(60s);
  }
  fakes.stop();

  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.figure.size());
  std::cout << "\nha-demo: 2 replicas on PostgreSQL, " << questions.size() << " questions, work dir "
            << options.work.string() << "\n\n";
  for (const auto& row : rows) {
    std::cout << "  " << std::left << std::setw(static_cast<int>(width + 2)) << row.figure << row.value;
    if (!row.check.empty()) std::cout << "   [" << row.check << "]";
    std::cout << "\n";
  }
  std::cout << "\nha-demo: " << (ok ? "PASS" : "FAIL") << "\n";
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"roundup-ha-demo: two replicas on PostgreSQL against fake Slack and Telegram"};
  app.add_option("--bot", options.bot, "the roundup-bot binary")->required();
  app.add_option("--source", options.source, "the source tree (corpus, lexicon, question sets)")->required();
  app.add_option("--work", options.work, "where configurations, data and logs go")->required();
  app.add_option("--questions", options.questions, "how many questions")->check(CLI::Range(10, 100000));
  app.add_option("--rate", options.rate, "questions per second")->check(CLI::Range(1.0, 1000.0));
  CLI11_PARSE(app, argc, argv);
  // The configurations written under --work name these paths, and a config file's relative paths
  // are read against the file's own directory: they must be absolute.
  options.source = fs::absolute(options.source);
  options.work = fs::absolute(options.work);
  std::signal(SIGTERM, on_fatal_signal);
  std::signal(SIGINT, on_fatal_signal);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::cerr << "ha-demo: " << error.what() << "\n";
    for (auto& child : g_children) {
      const pid_t pid = child.load();
      if (pid > 0) ::kill(pid, SIGKILL);
    }
    return 1;
  }
}
