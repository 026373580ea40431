#pragma once
// The service's file descriptor budget. Every connection the HTTP server holds costs one, and so
// does every outbound call (Slack and Telegram APIs, long polling), the state database and the
// index: when inbound connections use them all, health checks, deliveries and polling fail with
// EMFILE. So the service raises its soft limit as far as it may and keeps the connection caps
// under it, with a reserve for everything that is not an inbound connection.

#include <cstddef>
#include <cstdint>

namespace roundup::adapters::service {

// Descriptors kept for outbound calls, the database, the index, logs and the metrics listener.
inline constexpr std::size_t k_reserved_descriptors = 256;
// The fewest inbound connections the service will run with, however low the limit.
inline constexpr std::size_t k_min_connection_cap = 16;

// Raises RLIMIT_NOFILE's soft limit to its hard limit (systemd units start at 1,024 soft) and
// returns the soft limit now in force; when the hard limit is unlimited, the soft limit goes as
// high as the kernel allows (nr_open). Never throws: a limit it cannot change is returned as is.
std::uint64_t raise_descriptor_limit();

// The inbound connection cap to use: `configured`, lowered to what `soft_limit` leaves after the
// reserve, and never below k_min_connection_cap.
std::size_t connection_cap(std::size_t configured, std::uint64_t soft_limit);

}  // namespace roundup::adapters::service
