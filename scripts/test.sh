#!/usr/bin/env bash
# Runs the whole test suite: unit and integration tests (doctest via ctest), the project's own
# retrieval-quality bars and, when ../shared/eval is beside the project, the shared dev set.
# First clang-format and clang-tidy (scripts/lint.sh, over build/'s compile commands), then an
# ASan+UBSan build of the tests, then every fuzz target for 30 s (scripts/fuzz.sh) and
# a 60 s soak of the service under faults (scripts/soak.sh); the last line printed is ctest's
# summary of the release build.
#   SKIP_LINT=1 scripts/test.sh         without clang-format and clang-tidy
#   SKIP_SANITIZERS=1 scripts/test.sh   without the ASan+UBSan build
#   SKIP_FUZZ=1 scripts/test.sh         without the fuzz targets' timed runs
#   SKIP_SOAK=1 scripts/test.sh         without the soak
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${SKIP_LINT:-0}" = 1 ] || scripts/lint.sh
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  BUILD_DIR=build-asan BUILD_TYPE=Debug SANITIZE=1 scripts/setup.sh
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --no-tests=error --output-on-failure -j "$(nproc)" -E shared_eval_dev_questions
fi
[ "${SKIP_FUZZ:-0}" = 1 ] || scripts/fuzz.sh
[ "${SKIP_SOAK:-0}" = 1 ] || scripts/soak.sh 60
ctest --test-dir build --no-tests=error --output-on-failure -j "$(nproc)"
