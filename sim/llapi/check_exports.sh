#!/bin/sh
# Fails when the shared library exports a defined symbol other than llapi_*.
set -e
lib="$1"
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
if [ "$soname" != "liblustreapi.so.1" ]; then
  echo "SONAME is '$soname', expected liblustreapi.so.1" >&2
  exit 1
fi
others=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^llapi_' || true)
if [ -n "$others" ]; then
  echo "unexpected exported symbols:" >&2
  echo "$others" >&2
  exit 1
fi
nm -D --defined-only "$lib" | grep -q ' llapi_hsm_copytool_recv$'
