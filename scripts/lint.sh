#!/usr/bin/env bash
# clang-format (check only) and clang-tidy over the project's sources, using build/'s
# compile_commands.json. Exit non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
clang-format --dry-run --Werror "${files[@]}"
mapfile -t sources < <(git ls-files 'config/*.cpp' 'retrieval/*.cpp' 'bot/*.cpp' 'adapters/*.cpp')
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clean"
