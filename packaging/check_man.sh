#!/bin/sh
# Renders every man page in DIR with man's warnings on (groff -ww: unknown
# macros and escapes, bad font changes, text that cannot be set) and fails
# on any warning; each page must also start with a .TH and have a NAME
# section (what whatis/apropos read).
# Usage: check_man.sh DIR
set -eu
dir=$1
status=0
count=0
for page in "$dir"/*.[1-8]; do
  count=$((count + 1))
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || {
    echo "$page: man failed: $warnings"; status=1; continue; }
  if [ -n "$warnings" ]; then
    echo "$page: $warnings"
    status=1
  fi
  grep -q '^\.TH ' "$page" || { echo "$page: no .TH"; status=1; }
  grep -q '^\.SH NAME' "$page" || { echo "$page: no NAME section"; status=1; }
done
[ "$count" -gt 0 ] || { echo "no man page in $dir"; exit 1; }
[ "$status" = 0 ] && echo "$count man pages render without warnings"
exit "$status"
