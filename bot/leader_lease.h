#pragma once
// One replica at a time does a singleton job, such as long-polling Telegram (which answers 409 to
// a second consumer of a token): the replica holding a named lease (bot::Leases). The job calls
// hold() before each round; the holder renews, the others stand by and try again, and when the
// holder dies its lease expires and the next try of another replica takes over. So failover takes
// at most ttl plus one stand-by interval.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "bot/state_store.h"

namespace roundup::bot {

class LeaderLease {
 public:
  // `component` names the job in logs ("telegram"); `owner` is this replica's id; `now_ms` the wall
  // clock (Unix ms).
  LeaderLease(Leases& leases, std::string name, std::string owner, std::chrono::milliseconds ttl,
              std::function<std::int64_t()> now_ms, std::string component);

  // Takes or renews the lease. True while this replica holds it; false while another does, or
  // when the store cannot be asked (then nobody here does the job until it can). Logs changes of
  // role once each, not every round.
  bool hold();
  // Lets go of the lease if held (a clean stop hands the job over at once). Never throws.
  void release() noexcept;
  // What the last hold() found.
  bool held() const;

  const std::string& name() const { return name_; }
  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  enum class Role { unknown, leader, standby, unreachable };
  void become(Role role, const std::string& detail);

  Leases& leases_;
  const std::string name_;
  const std::string owner_;
  const std::chrono::milliseconds ttl_;
  const std::function<std::int64_t()> now_ms_;
  const std::string component_;
  mutable std::mutex mutex_;
  Role role_ = Role::unknown;
};

// This replica's id for leases: "<host>:<hash of data_dir>". Stable across restarts on purpose: a
// process restarted after a crash finds its own unexpired lease and carries on at once, instead
// of standing by for the ttl behind its previous self. Replicas differ by host or data_dir.
std::string make_replica_id(std::string_view data_dir);

}  // namespace roundup::bot
