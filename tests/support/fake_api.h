#pragma once
// A fake platform Web API for integration tests: a TLS server on 127.0.0.1 (certificate from the
// test CA) that records every request and answers from per-path scripts. Tests wait on its
// Signal for requests to arrive; nothing sleeps.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/http/server.h"
#include "tests/support/test_tls.h"
#include "tests/support/wait.h"

namespace roundup::testing {

struct RecordedRequest {
  adapters::http::Request request;
  std::chrono::steady_clock::time_point at;
  std::string path() const { return request.target.substr(0, request.target.find('?')); }
};

class FakeApi {
 public:
  using Responder = std::function<adapters::http::Response(const adapters::http::Request&)>;

  explicit FakeApi(bool tls = true) {
    adapters::http::ServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    if (tls) {
      options.tls_cert_pem = test_pki().server_cert_pem;
      options.tls_key_pem = test_pki().server_key_pem;
    }
    server_ = std::make_unique<adapters::http::Server>(
        options, [this](const adapters::http::Request& request) { return handle(request); });
    port_ = server_->start();
    base_ = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
  }
  ~FakeApi() {
    signal.update([&] { held_.clear(); });  // a held handler would keep stop() waiting
    server_->stop();
  }

  const std::string& base() const { return base_; }
  unsigned short port() const { return port_; }

  // Default answer for a path (after its script is used up).
  void on(const std::string& path, Responder responder) {
    signal.update([&] { defaults_[path] = std::move(responder); });
  }
  // One-off answers for a path, used in order before the default.
  void script(const std::string& path, adapters::http::Response response) {
    signal.update([&] { scripts_[path].push_back(std::move(response)); });
  }

  // Requests to `path` so far (copy, taken under the lock).
  std::vector<RecordedRequest> requests(const std::string& path) {
    std::vector<RecordedRequest> out;
    signal.update([&] {
      for (const auto& r : recorded_) {
        if (r.path() == path) out.push_back(r);
      }
    });
    return out;
  }
  // Requests to `path` are recorded but not answered until release(path) (a Slack that hangs);
  // the other paths are served meanwhile.
  void hold(const std::string& path) {
    signal.update([&] { held_.insert(path); });
  }
  void release(const std::string& path) {
    signal.update([&] { held_.erase(path); });
  }

  // The path of every request so far, in the order they arrived.
  std::vector<std::string> paths() {
    std::vector<std::string> out;
    signal.update([&] {
      for (const auto& r : recorded_) out.push_back(r.path());
    });
    return out;
  }
  // Waits until `count` requests to `path` arrived; false after the safety deadline.
  bool wait_for(const std::string& path, std::size_t count) {
    return signal.wait_for([&] { return count_locked(path) >= count; });
  }

  static adapters::http::Response json_reply(const std::string& body, int status = 200) {
    adapters::http::Response response;
    response.status = status;
    response.content_type = "application/json; charset=utf-8";
    response.body = body;
    return response;
  }

  Signal signal;

 private:
  std::size_t count_locked(const std::string& path) const {
    std::size_t n = 0;
    for (const auto& r : recorded_) n += r.path() == path ? 1 : 0;
    return n;
  }

  adapters::http::Response handle(const adapters::http::Request& request) {
    adapters::http::Response response = json_reply(R"({"ok":false,"error":"unknown_method"})", 404);
    const std::string path = RecordedRequest{request, {}}.path();
    signal.update([&] {
      recorded_.push_back({request, std::chrono::steady_clock::now()});
      if (auto script = scripts_.find(path); script != scripts_.end() && !script->second.empty()) {
        response = script->second.front();
        script->second.pop_front();
      } else if (auto found = defaults_.find(path); found != defaults_.end()) {
        response = found->second(request);
      }
    });
    signal.wait_for([&] { return held_.count(path) == 0; }, std::chrono::minutes(1));
    return response;
  }

  std::unique_ptr<adapters::http::Server> server_;
  unsigned short port_ = 0;
  std::string base_;
  std::map<std::string, Responder> defaults_;
  std::map<std::string, std::deque<adapters::http::Response>> scripts_;
  std::vector<RecordedRequest> recorded_;
  std::set<std::string> held_;
};

}  // namespace roundup::testing
