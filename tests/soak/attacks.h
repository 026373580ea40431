#pragma once
// Hostile connections against the bot's HTTP port, on one thread with non-blocking sockets:
//  - slowloris: a request header trickled one byte at a time, never finished;
//  - idle flood: connections opened and left silent, more of them than the per-peer cap.
// Each kind comes from its own loopback address (127.0.0.3, 127.0.0.2), so the per-peer cap it
// runs into is its own and not that of the legitimate load from 127.0.0.1. A connection the
// server closes is opened again; the port may change (the bot restarts) and may be 0 (down).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace roundup::soak {

struct AttackOptions {
  int slowloris_connections = 16;
  std::chrono::milliseconds slowloris_byte_every{200};
  int idle_connections = 300;
  std::string slowloris_source = "127.0.0.3";
  std::string idle_source = "127.0.0.2";
  // A connection still open this long after it connected was not shed by the server.
  std::chrono::milliseconds give_up_after{30000};
};

struct AttackFigures {
  std::uint64_t slowloris_opened = 0;
  std::uint64_t slowloris_shed = 0;   // closed by the server
  std::uint64_t slowloris_bytes = 0;  // header bytes trickled in all
  double slowloris_max_held_ms = 0;   // the longest a trickling connection stayed open
  std::string slowloris_longest;      // when it opened and closed (UTC), its port and bytes sent
  std::uint64_t idle_opened = 0;
  std::uint64_t idle_refused = 0;  // closed by the server within a second (a connection cap)
  std::uint64_t idle_shed = 0;     // closed by the server later (its idle timeout)
  double idle_max_held_ms = 0;
  std::uint64_t never_shed = 0;        // connections we closed after give_up_after: a failure
  std::uint64_t connect_failures = 0;  // refused / reset while connecting (the bot down)
};

class Attacks {
 public:
  // `port` is read before each connect (0 = the bot is down: wait).
  Attacks(AttackOptions options, std::function<unsigned short()> port);
  ~Attacks();  // stop()
  Attacks(const Attacks&) = delete;
  Attacks& operator=(const Attacks&) = delete;

  void start();
  void stop();
  AttackFigures figures() const;

 private:
  void run();

  AttackOptions options_;
  std::function<unsigned short()> port_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  AttackFigures figures_;
  std::thread thread_;
};

}  // namespace roundup::soak
