#!/bin/bash
# Makes OUT_DIR/coordinatool-PROJECT_VERSION.tar.gz: every file git tracks
# (in the index), as it is in the work tree, under coordinatool-VERSION/,
# plus a VERSION file with the build's version (VERSION_HEADER), which a
# build from the tarball prints for --version (cmake/Version.cmake). Owners,
# order and times are fixed, so the same tree gives the same tarball.
# Usage: make_dist.sh SOURCE_DIR VERSION_HEADER PROJECT_VERSION OUT_DIR
set -euo pipefail
src=$1 header=$2 project_version=$3 out=$4
name=coordinatool-$project_version
version=$(sed -n 's/^#define COORDINATOOL_VERSION "\(.*\)"$/\1/p' "$header")
[ -n "$version" ] || { echo "make_dist: no version in $header" >&2; exit 1; }
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
  { echo "make_dist: $src is not a git checkout" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "$out/.dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "$version" >"$tmp/VERSION"
mtime=$(git -C "$src" log -1 --format=%cI HEAD)
tar_opts=(--owner=0 --group=0 --numeric-owner --sort=name --mtime="$mtime")
# Tracked files deleted from the work tree are left out.
git -C "$src" ls-files -z | (cd "$src" && xargs -0 -r ls -d -- 2>/dev/null) |
  tar -C "$src" "${tar_opts[@]}" --transform "s,^,$name/," -cf "$tmp/src.tar" -T -
tar -C "$tmp" "${tar_opts[@]}" --transform "s,^,$name/," -rf "$tmp/src.tar" VERSION
gzip -9n <"$tmp/src.tar" >"$out/$name.tar.gz"
echo "$out/$name.tar.gz ($version)"
