// roundup-soak: the driver behind scripts/soak.sh. It runs the real `roundup-bot serve` against
// fake Slack and Telegram Web APIs (tests/soak/fake_platforms.h: TLS on 127.0.0.1 with a CA
// generated for the run) and, for SECONDS, all at once:
//   - questions over Slack Events API webhooks, Slack slash commands, the Telegram webhook (bot
//     process A) and Telegram long polling (bot process B: a process has one Telegram mode), at a
//     fixed rate, 10% of them delivered twice (same event_id / trigger_id / update_id), some of
//     those duplicates after the restart;
//   - signed Slack requests and the Telegram secret header, from the generated configuration;
//     unauthenticated ones besides (bad or missing signature, stale timestamp, wrong or missing
//     secret) and poison questions (40,000 characters, U+FDFA x 3000, invalid UTF-8);
//   - questions from chats that refuse every reply (archived, blocked): set aside, never retried;
//   - an admin /reindex every few seconds; digests due mid-run (configured channels and chats
//     that /subscribe at the start), and one /digest now;
//   - faults in the fakes (429 with Retry-After, 5xx, calls never answered, a failed first
//     auth.test / getMe per start, getUpdates errors), a slowloris and an idle-connection flood;
//   - one SIGKILL of both processes in the middle, and a restart on the same data_dir.
// Then it drains (bounded), stops the processes with SIGTERM, matches every message in their
// outboxes against what the fakes received, prints one table and exits 1 on any failed check.
//
//   roundup-soak --bot build/roundup-bot --source . --work DIR [--seconds 120] [--rate 40]

#include <sqlite3.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/client.h"
#include "adapters/slack/signature.h"
#include "tests/soak/attacks.h"
#include "tests/soak/bot_process.h"
#include "tests/soak/fake_platforms.h"
#include "tests/soak/utc_text.h"
#include "tests/support/metrics_text.h"
#include "tests/support/test_tls.h"

namespace {

namespace fs = std::filesystem;
namespace http = roundup::adapters::http;
using nlohmann::json;
using roundup::soak::Attacks;
using roundup::soak::BotProcess;
using roundup::soak::Clock;
using roundup::soak::FakePlatforms;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Options and constants

struct Options {
  std::string bot;
  fs::path source;
  fs::path work;
  double seconds = 120;
  double rate = 40;   // new questions per second, over the four routes
  double drain = 45;  // seconds allowed after the load for everything to be answered
  double reindex_every = 4;
  int senders = 8;  // webhook sender threads
  double rss_tolerance = 0.10;
};

constexpr const char* k_slack_bot_token = "xoxb-soak-token";
constexpr const char* k_tg_token_a = "1001:SOAK_webhook_A";
constexpr const char* k_tg_token_b = "1002:SOAK_polling_B";
constexpr const char* k_slack_admin = "UADMIN";
constexpr const char* k_slack_admin_channel = "CADM";
constexpr std::int64_t k_tg_admin = 4242;
constexpr std::int64_t k_probe_update_base = 900000000;
const std::vector<std::string> k_digest_channels_a = {"slack:CDIGA1", "slack:CDIGA2", "telegram:-1009001"};
const std::vector<std::string> k_digest_channels_b = {"telegram:-1009101"};

enum class Route { slack_event, slack_command, tg_webhook, tg_poll };
constexpr int k_routes = 4;
const char* route_name(Route route) {
  switch (route) {
    case Route::slack_event: return "Slack events";
    case Route::slack_command: return "Slack slash commands";
    case Route::tg_webhook: return "Telegram webhook";
    case Route::tg_poll: return "Telegram polling";
  }
  return "?";
}

// `refused`: a question from a chat that refuses the bot's replies for good (fake_platforms.h).
enum class Kind { question, admin, subscribe, digest_now, poison, refused };

std::string random_token(std::size_t length, std::string_view alphabet) {
  std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += alphabet[pick(device)];
  return out;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string form_encode(std::string_view text) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += k_hex[c >> 4];
      out += k_hex[c & 15];
    }
  }
  return out;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto at = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size()))) - 1;
  return values[std::min(at, values.size() - 1)];
}

// ---------------------------------------------------------------------------------------------
// What is sent

struct Question {
  std::size_t seq = 0;
  Route route = Route::slack_event;
  Kind kind = Kind::question;
  std::string poison;       // "40k chars", "U+FDFA x3000", "invalid UTF-8"
  std::string instance;     // "A" or "B"
  std::string reply_key;    // as the fakes compute it from the reply
  std::string inbound_key;  // as the bot records it
  std::string path;         // webhook route
  std::string body;
  std::int64_t update_id = 0;  // polling
  bool duplicate = false;
  // Under Load::mutex_:
  bool sent = false;
  bool accepted = false;
  bool given_up = false;
  int attempts = 0;
  Clock::time_point first_sent{};
};

// A request that must be refused and leave no trace.
struct Probe {
  std::string kind;
  std::string path;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // sent as they are (no signing)
  int expected_status = 401;
  std::string inbound_key;
  std::string reply_key;
  int status = -1;  // under Load::mutex_
  int attempts = 0;
};

struct Texts {
  std::vector<std::string> questions;
  std::string long_text;     // 40,000 characters
  std::string nfkc_text;     // U+FDFA x 3000: 18 code points each after NFKC
  std::string invalid_utf8;  // bytes that are no UTF-8
};

Texts load_texts(const fs::path& source) {
  Texts texts;
  for (const char* file : {"in-scope-natural-questions.jsonl", "fact-questions.jsonl", "off-topic-questions.jsonl"}) {
    std::ifstream in(source / "tests" / "data" / file);
    for (std::string line; std::getline(in, line);) {
      const json row = json::parse(line, nullptr, false);
      if (row.is_object() && row.contains("q") && row["q"].is_string()) texts.questions.push_back(row["q"]);
    }
  }
  if (texts.questions.empty()) texts.questions.push_back("which paper showed smaller models trained on more tokens?");
  while (texts.long_text.size() < 40000) texts.long_text += "chinchilla tokens scaling watermark ";
  texts.long_text.resize(40000);
  for (int i = 0; i < 3000; ++i) texts.nfkc_text += "\xef\xb7\xba";
  texts.invalid_utf8 = "\xff\xfe which \xc0\xaf paper \xed\xa0\x80 watermark \x80\x80 chinchilla";
  return texts;
}

// ---------------------------------------------------------------------------------------------
// The load: questions and probes, delivered by sender threads with retries

class Load {
 public:
  Load(const Options& options, FakePlatforms& fakes, std::string slack_secret, std::string tg_secret,
       std::function<unsigned short()> port_a)
      : options_(options),
        fakes_(fakes),
        texts_(load_texts(options.source)),
        slack_secret_(std::move(slack_secret)),
        tg_secret_(std::move(tg_secret)),
        port_a_(std::move(port_a)),
        client_([] {
          http::ClientOptions client;
          client.max_idle_per_origin = 32;
          client.user_agent = "Slackbot 1.0 (+https://api.slack.com/robots)";
          return client;
        }()) {}

  ~Load() { stop(); }

  // Generation from `start` to `end`; deliveries until `give_up_at`.
  void start(Clock::time_point start, Clock::time_point end, Clock::time_point kill_at, Clock::time_point give_up_at) {
    start_ = start;
    end_ = end;
    kill_at_ = kill_at;
    give_up_at_ = give_up_at;
    for (int i = 0; i < options_.senders; ++i) senders_.emplace_back([this] { send_loop(); });
    generator_ = std::thread([this] { generate(); });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    if (generator_.joinable()) generator_.join();
    for (auto& sender : senders_) {
      if (sender.joinable()) sender.join();
    }
    senders_.clear();
  }

  // Everything generated and every webhook delivery settled (accepted or given up).
  bool settled() {
    std::lock_guard lock(mutex_);
    return generated_ && jobs_.empty() && in_flight_ == 0;
  }

