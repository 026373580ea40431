#!/usr/bin/env bash
# Validates the deployment files in deploy/ without Docker or a cluster (neither is available to
# CI): systemd-analyze verify and an offline security score for the unit, then
# scripts/validate-deploy.mjs for compose.yaml and compose.ha.yaml (Compose schema), k8s/ and
# k8s/ha/ (Kubernetes schemas and cross-references), haproxy/haproxy.cfg (against the replicas it
# balances), the Dockerfile (linter, structure, runtime libraries against the binary),
# config.example.json's and config.ha.json's agreement with all of them, and both configs
# through the binary's `config check`. Run by ctest as deploy_files_valid.
#   scripts/validate-deploy.sh [BINARY]     (default: build/roundup-bot)
# Needs systemd-analyze (Debian package systemd), readelf, ldd, dpkg, node and the npm packages
# in tools/ (scripts/setup.sh installs all of them). Missing tools fail, they never skip.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=$(realpath "${1:-build/roundup-bot}")
prog=validate-deploy
die() { printf '%s: %s\n' "$prog" "$*" >&2; exit 2; }

[[ -x "$binary" ]] || die "no executable roundup-bot at $binary (build first, or pass its path)"
for tool in systemd-analyze node readelf ldd dpkg; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/setup.sh"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/validate-deploy.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# systemd-analyze verify checks that ExecStart's binary exists and is executable, so verify a copy
# of the unit that points at the built binary instead of /usr/local/bin/roundup-bot.
unit=deploy/systemd/roundup-bot.service
sed "s#/usr/local/bin/roundup-bot#${binary}#g" "$unit" >"$work/roundup-bot.service"
# verify reports unknown directives and bad values only as messages: any output is a failure.
if ! systemd-analyze verify --man=no "$work/roundup-bot.service" >"$work/verify.log" 2>&1 || [[ -s "$work/verify.log" ]]; then
  sed "s#$work/#$(dirname "$unit")/#g" "$work/verify.log" >&2
  echo "$prog: systemd-analyze verify rejects $unit" >&2
  exit 1
fi
# The hardening, scored offline (shown as 0.0 = locked down .. 10.0 = none; --threshold counts
# tenths): fail if it regresses past 2.0.
if ! systemd-analyze security --offline=true --threshold=20 --no-pager "$work/roundup-bot.service" \
    >"$work/security.log" 2>&1; then
  grep -F '✗' "$work/security.log" >&2 || true
  tail -n 1 "$work/security.log" >&2
  echo "$prog: $unit: systemd-analyze security exposure above 2.0" >&2
  exit 1
fi
echo "$prog: $unit: systemd-analyze verify OK; $(tail -n 1 "$work/security.log" | sed 's/^→ //')"

node scripts/validate-deploy.mjs --binary "$binary"
