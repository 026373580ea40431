// Service benchmark: the real webhook service (adapters/service) in-process, with Slack in events
// mode or Telegram in webhook mode, against the tests' fake platform API (TLS on 127.0.0.1 with
// the generated test CA), driven by a keep-alive HTTP/1.1 load generator on 127.0.0.1.
//   roundup-service-bench slack|telegram [--connections 64] [--events N] [--latency-events N] ...
// The state databases go under TMPDIR (default /tmp): its file system decides what an inbox
// commit costs, so the header line names it.
//
// Phases (each in a fresh service with its own temporary data_dir):
//   floor      GET /healthz through the same server and load generator: the HTTP ceiling
//              without any webhook work.
//   ack        N new signed events (Slack) / webhook updates (Telegram), distinct ids, sent over
//              --connections keep-alive connections as fast as they are acked: authentication,
//              JSON parse, event interpretation, the SQLite insert into the inbox, queueing and
//              the log line. Answering is parked meanwhile (the inbox workers wait in the
//              answerer until the phase is over), so the CPU goes to the ack path alone.
//   duplicate  the same events again (already recorded): the dedupe path.
//   offered    new events at a fixed --paced-rate (open loop, for up to 5 s): ack latency below
//              saturation. The phases above are closed loop: each connection has one request in
//              flight, so there p50 is about connections / throughput.
//   alongside  the ack phase again, but the inbox workers answer every item at once with a
//              trivial notice and the outbox holds the replies (all for one channel / chat,
//              paced to about one a second): acking while answers pile up.
//   latency    --latency-events questions from tests/data/retrieval-questions.jsonl, one
//              channel / chat each, sent at --latency-rate per second on one connection, answered
//              by the real Responder over the bundled corpus; the time from sending the event to
//              the fake API receiving the matching chat.postMessage / sendMessage, with a
//              GET /healthz half a period later on the same connection as a control.
// Then a few in-process micro-timings of the ack path's parts (signature, JSON parse, inbox
// insert, log line) to say where the time goes.
//
// Everything is bounded: each load phase stops after its count or --seconds, whichever is
// first; temporary directories and the test CA file are removed on exit (not when interrupted:
// then /tmp/roundup-test-<pid>-* are left).

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "adapters/service/service.h"
#include "adapters/slack/events.h"
#include "adapters/slack/signature.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "telemetry/log.h"
#include "tests/support/bundled_knowledge.h"
#include "tests/support/fake_api.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"
#include "tests/support/webhook_rig.h"

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using roundup::testing::FakeApi;
using Clock = std::chrono::steady_clock;

constexpr const char* k_slack_secret = roundup::testing::k_rig_slack_secret;
constexpr std::int64_t k_now = roundup::testing::k_rig_now;  // the pinned Slack clock; every event is signed with it
constexpr const char* k_tg_secret = roundup::testing::k_rig_tg_secret;

struct Options {
  std::string platform;
  int connections = 64;
  int client_threads = 1;
  std::size_t events = 200000;
  std::size_t warmup = 5000;
  std::size_t duplicates = 50000;
  std::size_t floor_events = 200000;
  double seconds = 10.0;
  std::size_t latency_events = 200;
  double latency_rate = 20.0;
  std::string log_level = "info";
  bool breakdown = true;
  bool alongside = true;
  double paced_rate = 2000;
  std::string state = "sqlite";
};

double cpu_seconds_process() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double cpu_seconds_thread() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
  return sorted[std::min(i, sorted.size() - 1)];
}

// ---- raw HTTP requests -------------------------------------------------------------------------

void raw_post(std::string& out, std::string_view path, unsigned short port,
              std::initializer_list<std::pair<std::string_view, std::string_view>> headers, std::string_view body) {
  out.clear();
  out += "POST ";
  out += path;
  out += " HTTP/1.1\r\nHost: 127.0.0.1:";
  out += std::to_string(port);
  out += "\r\nContent-Type: application/json\r\n";
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Content-Length: ";
  out += std::to_string(body.size());
  out += "\r\n\r\n";
  out += body;
}

// The ack phases' bodies, built the same way when signing and when sending. Plain concatenation:
// the texts need no JSON escaping.
std::string slack_event_body(std::size_t i, std::string_view channel, std::string_view text) {
  std::string body = R"({"type":"event_callback","event_id":"EvBench)";
  body += std::to_string(i);
  body += R"(","team_id":"T1","api_app_id":"A1","event":{"type":"app_mention","user":"U1","channel":")";
  body += channel;
  body += R"(","ts":"1700000000.)";
  char ts[16];
  std::snprintf(ts, sizeof ts, "%06zu", i % 1000000);
  body += ts;
  body += R"(","text":")";
  body += text;
  body += R"("},"event_time":1700000000})";
  return body;
}

