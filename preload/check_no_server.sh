#!/bin/sh
# Fails when the preload library holds code of the server (its core, store
# or policies): it lives inside copytools and needs only the protocol, the
# client session and the settings.
set -e
lib="$1"
found=$(nm -C "$lib" | grep -E ' (server|store|policy)::' || true)
if [ -n "$found" ]; then
  echo "server code linked into $lib:" >&2
  echo "$found" | head -20 >&2
  exit 1
fi
