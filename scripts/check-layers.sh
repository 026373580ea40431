#!/usr/bin/env bash
# The layering rules of docs/ARCHITECTURE.md, checked on the sources (a ctest: `layers`). Every
# library includes from the same root, so the compiler alone would let a lower layer reach up;
# this makes such an include fail CI instead.
#   text, telemetry          <- nothing of ours but each other
#   storage                  <- text, telemetry (the *_state_store.* files also implement bot's ports)
#   config, retrieval        <- text, telemetry, storage (retrieval), config
#   bot                      <- text, telemetry, config, retrieval; no SQLite, Beast, Asio, OpenSSL
#   adapters                 <- anything below; among themselves, as the rules for adapters/ say
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
forbid storage 'bot/' "the core (only the implementations of its ports may)" '^storage/(sqlite|postgres)_state_store\.(h|cpp):'
forbid retrieval 'bot/' 'the bot core (retrieval sits below it)'
forbid config 'bot/|retrieval/|storage/' 'higher layers'
forbid bot 'sqlite3\.h|storage/|boost/|openssl/' 'SQLite, storage/, Boost (Beast, Asio) or OpenSSL (the core is infrastructure-free)'

# Inside adapters/, each library includes only what it links: the HTTP transport knows no
# platform; a platform knows HTTP, the registry's interface and itself, never another platform;
# the service reaches platforms only through its registry (the one line per platform); the
# terminal adapter talks to the core alone.
forbid adapters/http 'adapters/(slack|telegram|model|service|cli|terminal)/' 'other adapters (the transport knows no platform)'
for platform in $(cd adapters && ls -d */ | tr -d / | grep -vxE 'http|model|service|cli|terminal'); do
  others=$(cd adapters && ls -d */ | tr -d / | grep -vxE "http|service|$platform" | paste -sd'|')
  forbid "adapters/$platform" "adapters/($others)/" 'another platform or the command line'
  forbid "adapters/$platform" 'adapters/service/' 'the service (only its platform_registry.h)' \
    'adapters/service/platform_registry\.h'
done
forbid adapters/service 'adapters/(cli|terminal)/' 'the command line'
# The model adapter (language model, remote embeddings) speaks HTTP and implements core ports; the
# composition root (cli, service) wires it in, and no platform knows it.
forbid adapters/model 'adapters/(slack|telegram|service|cli|terminal)/' 'a platform, the service or the command line'
forbid adapters/service 'adapters/[a-z_]+/[a-z_]+_(platform|config)\.h' \
  'a platform (only the registry does)' '^adapters/service/platform_registry\.cpp:'
forbid adapters/terminal 'adapters/' 'other adapters (it talks to the core)' '[<"]adapters/terminal/'

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