std::string telegram_update_body(std::size_t update_id, std::int64_t chat_id, std::string_view text) {
  std::string body = R"({"update_id":)";
  body += std::to_string(update_id);
  body += R"(,"message":{"message_id":)";
  body += std::to_string(update_id % 1000000 + 1);
  body += R"(,"from":{"id":)";
  body += std::to_string(chat_id);
  body += R"(,"is_bot":false,"first_name":"Ada"},"chat":{"id":)";
  body += std::to_string(chat_id);
  body += R"(,"type":"private"},"date":1700000000,"text":")";
  body += text;
  body += R"("}})";
  return body;
}

// ---- the load generator ------------------------------------------------------------------------

using MakeRequest = std::function<void(std::size_t index, std::string& out)>;

struct LoadResult {
  std::size_t sent = 0;  // completed request/response exchanges
  std::size_t non_200 = 0;
  std::size_t errors = 0;  // connection failures (each ends one client)
  double seconds = 0;
  double process_cpu = 0;          // seconds of CPU, whole process, during the phase
  double client_cpu = 0;           // seconds of CPU of the load generator's threads
  std::vector<double> latency_ms;  // sorted
};

struct LoadShared {
  std::atomic<std::size_t> next{0};
  std::size_t first = 0;
  std::size_t end = 0;
  Clock::time_point deadline;
  const MakeRequest* make = nullptr;
  // Open loop when > 0: request k of the phase is due at start + k / rate, and its latency counts
  // from then (so a request that waited for a free connection is not flattered).
  double rate = 0;
  Clock::time_point start;
  std::vector<std::int64_t> latency_ns;  // by index - first; -1 = not sent
  std::atomic<std::size_t> non_200{0};
  std::atomic<std::size_t> errors{0};
};

net::awaitable<void> load_client(tcp::endpoint endpoint, LoadShared& shared) {
  constexpr auto tuple = net::as_tuple(net::use_awaitable);
  beast::tcp_stream stream(co_await net::this_coro::executor);
  auto [connect_ec] = co_await stream.async_connect(endpoint, tuple);
  if (connect_ec) {
    ++shared.errors;
    co_return;
  }
  stream.socket().set_option(tcp::no_delay(true));
  beast::flat_buffer buffer;
  std::string raw;
  net::steady_timer timer(stream.get_executor());
  for (;;) {
    const std::size_t i = shared.first + shared.next.fetch_add(1);
    if (i >= shared.end || Clock::now() >= shared.deadline) break;
    (*shared.make)(i, raw);
    auto start = Clock::now();
    if (shared.rate > 0) {
      start = shared.start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(static_cast<double>(i - shared.first) / shared.rate));
      timer.expires_at(start);
      co_await timer.async_wait(tuple);
    }
    auto [write_ec, written] = co_await net::async_write(stream, net::buffer(raw), tuple);
    (void)written;
    bhttp::response<bhttp::string_body> response;
    beast::error_code read_ec;
    if (!write_ec) std::tie(read_ec, written) = co_await bhttp::async_read(stream, buffer, response, tuple);
    if (write_ec || read_ec) {
      ++shared.errors;
      break;
    }
    shared.latency_ns[i - shared.first] =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
    if (response.result_int() != 200) ++shared.non_200;
    if (!response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

// Indices [first, first + count) through `connections` keep-alive connections, stopping early at
// `seconds`.
LoadResult run_load(unsigned short port, int connections, int threads, std::size_t first, std::size_t count,
                    double seconds, const MakeRequest& make, double rate = 0) {
  LoadShared shared;
  shared.rate = rate;
  shared.first = first;
  shared.end = first + count;
  shared.make = &make;
  shared.latency_ns.assign(count, -1);
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);

  net::io_context io(threads);
  for (int c = 0; c < connections; ++c) {
    net::co_spawn(net::make_strand(io), load_client(endpoint, shared), net::detached);
  }
  std::vector<double> thread_cpu(static_cast<std::size_t>(threads), 0.0);
  const double cpu_before = cpu_seconds_process();
  const auto start = Clock::now();
  shared.start = start;
  shared.deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&io, &thread_cpu, t] {
      const double before = cpu_seconds_thread();
      io.run();
      thread_cpu[static_cast<std::size_t>(t)] = cpu_seconds_thread() - before;
    });
  }
  for (auto& thread : pool) thread.join();
  LoadResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.process_cpu = cpu_seconds_process() - cpu_before;
  for (double c : thread_cpu) result.client_cpu += c;
  result.non_200 = shared.non_200.load();
  result.errors = shared.errors.load();
  for (const auto ns : shared.latency_ns) {
    if (ns >= 0) result.latency_ms.push_back(static_cast<double>(ns) / 1e6);
  }
  std::sort(result.latency_ms.begin(), result.latency_ms.end());
  result.sent = result.latency_ms.size();
  return result;
}