  // Snapshot accessors (the driver reads them between phases and at the end).
  template <typename Visit>
  void visit(Visit&& visit) {
    std::lock_guard lock(mutex_);
    visit(questions_, probes_);
  }
  std::uint64_t duplicate_deliveries() {
    std::lock_guard lock(mutex_);
    return duplicate_deliveries_;
  }
  std::uint64_t retries_after_failure() {
    std::lock_guard lock(mutex_);
    return retries_;
  }
  std::vector<double> ack_ms() {
    std::lock_guard lock(mutex_);
    return ack_ms_;
  }
  std::uint64_t legit_refused() {
    std::lock_guard lock(mutex_);
    return legit_refused_;
  }
  std::size_t generated_questions() {
    std::lock_guard lock(mutex_);
    return questions_.size();
  }
  // Polling questions are accepted when the bot confirmed their update (its next offset).
  void mark_confirmed_updates() {
    std::lock_guard lock(mutex_);
    for (auto& q : questions_) {
      if (q->route == Route::tg_poll && !q->accepted && fakes_.confirmed(k_tg_token_b, q->update_id)) {
        q->accepted = true;
      }
    }
  }

 private:
  struct Job {
    Clock::time_point due;
    Question* question = nullptr;
    Probe* probe = nullptr;
    bool duplicate = false;
    bool operator>(const Job& other) const { return due > other.due; }
  };

  // ---- building requests

