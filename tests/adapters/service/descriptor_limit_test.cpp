// The service raises its descriptor limit and keeps its connection cap under it.

#include "adapters/service/descriptor_limit.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

namespace {

using roundup::adapters::service::connection_cap;
using roundup::adapters::service::k_min_connection_cap;
using roundup::adapters::service::k_reserved_descriptors;

// Puts the process's limit back however the test ends.
struct RestoreLimit {
  rlimit saved{};
  RestoreLimit() { getrlimit(RLIMIT_NOFILE, &saved); }
  ~RestoreLimit() { setrlimit(RLIMIT_NOFILE, &saved); }
};

}  // namespace

TEST_CASE("descriptor limit: the soft limit is raised to the hard one, as a systemd unit's 1,024 needs") {
  RestoreLimit restore;
  rlimit limit = restore.saved;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max <= 512) {
    // Nothing to raise into: the result is still the limit in force.
    CHECK(roundup::adapters::service::raise_descriptor_limit() == limit.rlim_cur);
    return;
  }
  limit.rlim_cur = 512;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &limit) == 0);
  const auto raised = roundup::adapters::service::raise_descriptor_limit();
  rlimit now{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(raised == now.rlim_cur);
  CHECK(now.rlim_cur > 512);
  if (limit.rlim_max != RLIM_INFINITY) CHECK(now.rlim_cur == limit.rlim_max);
}

TEST_CASE("descriptor limit: the connection cap leaves the reserve free and has a floor") {
  CHECK(connection_cap(1000, 1024) == 1024 - k_reserved_descriptors);
  CHECK(connection_cap(1000, 1'048'576) == 1000);
  CHECK(connection_cap(100, 1024) == 100);
  CHECK(connection_cap(1000, k_reserved_descriptors) == k_min_connection_cap);
  CHECK(connection_cap(1000, 0) == k_min_connection_cap);
}
