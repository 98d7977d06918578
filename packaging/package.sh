#!/usr/bin/env bash
# The release archive of one target, and its checksum line:
#   packaging/package.sh TARGET BINARY OUTDIR
# writes OUTDIR/appform-TARGET.tar.gz (.zip for Windows targets) holding
# appform-TARGET/{appform[.exe],LICENSE,README.md,CHANGELOG.md}, and
# OUTDIR/appform-TARGET.(tar.gz|zip).sha256 in `sha256sum` format.
# The release workflow (.github/workflows/release.yml) runs it for every
# target; tests/it/packaging.rs runs it on the test build.
set -euo pipefail
target=${1:?usage: package.sh TARGET BINARY OUTDIR}
binary=${2:?usage: package.sh TARGET BINARY OUTDIR}
out=${3:?usage: package.sh TARGET BINARY OUTDIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
name="appform-$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/$name"
cp "$binary" "$work/$name/"
cp "$repo/LICENSE" "$repo/README.md" "$repo/CHANGELOG.md" "$work/$name/"
case "$target" in
  *windows*)
    archive="$name.zip"
    (cd "$work" && 7z a -tzip -bso0 "$out/$archive" "$name")
    ;;
  *)
    archive="$name.tar.gz"
    tar -C "$work" -czf "$out/$archive" "$name"
    ;;
esac
cd "$out"
if command -v sha256sum >/dev/null; then
  sha256sum "$archive" >"$archive.sha256"
else
  shasum -a 256 "$archive" >"$archive.sha256"
fi
echo "$out/$archive"
