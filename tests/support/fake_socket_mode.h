#pragma once
// A fake Slack Socket Mode endpoint for integration tests: a websocket server over TLS on
// 127.0.0.1 (certificate from the test CA unless told otherwise) on its own thread. It says hello
// on every new connection, records every frame the client sends (the acks), and lets a test push
// frames, ask for a reconnect ("disconnect") or drop the connection abruptly. Tests wait on its
// Signal; nothing sleeps.

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/test_tls.h"
#include "tests/support/wait.h"

namespace roundup::testing {

// One text frame received from the client.
struct ReceivedFrame {
  std::size_t connection = 0;  // 1 for the first websocket connection, 2 for the next, ...
  std::string text;
  nlohmann::json message;  // parsed `text`; discarded (is_discarded()) if it was not JSON
};

// The client's websocket upgrade request, as received.
struct UpgradeRequest {
  std::string target;  // "/link?ticket=test"
  std::string host;    // the Host header
};

class FakeSocketMode {
 public:
  // Serves `certificate`, or test_pki()'s 127.0.0.1 server certificate when it is empty.
  explicit FakeSocketMode(TestCertificate certificate = {});
  // Closes every connection abruptly and joins the thread.
  ~FakeSocketMode();

  FakeSocketMode(const FakeSocketMode&) = delete;
  FakeSocketMode& operator=(const FakeSocketMode&) = delete;

  // "wss://127.0.0.1:<port>/link?ticket=test".
  std::string url() const;
  unsigned short port() const;

  // Queue a frame to the newest open connection (frames go out in call order, after its hello).
  // Dropped if no connection is open: wait for one first.
  void send(const nlohmann::json& message);
  void send_text(std::string text);
  // To connection `connection` (1-based, as in ReceivedFrame) while it is open; dropped otherwise.
  void send_to(std::size_t connection, const nlohmann::json& message);
  // {"type":"disconnect","reason":reason,...} to the newest connection.
  void disconnect(const std::string& reason = "refresh_requested");
  // Resets the newest connection's TCP connection: no close frame, no TLS close_notify.
  void drop();
  // The newest connection stops reading once the next frame from the client has arrived, so the
  // client's pings go unanswered from then on (a silent, half-dead connection).
  void stop_reading_after_next_frame();
  // Whether new connections get a hello (default true).
  void say_hello(bool enabled);
  // Sends the hello to connection `connection` (after say_hello(false)).
  void hello(std::size_t connection);

  // All under the signal's lock; the waits return false only after Signal's safety deadline.
  std::size_t accepted();          // TCP connections accepted, including failed TLS handshakes
  std::size_t connections();       // websocket connections opened (each got a hello)
  std::size_t closed_by_client();  // connections the client ended with a websocket close frame
  std::vector<ReceivedFrame> received();
  std::vector<UpgradeRequest> upgrades();
  // What happened to the connections, in order: "open N" (websocket accepted), "hello N" (the
  // hello was written), "client close N" (the client's close frame arrived).
  std::vector<std::string> history();
  // The first frame {"envelope_id": envelope_id, ...} received, if any.
  std::optional<ReceivedFrame> ack(const std::string& envelope_id);
  bool wait_accepted(std::size_t count);
  bool wait_connections(std::size_t count);
  bool wait_closed_by_client(std::size_t count);
  bool wait_ack(const std::string& envelope_id);
  bool wait_history(const std::string& event);  // an entry of history()

  // Notified on every accept, connection, received frame and closed connection.
  Signal signal;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::testing
