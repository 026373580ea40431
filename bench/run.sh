#!/usr/bin/env bash
# Retrieval benchmarks: the bundled corpus and a synthetic corpus of 100,000 papers.
# Prints one JSON line per phase; record the figures in bench/RESULTS.md.
#   bench/run.sh [PAPERS]      (default 100000; needs a release build in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
papers=${1:-100000}
bin=build/roundup-bench
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