  Question& add_question(Route route, Kind kind, const std::string& text, bool command = false) {
    auto q = std::make_unique<Question>();
    q->seq = questions_.size() + 1;
    q->route = route;
    q->kind = kind;
    q->instance = route == Route::tg_poll ? "B" : "A";
    const std::string n = std::to_string(q->seq);
    switch (route) {
      case Route::slack_event: {
        const bool dm = q->seq % 5 == 0 && kind != Kind::refused;
        const std::string channel = kind == Kind::refused ? std::string(roundup::soak::k_refusing_slack_channel)
                                    : dm                  ? "DE" + std::to_string(q->seq % 32)
                                                          : "CE" + std::to_string(q->seq % 64);
        const std::string ts = std::to_string(1800000000 + q->seq) + ".000100";
        const std::string event_id = "EvSOAK" + n;
        q->reply_key = "se:" + channel + ":" + ts;
        q->inbound_key = "slack:event:" + event_id;
        q->path = "/slack/events";
        json event = {{"type", dm ? "message" : "app_mention"},
                      {"user", "UE" + std::to_string(q->seq % 200)},
                      {"channel", channel},
                      {"ts", ts},
                      {"text", dm ? text : "<@UBOT> " + text}};
        if (dm) event["channel_type"] = "im";
        q->body = json{{"type", "event_callback"},
                       {"event_id", event_id},
                       {"team_id", "TSOAK"},
                       {"api_app_id", "ASOAK"},
                       {"event_time", 1800000000 + q->seq},
                       {"event", event}}
                      .dump();
        break;
      }
      case Route::slack_command: {
        const bool admin = kind == Kind::admin || kind == Kind::digest_now;
        const std::string channel = admin                     ? std::string(k_slack_admin_channel)
                                    : kind == Kind::subscribe ? "CSUB" + std::to_string(q->seq % 1000)
                                                              : "CS" + std::to_string(q->seq % 64);
        const std::string user = admin ? std::string(k_slack_admin) : "US" + std::to_string(q->seq % 200);
        const std::string trigger = "TRSOAK." + n;
        q->reply_key = "sc:Q" + n;
        q->inbound_key = "slack:command:" + trigger;
        q->path = "/slack/commands";
        q->body = "token=x&team_id=TSOAK&team_domain=soak&channel_id=" + channel +
                  "&channel_name=soak&user_id=" + user +
                  "&user_name=soak&command=%2Froundup&text=" + form_encode(text) +
                  "&response_url=" + form_encode(fakes_.slack_origin() + "/commands/respond/Q" + n) +
                  "&trigger_id=" + trigger + "&api_app_id=ASOAK";
        break;
      }
      case Route::tg_webhook:
      case Route::tg_poll: {
        const bool webhook = route == Route::tg_webhook;
        const std::int64_t update_id = webhook ? ++updates_a_ : ++updates_b_;
        const std::int64_t chat = kind == Kind::admin     ? k_tg_admin
                                  : kind == Kind::refused ? roundup::soak::k_refusing_telegram_chat
                                  : kind == Kind::subscribe
                                      ? (webhook ? 5000 : 6000) + static_cast<std::int64_t>(q->seq % 1000)
                                      : (webhook ? 100000 : 200000) + static_cast<std::int64_t>(q->seq % 128);
        const std::int64_t message_id = 10 * update_id + 7;
        q->reply_key = "tg" + q->instance + ":" + std::to_string(chat) + ":" + std::to_string(message_id);
        q->inbound_key = "telegram:update:" + std::to_string(update_id);
        q->update_id = update_id;
        q->path = "/telegram/webhook";
        json message = {{"message_id", message_id},
                        {"date", 1800000000},
                        {"chat", {{"id", chat}, {"type", "private"}, {"first_name", "Soak"}}},
                        {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "Soak"}}},
                        {"text", text}};
        if (command) {
          const auto length = text.find(' ') == std::string::npos ? text.size() : text.find(' ');
          message["entities"] = json::array({{{"type", "bot_command"}, {"offset", 0}, {"length", length}}});
        }
        q->body =
            json{{"update_id", update_id}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
        break;
      }
    }
    questions_.push_back(std::move(q));
    return *questions_.back();
  }

  // A question on `route` from the pool; `slot` picks the text. Every 13th is a command.
  Question& add_pool_question(Route route, std::size_t slot) {
    const auto& pool = texts_.questions;
    if (slot % 13 == 5) {
      static const char* k_commands[] = {"papers", "search chinchilla", "help", "papers 2023-02"};
      const std::string verb = k_commands[(slot / 13) % 4];
      if (route == Route::tg_webhook || route == Route::tg_poll)
        return add_question(route, Kind::question, "/" + verb, true);
      if (route == Route::slack_command) return add_question(route, Kind::question, verb);
    }
    return add_question(route, Kind::question, pool[slot % pool.size()]);
  }

  void add_headers(http::ClientRequest& request, const Question& q, bool duplicate) const {
    if (q.route == Route::slack_event || q.route == Route::slack_command) {
      const std::string ts = std::to_string(unix_now());
      request.headers = {
          {"Content-Type", q.route == Route::slack_event ? "application/json" : "application/x-www-form-urlencoded"},
          {"X-Slack-Request-Timestamp", ts},
          {"X-Slack-Signature", roundup::adapters::slack::compute_signature(slack_secret_, ts, q.body)}};
      if (duplicate && q.route == Route::slack_event) {
        request.headers.emplace_back("X-Slack-Retry-Num", "1");
        request.headers.emplace_back("X-Slack-Retry-Reason", "http_timeout");
      }
    } else {
      request.headers = {{"Content-Type", "application/json"}, {"X-Telegram-Bot-Api-Secret-Token", tg_secret_}};
    }
  }

  // An unauthenticated request of kind `which` (0..5), or one that is signed but malformed.
  void add_probe(std::size_t which) {
    auto p = std::make_unique<Probe>();
    const std::string n = "P" + std::to_string(probes_.size() + 1);
    const std::string now = std::to_string(unix_now());
    const auto slack_event = [&](const std::string& text) {
      const std::string channel = "CPROBE";
      const std::string ts = std::to_string(1900000000 + probes_.size()) + ".000200";
      p->reply_key = "se:" + channel + ":" + ts;
      p->inbound_key = "slack:event:Ev" + n;
      p->path = "/slack/events";
      // Built by hand: the text may hold bytes that are no UTF-8, which a JSON library refuses.
      p->body = R"({"type":"event_callback","event_id":"Ev)" + n +
                R"(","team_id":"TSOAK","event":{"type":"app_mention",)" + R"("user":"UPROBE","channel":")" + channel +
                R"(","ts":")" + ts + R"(","text":"<@UBOT> )" + text + R"("}})";
    };
    const auto telegram = [&](const std::string& text) {
      const std::int64_t update_id = k_probe_update_base + static_cast<std::int64_t>(probes_.size());
      p->reply_key = "tgA:77:" + std::to_string(update_id);
      p->inbound_key = "telegram:update:" + std::to_string(update_id);
      p->path = "/telegram/webhook";
      p->body = R"({"update_id":)" + std::to_string(update_id) + R"(,"message":{"message_id":)" +
                std::to_string(update_id) + R"(,"date":1,"chat":{"id":77,"type":"private"},)" +
                R"("from":{"id":77,"is_bot":false,"first_name":"x"},"text":")" + text + R"("}})";
    };
    switch (which % 8) {
      case 0:
        p->kind = "Slack event, bad signature";
        slack_event("which paper is about watermarks?");
        p->headers = {
            {"X-Slack-Request-Timestamp", now},
            {"X-Slack-Signature", roundup::adapters::slack::compute_signature("not-the-secret", now, p->body)}};
        break;
      case 1:
        p->kind = "Slack event, no signature";
        slack_event("which paper is about watermarks?");
        break;
      case 2: {
        p->kind = "Slack event, stale timestamp (10 min)";
        slack_event("which paper is about watermarks?");
        const std::string stale = std::to_string(unix_now() - 600);
        p->headers = {
            {"X-Slack-Request-Timestamp", stale},
            {"X-Slack-Signature", roundup::adapters::slack::compute_signature(slack_secret_, stale, p->body)}};
        break;
      }
      case 3:
        p->kind = "Slack slash command, bad signature";
        p->reply_key = "sc:" + n;
        p->inbound_key = "slack:command:TR" + n;
        p->path = "/slack/commands";
        p->body = "command=%2Froundup&text=papers&channel_id=CPROBE&user_id=UPROBE&trigger_id=TR" + n +
                  "&response_url=" + form_encode(fakes_.slack_origin() + "/commands/respond/" + n);
        p->headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-Slack-Request-Timestamp", now},
                      {"X-Slack-Signature", "v0=" + std::string(64, '0')}};
        break;
      case 4:
        p->kind = "Telegram webhook, wrong secret";
        telegram("which paper is about watermarks?");
        p->headers = {{"X-Telegram-Bot-Api-Secret-Token", "wrong-" + tg_secret_.substr(0, 8)}};
        break;
      case 5:
        p->kind = "Telegram webhook, no secret";
        telegram("which paper is about watermarks?");
        break;
      case 6:
        p->kind = "Slack event, signed, invalid UTF-8 (400)";
        slack_event(texts_.invalid_utf8);
        p->expected_status = 400;
        p->headers = {{"X-Slack-Request-Timestamp", now},
                      {"X-Slack-Signature", roundup::adapters::slack::compute_signature(slack_secret_, now, p->body)}};
        break;
      default:
        p->kind = "Telegram webhook, right secret, invalid UTF-8 (400)";
        telegram(texts_.invalid_utf8);
        p->expected_status = 400;
        p->headers = {{"X-Telegram-Bot-Api-Secret-Token", tg_secret_}};
        break;
    }
    if (p->path == "/slack/events" || p->path == "/telegram/webhook")
      p->headers.emplace_back("Content-Type", "application/json");
    jobs_.push({Clock::now(), nullptr, p.get(), false});
    probes_.push_back(std::move(p));
  }

  // With mutex_ held: sends `q` now (webhooks through the senders, polling into the fake), and
  // schedules its duplicate delivery when it is one of the 10%.
  void emit(Question& q, std::size_t route_seq) {
    q.duplicate = route_seq % 10 == 3;
    q.sent = true;
    q.first_sent = Clock::now();
    if (q.route == Route::tg_poll) {
      fakes_.push_update(k_tg_token_b, json::parse(q.body), q.duplicate);
      return;
    }
    jobs_.push({Clock::now(), &q, nullptr, false});
    if (!q.duplicate) return;
    // A quarter of the duplicates come after the restart: dedupe must survive it.
    const auto now = Clock::now();
    const bool late = route_seq % 40 == 3 && now < kill_at_ - 3s;
    const auto delay = late ? kill_at_ - now + 4s : std::chrono::milliseconds(50 + (route_seq * 37) % 2000);
    jobs_.push({now + delay, &q, nullptr, true});
  }

  void generate() {
    std::size_t route_seq[k_routes] = {};
    std::size_t slot = 0;
    std::size_t poison = 0;
    std::size_t refused = 0;
    std::size_t probes = 0;
    auto next_admin = start_ + std::chrono::milliseconds(static_cast<long>(options_.reindex_every * 1000 / 2));
    std::size_t admins = 0;
    bool digest_now_sent = false;
    const auto period = std::chrono::duration<double>(1.0 / options_.rate);
    {
      std::lock_guard lock(mutex_);
      // Chats that subscribe to the daily digest at the start (it falls due mid-run).
      emit(add_question(Route::slack_command, Kind::subscribe, "subscribe"), 0);
      emit(add_question(Route::slack_command, Kind::subscribe, "subscribe"), 0);
      emit(add_question(Route::tg_webhook, Kind::subscribe, "/subscribe", true), 0);
      emit(add_question(Route::tg_webhook, Kind::subscribe, "/subscribe", true), 0);
      emit(add_question(Route::tg_poll, Kind::subscribe, "/subscribe", true), 0);
    }
    changed_.notify_all();
    for (std::size_t i = 0;; ++i) {
      const auto at = start_ + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i));
      if (at >= end_) break;
      {
        std::unique_lock lock(mutex_);
        // Pacing the load by rate (not a synchronisation): wake at the next send time.
        if (changed_.wait_until(lock, at, [&] { return stopping_; })) break;
        const auto route = static_cast<Route>(i % k_routes);
        const std::size_t seq = route_seq[static_cast<int>(route)]++;
        if (i % 97 == 41) {
          // Poison: long, NFKC-expanding, invalid UTF-8 (the last through slash commands only:
          // the JSON routes refuse such bytes, see the probes).
          static const char* k_kinds[] = {"40k chars", "U+FDFA x3000", "invalid UTF-8"};
          const std::string which = k_kinds[poison % 3];
          const Route poison_route =
              which == "invalid UTF-8" ? Route::slack_command : static_cast<Route>((poison / 3) % k_routes);
          const std::string& text = which == "40k chars"      ? texts_.long_text
                                    : which == "U+FDFA x3000" ? texts_.nfkc_text
                                                              : texts_.invalid_utf8;
          Question& q = add_question(poison_route, Kind::poison, text);
          q.poison = which;
          emit(q, 1);
          ++poison;
        } else if (i % 97 == 83) {
          // A chat that refuses the reply for good, through each route whose reply goes to a chat.
          static const Route k_refused_routes[] = {Route::slack_event, Route::tg_webhook, Route::tg_poll};
          const std::string& text = texts_.questions[(refused * 7) % texts_.questions.size()];
          emit(add_question(k_refused_routes[refused % 3], Kind::refused, text), 1);
          ++refused;
        } else {
          emit(add_pool_question(route, slot++), seq);
        }
        if (i % 50 == 17) add_probe(probes++);
        const auto now = Clock::now();
        if (now >= next_admin) {
          // /reindex from the admin, in turn through each route that takes commands.
          static const Route k_admin_routes[] = {Route::slack_command, Route::tg_webhook, Route::tg_poll};
          const Route admin_route = k_admin_routes[admins++ % 3];
          emit(admin_route == Route::slack_command ? add_question(admin_route, Kind::admin, "reindex")
                                                   : add_question(admin_route, Kind::admin, "/reindex", true),
               1);
          next_admin += std::chrono::milliseconds(static_cast<long>(options_.reindex_every * 1000));
        }
        if (!digest_now_sent && now >= start_ + (end_ - start_) / 3) {
          emit(add_question(Route::slack_command, Kind::digest_now, "digest now"), 1);
          digest_now_sent = true;
        }
      }
      changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    generated_ = true;
    changed_.notify_all();
  }

  // ---- delivering

  void send_loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (jobs_.empty()) {
        changed_.wait(lock);
        continue;
      }
      const auto due = jobs_.top().due;
      if (due > Clock::now()) {
        changed_.wait_until(lock, due);
        continue;
      }
      const Job job = jobs_.top();
      jobs_.pop();
      ++in_flight_;
      lock.unlock();
      deliver(job);
      lock.lock();
      --in_flight_;
      changed_.notify_all();
    }
  }

  void deliver(const Job& job) {
    const unsigned short port = port_a_();
    http::ClientRequest request;
    request.timeout = 10s;
    int status = 0;
    std::string body;
    const auto started = Clock::now();
    if (port != 0) {
      request.url = "http://127.0.0.1:" + std::to_string(port) + (job.question ? job.question->path : job.probe->path);
      if (job.question) {
        request.body = job.question->body;
        add_headers(request, *job.question, job.duplicate);
      } else {
        request.body = job.probe->body;
        request.headers = job.probe->headers;
      }
      try {
        const auto response = client_.send(request);
        status = response.status;
        body = response.body;
      } catch (const std::exception&) {
        status = 0;  // down (the deliberate kill) or reset: delivered again, as Slack and Telegram do
      }
    }
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (job.probe) {
      ++job.probe->attempts;
      if (status == 0 && now < give_up_at_) {
        jobs_.push({now + 500ms, nullptr, job.probe, false});
      } else {
        job.probe->status = status;
      }
      return;
    }
    Question& q = *job.question;
    ++q.attempts;
    if (job.duplicate) ++duplicate_deliveries_;
    // A slash command's 200 that says it could not record the question is a refusal to retry.
    const bool recorded = status == 200 && body.find("cannot take questions") == std::string::npos &&
                          body.find("could not read that command") == std::string::npos;
    if (recorded) {
      ack_ms_.push_back(ms_between(started, now));
      q.accepted = true;
      return;
    }
    if (status == 400 || status == 401 || body.find("could not read that command") != std::string::npos) {
      ++legit_refused_;
      return;
    }
    if (now >= give_up_at_) {
      q.given_up = !q.accepted;
      return;
    }
    ++retries_;
    const auto backoff = std::min<std::chrono::milliseconds>(2000ms, 250ms * (1 << std::min(q.attempts, 3)));
    jobs_.push({now + backoff, &q, nullptr, job.duplicate});
  }

  const Options& options_;
  FakePlatforms& fakes_;
  Texts texts_;
  std::string slack_secret_;
  std::string tg_secret_;
  std::function<unsigned short()> port_a_;
  http::HttpsClient client_;
  Clock::time_point start_, end_, kill_at_, give_up_at_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool generated_ = false;
  std::vector<std::unique_ptr<Question>> questions_;
  std::vector<std::unique_ptr<Probe>> probes_;
  std::priority_queue<Job, std::vector<Job>, std::greater<>> jobs_;
  int in_flight_ = 0;
  std::int64_t updates_a_ = 0;
  std::int64_t updates_b_ = 0;
  std::uint64_t duplicate_deliveries_ = 0;
  std::uint64_t retries_ = 0;
  std::uint64_t legit_refused_ = 0;
  std::vector<double> ack_ms_;
  std::vector<std::thread> senders_;
  std::thread generator_;
};