// ---- event-to-reply latency --------------------------------------------------------------------

// Filled by the fake API when the reply for question i arrives (first message only).
struct ReplyClock {
  explicit ReplyClock(std::size_t n) : replied_ns(n) {
    for (auto& r : replied_ns) r.store(-1);
  }
  void mark(std::size_t i) {
    if (i >= replied_ns.size()) return;
    std::int64_t expected = -1;
    const auto now = Clock::now().time_since_epoch().count();
    if (replied_ns[i].compare_exchange_strong(expected, now)) ++count;
  }
  std::vector<std::atomic<std::int64_t>> replied_ns;
  std::atomic<std::size_t> count{0};
};

struct LatencyResult {
  std::size_t sent = 0;
  std::size_t replied = 0;
  std::vector<double> ack_ms;     // sorted
  std::vector<double> reply_ms;   // sorted: send -> fake API receipt
  std::vector<double> answer_ms;  // sorted: time inside the Responder
  std::vector<double> probe_ms;   // sorted: GET /healthz at the same pacing (the control)
  double process_cpu = 0;
  double seconds = 0;
};

// Sends question i at start + i / rate on one keep-alive connection; records the send time and
// the ack time.
LatencyResult run_latency(unsigned short port, std::size_t count, double rate, const MakeRequest& make,
                          ReplyClock& replies, FakeApi& api) {
  LatencyResult result;
  std::vector<std::int64_t> sent_ns(count, -1);
  std::vector<double> ack_ms;
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  net::io_context io(1);
  const double cpu_before = cpu_seconds_process();
  const auto start = Clock::now();
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        constexpr auto tuple = net::as_tuple(net::use_awaitable);
        beast::tcp_stream stream(co_await net::this_coro::executor);
        auto [connect_ec] = co_await stream.async_connect(endpoint, tuple);
        if (connect_ec) co_return;
        stream.socket().set_option(tcp::no_delay(true));
        beast::flat_buffer buffer;
        std::string raw;
        net::steady_timer timer(co_await net::this_coro::executor);
        const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n\r\n";
        // One exchange at `when`; its latency in ms, or a negative value on a connection error.
        const auto exchange = [&](const std::string& request, Clock::time_point when,
                                  Clock::time_point* sent_at) -> net::awaitable<double> {
          timer.expires_at(when);
          co_await timer.async_wait(tuple);
          const auto at = Clock::now();
          if (sent_at != nullptr) *sent_at = at;
          auto [write_ec, n] = co_await net::async_write(stream, net::buffer(request), tuple);
          (void)n;
          if (write_ec) co_return -1.0;
          bhttp::response<bhttp::string_body> response;
          auto [read_ec, m] = co_await bhttp::async_read(stream, buffer, response, tuple);
          (void)m;
          if (read_ec) co_return -1.0;
          co_return std::chrono::duration<double, std::milli>(Clock::now() - at).count();
        };
        const auto at_slot = [&](double slot) {
          return start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(slot / rate));
        };
        for (std::size_t i = 0; i < count; ++i) {
          make(i, raw);
          Clock::time_point at;
          const double ack = co_await exchange(raw, at_slot(static_cast<double>(i)), &at);
          if (ack < 0) co_return;
          sent_ns[i] = at.time_since_epoch().count();
          ack_ms.push_back(ack);
          ++result.sent;
          // The control: a GET /healthz half a period later, same connection, same pacing.
          const double probe = co_await exchange(healthz, at_slot(static_cast<double>(i) + 0.5), nullptr);
          if (probe < 0) co_return;
          result.probe_ms.push_back(probe);
        }
      },
      net::detached);
  io.run();
  // Wait (bounded) for the replies still being answered and delivered.
  api.signal.wait_for([&] { return replies.count.load() >= result.sent; }, std::chrono::seconds(60));
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.process_cpu = cpu_seconds_process() - cpu_before;
  for (std::size_t i = 0; i < count; ++i) {
    const auto replied = replies.replied_ns[i].load();
    if (sent_ns[i] < 0 || replied < 0) continue;
    result.reply_ms.push_back(static_cast<double>(replied - sent_ns[i]) / 1e6 *
                              (static_cast<double>(Clock::period::num) * 1e9 / Clock::period::den));
  }
  result.replied = result.reply_ms.size();
  std::sort(result.reply_ms.begin(), result.reply_ms.end());
  std::sort(result.probe_ms.begin(), result.probe_ms.end());
  result.ack_ms = std::move(ack_ms);
  std::sort(result.ack_ms.begin(), result.ack_ms.end());
  return result;
}

