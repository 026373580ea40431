#include "tests/soak/fake_platforms.h"

#include <algorithm>
#include <utility>

#include "tests/support/test_tls.h"

namespace roundup::soak {
namespace {

using adapters::http::Request;
using adapters::http::Respond;
using adapters::http::Response;
using nlohmann::json;

constexpr std::size_t k_max_batch = 100;
constexpr std::string_view k_digest_heading = "Daily digest \xe2\x80\x94 ";  // em dash

Response json_reply(const std::string& body, int status = 200) {
  Response response;
  response.status = status;
  response.content_type = "application/json; charset=utf-8";
  response.body = body;
  return response;
}

std::string path_of(const std::string& target) {
  return target.substr(0, target.find('?'));
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string string_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  return dump(value);
}

// The date of a daily digest post ("" when the body is not one).
std::string digest_date(const json& body) {
  const std::string text = dump(body);
  const auto at = text.find(k_digest_heading);
  return at == std::string::npos ? std::string() : text.substr(at + k_digest_heading.size(), 10);
}

Response rate_limited(bool telegram) {
  Response response =
      telegram ? json_reply(R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1",)"
                            R"("parameters":{"retry_after":1}})",
                            429)
               : json_reply(R"({"ok":false,"error":"ratelimited"})", 429);
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

Response server_error(bool telegram, std::uint64_t turn) {
  static constexpr int k_statuses[] = {500, 502, 503};
  const int status = k_statuses[turn % 3];
  return telegram ? json_reply(R"({"ok":false,"error_code":)" + std::to_string(status) +
                                   R"(,"description":"Internal Server Error"})",
                               status)
                  : json_reply(R"({"ok":false,"error":"internal_error"})", status);
}

}  // namespace

std::uint64_t message_hash(std::string_view path, const json& body) {
  std::uint64_t hash = 1469598103934665603ULL;
  const auto mix = [&hash](std::string_view bytes) {
    for (const char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ULL;
    }
  };
  mix(path);
  mix("\n");
  mix(dump(body));
  return hash;
}

FakePlatforms::FakePlatforms(FaultPlan plan) : plan_(plan), next_stall_(Clock::now() + plan.stall_every) {
  adapters::http::ServerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.tls_cert_pem = testing::test_pki().server_cert_pem;
  options.tls_key_pem = testing::test_pki().server_key_pem;
  // Held and stalled calls keep their connection until the bot gives up on them.
  options.drain_timeout = std::chrono::milliseconds(500);
  slack_ = std::make_unique<adapters::http::Server>(
      options, [this](const Request& request, Respond respond) { on_slack(request, std::move(respond)); });
  telegram_ = std::make_unique<adapters::http::Server>(
      options, [this](const Request& request, Respond respond) { on_telegram(request, std::move(respond)); });
  slack_port_ = slack_->start();
  telegram_port_ = telegram_->start();
  poll_timer_ = std::thread([this] { expire_parked(); });
}

FakePlatforms::~FakePlatforms() {
  stop();
}

std::string FakePlatforms::slack_origin() const {
  return "https://127.0.0.1:" + std::to_string(slack_port_);
}

std::string FakePlatforms::slack_api_base() const {
  return slack_origin() + "/api";
}

std::string FakePlatforms::telegram_base() const {
  return "https://127.0.0.1:" + std::to_string(telegram_port_);
}

void FakePlatforms::add_telegram_bot(const std::string& token, const std::string& instance) {
  std::lock_guard lock(mutex_);
  bots_[token].instance = instance;
}

namespace {

// "/r/A/api/chat.postMessage" -> {"A", "/api/chat.postMessage"}; other paths as they are.
std::pair<std::string, std::string> replica_and_path(const std::string& target) {
  std::string path = path_of(target);
  if (path.rfind("/r/", 0) != 0) return {"", path};
  const auto end = path.find('/', 3);
  if (end == std::string::npos) return {"", path};
  return {path.substr(3, end - 3), path.substr(end)};
}

}  // namespace

void FakePlatforms::on_slack(const Request& request, Respond respond) {
  const auto [replica, path] = replica_and_path(request.target);
  const std::string instance = replica.empty() ? "A" : replica;
  if (path == "/api/auth.test") {
    bool fail = false;
    {
      std::lock_guard lock(mutex_);
      // The first auth.test of each start fails (a start while Slack has a hiccup).
      fail = (slack_auth_calls_++ % 2) == 0;
      if (fail) ++faults_.start_faults;
    }
    return respond(fail ? json_reply(R"({"ok":false,"error":"internal_error"})", 503)
                        : json_reply(R"({"ok":true,"user_id":"UBOT","bot_id":"BBOT","team":"Soak"})"));
  }
  const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (path == "/api/chat.postMessage" && body.is_object()) {
    const std::string channel = body.contains("channel") ? string_of(body["channel"]) : "";
    const std::string reply_key =
        body.contains("thread_ts") ? "se:" + channel + ":" + string_of(body["thread_ts"]) : "post:A:slack:" + channel;
    return on_message(instance, path, reply_key, body, false, channel == k_refusing_slack_channel, std::move(respond));
  }
  constexpr std::string_view k_respond = "/commands/respond/";
  if (path.rfind(k_respond, 0) == 0 && body.is_object()) {
    return on_message(instance, path, "sc:" + path.substr(k_respond.size()), body, false, false, std::move(respond));
  }
  respond(json_reply(R"({"ok":false,"error":"unknown_method"})", 404));
}

void FakePlatforms::on_telegram(const Request& request, Respond respond) {
  const auto [replica, path] = replica_and_path(request.target);
  const auto slash = path.find('/', 1);
  if (path.rfind("/bot", 0) != 0 || slash == std::string::npos) {
    return respond(json_reply(R"({"ok":false,"error_code":404,"description":"Not Found"})", 404));
  }
  const std::string token = path.substr(4, slash - 4);
  const std::string method = path.substr(slash + 1);
  const json params = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  std::unique_lock lock(mutex_);
  const auto found = bots_.find(token);
  if (found == bots_.end()) {
    lock.unlock();
    return respond(json_reply(R"({"ok":false,"error_code":401,"description":"Unauthorized"})", 401));
  }
  TelegramBot& bot = found->second;
  if (method == "getMe") {
    const bool fail = (bot.get_me_calls++ % 2) == 0;  // the first getMe of each start fails
    if (fail) ++faults_.start_faults;
    lock.unlock();
    return respond(fail ? json_reply(R"({"ok":false,"error_code":502,"description":"Bad Gateway"})", 502)
                        : json_reply(R"({"ok":true,"result":{"id":999,"is_bot":true,"first_name":"Roundup",)"
                                     R"("username":"RoundupSoakBot"}})"));
  }
  if (method == "getUpdates") {
    lock.unlock();
    return on_get_updates(bot, replica, params, std::move(respond));
  }
  const std::string instance = bot.instance;
  const std::string counted_for = replica.empty() ? instance : replica;
  lock.unlock();
  if (method == "sendMessage" && params.is_object()) {
    const std::string chat = params.contains("chat_id") ? string_of(params["chat_id"]) : "";
    const auto reply = params.find("reply_parameters");
    const std::string reply_key = reply != params.end() && reply->is_object() && reply->contains("message_id")
                                      ? "tg" + instance + ":" + chat + ":" + string_of((*reply)["message_id"])
                                      : "post:" + instance + ":telegram:" + chat;
    return on_message(counted_for, path, reply_key, params, true, chat == std::to_string(k_refusing_telegram_chat),
                      std::move(respond));
  }
  if (method == "setMyCommands" || method == "setWebhook" || method == "deleteWebhook") {
    return respond(json_reply(R"({"ok":true,"result":true})"));
  }
  respond(json_reply(R"({"ok":false,"error_code":404,"description":"Not Found: method not found"})", 404));
}

void FakePlatforms::on_message(const std::string& instance, const std::string& path, const std::string& reply_key,
                               const json& body, bool telegram, bool refusing, Respond respond) {
  const std::uint64_t hash = message_hash(path, body);
  Response response;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    Receipt& receipt = receipts_[hash];
    if (receipt.instance.empty()) {
      receipt.instance = instance;
      receipt.reply_key = reply_key;
      if (reply_key.rfind("post:", 0) == 0) receipt.digest_date = digest_date(body);
    }
    if (receipt.last_rate_limited != Clock::time_point{}) {
      const double gap = std::chrono::duration<double, std::milli>(now - receipt.last_rate_limited).count();
      receipt.min_gap_after_429_ms = std::min(receipt.min_gap_after_429_ms, gap);
      receipt.last_rate_limited = {};
    }
    const std::uint64_t call = ++message_calls_;
    if (frozen_ || stopping_) {
      ++receipt.faults;
      ++faults_.held;
      held_.push_back(std::move(respond));
      changed_.notify_all();
      return;
    }
    if (now >= next_stall_) {
      next_stall_ = now + plan_.stall_every;
      ++receipt.faults;
      ++faults_.stalls;
      stalled_.push_back(std::move(respond));
      changed_.notify_all();
      return;
    }
    if (refusing) {
      ++receipt.refused;
      ++faults_.refusals;
      ++refused_by_instance_[instance];
      response = telegram ? json_reply(R"({"ok":false,"error_code":403,)"
                                       R"("description":"Forbidden: bot was blocked by the user"})",
                                       403)
                          : json_reply(R"({"ok":false,"error":"is_archived"})");
    } else if (plan_.rate_limit_every > 0 && call % static_cast<std::uint64_t>(plan_.rate_limit_every) == 0) {
      ++receipt.faults;
      ++faults_.rate_limited;
      receipt.last_rate_limited = now;
      response = rate_limited(telegram);
    } else if (plan_.server_error_every > 0 && call % static_cast<std::uint64_t>(plan_.server_error_every) == 0) {
      ++receipt.faults;
      response = server_error(telegram, faults_.server_errors++);
    } else {
      if (receipt.delivered++ == 0) receipt.first_delivered = now;
      replied_.emplace(reply_key, now);
      ++delivered_by_instance_[instance];
      if (telegram) {
        response = json_reply(R"({"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":1,"type":"private"}}})");
      } else if (path.rfind("/commands/", 0) == 0) {
        response.body = "ok";
      } else {
        response = json_reply(R"({"ok":true,"channel":"C","ts":"1.000001"})");
      }
    }
    changed_.notify_all();
  }
  respond(std::move(response));
}

json FakePlatforms::take_batch(TelegramBot& bot, std::int64_t offset) {
  bot.offset = std::max(bot.offset, offset);
  while (!bot.pending.empty() && bot.pending.front().id < bot.offset) {
    if (bot.pending.front().duplicate) bot.reserve.push_back(bot.pending.front().json);
    bot.pending.pop_front();
    changed_.notify_all();
  }
  json batch = json::array();
  // A confirmed duplicate served again: the bot must see its id is below the offset it sent.
  for (auto& again : bot.reserve) {
    batch.push_back(std::move(again));
    ++bot.duplicate_copies;
  }
  bot.reserve.clear();
  for (Update& update : bot.pending) {
    if (batch.size() >= k_max_batch) break;
    batch.push_back(update.json);
    if (update.duplicate && !update.duplicate_served) {
      // The same update twice in one batch: the inbox must record it once.
      batch.push_back(update.json);
      update.duplicate_served = true;
      ++bot.duplicate_copies;
    }
  }
  return batch;
}

void FakePlatforms::on_get_updates(TelegramBot& bot, const std::string& replica, const json& params, Respond respond) {
  const std::int64_t offset = params.is_object() && params.contains("offset") && params["offset"].is_number_integer()
                                  ? params["offset"].get<std::int64_t>()
                                  : 0;
  const int timeout = params.is_object() && params.contains("timeout") && params["timeout"].is_number_integer()
                          ? params["timeout"].get<int>()
                          : 0;
  Response response;
  {
    std::lock_guard lock(mutex_);
    const bool another_polls =
        std::any_of(bot.parked.begin(), bot.parked.end(), [&](const Parked& p) { return p.replica != replica; });
    const int call = another_polls ? 0 : ++bot.poll_calls;
    if (another_polls) {
      ++bot.poll_conflicts;
      changed_.notify_all();
      response =
          json_reply(R"({"ok":false,"error_code":409,"description":"Conflict: terminated by other getUpdates request; )"
                     R"(make sure that only one bot instance is running"})",
                     409);
    } else if (plan_.poll_fault_every > 0 && call % plan_.poll_fault_every == 0) {
      ++faults_.poll_faults;
      response = (call / plan_.poll_fault_every) % 2 == 0
                     ? rate_limited(true)
                     : json_reply(R"({"ok":false,"error_code":502,"description":"Bad Gateway"})", 502);
    } else {
      if (bot.pollers.empty() || bot.pollers.back().second != replica) bot.pollers.emplace_back(Clock::now(), replica);
      json batch = take_batch(bot, offset);
      if (batch.empty() && timeout > 0 && !stopping_) {
        bot.parked.push_back({std::move(respond), Clock::now() + std::chrono::seconds(timeout), offset, replica});
        changed_.notify_all();
        return;
      }
      response = json_reply(dump(json{{"ok", true}, {"result", std::move(batch)}}));
    }
  }
  respond(std::move(response));
}