// ---------------------------------------------------------------------------------------------
// The bots' state databases, read after they stopped (or, read-only, while they run)

class Database {
 public:
  explicit Database(const fs::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open " + file.string());
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Database() { sqlite3_close(db_); }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  std::vector<std::vector<std::string>> rows(const std::string& sql) const {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("sql: ") + sqlite3_errmsg(db_));
    }
    std::vector<std::vector<std::string>> out;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        const auto* text = sqlite3_column_text(statement, i);
        row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(statement);
    return out;
  }
  long count(const std::string& sql) const {
    const auto result = rows(sql);
    return result.empty() || result[0].empty() ? 0 : std::stol(result[0][0]);
  }

 private:
  sqlite3* db_ = nullptr;
};

// The message an outbox row sends, as the fakes hash it; 0 when it cannot be read.
std::uint64_t outbox_message_hash(const std::string& payload, const std::string& telegram_token) {
  const json envelope = json::parse(payload, nullptr, false);
  if (!envelope.is_object()) return 0;
  if (envelope.contains("params")) {
    return roundup::soak::message_hash("/bot" + telegram_token + "/sendMessage", envelope["params"]);
  }
  if (!envelope.contains("body")) return 0;
  if (envelope.value("via", "") == "response_url") {
    const std::string url = envelope.value("url", "");
    const auto scheme = url.find("://");
    const auto path_at = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
    return roundup::soak::message_hash(path_at == std::string::npos ? "/" : url.substr(path_at), envelope["body"]);
  }
  return roundup::soak::message_hash("/api/chat.postMessage", envelope["body"]);
}

// Whether an outbox payload goes to one of the chats that refuse the bot (fake_platforms.h).
bool to_refusing_chat(const std::string& payload) {
  const json envelope = json::parse(payload, nullptr, false);
  if (!envelope.is_object()) return false;
  const auto params = envelope.find("params");
  if (params != envelope.end() && params->is_object()) {
    const auto chat = params->find("chat_id");
    return chat != params->end() && chat->is_number_integer() &&
           chat->get<std::int64_t>() == roundup::soak::k_refusing_telegram_chat;
  }
  const auto body = envelope.find("body");
  if (body == envelope.end() || !body->is_object() || envelope.value("via", "") == "response_url") return false;
  const auto channel = body->find("channel");
  return channel != body->end() && channel->is_string() &&
         channel->get<std::string>() == roundup::soak::k_refusing_slack_channel;
}

// ---------------------------------------------------------------------------------------------
// The run

struct Instance {
  std::string name;  // "A" / "B"
  std::string telegram_token;
  fs::path data_dir;
  std::unique_ptr<BotProcess> process;
  long rss_warm_kib = 0;
  long rss_end_kib = 0;
  long rss_max_kib = 0;
  std::string warm_note;
  std::optional<Clock::time_point> warm_at;
};

std::atomic<pid_t> g_children[2] = {0, 0};

void on_fatal_signal(int sig) {
  // The driver is being stopped (a timeout, ^C): its bots go with it.
  for (auto& child : g_children) {
    const pid_t pid = child.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  ::_exit(128 + sig);
}

std::string metrics_text(unsigned short port) {
  if (port == 0) return {};
  try {
    http::HttpsClient client;
    http::ClientRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
    request.timeout = 5s;
    return client.send(request).body;
  } catch (const std::exception&) {
    return {};
  }
}

// Sum of every sample of `name` (all label sets).
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

// The refusals a bot recorded: its API error counter's series for the refusing chats' codes
// (fake_platforms.h: Slack's is_archived, Telegram's 403).
std::uint64_t refusals_recorded(const std::string& metrics) {
  double sum = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("roundup_platform_api_errors_total{", 0) != 0) continue;
    if (line.find(R"(code="is_archived")") == std::string::npos && line.find(R"(code="http_403")") == std::string::npos)
      continue;
    try {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    } catch (const std::exception&) {
    }
  }
  return static_cast<std::uint64_t>(sum);
}

struct Row {
  std::string figure;
  std::string value;
  std::string check;  // "ok", "FAIL ...", or "" (informational)
};

std::string fixed(double value, int digits = 1) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << value;
  return out.str();
}

std::string with_commas(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(static_cast<std::size_t>(at), ",");
  return digits;
}

