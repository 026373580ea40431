#include "adapters/service/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace roundup::adapters::service {

namespace {

// The kernel's per-process ceiling, for a hard limit of RLIM_INFINITY (setrlimit refuses more).
rlim_t kernel_ceiling() {
  std::ifstream nr_open("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  if (nr_open >> value && value > 0) return static_cast<rlim_t>(value);
  return 1U << 20U;  // Linux's default nr_open
}

}  // namespace

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? kernel_ceiling() : limit.rlim_max;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) return limit.rlim_cur;
  rlimit raised = limit;
  raised.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  return limit.rlim_cur;
}

std::size_t connection_cap(std::size_t configured, std::uint64_t soft_limit) {
  const std::uint64_t available = soft_limit > k_reserved_descriptors ? soft_limit - k_reserved_descriptors : 0;
  const auto fitted = static_cast<std::size_t>(std::min<std::uint64_t>(configured, available));
  return std::max(fitted, k_min_connection_cap);
}

}  // namespace roundup::adapters::service
