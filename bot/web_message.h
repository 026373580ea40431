#pragma once
// An HTTP request and response as the core sees them: plain values, no transport. The HTTP server
// (adapters/http) produces and consumes these, and a chat platform's webhook routes
// (bot/chat_platform.h) take them, so the core's ports need no network library.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace roundup::bot {

struct WebRequest {
  std::string method;
  std::string target;                          // path and query, as sent
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string remote;  // the peer's address
};

struct WebResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Sends the response; call it exactly once, from any thread.
using WebRespond = std::function<void(WebResponse)>;

}  // namespace roundup::bot
