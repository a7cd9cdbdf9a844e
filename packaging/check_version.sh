#!/bin/sh
# Each program given prints, for --version, a line with the version the
# build wrote in VERSION_HEADER, and exits 0.
# Usage: check_version.sh VERSION_HEADER PROGRAM...
set -eu
header=$1
shift
version=$(sed -n 's/^#define COORDINATOOL_VERSION "\(.*\)"$/\1/p' "$header")
[ -n "$version" ] || { echo "no version in $header"; exit 1; }
status=0
for program in "$@"; do
  if out=$("$program" --version 2>&1) && printf '%s\n' "$out" | grep -qF " $version"; then
    echo "$(basename "$program"): $out"
  else
    echo "$(basename "$program") --version: '$out', expected version $version"
    status=1
  fi
done
exit "$status"
