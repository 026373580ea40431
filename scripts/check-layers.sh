#!/usr/bin/env bash
# The layering rules of docs/ARCHITECTURE.md, checked on the sources (a ctest: `layers`). Every
# library includes from the same root, so the compiler alone would let a lower layer reach up;
# this makes such an include fail CI instead.
#   text, telemetry          <- nothing of ours but each other
#   storage                  <- text, telemetry (sqlite_state_store.* also implements bot's ports)
#   config, retrieval        <- text, telemetry, storage (retrieval), config
#   bot                      <- text, telemetry, config, retrieval; no SQLite, Beast, Asio, OpenSSL
#   adapters                 <- anything
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
# forbid DIR PATTERN WHY [EXCEPT_REGEX]: no #include matching PATTERN in DIR's sources.
forbid() {
  local dir=$1 pattern=$2 why=$3 except=${4:-}
  local hits
  hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" "$dir" \
           --include='*.h' --include='*.cpp' || true)
  if [ -n "$except" ] && [ -n "$hits" ]; then hits=$(grep -vE "$except" <<<"$hits" || true); fi
  if [ -n "$hits" ]; then
    echo "layers: $dir must not include $why:" >&2
    echo "$hits" >&2
    failures=$((failures + 1))
  fi
}

for dir in text telemetry storage config retrieval bot; do
  forbid "$dir" 'adapters/' 'adapters/ (the core and its libraries know no platform or transport)'
done
forbid text 'bot/|retrieval/|config/|storage/' 'higher layers'
forbid telemetry 'bot/|retrieval/|config/|storage/' 'higher layers'
forbid storage 'retrieval/|config/' 'higher layers'
forbid storage 'bot/' "the core (only the SQLite implementation of its ports may)" '^storage/sqlite_state_store\.(h|cpp):'
forbid retrieval 'bot/' 'the bot core (retrieval sits below it)'
forbid config 'bot/|retrieval/|storage/' 'higher layers'
forbid bot 'sqlite3\.h|storage/|boost/|openssl/' 'SQLite, storage/, Boost (Beast, Asio) or OpenSSL (the core is infrastructure-free)'

# The core's CMake target links none of them either.
if grep -nE 'SQLite|OpenSSL|Boost|roundup_storage|roundup_http|roundup_state' bot/CMakeLists.txt >&2; then
  echo "layers: bot/CMakeLists.txt links infrastructure (above)" >&2
  failures=$((failures + 1))
fi

if ((failures)); then
  echo "layers: $failures rule(s) broken" >&2
  exit 1
fi
echo "layers: ok"