int run(const Options& options) {
  const auto run_started = Clock::now();
  fs::create_directories(options.work);
  const std::string slack_secret = random_token(32, "0123456789abcdef");
  const std::string tg_secret = random_token(48, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

  FakePlatforms fakes(roundup::soak::FaultPlan{});
  fakes.add_telegram_bot(k_tg_token_a, "A");
  fakes.add_telegram_bot(k_tg_token_b, "B");

  // The daily digest falls due at the first minute boundary at least 20 s from now: after the bots
  // have started and the chats below have subscribed, and at most 80 s from now, so during the
  // load or, for a 60 s run, early enough in the drain to be delivered through a fault or two.
  const auto due_wall = [] {
    const auto at = std::chrono::system_clock::now() + 20s;
    return std::chrono::ceil<std::chrono::minutes>(at);
  }();
  const std::string due_time = roundup::soak::utc_text(due_wall, "%H:%M");
  const std::string due_date = roundup::soak::utc_text(due_wall, "%Y-%m-%d");

  const auto write_config = [&](const std::string& name, const json& platforms, const std::vector<std::string>& admins,
                                const std::vector<std::string>& digest_channels) {
    json config = {{"corpus_dir", (options.source / "data" / "roundups").string()},
                   {"data_dir", (options.work / (name + "-data")).string()},
                   {"listen", "127.0.0.1:0"},
                   {"metrics_listen", "127.0.0.1:0"},
                   {"log_level", "info"},
                   {"workers", 4},
                   {"admins", admins},
                   {"digest", {{"time", due_time}, {"timezone", "UTC"}, {"channels", digest_channels}}},
                   {"retrieval", {{"lexicon_dir", (options.source / "data" / "lexicon").string()}}},
                   {"tls", {{"ca_file", roundup::testing::test_pki().ca_file.string()}}}};
    config.update(platforms);
    const fs::path file = options.work / (name + ".json");
    std::ofstream(file) << config.dump(2) << "\n";
    return file;
  };
  const fs::path config_a = write_config(
      "A",
      {{"slack",
        {{"mode", "events"},
         {"signing_secret", slack_secret},
         {"bot_token", k_slack_bot_token},
         {"api_base", fakes.slack_api_base()}}},
       {"telegram",
        {{"mode", "webhook"},
         {"bot_token", k_tg_token_a},
         {"secret_token", tg_secret},
         {"public_url", "https://soak.invalid/telegram/webhook"},
         {"api_base", fakes.telegram_base()}}}},
      {std::string("slack:") + k_slack_admin, "telegram:" + std::to_string(k_tg_admin)}, k_digest_channels_a);
  const fs::path config_b = write_config(
      "B", {{"telegram", {{"mode", "polling"}, {"bot_token", k_tg_token_b}, {"api_base", fakes.telegram_base()}}}},
      {"telegram:" + std::to_string(k_tg_admin)}, k_digest_channels_b);

  std::vector<Instance> instances(2);
  instances[0].name = "A";
  instances[0].telegram_token = k_tg_token_a;
  instances[1].name = "B";
  instances[1].telegram_token = k_tg_token_b;
  for (std::size_t i = 0; i < 2; ++i) {
    Instance& inst = instances[i];
    inst.data_dir = options.work / (inst.name + "-data");
    inst.process = std::make_unique<BotProcess>(inst.name, options.bot, i == 0 ? config_a : config_b, options.work);
  }
  const auto start_all = [&](const char* when) {
    for (std::size_t i = 0; i < 2; ++i) {
      instances[i].process->start();
      g_children[i] = instances[i].process->pid();
    }
    for (auto& inst : instances) {
      if (!inst.process->wait_ready(180s)) {
        std::cerr << "soak: bot " << inst.name << " did not start " << when << "; see "
                  << inst.process->log_file(inst.process->starts()) << "\n";
        return false;
      }
    }
    return true;
  };
  std::cerr << "soak: starting 2 bot processes (first start builds their indexes)\n";
  if (!start_all("at first")) return 1;
  const double startup_s = std::chrono::duration<double>(Clock::now() - run_started).count();

  Attacks attacks(roundup::soak::AttackOptions{}, [&] { return instances[0].process->port(); });
  const auto load_start = Clock::now() + 500ms;
  const auto load_end = load_start + std::chrono::milliseconds(static_cast<long>(options.seconds * 1000));
  const auto kill_at = load_start + (load_end - load_start) / 2;
  const auto drain_deadline = load_end + std::chrono::milliseconds(static_cast<long>(options.drain * 1000));
  Load load(options, fakes, slack_secret, tg_secret, [&] { return instances[0].process->port(); });
  std::cerr << "soak: load for " << options.seconds << " s at " << options.rate << " questions/s; digest due at "
            << due_time << " UTC; SIGKILL at +" << options.seconds / 2 << " s\n";
  load.start(load_start, load_end, kill_at, drain_deadline);
  attacks.start();

  // RSS samples every 250 ms, written once a second to rss.tsv (seconds since the load began, KiB
  // of A and B); the warm-up sample after the restart (see below).
  std::ofstream rss_log(options.work / "rss.tsv");
  rss_log << "seconds\tA_kib\tB_kib\n";
  auto next_rss_line = Clock::now();
  const auto sample_rss = [&] {
    for (auto& inst : instances) inst.rss_max_kib = std::max(inst.rss_max_kib, inst.process->rss_kib());
    if (Clock::now() < next_rss_line) return;
    next_rss_line += 1s;
    rss_log << fixed(std::chrono::duration<double>(Clock::now() - load_start).count(), 1) << "\t"
            << instances[0].process->rss_kib() << "\t" << instances[1].process->rss_kib() << "\n"
            << std::flush;
  };

  // ---- the deliberate kill
  while (Clock::now() < kill_at) {
    sample_rss();
    fakes.wait_change(250ms);
  }
  // No message may be between the fake's success and the bot's record of it when the process
  // dies: that one would be sent again, and neither Slack nor Telegram can dedupe a post (see
  // docs/RELIABILITY.md). So the fakes hold new posts first, and the kill waits until each bot
  // counts as sent (roundup_messages_sent_total, counted after the outbox's record) what the
  // fakes answered with success, and counts as refused (the API error counter, also after the
  // record) what they refused for good, so no refusal is sent again after the restart either.
  fakes.freeze();
  const auto quiesce_deadline = Clock::now() + 10s;
  bool quiesced = false;
  while (!quiesced && Clock::now() < quiesce_deadline) {
    quiesced = true;
    for (auto& inst : instances) {
      const std::string metrics = metrics_text(inst.process->metrics_port());
      const double sent = metric_sum(metrics, "roundup_messages_sent_total");
      if (static_cast<std::uint64_t>(sent) != fakes.delivered_count(inst.name) ||
          refusals_recorded(metrics) != fakes.refused_count(inst.name)) {
        quiesced = false;
      }
    }
    if (!quiesced) fakes.wait_change(100ms);
  }
  std::map<std::string, double> pre_kill_quarantined;
  for (auto& inst : instances) {
    pre_kill_quarantined[inst.name] =
        metric_sum(metrics_text(inst.process->metrics_port()), "roundup_inbound_quarantined_total");
  }
  const auto killed_at = Clock::now();
  for (auto& inst : instances) inst.process->signal(SIGKILL);
  bool killed = true;
  for (auto& inst : instances) killed = inst.process->wait_exit(10s).has_value() && killed;
  fakes.thaw();
  std::size_t accepted_before_kill = 0;
  load.visit([&](auto& questions, auto&) {
    for (auto& q : questions) accepted_before_kill += q->accepted ? 1 : 0;
  });
  if (!killed || !start_all("after the kill")) {
    load.stop();
    attacks.stop();
    return 1;
  }
  const auto restarted_at = Clock::now();
  const double downtime_s = std::chrono::duration<double>(restarted_at - killed_at).count();
  std::cerr << "soak: killed and restarted both bots (" << fixed(downtime_s, 2) << " s down)\n";

  // ---- warm-up after the restart: the first /reindex since the restart has been answered, and
  // half of the questions the instance gets in the rest of the load have been answered (its
  // caches, the SQLite page cache among them, fill during the first half).
  const double per_instance_rate[2] = {options.rate * 3 / 4, options.rate / 4};
  const auto warm_check = [&] {
    const auto replied = fakes.replied_keys();
    for (std::size_t i = 0; i < 2; ++i) {
      Instance& inst = instances[i];
      if (inst.warm_at) continue;
      const double rest = std::chrono::duration<double>(load_end - restarted_at).count();
      const std::size_t needed = static_cast<std::size_t>(std::max(50.0, 0.5 * per_instance_rate[i] * rest));
      std::size_t answered = 0;
      bool reindexed = false;
      load.visit([&](auto& questions, auto&) {
        for (auto& q : questions) {
          if (q->instance != inst.name || q->first_sent < restarted_at) continue;
          const auto found = replied.find(q->reply_key);
          if (found == replied.end()) continue;
          ++answered;
          if (q->kind == Kind::admin) reindexed = true;
        }
      });
      if (reindexed && answered >= needed) {
        inst.warm_at = Clock::now();
        inst.rss_warm_kib = inst.process->rss_kib();
        inst.warm_note = "after the restart's first /reindex and " + std::to_string(answered) + " answers";
      }
    }
  };
  while (Clock::now() < load_end) {
    sample_rss();
    warm_check();
    fakes.wait_change(250ms);
  }
  std::cerr << "soak: load done; draining (at most " << options.drain << " s)\n";

  // ---- drain: everything accepted answered, every outbox empty, the digests posted
  const std::vector<std::pair<std::string, std::string>> expected_digests = [&] {
    std::vector<std::pair<std::string, std::string>> out;  // {instance, channel}
    for (const auto& c : k_digest_channels_a) out.emplace_back("A", c);
    for (const auto& c : k_digest_channels_b) out.emplace_back("B", c);
    load.visit([&](auto& questions, auto&) {
      for (auto& q : questions) {
        if (q->kind != Kind::subscribe) continue;
        if (q->route == Route::slack_command) {
          const auto at = q->body.find("channel_id=") + 11;
          out.emplace_back("A", "slack:" + q->body.substr(at, q->body.find('&', at) - at));
        } else {
          const json update = json::parse(q->body);
          out.emplace_back(q->instance,
                           "telegram:" + std::to_string(update["message"]["chat"]["id"].get<std::int64_t>()));
        }
      }
    });
    return out;
  }();
  const auto digests_seen = [&](const std::map<std::uint64_t, roundup::soak::Receipt>& receipts) {
    std::map<std::string, int> seen;  // "inst:channel" -> delivered digest posts for due_date
    for (const auto& [hash, r] : receipts) {
      if (r.digest_date == due_date && r.delivered > 0) seen[r.reply_key.substr(5)] += r.delivered;
    }
    return seen;
  };
  std::string drain_waiting;
  const auto waiting = [&](std::string what) {
    drain_waiting = std::move(what);
    return false;
  };
  const auto drained = [&] {
    load.mark_confirmed_updates();
    if (!load.settled()) return waiting("webhook deliveries");
    if (fakes.unconfirmed(k_tg_token_b) != 0) return waiting("getUpdates confirmations");
    const auto replied = fakes.replied_keys();
    bool all = true;
    load.visit([&](auto& questions, auto&) {
      for (auto& q : questions) {
        if (q->accepted && q->kind != Kind::refused && replied.count(q->reply_key) == 0) all = false;
      }
    });
    if (!all) return waiting("answers");
    const auto seen = digests_seen(fakes.receipts());
    for (const auto& [inst, channel] : expected_digests) {
      if (seen.count(inst + ":" + channel) == 0) return waiting("digests");
    }
    for (auto& inst : instances) {
      try {
        Database db(inst.data_dir / "state" / "bot.sqlite");
        if (db.count("SELECT count(*) FROM inbound WHERE state = 'pending'") != 0 ||
            db.count("SELECT count(*) FROM outbox WHERE state = 'pending'") != 0) {
          return waiting("outbox/inbox of " + inst.name);
        }
      } catch (const std::exception&) {
        return waiting("state database of " + inst.name);
      }
    }
    return true;
  };
  bool drain_ok = false;
  while (!(drain_ok = drained()) && Clock::now() < drain_deadline) {
    sample_rss();
    warm_check();
    fakes.wait_change(250ms);
  }
  const double drain_s = std::chrono::duration<double>(Clock::now() - load_end).count();
  sample_rss();
  for (auto& inst : instances) inst.rss_end_kib = inst.process->rss_kib();

  // ---- stop everything
  attacks.stop();
  std::map<std::string, std::string> final_metrics;
  for (auto& inst : instances) final_metrics[inst.name] = metrics_text(inst.process->metrics_port());
  for (auto& inst : instances) inst.process->signal(SIGTERM);
  for (auto& inst : instances) inst.process->wait_exit(30s);
  for (auto& child : g_children) child = 0;
  load.stop();
  const auto receipts = fakes.receipts();
  const auto replied = fakes.replied_keys();
  const auto faults = fakes.faults();
  const std::uint64_t message_calls = fakes.message_calls();
  const std::uint64_t poll_duplicates = fakes.duplicate_copies_served(k_tg_token_b);
  fakes.stop();
  const auto attack = attacks.figures();

  // ---- checks
  std::vector<Row> rows;
  int failures = 0;
  const auto check = [&](bool ok, const std::string& why) {
    if (!ok) ++failures;
    return ok ? std::string("ok") : "FAIL: " + why;
  };

  // Questions by route.
  struct RouteFigures {
    std::size_t sent = 0, accepted = 0, answered = 0, given_up = 0;
    std::size_t refusing = 0;  // accepted from a refusing chat: no answer can arrive
  };
  std::map<int, RouteFigures> by_route;
  std::size_t sent = 0, accepted = 0, answered = 0, duplicates_chosen = 0, poison_sent = 0, poison_answered = 0,
              admin_sent = 0, admin_answered = 0, refused_sent = 0, refused_accepted = 0;
  std::vector<double> answer_ms;
  std::vector<const Question*> unanswered;
  std::vector<std::string> probe_failures;
  std::size_t probes_sent = 0, probes_processed = 0;
  std::map<std::string, std::pair<int, int>> probe_kinds;            // kind -> {sent, refused as expected}
  std::map<std::string, std::vector<std::string>> accepted_inbound;  // instance -> inbound keys accepted
  load.mark_confirmed_updates();
  load.visit([&](auto& questions, auto& probes) {
    for (auto& q : questions) {
      if (!q->sent) continue;
      RouteFigures& f = by_route[static_cast<int>(q->route)];
      ++f.sent;
      ++sent;
      duplicates_chosen += q->duplicate ? 1 : 0;
      if (q->kind == Kind::poison) ++poison_sent;
      if (q->kind == Kind::admin) ++admin_sent;
      if (q->kind == Kind::refused) ++refused_sent;
      if (q->given_up) ++f.given_up;
      if (!q->accepted) continue;
      ++f.accepted;
      ++accepted;
      accepted_inbound[q->instance].push_back(q->inbound_key);
      if (q->kind == Kind::refused) {
        ++f.refusing;
        ++refused_accepted;  // its reply cannot be delivered: the outbox must set it aside
        continue;
      }
      const auto found = replied.find(q->reply_key);
      if (found == replied.end()) {
        unanswered.push_back(q.get());
        continue;
      }
      ++f.answered;
      ++answered;
      if (q->kind == Kind::poison) ++poison_answered;
      if (q->kind == Kind::admin) ++admin_answered;
      answer_ms.push_back(ms_between(q->first_sent, found->second));
    }
    for (auto& p : probes) {
      ++probes_sent;
      auto& kind = probe_kinds[p->kind];
      ++kind.first;
      const bool refused = p->status == p->expected_status;
      const bool replied_to = replied.count(p->reply_key) != 0;
      if (refused) ++kind.second;
      if (!refused || replied_to) {
        ++probes_processed;
        probe_failures.push_back(p->kind + ": HTTP " + std::to_string(p->status) + (replied_to ? ", answered" : ""));
      }
    }
  });

  // Every outbox row of every bot against what the fakes received.
  std::size_t outbox_rows = 0, outbox_delivered_once = 0, outbox_not_delivered = 0, outbox_never_received = 0,
              duplicate_messages = 0, quarantined = 0, inbound_missing = 0, probe_state = 0, out_of_order = 0,
              refusing_rows = 0, refusing_set_aside = 0, refusals_seen = 0;
  std::set<std::uint64_t> known_hashes;
  std::map<std::string, int> reindex_counts;
  std::map<std::string, int> digest_rows;  // "inst:channel" with local_date == due_date
  std::vector<std::string> db_problems;
  for (auto& inst : instances) {
    try {
      Database db(inst.data_dir / "state" / "bot.sqlite");
      // Oldest first, so each target's messages come in the order the outbox must keep.
      std::map<std::string, Clock::time_point> last_by_target;
      for (const auto& row : db.rows("SELECT idempotency_key, state, payload, target FROM outbox ORDER BY id")) {
        ++outbox_rows;
        const std::uint64_t hash = outbox_message_hash(row[2], inst.telegram_token);
        known_hashes.insert(hash);
        const auto found = receipts.find(hash);
        const int delivered = found == receipts.end() ? 0 : found->second.delivered;
        if (to_refusing_chat(row[2])) {
          // Set aside ('failed') after at most one refusal, never delivered, never retried.
          ++refusing_rows;
          const int refused = found == receipts.end() ? 0 : found->second.refused;
          refusals_seen += static_cast<std::size_t>(refused);
          if (row[1] == "failed" && delivered == 0 && refused <= 1) {
            ++refusing_set_aside;
          } else if (db_problems.size() < 10) {
            db_problems.push_back(inst.name + " outbox " + row[0] + " to a refusing chat is " + row[1] + ", refused " +
                                  std::to_string(refused) + "x");
          }
          continue;
        }
        if (delivered > 0) {
          auto& last = last_by_target[row[3]];
          if (found->second.first_delivered < last) {
            ++out_of_order;
            if (db_problems.size() < 10) db_problems.push_back(inst.name + " outbox " + row[0] + " out of order");
          }
          last = std::max(last, found->second.first_delivered);
        }
        if (row[1] != "delivered") {
          ++outbox_not_delivered;
          if (db_problems.size() < 10) db_problems.push_back(inst.name + " outbox " + row[0] + " is " + row[1]);
        } else if (delivered == 0) {
          ++outbox_never_received;
          if (db_problems.size() < 10) db_problems.push_back(inst.name + " outbox " + row[0] + " never received");
        }
        if (delivered == 1) ++outbox_delivered_once;
        if (delivered > 1) {
          duplicate_messages += static_cast<std::size_t>(delivered - 1);
          if (db_problems.size() < 10) {
            db_problems.push_back(inst.name + " outbox " + row[0] + " delivered " + std::to_string(delivered) + "x");
          }
        }
      }
      std::map<std::string, std::string> inbound;
      for (const auto& row : db.rows("SELECT key, state FROM inbound")) inbound[row[0]] = row[1];
      for (const auto& key : accepted_inbound[inst.name]) {
        const auto found = inbound.find(key);
        if (found == inbound.end() || (found->second != "done" && found->second != "quarantined")) {
          ++inbound_missing;
          if (db_problems.size() < 10) {
            db_problems.push_back(inst.name + " inbound " + key + " is " +
                                  (found == inbound.end() ? "missing" : found->second));
          }
        }
      }
      quarantined += static_cast<std::size_t>(db.count("SELECT count(*) FROM inbound WHERE state = 'quarantined'"));
      load.visit([&](auto&, auto& probes) {
        for (auto& p : probes) {
          if (inst.name == "A" && inbound.count(p->inbound_key) != 0) ++probe_state;
        }
      });
      for (const auto& row :
           db.rows("SELECT outcome, count(*) FROM audit WHERE command LIKE '/reindex%' AND allowed = 1 "
                   "GROUP BY outcome")) {
        // Outcomes name the work done ("Reindexed: ... 0.3 s"); group them by their first word.
        const std::string word = row[0].substr(0, row[0].find_first_of(" :"));
        reindex_counts[word] += std::stoi(row[1]);
      }
      for (const auto& row : db.rows("SELECT channel FROM digest_posts WHERE local_date = '" + due_date + "'")) {
        ++digest_rows[inst.name + ":" + row[0]];
      }
    } catch (const std::exception& error) {
      db_problems.push_back(inst.name + ": " + error.what());
      ++failures;
    }
  }
  std::size_t unexplained = 0;
  for (const auto& [hash, r] : receipts) {
    if (r.delivered > 0 && known_hashes.count(hash) == 0) {
      ++unexplained;
      if (db_problems.size() < 10) db_problems.push_back("received a message no outbox holds: " + r.reply_key);
    }
  }

  // Digests: exactly one per expected channel for the due date, none twice anywhere.
  const auto seen = digests_seen(receipts);
  std::size_t digests_expected = expected_digests.size(), digests_once = 0, digests_twice = 0;
  for (const auto& [inst, channel] : expected_digests) {
    const auto found = seen.find(inst + ":" + channel);
    // Posted once, and recorded once for that date in the bot's state (digest_posts).
    if (found != seen.end() && found->second == 1 && digest_rows.count(inst + ":" + channel) == 1) ++digests_once;
  }
  for (const auto& [channel, count] : seen) {
    if (count > 1 && channel.find(k_slack_admin_channel) == std::string::npos) ++digests_twice;
  }
  const int digest_now_posts = [&] {
    const auto found = seen.find(std::string("A:slack:") + k_slack_admin_channel);
    return found == seen.end() ? 0 : found->second;
  }();

  // Faults survived: every message that met one was delivered later, once. A reply to a refusing
  // chat that met a stall or the freeze before its refusal is never delivered: the refusing
  // chats' row judges it.
  std::size_t faulted = 0, faulted_delivered = 0;
  double min_gap_after_429 = std::numeric_limits<double>::infinity();
  for (const auto& [hash, r] : receipts) {
    min_gap_after_429 = std::min(min_gap_after_429, r.min_gap_after_429_ms);
    if (r.faults == 0 || r.refused > 0) continue;
    ++faulted;
    if (r.delivered == 1) ++faulted_delivered;
  }

  // Crashes: the deliberate SIGKILL (137) once per process, then a clean exit (0) on SIGTERM.
  std::vector<std::string> alarms;
  std::string exit_text;
  bool exits_ok = true;
  for (auto& inst : instances) {
    const auto exits = inst.process->exits();
    exit_text += (exit_text.empty() ? "" : "; ") + inst.name + ":";
    for (int code : exits) exit_text += " " + std::to_string(code);
    exits_ok = exits_ok && exits == std::vector<int>{128 + SIGKILL, 0};
    for (auto& alarm : inst.process->alarms()) alarms.push_back(alarm);
  }

  // RSS.
  std::string rss_text;
  bool rss_ok = true;
  for (auto& inst : instances) {
    const double growth =
        inst.rss_warm_kib > 0 ? static_cast<double>(inst.rss_end_kib - inst.rss_warm_kib) / inst.rss_warm_kib : 1e9;
    rss_ok = rss_ok && inst.rss_warm_kib > 0 && growth <= options.rss_tolerance;
    rss_text += (rss_text.empty() ? "" : "; ") + inst.name + " " + fixed(inst.rss_warm_kib / 1024.0) + " -> " +
                fixed(inst.rss_end_kib / 1024.0) + " MiB (" +
                (inst.rss_warm_kib > 0 ? fixed(growth * 100) + "%" : "no warm-up") + ", max " +
                fixed(inst.rss_max_kib / 1024.0) + ")";
  }

  const double load_s = options.seconds;
  const auto acks = load.ack_ms();
  std::uint64_t refused_peer = 0, unauth_401 = 0;
  for (const auto& [name, text] : final_metrics) {
    refused_peer += static_cast<std::uint64_t>(metric_sum(text, "roundup_http_connections_refused_total"));
    for (const char* route : {"/slack/events", "/slack/commands", "/telegram/webhook"}) {
      unauth_401 += static_cast<std::uint64_t>(roundup::testing::sample_number(
          text, std::string("roundup_http_requests_total{route=\"") + route + "\",status=\"401\"}"));
    }
  }

  rows.push_back({"load: duration, rate offered / held",
                  fixed(load_s, 0) + " s, " + fixed(options.rate, 0) + " / " + fixed(sent / load_s, 1) + " questions/s",
                  check(sent >= static_cast<std::size_t>(0.95 * options.rate * load_s), "load not held")});
  for (int r = 0; r < k_routes; ++r) {
    const RouteFigures& f = by_route[r];
    rows.push_back({std::string("  ") + route_name(static_cast<Route>(r)) + ": sent / accepted / answered",
                    with_commas(f.sent) + " / " + with_commas(f.accepted) + " / " + with_commas(f.answered) +
                        (f.refusing ? " (+" + with_commas(f.refusing) + " from refusing chats)" : ""),
                    check(f.accepted == f.sent && f.answered + f.refusing == f.accepted,
                          std::to_string(f.sent - f.accepted) + " not accepted, " +
                              std::to_string(f.accepted - f.answered - f.refusing) + " unanswered")});
  }
  rows.push_back(
      {"questions sent / accepted", with_commas(sent) + " / " + with_commas(accepted),
       check(accepted == sent && load.legit_refused() == 0,
             std::to_string(sent - accepted) + " never acked, " + std::to_string(load.legit_refused()) + " refused")});
  rows.push_back({"duplicates sent (same event_id / trigger_id / update_id)",
                  with_commas(load.duplicate_deliveries() + poll_duplicates) + " (" + with_commas(duplicates_chosen) +
                      " questions, " + fixed(100.0 * duplicates_chosen / std::max<std::size_t>(1, sent), 1) +
                      "%; polling copies " + with_commas(poll_duplicates) + ")",
                  ""});
  rows.push_back(
      {"redeliveries after a failed delivery (bot down, 503)", with_commas(load.retries_after_failure()), ""});
  rows.push_back({"answers delivered (questions with a reply; not counting refusing chats)",
                  with_commas(answered) + " of " + with_commas(accepted - refused_accepted),
                  check(answered == accepted - refused_accepted,
                        std::to_string(accepted - refused_accepted - answered) + " missing")});
  rows.push_back({"answer latency p50 / p99 (sent -> first reply)",
                  fixed(percentile(answer_ms, 0.5), 0) + " / " + fixed(percentile(answer_ms, 0.99), 0) + " ms", ""});
  rows.push_back({"webhook ack p50 / p99 / max",
                  fixed(percentile(acks, 0.5), 1) + " / " + fixed(percentile(acks, 0.99), 1) + " / " +
                      fixed(percentile(acks, 1.0), 1) + " ms",
                  check(percentile(acks, 0.99) < 3000, "p99 over Slack's 3 s")});
  rows.push_back({"outbox messages (both bots) / delivered exactly once",
                  with_commas(outbox_rows) + " / " + with_commas(outbox_delivered_once), ""});
  rows.push_back(
      {"duplicates delivered", with_commas(duplicate_messages), check(duplicate_messages == 0, "duplicates")});
  rows.push_back(
      {"messages lost", with_commas(outbox_not_delivered + outbox_never_received + inbound_missing + unanswered.size()),
       check(outbox_not_delivered + outbox_never_received + inbound_missing + unanswered.size() == 0 && drain_ok,
             drain_ok ? "lost" : "drain unfinished (waiting for " + drain_waiting + ")")});
  rows.push_back(
      {"messages delivered out of their chat's order", with_commas(out_of_order), check(out_of_order == 0, "order")});
  rows.push_back(
      {"messages received that no outbox holds", with_commas(unexplained), check(unexplained == 0, "unexplained")});
  rows.push_back(
      {"digests due " + due_time + " UTC: channels posted exactly once",
       std::to_string(digests_once) + " of " + std::to_string(digests_expected) + " (" + std::to_string(digests_twice) +
           " twice), /digest now posts: " + std::to_string(digest_now_posts),
       check(digests_once == digests_expected && digests_twice == 0 && digest_now_posts == 1, "digest count")});
  {
    std::string kinds;
    for (const auto& [kind, counts] : probe_kinds) kinds += (kinds.empty() ? "" : ", ") + std::to_string(counts.first);
    rows.push_back(
        {"unauthenticated / malformed requests sent (" + std::to_string(probe_kinds.size()) + " kinds)",
         with_commas(probes_sent) + " (" + kinds + "); bot's 401 count since restart: " + with_commas(unauth_401), ""});
  }
  rows.push_back(
      {"unauthenticated requests processed (reply, state or not refused)", with_commas(probes_processed + probe_state),
       check(probes_processed + probe_state == 0, probe_failures.empty() ? "state recorded" : probe_failures[0])});
  rows.push_back({"poison questions sent / answered once (40k chars, U+FDFA x3000, invalid UTF-8)",
                  with_commas(poison_sent) + " / " + with_commas(poison_answered),
                  check(poison_answered == poison_sent, "unanswered poison")});
  rows.push_back({"questions from chats that refuse replies (archived, blocked) / replies set aside",
                  with_commas(refused_sent) + " / " + with_commas(refusing_set_aside) + " of " +
                      with_commas(refusing_rows) + " (" + with_commas(refusals_seen) + " refusals, none retried)",
                  check(refused_sent > 0 && refused_accepted == refused_sent && refusing_rows >= refused_accepted &&
                            refusing_set_aside == refusing_rows,
                        "a refused reply was not set aside")});
  rows.push_back(
      {"items quarantined (handler failed 3 times)", with_commas(quarantined), check(quarantined == 0, "quarantined")});
  {
    std::string outcomes;
    for (const auto& [word, count] : reindex_counts)
      outcomes += (outcomes.empty() ? "" : ", ") + word + " " + std::to_string(count);
    rows.push_back({"admin /reindex sent / answered (audit: outcomes)",
                    with_commas(admin_sent) + " / " + with_commas(admin_answered) + " (" + outcomes + ")",
                    check(admin_answered == admin_sent && admin_sent > 0, "reindex unanswered")});
  }
  rows.push_back({"faults injected: 429 / 5xx / stalled / getUpdates / start-up",
                  with_commas(faults.rate_limited) + " / " + with_commas(faults.server_errors) + " / " +
                      with_commas(faults.stalls) + " / " + with_commas(faults.poll_faults) + " / " +
                      with_commas(faults.start_faults) + " (of " + with_commas(message_calls) + " message calls)",
                  ""});
  rows.push_back(
      {"messages that met a fault, delivered later exactly once",
       with_commas(faulted_delivered) + " of " + with_commas(faulted),
       check(faulted_delivered == faulted && faults.rate_limited > 0 && faults.server_errors > 0 && faults.stalls > 0,
             "fault not survived or not injected")});
  rows.push_back({"Retry-After obeyed: shortest wait after a 429",
                  std::isinf(min_gap_after_429) ? "n/a" : fixed(min_gap_after_429 / 1000.0, 3) + " s",
                  check(std::isinf(min_gap_after_429) || min_gap_after_429 >= 1000, "retried early")});
  rows.push_back({"slowloris: connections / shed by the server / longest held",
                  with_commas(attack.slowloris_opened) + " / " + with_commas(attack.slowloris_shed) + " / " +
                      fixed(attack.slowloris_max_held_ms / 1000.0, 1) + " s (" + with_commas(attack.slowloris_bytes) +
                      " bytes trickled)",
                  check(attack.slowloris_shed > 0 && attack.slowloris_max_held_ms <= 7000 && attack.never_shed == 0,
                        "slowloris held")});
  rows.push_back({"idle flood (300 from one peer): opened / refused at accept / shed idle",
                  with_commas(attack.idle_opened) + " / " + with_commas(attack.idle_refused) + " / " +
                      with_commas(attack.idle_shed) + " (longest " + fixed(attack.idle_max_held_ms / 1000.0, 1) +
                      " s; bot's refused count since restart " + with_commas(refused_peer) + ")",
                  check(attack.idle_refused > 0 && attack.idle_shed > 0 && attack.never_shed == 0, "flood not shed")});
  rows.push_back({"deliberate SIGKILL: questions accepted before it / down for",
                  with_commas(accepted_before_kill) + " / " + fixed(downtime_s, 2) + " s" +
                      (quiesced ? "" : " (posts in flight at the kill)"),
                  ""});
  rows.push_back({"exit statuses (137 = the SIGKILL, then SIGTERM)", exit_text, check(exits_ok, "unexpected exit")});
  rows.push_back({"sanitizer / crash lines in the bots' output", std::to_string(alarms.size()),
                  check(alarms.empty(), alarms.empty() ? "" : alarms[0])});
  rows.push_back({"RSS warm-up -> end (limit +" + fixed(options.rss_tolerance * 100, 0) + "%)", rss_text,
                  check(rss_ok, "RSS grew")});
  rows.push_back({"time: start-up / load / drain",
                  fixed(startup_s, 1) + " / " + fixed(load_s, 0) + " / " + fixed(drain_s, 1) + " s", ""});

  std::cout << "\n| figure | value | check |\n| --- | --- | --- |\n";
  for (const auto& row : rows) std::cout << "| " << row.figure << " | " << row.value << " | " << row.check << " |\n";
  for (const auto& inst : instances)
    std::cout << "\nwarm-up " << inst.name << ": " << (inst.warm_note.empty() ? "not reached" : inst.warm_note);
  std::cout << "\n";
  for (const auto& problem : db_problems) std::cout << "problem: " << problem << "\n";
  for (const auto& problem : probe_failures) std::cout << "probe: " << problem << "\n";
  for (std::size_t i = 0; i < std::min<std::size_t>(unanswered.size(), 10); ++i) {
    std::cout << "unanswered: " << unanswered[i]->inbound_key << " (" << route_name(unanswered[i]->route) << ")\n";
  }
  for (const auto& alarm : alarms) std::cout << "alarm: " << alarm << "\n";
  if (!attack.slowloris_longest.empty()) std::cout << "longest slowloris: " << attack.slowloris_longest << "\n";
  std::cout << "\nsoak: " << (failures == 0 ? "PASS" : "FAIL (" + std::to_string(failures) + " checks)")
            << "; logs and state in " << options.work.string() << "\n";
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"roundup-soak: the soak test's driver (scripts/soak.sh)"};
  app.add_option("--bot", options.bot, "the roundup-bot binary")->required();
  app.add_option("--source", options.source, "the repository (corpus, lexicon, question sets)")->required();
  app.add_option("--work", options.work, "a fresh directory for configurations, data and logs")->required();
  app.add_option("--seconds", options.seconds, "load duration")->check(CLI::Range(20.0, 86400.0));
  app.add_option("--rate", options.rate, "new questions per second")->check(CLI::Range(1.0, 1000.0));
  app.add_option("--drain", options.drain, "seconds allowed after the load")->check(CLI::Range(5.0, 60.0));
  app.add_option("--reindex-every", options.reindex_every, "seconds between admin /reindex commands");
  CLI11_PARSE(app, argc, argv);
  // The configurations written under --work name these paths, and a config file's relative paths
  // are read against the file's own directory: they must be absolute.
  options.source = fs::absolute(options.source);
  options.work = fs::absolute(options.work);

  for (const int sig : {SIGTERM, SIGINT, SIGHUP}) std::signal(sig, on_fatal_signal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(options);
  } catch (const std::exception& error) {
    std::cerr << "soak: " << error.what() << "\n";
    on_fatal_signal(0);
    return 1;
  }
}
