#!/usr/bin/env bash
# The shell completions and man pages of a release, from a binary that runs
# on this machine: packaging/docs.sh BINARY OUTDIR writes
# OUTDIR/appform-completions-and-man.tar.gz (completions/ for bash, zsh,
# fish, PowerShell and elvish; man/ with appform.1 and one page per command)
# and its .sha256.
set -euo pipefail
binary=${1:?usage: docs.sh BINARY OUTDIR}
out=${2:?usage: docs.sh BINARY OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/appform-completions-and-man"
mkdir -p "$stage/completions" "$stage/man"
"$binary" completions bash >"$stage/completions/appform.bash"
"$binary" completions zsh >"$stage/completions/_appform"
"$binary" completions fish >"$stage/completions/appform.fish"
"$binary" completions powershell >"$stage/completions/_appform.ps1"
"$binary" completions elvish >"$stage/completions/appform.elv"
"$binary" --quiet man --dir "$stage/man"
archive=appform-completions-and-man.tar.gz
tar -C "$work" -czf "$out/$archive" appform-completions-and-man
cd "$out"
if command -v sha256sum >/dev/null; then
  sha256sum "$archive" >"$archive.sha256"
else
  shasum -a 256 "$archive" >"$archive.sha256"
fi
echo "$out/$archive"
