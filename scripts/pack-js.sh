#!/usr/bin/env bash
# Builds the npm package and packs it with `npm pack`: DEST/safeconv-web-VERSION.tgz (default
# dest: dist/), VERSION being the one in Cargo.toml (build-js.sh checks package.json against it).
# Prints the tarball's path on stdout.
#
#   scripts/pack-js.sh [DEST]
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

dest="${1:-$ROOT/dist}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

"$ROOT/scripts/build-js.sh" >&2
log "npm pack → $dest"
name="$(cd "$ROOT/bindings/js" && npm pack --silent --pack-destination "$dest" | tail -n1)"
echo "$dest/$name"
