#!/usr/bin/env bash
# High-availability demo: two `roundup-bot serve` replicas sharing a throwaway PostgreSQL 15
# cluster, against fake Slack and Telegram APIs on 127.0.0.1 (TLS, with a CA generated for the
# run). Sends QUESTIONS questions round-robin over both replicas and both platforms (10% twice),
# SIGKILLs the replica polling Telegram in the middle and restarts it once the other has taken
# polling over, has the daily digest fall due, and reindexes through one replica. Prints a table
# and exits non-zero unless every question was answered exactly once, the digest was posted once,
# only one replica polled Telegram at any time, and both replicas end on the same index generation.
#   scripts/ha-demo.sh [QUESTIONS]        default 2000, at HA_RATE questions/s (default 40)
# Environment: BUILD_DIR (default build; set up by scripts/setup.sh when missing), HA_RATE,
# HA_WORK (configurations, data and logs; default $BUILD_DIR/ha-demo-run, emptied first, kept
# afterwards). Needs PostgreSQL 15's server binaries (scripts/setup.sh installs postgresql-15);
# runs them as the `postgres` user when started as root.
set -euo pipefail
cd "$(dirname "$0")/.."

questions=${1:-2000}
case "$questions" in '' | *[!0-9]*) echo "usage: scripts/ha-demo.sh [QUESTIONS]" >&2 && exit 2 ;; esac
build_dir=${BUILD_DIR:-build}
work=${HA_WORK:-$build_dir/ha-demo-run}

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  BUILD_DIR=$build_dir BUILD_TESTS=1 scripts/setup.sh
fi
cmake --build "$build_dir" -j "$(nproc)" --target roundup-bot roundup-ha-demo

rm -rf "$work"
mkdir -p "$work"
# The cluster runs as `postgres` when this runs as root: it must be able to reach its directory.
chmod 755 "$work"
echo "ha-demo: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $questions questions" >&2
# A safety net only: the driver bounds every wait itself and takes its replicas down with it.
exec timeout --kill-after=20 $((questions / ${HA_RATE:-40} + 900)) \
  "$build_dir/roundup-ha-demo" --bot "$build_dir/roundup-bot" --source . --work "$work" \
  --questions "$questions" --rate "${HA_RATE:-40}"
