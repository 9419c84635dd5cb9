#!/usr/bin/env bash
# Builds every release artefact into dist/ (or DEST), each carrying the version of Cargo.toml:
#
#   safeconv-VERSION-py3-none-PLATFORM.whl      Python wheel (maturin, stripped library)
#   safeconv-web-VERSION.tgz                    npm package (`npm pack`)
#   safeconv-kotlin-VERSION.jar                 Kotlin/JVM: classes + stripped library for JNA
#   safeconv-c-VERSION-linux-ARCH.tar.gz        C: header, libraries, pkg-config and CMake files
#
#   scripts/package.sh [DEST]
#
# The Swift package is used from source (SwiftPM, by path; scripts/build-swift.sh installs the
# library it links). Each artefact comes from its own script (scripts/pack-*.sh), the same one
# the language's tests install from; CI builds them there, so this is the whole release build.
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

dest="${1:-$ROOT/dist}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"

artefacts=()
for language in python js kotlin c; do
  log "scripts/pack-$language.sh $dest"
  artefacts+=("$("$ROOT/scripts/pack-$language.sh" "$dest" | tail -n1)")
done

status=0
echo
echo "safeconv $version, in $dest:"
for artefact in "${artefacts[@]}"; do
  name="$(basename "$artefact")"
  if [ ! -f "$artefact" ]; then
    echo "  missing: $artefact" >&2
    status=1
  elif [[ "$name" != *"-$version"[-.]* ]]; then
    echo "  $name does not carry the version $version" >&2
    status=1
  else
    printf '  %-48s %10d bytes\n' "$name" "$(wc -c <"$artefact")"
  fi
done
exit "$status"