// ---- output ------------------------------------------------------------------------------------

void print_header() {
  std::printf("%-40s %9s %7s %9s %8s %8s %8s %8s %7s %9s %9s\n", "phase", "requests", "sec", "req/s", "p50 ms",
              "p90 ms", "p99 ms", "max ms", "non200", "cpu cores", "client");
}

void print_load(const std::string& name, const LoadResult& r) {
  std::printf("%-40s %9zu %7.2f %9.0f %8.3f %8.3f %8.3f %8.3f %7zu %9.2f %9.2f\n", name.c_str(), r.sent, r.seconds,
              static_cast<double>(r.sent) / r.seconds, percentile(r.latency_ms, 0.50), percentile(r.latency_ms, 0.90),
              percentile(r.latency_ms, 0.99), r.latency_ms.empty() ? 0.0 : r.latency_ms.back(), r.non_200 + r.errors,
              r.process_cpu / r.seconds, r.client_cpu / r.seconds);
  std::fflush(stdout);
}

void print_latency(const std::string& what, const LatencyResult& r, double rate) {
  std::printf("\n%s: %zu questions, one %s each, %.0f/s on one connection; %zu of %zu replies arrived\n", what.c_str(),
              r.sent, what.rfind("slack", 0) == 0 ? "channel" : "chat", rate, r.replied, r.sent);
  std::printf("%-40s %9s %8s %8s %8s %8s\n", "", "n", "p50 ms", "p90 ms", "p99 ms", "max ms");
  const auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("%-40s %9zu %8.2f %8.2f %8.2f %8.2f\n", name, v.size(), percentile(v, 0.5), percentile(v, 0.9),
                percentile(v, 0.99), v.empty() ? 0.0 : v.back());
  };
  row("GET /healthz (control)", r.probe_ms);
  row("ack (HTTP 200)", r.ack_ms);
  row("Responder (answering)", r.answer_ms);
  row("event -> API receipt", r.reply_ms);
  std::fflush(stdout);
}

// ---- micro-timings of the ack path's parts -----------------------------------------------------

struct OpTimes {
  double mean_us = 0;
  std::vector<double> us;  // sorted
};

template <class F>
OpTimes time_ops(std::size_t n, F&& f) {
  OpTimes t;
  t.us.reserve(n);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = Clock::now();
    f(i);
    t.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - a).count());
  }
  t.mean_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(n);
  std::sort(t.us.begin(), t.us.end());
  return t;
}

// The same INSERT as StateStore::accept_inbound, on a database StateStore created (same schema and
// pragmas), but `batch` inserts per transaction: what committing a group of acks together would
// cost per event, and (autocheckpoint false) what it costs when the WAL checkpoints (and their
// fsyncs) happen somewhere else. What-ifs for the report, not something the service does.
OpTimes batched_inserts(const std::filesystem::path& file, std::size_t n, std::size_t batch, bool autocheckpoint) {
  { roundup::storage::SqliteStateStore create(file); }
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) throw std::runtime_error("cannot open " + file.string());
  sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", nullptr, nullptr, nullptr);
  if (!autocheckpoint) sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0;", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO inbound (key, platform, payload, received_ms) VALUES (?1, ?2, ?3, ?4) "
                     "ON CONFLICT (key) DO NOTHING RETURNING id",
                     -1, &insert, nullptr);
  const std::string payload = R"({"input":"what is Chinchilla?","channel":"CBENCH","thread_ts":"1.1","user":"U1"})";
  std::size_t inserted = 0;
  OpTimes t = time_ops(n / batch, [&](std::size_t b) {
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (std::size_t k = 0; k < batch; ++k) {
      const std::string key = "bench:" + std::to_string(b * batch + k);
      sqlite3_bind_text(insert, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, 2, "bench", 5, SQLITE_STATIC);
      sqlite3_bind_text(insert, 3, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert, 4, 1);
      while (sqlite3_step(insert) == SQLITE_ROW) ++inserted;
      sqlite3_reset(insert);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  });
  sqlite3_finalize(insert);
  sqlite3_close(db);
  if (inserted != n / batch * batch) throw std::runtime_error("batched insert what-if: rows were not inserted");
  return t;
}