void FakePlatforms::push_update(const std::string& token, json update, bool duplicate) {
  std::vector<std::pair<Respond, json>> answers;
  {
    std::lock_guard lock(mutex_);
    TelegramBot& bot = bots_.at(token);
    const std::int64_t id = update["update_id"].get<std::int64_t>();
    bot.pending.push_back({id, std::move(update), duplicate, false});
    for (Parked& parked : bot.parked) answers.emplace_back(std::move(parked.respond), take_batch(bot, parked.offset));
    bot.parked.clear();
    changed_.notify_all();
  }
  for (auto& [respond, batch] : answers) respond(json_reply(dump(json{{"ok", true}, {"result", std::move(batch)}})));
}

bool FakePlatforms::confirmed(const std::string& token, std::int64_t update_id) {
  std::lock_guard lock(mutex_);
  return update_id < bots_.at(token).offset;
}

std::uint64_t FakePlatforms::poll_conflicts(const std::string& token) {
  std::lock_guard lock(mutex_);
  return bots_.at(token).poll_conflicts;
}

std::vector<std::pair<Clock::time_point, std::string>> FakePlatforms::poller_changes(const std::string& token) {
  std::lock_guard lock(mutex_);
  return bots_.at(token).pollers;
}

std::int64_t FakePlatforms::unconfirmed(const std::string& token) {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(bots_.at(token).pending.size());
}

