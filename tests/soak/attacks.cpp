#include "tests/soak/attacks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/soak/utc_text.h"

namespace roundup::soak {
namespace {

using Clock = std::chrono::steady_clock;

// Trickled byte by byte, then 'a' for ever: the header never ends.
constexpr std::string_view k_slow_header =
    "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slowloris: ";

struct Connection {
  bool slow = false;
  int fd = -1;
  bool open = false;  // connected (else connecting, when fd >= 0)
  unsigned short port = 0;
  Clock::time_point opened{};
  Clock::time_point next{};  // slow: next byte; closed: next connect
  std::size_t sent = 0;
};

// "HH:MM:SS.mmm" UTC.
std::string utc_time(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
  return utc_text(at, "%H:%M:%S") + "." + std::to_string(1000 + ms).substr(1);
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

int connect_from(const std::string& source, unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &local.sin_addr);
  // Another loopback address: its own peer for the server's per-peer cap. Without it (a
  // machine where only 127.0.0.1 answers) the connection still comes, from 127.0.0.1.
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

Attacks::Attacks(AttackOptions options, std::function<unsigned short()> port)
    : options_(std::move(options)), port_(std::move(port)) {}

Attacks::~Attacks() {
  stop();
}

void Attacks::start() {
  thread_ = std::thread([this] { run(); });
}

void Attacks::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

AttackFigures Attacks::figures() const {
  std::lock_guard lock(mutex_);
  return figures_;
}

void Attacks::run() {
  std::vector<Connection> connections(
      static_cast<std::size_t>(options_.slowloris_connections + options_.idle_connections));
  for (int i = 0; i < options_.slowloris_connections; ++i) connections[static_cast<std::size_t>(i)].slow = true;

  const auto close_connection = [&](Connection& c, bool by_server, Clock::time_point now) {
    const double held = ms_between(c.opened, now);
    // A close because the bot went down (the deliberate kill) says nothing about its timeouts.
    const bool restart = port_() != c.port;
    {
      std::lock_guard lock(mutex_);
      if (!c.open) {
        ++figures_.connect_failures;
      } else if (!by_server) {
        ++figures_.never_shed;
      } else if (!restart && c.slow) {
        ++figures_.slowloris_shed;
        if (held > figures_.slowloris_max_held_ms) {
          figures_.slowloris_max_held_ms = held;
          figures_.slowloris_longest = utc_time(std::chrono::system_clock::now() - (now - c.opened)) + " to " +
                                       utc_time(std::chrono::system_clock::now()) + ", port " + std::to_string(c.port) +
                                       ", " + std::to_string(c.sent) + " bytes";
        }
      } else if (!restart && held < 1000) {
        ++figures_.idle_refused;
      } else if (!restart) {
        ++figures_.idle_shed;
        figures_.idle_max_held_ms = std::max(figures_.idle_max_held_ms, held);
      }
    }
    const bool refused = c.open && !c.slow && held < 1000;
    const bool failed = !c.open;
    ::close(c.fd);
    c.fd = -1;
    c.open = false;
    c.sent = 0;
    // Refused or failed: come back in a while rather than spin on a full server or a dead port.
    c.next = now + (failed || !by_server || refused || restart ? std::chrono::milliseconds(1000)
                                                               : std::chrono::milliseconds(0));
  };

  std::vector<pollfd> polled;
  std::vector<std::size_t> polled_index;
  while (!stopping_) {
    auto now = Clock::now();
    const unsigned short port = port_();
    auto wake = now + std::chrono::milliseconds(50);
    polled.clear();
    polled_index.clear();
    for (std::size_t i = 0; i < connections.size(); ++i) {
      Connection& c = connections[i];
      if (c.fd < 0) {
        if (port == 0 || now < c.next) continue;
        c.fd = connect_from(c.slow ? options_.slowloris_source : options_.idle_source, port);
        c.port = port;
        c.opened = now;
        if (c.fd < 0) {
          std::lock_guard lock(mutex_);
          ++figures_.connect_failures;
          c.next = now + std::chrono::milliseconds(500);
          continue;
        }
      }
      if (c.open && now - c.opened > options_.give_up_after) {
        close_connection(c, false, now);
        continue;
      }
      if (c.open && c.slow && now >= c.next) {
        const char byte = c.sent < k_slow_header.size() ? k_slow_header[c.sent] : 'a';
        if (::send(c.fd, &byte, 1, MSG_NOSIGNAL) == 1) {
          ++c.sent;
          std::lock_guard lock(mutex_);
          ++figures_.slowloris_bytes;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
          close_connection(c, true, now);
          continue;
        }
        c.next = now + options_.slowloris_byte_every;
      }
      if (c.open && c.slow) wake = std::min(wake, c.next);
      polled.push_back({c.fd, static_cast<short>(c.open ? POLLIN : POLLOUT), 0});
      polled_index.push_back(i);
    }
    const auto timeout = std::max<long>(0, std::chrono::ceil<std::chrono::milliseconds>(wake - now).count());
    const int ready = ::poll(polled.data(), polled.size(), static_cast<int>(timeout));
    if (ready <= 0) continue;
    now = Clock::now();
    for (std::size_t k = 0; k < polled.size(); ++k) {
      if (polled[k].revents == 0) continue;
      Connection& c = connections[polled_index[k]];
      if (!c.open) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          close_connection(c, true, now);
          continue;
        }
        c.open = true;
        c.opened = now;
        c.next = now;
        std::lock_guard lock(mutex_);
        ++(c.slow ? figures_.slowloris_opened : figures_.idle_opened);
        continue;
      }
      char sink[512];
      const ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_connection(c, true, now);
    }
  }
  for (auto& c : connections) {
    if (c.fd >= 0) ::close(c.fd);
  }
}

}  // namespace roundup::soak
