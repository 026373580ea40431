#include "bot/leader_lease.h"

#include <unistd.h>

#include <array>
#include <utility>

#include "telemetry/log.h"

namespace roundup::bot {

LeaderLease::LeaderLease(Leases& leases, std::string name, std::string owner, std::chrono::milliseconds ttl,
                         std::function<std::int64_t()> now_ms, std::string component)
    : leases_(leases),
      name_(std::move(name)),
      owner_(std::move(owner)),
      ttl_(ttl),
      now_ms_(std::move(now_ms)),
      component_(std::move(component)) {}

bool LeaderLease::hold() {
  try {
    const bool held = leases_.hold_lease(name_, owner_, now_ms_(), ttl_.count());
    become(held ? Role::leader : Role::standby, {});
    return held;
  } catch (const std::exception& error) {
    become(Role::unreachable, error.what());
    return false;
  }
}

void LeaderLease::release() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (role_ != Role::leader) return;
    role_ = Role::unknown;
  }
  // Outside the mutex: held() (readiness) must not wait on the store.
  try {
    leases_.release_lease(name_, owner_);
  } catch (const std::exception& error) {
    // It expires on its own within ttl.
    log::warn(component_, "cannot release the lease; it expires by itself",
              {{"lease", name_}, {"error", error.what()}});
  }
}

bool LeaderLease::held() const {
  std::lock_guard lock(mutex_);
  return role_ == Role::leader;
}

void LeaderLease::become(Role role, const std::string& detail) {
  std::lock_guard lock(mutex_);
  if (role == role_) return;
  role_ = role;
  switch (role) {
    case Role::leader:
      log::info(component_, "this replica holds the lease and does the job", {{"lease", name_}, {"replica", owner_}});
      break;
    case Role::standby:
      log::info(component_, "another replica holds the lease; standing by", {{"lease", name_}, {"replica", owner_}});
      break;
    case Role::unreachable:
      log::error(component_, "cannot reach the state store to hold the lease; not doing the job until it answers",
                 {{"lease", name_}, {"error", detail}});
      break;
    case Role::unknown: break;
  }
}

std::string make_replica_id(std::string_view data_dir) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  // FNV-1a: the same directory gives the same id in every build and run.
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : data_dir) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string suffix;
  for (int shift = 60; shift >= 0; shift -= 4) suffix += k_hex[(hash >> shift) & 0xF];
  return std::string(host.data()) + ":" + suffix;
}

}  // namespace roundup::bot
