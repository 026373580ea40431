#!/usr/bin/env bash
# Soak test: the real `roundup-bot serve` (two processes: Slack events + Telegram webhook, and
# Telegram long polling) against fake Slack and Telegram APIs on 127.0.0.1 over TLS with a CA
# generated for the run, under load, faults, attacks and one SIGKILL. Prints one table of figures
# and exits non-zero when a check fails. What it does and checks: docs/RELIABILITY.md.
#   scripts/soak.sh [SECONDS]          load for SECONDS (default 120), then a bounded drain
#   BUILD_DIR=build-soak scripts/soak.sh 60
# Environment: BUILD_DIR (default build; set up by scripts/setup.sh when missing), SOAK_RATE
# (questions/s, default 40), SOAK_WORK (where configurations, data and logs go; default
# $BUILD_DIR/soak-run, emptied first and kept afterwards for inspection).
# Needs nothing beyond 127.0.0.1 (the idle flood and the slowloris also use 127.0.0.2 and
# 127.0.0.3, which Linux routes to the loopback interface) and no real tokens.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-120}
case "$seconds" in '' | *[!0-9]*) echo "usage: scripts/soak.sh [SECONDS]" >&2 && exit 2 ;; esac
build_dir=${BUILD_DIR:-build}
work=${SOAK_WORK:-$build_dir/soak-run}

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  BUILD_DIR=$build_dir scripts/setup.sh
fi
# Only what the soak runs: the bot and the driver (not in `all`).
cmake --build "$build_dir" -j "$(nproc)" --target roundup-bot roundup-soak

rm -rf "$work"
mkdir -p "$work"
echo "soak: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $seconds s" >&2
# A safety net only: the driver bounds every wait itself (start-up, drain, shutdown) and takes
# its bot processes down with it when it is stopped.
exec timeout --kill-after=20 $((seconds + 600)) \
  "$build_dir/roundup-soak" --bot "$build_dir/roundup-bot" --source . --work "$work" \
  --seconds "$seconds" --rate "${SOAK_RATE:-40}"