void breakdown(const std::string& platform) {
  constexpr std::size_t n = 20000;
  std::printf("\nack path parts, one thread, in isolation (%zu each; us per event):\n", n);
  std::printf("  %-56s %8s %8s %8s %8s\n", "", "mean", "p50", "p99", "max");
  const auto row = [](const std::string& name, const OpTimes& t, double per = 1.0) {
    std::printf("  %-56s %8.2f %8.2f %8.2f %8.1f\n", name.c_str(), t.mean_us / per, percentile(t.us, 0.5) / per,
                percentile(t.us, 0.99) / per, t.us.empty() ? 0.0 : t.us.back() / per);
  };
  const std::string body = platform == "slack" ? slack_event_body(7, "CBENCH", "<@UBOT> what is Chinchilla?")
                                               : telegram_update_body(7, 42, "what is Chinchilla?");
  if (platform == "slack") {
    const std::string ts = std::to_string(k_now);
    const std::string signature = roundup::adapters::slack::compute_signature(k_slack_secret, ts, body);
    std::size_t ok = 0;
    row("verify_signature (HMAC-SHA256 of the body)", time_ops(n, [&](std::size_t) {
          ok += roundup::adapters::slack::verify_signature(k_slack_secret, ts, signature, body, k_now) ==
                roundup::adapters::slack::SignatureError::none;
        }));
    const json envelope = json::parse(body);
    std::size_t bytes = 0;
    row("interpret_event + inbox payload dump", time_ops(n, [&](std::size_t) {
          const auto decision = roundup::adapters::slack::interpret_event(envelope, "UBOT", nullptr);
          const json payload = {{"input", decision.question.text},
                                {"channel", decision.question.channel},
                                {"thread_ts", decision.question.thread_ts},
                                {"user", decision.question.user}};
          bytes += payload.dump().size();
        }));
    if (ok != n || bytes == 0) std::printf("  (unexpected: the signature or the event did not verify)\n");
  }
  std::size_t sizes = 0;
  row("nlohmann::json::parse of the body", time_ops(n, [&](std::size_t) { sizes += json::parse(body).size(); }));
  (void)sizes;
  if (roundup::log::enabled(roundup::log::Level::info)) {
    row("log::info line (to /dev/null)", time_ops(n, [&](std::size_t i) {
          roundup::log::info(platform, "question accepted",
                             {{"key", "slack:event:EvBench" + std::to_string(i)}, {"channel", "CBENCH"}});
        }));
  }
  {
    roundup::testing::TempDir dir;
    roundup::storage::SqliteStateStore store(dir.path() / "bot.sqlite");
    const std::string payload = R"({"input":"what is Chinchilla?","channel":"CBENCH","thread_ts":"1.1","user":"U1"})";
    row("StateStore::accept_inbound, new key (1 commit)", time_ops(n, [&](std::size_t i) {
          store.accept_inbound("bench:" + std::to_string(i), platform, payload, 1, {});
        }));
    row("StateStore::accept_inbound, duplicate key", time_ops(n, [&](std::size_t i) {
          store.accept_inbound("bench:" + std::to_string(i), platform, payload, 1, {});
        }));
  }
  {
    roundup::testing::TempDir dir;
    row("what-if: same INSERT, 1 per commit, no autocheckpoint",
        batched_inserts(dir.path() / "bot.sqlite", n, 1, false));
  }
  for (const std::size_t batch : {std::size_t{8}, std::size_t{64}}) {
    roundup::testing::TempDir dir;
    row("what-if: same INSERT, " + std::to_string(batch) + " per commit",
        batched_inserts(dir.path() / "bot.sqlite", n, batch, true), static_cast<double>(batch));
  }
  std::printf("  (what-if rows: p50/p99/max are per commit divided by the batch size)\n");
  std::fflush(stdout);
}

// ---- one platform ------------------------------------------------------------------------------

roundup::bot::Answer notice_answer() {
  roundup::bot::Answer answer;
  answer.kind = roundup::bot::Answer::Kind::notice;
  answer.lines = {"ok"};
  return answer;
}

// Holds answerers until opened.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

struct OpenOnExit {
  Gate& gate;
  ~OpenOnExit() { gate.open(); }
};

struct AnswerTimes {
  std::mutex mutex;
  std::vector<double> ms;
  void add(double v) {
    std::lock_guard lock(mutex);
    ms.push_back(v);
  }
};

// A running service for one phase: its own data_dir and fake API.
struct Rig {
  roundup::testing::TempDir data;
  FakeApi api;
  std::unique_ptr<roundup::adapters::service::Service> service;
  unsigned short port = 0;

