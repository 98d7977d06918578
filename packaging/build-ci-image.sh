#!/usr/bin/env bash
# Builds packaging/Containerfile.ci with buildah (no daemon, no registry) from
# an appform binary already built, then runs it as the image's non-root user:
# --version, validate and a plan of examples/ against the built-in sandbox.
# Usage: packaging/build-ci-image.sh target/debug/appform
set -euo pipefail
binary=${1:?usage: build-ci-image.sh BINARY}
cd "$(dirname "$0")/.."
context=$(mktemp -d)
ctr=""
cleanup() {
  [ -z "$ctr" ] || buildah --storage-driver vfs rm "$ctr" >/dev/null 2>&1 || true
  buildah --storage-driver vfs rmi -f appform:ci >/dev/null 2>&1 || true
  rm -rf "$context"
}
trap cleanup EXIT
root=$context/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs" "$root/tmp" "$context/work"
install -m 0755 "$binary" "$root/usr/local/bin/appform"
# git, as the release image has it (`plan --baseline` runs it).
mkdir -p "$root/usr/bin"
install -m 0755 "$(command -v git)" "$root/usr/bin/git"
# The C runtime the binary and git link (glibc, libgcc_s, zlib, pcre2, the
# loader), as ldd names it.
for lib in $( (ldd "$binary"; ldd "$(command -v git)") | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0::/:/nonexistent\nappform:x:65532:65532::/work:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nappform:x:65532:\n' >"$root/etc/group"
cp -r examples "$root/examples"
# A configuration repository for `--baseline`, owned by the image's user.
mkdir -p "$context/work/repo"
cp -r examples "$context/work/repo/appform"
git -C "$context/work/repo" -c init.defaultBranch=main init -q
git -C "$context/work/repo" add -A
git -C "$context/work/repo" -c user.name=ci -c user.email=ci@example.invalid -c commit.gpgsign=false commit -qm config
git -C "$context/work/repo" tag appform-applied
chmod 1777 "$root/tmp"
cp packaging/Containerfile.ci "$context/Containerfile"

buildah --storage-driver vfs bud --quiet --isolation chroot -t appform:ci "$context" >/dev/null
ctr=$(buildah --storage-driver vfs from appform:ci)
run() { buildah --storage-driver vfs run --isolation chroot "$ctr" -- /usr/local/bin/appform "$@"; }
user=$(buildah --storage-driver vfs inspect --format '{{.OCIv1.Config.User}}' appform:ci)
[ "$user" = "65532:65532" ] || { echo "the image runs as '$user', not 65532:65532" >&2; exit 1; }
run --version
run validate -c /examples
set +e
run plan -c /examples --sandbox --detailed-exitcode >/dev/null 2>"$context/plan.err"
code=$?
set -e
[ "$code" = 2 ] || { cat "$context/plan.err" >&2; echo "plan in the image exited $code, not 2 (changes present)" >&2; exit 1; }
# --baseline in the image: git reads the configuration at the tag.
set +e
buildah --storage-driver vfs run --isolation chroot --workingdir /work/repo "$ctr" -- \
  /usr/local/bin/appform plan -c appform --sandbox --baseline refs/tags/appform-applied >"$context/baseline.out" 2>&1
code=$?
set -e
if [ "$code" != 0 ] || ! grep -q "Compared with the baseline" "$context/baseline.out"; then
  cat "$context/baseline.out" >&2
  echo "plan --baseline in the image exited $code" >&2
  exit 1
fi
if grep -q "warning" "$context/plan.err"; then
  cat "$context/plan.err" >&2
  echo "plan in the image warned (the non-root user must be able to write its working directory)" >&2
  exit 1
fi
echo "the CI image runs as 65532: --version, validate, a sandbox plan (exit 2) and plan --baseline with git passed"
