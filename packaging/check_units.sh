#!/bin/bash
# Checks the systemd units as installed: installs the server and mover
# components of BUILD_DIR into a temporary root, points every path of ours
# the units name into that root (each must be there: the units and the
# install rules agree), then runs `systemd-analyze verify` on an instance of
# each template (directives, executables, the man pages of Documentation=)
# and fails on any complaint, and `systemd-analyze security --offline` on
# the server's, which must stay at or under an exposure of 3.5 ("OK").
# Usage: check_units.sh BUILD_DIR
set -euo pipefail
build=$1
stage=$(mktemp -d "${TMPDIR:-/tmp}/units-check.XXXXXX")
trap 'rm -rf "$stage"' EXIT
for component in server mover; do
  DESTDIR=$stage/root cmake --install "$build" --component "$component" >/dev/null
done
man_dir=$(find "$stage/root" -type d -path '*/share/man' | head -n 1)
status=0
mapfile -t units < <(find "$stage/root" -name '*@.service' | sort)
[ "${#units[@]}" = 3 ] || { echo "expected 3 unit templates, found: ${units[*]}"; exit 1; }
for unit in "${units[@]}"; do
  name=$(basename "$unit" .service)
  instance=$stage/${name}mnt-lustre.service
  cp "$unit" "$instance"
  # Our own files the unit names (not per-instance ones such as
  # /etc/sysconfig/coordinatool.%i, optional by their "-", cut at the %).
  for path in $(grep -v '^#' "$unit" | grep -o '/[^ =%]*coordinatool[^ =%]*' | sort -u); do
    case "$path" in */lib/systemd/*|*.) continue ;; esac
    if [ -e "$stage/root$path" ]; then
      sed -i "s|$path|$stage/root$path|g" "$instance"
    else
      echo "$(basename "$unit"): $path is not installed"
      status=1
    fi
  done
  out=$(cd "$stage" && MANPATH=$man_dir systemd-analyze verify "$instance" 2>&1) || true
  if [ -n "$out" ]; then
    echo "$(basename "$unit"): systemd-analyze verify:"
    echo "$out"
    status=1
  else
    echo "$(basename "$unit"): verified"
  fi
done
server=$stage/coordinatool@mnt-lustre.service
if ! score=$(systemd-analyze security --offline=yes --threshold=35 "$server" 2>&1 | tail -n 1); then
  echo "coordinatool@.service: $score (more than 3.5)"
  status=1
else
  echo "coordinatool@.service: $score"
fi
exit "$status"