  // `postgres`: the state goes in a fresh database there instead of SQLite under data_dir.
  Rig(const std::string& platform, roundup::testing::ScriptedAnswers answerer,
      const std::function<void(const json&)>& on_reply, roundup::testing::PostgresCluster* postgres) {
    roundup::testing::serve_platform_api(api, platform, on_reply);
    auto config = roundup::testing::webhook_config(data.path(), platform, api);
    if (postgres) {
      config.state.backend = "postgresql";
      config.state.url.value = postgres->fresh_database("bench");
    }
    roundup::adapters::service::ServiceHooks hooks;
    hooks.unix_seconds = [] { return k_now; };
    hooks.tls_ca_only = true;
    service = std::make_unique<roundup::adapters::service::Service>(
        config, std::make_shared<roundup::testing::ScriptedKnowledge>(std::move(answerer)), hooks);
    port = service->start();
  }
  ~Rig() {
    if (service) service->stop();
  }
};

std::vector<std::string> load_questions() {
  std::vector<std::string> questions;
  std::ifstream in(std::string(ROUNDUP_SOURCE_DIR) + "/tests/data/retrieval-questions.jsonl");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) questions.push_back(json::parse(line)["q"].get<std::string>());
  }
  if (questions.empty()) questions.push_back("what is Chinchilla?");
  return questions;
}

// The file system the state databases live on (TMPDIR): it decides what an inbox commit costs.
std::string file_system_of(const std::filesystem::path& dir) {
  struct statfs fs {};
  if (statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794C7630: return "overlayfs";
    default:
      return "fs type 0x" + [&] {
        char hex[24];
        std::snprintf(hex, sizeof hex, "%lx", static_cast<unsigned long>(fs.f_type));
        return std::string(hex);
      }();
  }
}

