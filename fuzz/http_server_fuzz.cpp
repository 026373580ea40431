// libFuzzer target for the webhook server's request path: raw bytes from a peer in, the bytes the
// server writes back out (adapters/http/server.h, serve_connection_bytes: the server's own request
// loop over an in-memory stream). The handler turns parts of each request into its response
// (status, headers, content type, body), the way a careless handler could, so the server's own
// guards are what keeps the output well-formed.
//
// Properties: every request the handler sees is within the documented shape (lower-case header
// names, body within body_limit); the output parses as a sequence of HTTP responses with nothing
// left over, one per handled request plus at most one error reply (400, 413, 431) that ends the
// connection; each carries the status the handler chose (500 for one outside 200-599) and only the
// header fields the handler or the server set, so no request byte can split a header; a 204 or
// 304 has neither a body nor a Content-Length.

#include <boost/beast/http.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/http/server.h"
#include "fuzz/fuzz_support.h"

namespace {

namespace bhttp = boost::beast::http;
using roundup::adapters::http::Request;
using roundup::adapters::http::Respond;
using roundup::adapters::http::Response;

// Small, so that the fuzzer reaches the 413 path with small inputs.
constexpr std::size_t k_body_limit = 512;

// What the handler answered, in order, for checking the output against.
struct Handled {
  bool head = false;
  Response response;
};

std::string header_of(const Request& request, const std::string& name) {
  const auto found = request.headers.find(name);
  return found == request.headers.end() ? std::string() : found->second;
}

int status_from(const std::string& text) {
  int status = 200;
  if (text.empty() || text.size() > 4) return status;
  for (const char c : text)
    if (c < '0' || c > '9') return status;
  return std::stoi(text);
}

Response respond_to(const Request& request) {
  Response response;
  response.status = status_from(header_of(request, "x-status"));
  if (const std::string type = header_of(request, "x-content-type"); !type.empty()) response.content_type = type;
  response.body = request.body;
  // Header fields named by the request: "x-echo-<name>: <value>" asks for "<name>: <value>", and
  // the request target names one whose value is the body (any bytes: CR, LF, NUL).
  for (const auto& [name, value] : request.headers) {
    if (name.rfind("x-echo-", 0) == 0) response.headers.emplace_back(name.substr(7), value);
  }
  response.headers.emplace_back(request.target, request.body);
  return response;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A field value as a parser reads it: without the whitespace around it.
std::string_view trimmed(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// The fields a response may carry: what the server always sets, and the handler's own (which the
// server passes on or drops, but never rewrites). The handler's framing fields are dropped.
bool field_expected(std::string_view name, std::string_view value, const Response* handled) {
  const std::string key = lower(name);
  if (key == "server" || key == "content-length" || key == "connection" || key == "content-type") return true;
  if (handled == nullptr) return false;
  for (const auto& [set_name, set_value] : handled->headers)
    if (lower(set_name) == key && trimmed(set_value) == value && key != "transfer-encoding") return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  roundup::adapters::http::ServerOptions options;
  options.body_limit = k_body_limit;
  std::vector<Handled> handled;
  const std::string output = roundup::adapters::http::serve_connection_bytes(
      options,
      [&handled](const Request& request, Respond respond) {
        FUZZ_REQUIRE(!request.method.empty());
        FUZZ_REQUIRE(request.body.size() <= k_body_limit);
        for (const auto& [name, value] : request.headers) FUZZ_REQUIRE(name == lower(name));
        Response response = respond_to(request);
        handled.push_back({request.method == "HEAD", response});
        respond(std::move(response));
      },
      roundup::fuzz::as_text(data, size));

  std::size_t offset = 0;
  std::size_t responses = 0;
  bool error_reply = false;
  while (offset < output.size()) {
    FUZZ_REQUIRE(!error_reply);  // nothing follows an error reply
    const Handled* answer = responses < handled.size() ? &handled[responses] : nullptr;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(16 * 1024 * 1024);
    if (answer != nullptr && answer->head) parser.skip(true);
    boost::beast::error_code ec;
    offset += parser.put(boost::asio::buffer(output.data() + offset, output.size() - offset), ec);
    FUZZ_REQUIRE(!ec && parser.is_done());
    const auto& message = parser.get();
    for (const auto& field : message) {
      FUZZ_REQUIRE(field_expected(field.name_string(), field.value(), answer ? &answer->response : nullptr));
    }
    const int status = static_cast<int>(message.result_int());
    if (answer == nullptr) {
      FUZZ_REQUIRE(status == 400 || status == 413 || status == 431);
      error_reply = true;
    } else {
      const int chosen = answer->response.status;
      FUZZ_REQUIRE(status == (chosen >= 200 && chosen <= 599 ? chosen : 500));
      if (status == 204 || status == 304) {
        FUZZ_REQUIRE(message.body().empty() && message.find("content-length") == message.end());
      } else if (!answer->head && status == chosen) {
        FUZZ_REQUIRE(message.body() == answer->response.body);
      }
    }
    ++responses;
  }
  // Every handled request was answered (a close without an answer is only for an error reply).
  FUZZ_REQUIRE(responses >= handled.size());
  return 0;
}