std::uint64_t FakePlatforms::duplicate_copies_served(const std::string& token) {
  std::lock_guard lock(mutex_);
  return bots_.at(token).duplicate_copies;
}

void FakePlatforms::expire_parked() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = Clock::now() + std::chrono::seconds(1);
    std::vector<Respond> expired;
    const auto now = Clock::now();
    for (auto& [token, bot] : bots_) {
      std::erase_if(bot.parked, [&](Parked& parked) {
        if (parked.deadline > now) {
          next = std::min(next, parked.deadline);
          return false;
        }
        expired.push_back(std::move(parked.respond));
        return true;
      });
    }
    if (!expired.empty()) {
      lock.unlock();
      for (auto& respond : expired) respond(json_reply(R"({"ok":true,"result":[]})"));
      lock.lock();
      continue;
    }
    changed_.wait_until(lock, next);
  }
}

void FakePlatforms::freeze() {
  std::lock_guard lock(mutex_);
  frozen_ = true;
}

void FakePlatforms::thaw() {
  std::vector<Respond> held;
  {
    std::lock_guard lock(mutex_);
    frozen_ = false;
    held.swap(held_);
  }
  for (auto& respond : held) respond(json_reply(R"({"ok":false,"error":"service_unavailable"})", 503));
}

std::uint64_t FakePlatforms::delivered_count(const std::string& instance) {
  std::lock_guard lock(mutex_);
  const auto found = delivered_by_instance_.find(instance);
  return found == delivered_by_instance_.end() ? 0 : found->second;
}

