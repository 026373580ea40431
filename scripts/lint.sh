#!/usr/bin/env bash
# clang-format (check only) and clang-tidy over the project's sources, using build/'s
# compile_commands.json (scripts/setup.sh configures build/). Exit non-zero on any finding.
# scripts/test.sh runs it first; about 5 minutes on 2 cores (bench/RESULTS.md, CI time).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h')
# std::regex backtracks: its time and stack grow with the text, and one long chat message crashed
# the bot with it (issue 12). Use RE2 (re2/re2.h) or a plain scanner.
if grep -nE '^\s*#\s*include\s*<regex>' "${files[@]}"; then
  echo "lint: <regex> is not allowed (use RE2 or a plain scanner)" >&2
  exit 1
fi
clang-format --dry-run --Werror "${files[@]}"
mapfile -t sources < <(git ls-files 'text/*.cpp' 'telemetry/*.cpp' 'config/*.cpp' 'storage/*.cpp' 'retrieval/*.cpp' 'bot/*.cpp' 'adapters/*.cpp')
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null
echo "lint: clean"
