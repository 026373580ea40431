#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, every library instrumented) in build-fuzz/ and
# runs each for a bounded time as a ctest; fuzz/README.md lists them and what each checks.
#   scripts/fuzz.sh          each target for FUZZ_SECONDS (default 30)
#   scripts/fuzz.sh 300      each target for 300 s
# A failing target leaves its reproducer in build-fuzz/artifacts/<target>/ (the test prints the
# path); run the target on that file to reproduce it. Needs clang and libFuzzer: scripts/setup.sh
# installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
seconds=${1:-30}

if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DROUNDUP_FUZZ=ON -DROUNDUP_BUILD_TESTS=OFF >/dev/null
fi
cmake "$build_dir" -DFUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build_dir" --target fuzz -j "$(nproc)"
ctest --test-dir "$build_dir" --no-tests=error --output-on-failure -j "$(nproc)"
