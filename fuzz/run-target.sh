#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time; the ctest of each target (fuzz/CMakeLists.txt).
#   run-target.sh BINARY SECONDS ARTIFACT_DIR SCRATCH_CORPUS [SEED_DIR|-flag ...]
# New inputs go to SCRATCH_CORPUS (libFuzzer writes into the first corpus directory it is given,
# so the committed seeds, read only, come after it). A crash, leak, timeout or broken property
# fails the test and leaves its reproducer in ARTIFACT_DIR; the paths are printed at the end.
set -uo pipefail

binary=$1 seconds=$2 artifacts=$3 scratch=$4
shift 4
mkdir -p "$artifacts" "$scratch"
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT

"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$scratch" "$@"
status=$?
if [ "$status" -ne 0 ]; then
  echo "fuzz: $(basename "$binary") failed (exit $status); reproducers:" >&2
  find "$artifacts" -type f -newer "$stamp" | while read -r reproducer; do
    echo "  $reproducer  (reproduce: $binary $reproducer)" >&2
  done
fi
exit "$status"