int run(const Options& o) {
  const bool slack = o.platform == "slack";
  const auto tmp = std::filesystem::temp_directory_path();
  std::printf(
      "roundup-service-bench %s: %d keep-alive connections, %d client thread(s), log level %s (to /dev/null), "
      "%u hardware threads, data_dir under %s (%s)\n\n",
      o.platform.c_str(), o.connections, o.client_threads, o.log_level.c_str(), std::thread::hardware_concurrency(),
      tmp.c_str(), file_system_of(tmp).c_str());
  // --state postgresql: one throwaway PostgreSQL 15 cluster on this machine, reached over TCP on
  // 127.0.0.1 with PostgreSQL's durability defaults (fsync and synchronous commit on), a fresh
  // database per phase.
  std::unique_ptr<roundup::testing::PostgresCluster> postgres;
  if (o.state == "postgresql") {
    postgres = std::make_unique<roundup::testing::PostgresCluster>(
        roundup::testing::PostgresCluster::Options{.tcp_loopback = true, .durable = true});
    std::printf("state: PostgreSQL 15 over TCP on 127.0.0.1 (throwaway cluster; fsync, synchronous_commit on)\n\n");
  } else {
    std::printf("state: SQLite (WAL, synchronous=NORMAL)\n\n");
  }
  print_header();

  // 1. The HTTP floor: GET /healthz, no webhook work.
  {
    Rig rig(
        o.platform, [](std::string_view) { return roundup::bot::Answer{}; }, nullptr, postgres.get());
    const MakeRequest healthz = [&](std::size_t, std::string& out) {
      out = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(rig.port) + "\r\n\r\n";
    };
    run_load(rig.port, o.connections, o.client_threads, 0, std::min<std::size_t>(o.warmup, o.floor_events), o.seconds,
             healthz);
    auto r = run_load(rig.port, o.connections, o.client_threads, 0, o.floor_events, o.seconds, healthz);
    print_load("GET /healthz (HTTP floor)", r);
  }

  // 2. The ack path. The events and their signatures are built before any timed phase.
  const std::size_t paced_count = static_cast<std::size_t>(o.paced_rate * std::min(o.seconds, 5.0));
  const std::size_t total = o.warmup + o.events + paced_count;
  const std::string text = slack ? "<@UBOT> what is Chinchilla?" : "what is Chinchilla?";
  const std::string ts = std::to_string(k_now);
  std::vector<std::string> signatures;
  if (slack) {
    signatures.reserve(total);
    for (std::size_t i = 0; i < total; ++i) {
      signatures.push_back(
          roundup::adapters::slack::compute_signature(k_slack_secret, ts, slack_event_body(i, "CBENCH", text)));
    }
  }
  const auto make_for = [&](unsigned short port) -> MakeRequest {
    return [&, port](std::size_t i, std::string& out) {
      if (slack) {
        raw_post(out, "/slack/events", port, {{"X-Slack-Request-Timestamp", ts}, {"X-Slack-Signature", signatures[i]}},
                 slack_event_body(i, "CBENCH", text));
      } else {
        raw_post(out, "/telegram/webhook", port, {{"X-Telegram-Bot-Api-Secret-Token", k_tg_secret}},
                 telegram_update_body(1'000'000 + i, 42, text));
      }
    };
  };
  const std::string what = slack ? "signed event ack" : "webhook update ack";

  // 2a. Answering parked: the inbox workers wait in the answerer until the phase is over, so the
  // CPU goes to the ack path alone (accepted items queue in memory up to the inbox's limit, the
  // rest wait in the database, as they would in a burst).
  {
    Gate gate;
    const roundup::testing::ScriptedAnswers parked = [&gate](std::string_view) {
      gate.wait();
      return notice_answer();
    };
    Rig rig(o.platform, parked, nullptr, postgres.get());
    const OpenOnExit release{gate};  // before the Rig stops the service, which joins the workers
    const MakeRequest make = make_for(rig.port);
    run_load(rig.port, o.connections, o.client_threads, 0, o.warmup, o.seconds, make);
    auto r = run_load(rig.port, o.connections, o.client_threads, o.warmup, o.events, o.seconds, make);
    print_load(what + " (new)", r);
    if (o.duplicates > 0 && r.sent > 0) {
      auto d = run_load(rig.port, o.connections, o.client_threads, o.warmup, std::min(o.duplicates, r.sent), o.seconds,
                        make);
      print_load(what + " (duplicate)", d);
    }
    if (paced_count > 0) {
      auto p = run_load(rig.port, o.connections, o.client_threads, o.warmup + o.events, paced_count, o.seconds, make,
                        o.paced_rate);
      char name[64];
      std::snprintf(name, sizeof name, " (new, %.0f/s offered)", o.paced_rate);
      print_load(what + name, p);
    }
  }

  // 2b. Answering alongside: the inbox workers answer each item with a trivial notice at once and
  // the outbox holds the replies (all for one channel / chat, paced to about one a second), as
  // when answers cannot leave as fast as questions come in.
  if (o.alongside) {
    std::atomic<std::size_t> answered{0};
    const roundup::testing::ScriptedAnswers notice = [&answered](std::string_view) {
      ++answered;
      return notice_answer();
    };
    Rig rig(o.platform, notice, nullptr, postgres.get());
    const MakeRequest make = make_for(rig.port);
    run_load(rig.port, o.connections, o.client_threads, 0, o.warmup, o.seconds, make);
    const std::size_t answered_before = answered.load();
    auto r = run_load(rig.port, o.connections, o.client_threads, o.warmup, o.events, o.seconds, make);
    const std::size_t answered_during = answered.load() - answered_before;
    print_load(what + " (answering alongside)", r);
    std::printf(
        "  (alongside: the inbox answered %zu items during the phase, %zu were acked; the replies wait in the "
        "outbox for one %s)\n",
        answered_during, r.sent, slack ? "channel" : "chat");
    std::fflush(stdout);
  }

  // 3. Event to reply with the real knowledge base (the bundled corpus).
  if (o.latency_events > 0) {
    const auto questions = load_questions();
    auto knowledge = roundup::testing::bundled_knowledge();  // opened before the clock starts
    knowledge->answer("warm up");
    AnswerTimes answer_times;
    const roundup::testing::ScriptedAnswers answerer = [knowledge, &answer_times](std::string_view input) {
      const auto start = Clock::now();
      auto answer = knowledge->answer(input);
      answer_times.add(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      return answer;
    };
    constexpr std::int64_t k_first_chat = 500000;
    ReplyClock replies(o.latency_events);
    const auto on_reply = [&](const json& body) {
      if (!body.is_object()) return;
      if (slack) {
        const std::string channel = body.value("channel", std::string());
        if (channel.rfind("CL", 0) == 0) replies.mark(std::stoul(channel.substr(2)));
      } else if (body.contains("chat_id") && body["chat_id"].is_number_integer()) {
        const auto chat = body["chat_id"].get<std::int64_t>() - k_first_chat;
        if (chat >= 0) replies.mark(static_cast<std::size_t>(chat));
      }
    };
    Rig rig(o.platform, answerer, on_reply, postgres.get());
    const std::string ts = std::to_string(k_now);
    std::vector<std::string> raws(o.latency_events);
    for (std::size_t i = 0; i < o.latency_events; ++i) {
      const std::string& q = questions[i % questions.size()];
      if (slack) {
        const std::string body = json{
            {"type", "event_callback"},
            {"event_id", "EvLat" + std::to_string(i)},
            {"team_id", "T1"},
            {"event",
             {{"type", "app_mention"},
              {"user", "U1"},
              {"channel", "CL" + std::to_string(i)},
              {"ts", "1700000000.000100"},
              {"text",
               "<@UBOT> " + q}}}}.dump();
        const std::string sig = roundup::adapters::slack::compute_signature(k_slack_secret, ts, body);
        raw_post(raws[i], "/slack/events", rig.port, {{"X-Slack-Request-Timestamp", ts}, {"X-Slack-Signature", sig}},
                 body);
      } else {
        const auto chat = k_first_chat + static_cast<std::int64_t>(i);
        const std::string body = json{
            {"update_id", 2'000'000 + i},
            {"message",
             {{"message_id", 10},
              {"from", {{"id", chat}, {"is_bot", false}, {"first_name", "Ada"}}},
              {"chat", {{"id", chat}, {"type", "private"}}},
              {"date", 1700000000},
              {"text", q}}}}.dump();
        raw_post(raws[i], "/telegram/webhook", rig.port, {{"X-Telegram-Bot-Api-Secret-Token", k_tg_secret}}, body);
      }
    }
    const MakeRequest make = [&](std::size_t i, std::string& out) { out = raws[i]; };
    auto r = run_latency(rig.port, o.latency_events, o.latency_rate, make, replies, rig.api);
    {
      std::lock_guard lock(answer_times.mutex);
      r.answer_ms = answer_times.ms;
    }
    std::sort(r.answer_ms.begin(), r.answer_ms.end());
    print_latency(slack ? "slack event -> chat.postMessage" : "telegram update -> sendMessage", r, o.latency_rate);
  }

  if (o.breakdown) breakdown(o.platform);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"roundup-bot service benchmark: webhook ack throughput and latency, event-to-reply latency"};
  Options o;
  app.add_option("platform", o.platform, "slack | telegram")->required()->check(CLI::IsMember({"slack", "telegram"}));
  app.add_option("--connections", o.connections, "concurrent keep-alive connections")->check(CLI::Range(1, 1024));
  app.add_option("--client-threads", o.client_threads, "load generator threads")->check(CLI::Range(1, 8));
  app.add_option("--events", o.events, "ack phase: events after the warm-up (or --seconds, first reached)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{2'000'000}));
  app.add_option("--warmup", o.warmup, "events before each timed load phase")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100'000}));
  app.add_option("--duplicates", o.duplicates, "duplicate phase: events re-sent (0 = skip)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{2'000'000}));
  app.add_option("--floor-events", o.floor_events, "GET /healthz requests in the HTTP floor phase")
      ->check(CLI::Range(std::size_t{1}, std::size_t{2'000'000}));
  app.add_option("--seconds", o.seconds, "time limit of each load phase")->check(CLI::Range(0.5, 120.0));
  app.add_option("--paced-rate", o.paced_rate, "ack phase at this offered rate, events/s, for up to 5 s (0 = skip)")
      ->check(CLI::Range(0.0, 100000.0));
  app.add_option("--latency-events", o.latency_events, "event-to-reply phase: questions (0 = skip)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{5000}));
  app.add_option("--latency-rate", o.latency_rate, "event-to-reply phase: questions per second")
      ->check(CLI::Range(0.1, 1000.0));
  app.add_option("--log-level", o.log_level, "service log level (lines go to /dev/null)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  bool no_alongside = false;
  app.add_flag("--no-alongside", no_alongside, "skip the ack phase with answering alongside");
  bool no_breakdown = false;
  app.add_flag("--no-breakdown", no_breakdown, "skip the micro-timings of the ack path's parts");
  app.add_option("--state", o.state, "where the service keeps its state")
      ->check(CLI::IsMember({"sqlite", "postgresql"}));
  CLI11_PARSE(app, argc, argv);
  o.breakdown = !no_breakdown;
  o.alongside = !no_alongside;

  // A closed stdout (`| head`) must not kill the run before it removes its temporary files.
  std::signal(SIGPIPE, SIG_IGN);
  std::ofstream devnull("/dev/null");
  roundup::log::set_sink(&devnull);
  roundup::log::set_level(roundup::log::parse_level(o.log_level));
  int code = 0;
  try {
    code = run(o);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "roundup-service-bench: %s\n", error.what());
    code = 1;
  }
  roundup::log::set_sink(nullptr);
  return code;
}
