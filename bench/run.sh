#!/usr/bin/env bash
# Benchmarks. Record the figures in bench/RESULTS.md.
#   bench/run.sh [PAPERS]   retrieval (bundled + synthetic corpus of PAPERS papers, default 100000),
#                           then the service (webhook ack and event-to-reply, Slack and Telegram)
#   bench/run.sh service    the service benchmarks only, on SQLite and on PostgreSQL (a throwaway
#                           cluster; SERVICE_STATES="sqlite" for one)
#   bench/run.sh wal        WAL commit latency by checkpointing mode (the state database's file
#                           system is TMPDIR's, default /tmp)
# Needs a release build with the tests enabled in build/ (or BUILD_DIR=...).
# Retrieval prints one JSON line per phase; the service benchmark prints a table per platform.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}

service_bench() {
  # The real service in-process (127.0.0.1 only) against the tests' fake Slack / Telegram API
  # over TLS; each load phase stops after its count or 10 s. Temporary files are removed on exit.
  cmake --build "$build" --target roundup-service-bench >/dev/null
  echo "# service: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  for state in ${SERVICE_STATES:-sqlite postgresql}; do
    for platform in slack telegram; do
      "$build/roundup-service-bench" "$platform" --state "$state" --connections 64 --events 200000 --latency-events 200
      echo
    done
  done
}

if [ "${1:-}" = wal ]; then
  cmake --build "$build" --target roundup-wal-commit-bench >/dev/null
  "$build/roundup-wal-commit-bench"
  exit 0
fi

if [ "${1:-}" = service ]; then
  service_bench
  exit 0
fi

papers=${1:-100000}
bin=$build/roundup-bench
# BENCH_DIR keeps the corpora and indexes for profiling; by default a temporary folder.
if [ -n "${BENCH_DIR:-}" ]; then
  work=$BENCH_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

echo "# bundled corpus (data/roundups), questions: tests/data/retrieval-questions.jsonl x5"
$bin build --corpus data/roundups --data "$work/bundled" --lexicon data/lexicon
$bin query --corpus data/roundups --data "$work/bundled" --lexicon data/lexicon \
  --questions tests/data/retrieval-questions.jsonl --repeat 5

echo "# synthetic corpus: $papers papers, 500 generated queries"
python3 bench/make_synthetic_corpus.py "$work/syn" --papers "$papers" --queries-file "$work/queries.jsonl" >&2
$bin build --corpus "$work/syn" --data "$work/syn-data" --lexicon data/lexicon
$bin query --corpus "$work/syn" --data "$work/syn-data" --lexicon data/lexicon --questions "$work/queries.jsonl"

echo "# service benchmarks"
service_bench