std::uint64_t FakePlatforms::refused_count(const std::string& instance) {
  std::lock_guard lock(mutex_);
  const auto found = refused_by_instance_.find(instance);
  return found == refused_by_instance_.end() ? 0 : found->second;
}

std::map<std::uint64_t, Receipt> FakePlatforms::receipts() {
  std::lock_guard lock(mutex_);
  return receipts_;
}

std::map<std::string, Clock::time_point> FakePlatforms::replied_keys() {
  std::lock_guard lock(mutex_);
  return replied_;
}

FaultCounts FakePlatforms::faults() {
  std::lock_guard lock(mutex_);
  return faults_;
}

std::uint64_t FakePlatforms::message_calls() {
  std::lock_guard lock(mutex_);
  return message_calls_;
}

void FakePlatforms::wait_change(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, limit);
}

void FakePlatforms::stop() {
  std::vector<Respond> unanswered;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !poll_timer_.joinable()) return;
    stopping_ = true;
    unanswered.swap(held_);
    for (auto& respond : stalled_) unanswered.push_back(std::move(respond));
    stalled_.clear();
    for (auto& [token, bot] : bots_) {
      for (auto& parked : bot.parked) unanswered.push_back(std::move(parked.respond));
      bot.parked.clear();
    }
  }
  changed_.notify_all();
  if (poll_timer_.joinable()) poll_timer_.join();
  for (auto& respond : unanswered) respond(json_reply(R"({"ok":false,"error":"service_unavailable"})", 503));
  slack_->stop();
  telegram_->stop();
}

}  // namespace roundup::soak
