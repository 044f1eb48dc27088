#!/usr/bin/env bash
# Installs everything graft and its tests need on a fresh Debian machine: system packages (ONNX's operator
# conformance data, Chromium for the browser tests, the JPEG/PNG/DEFLATE headers graft's native addon builds against,
# Redis for the scale-out tests)
# and the npm dependencies (which also builds the addon and dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -d /usr/share/libonnx-testdata/data ] || need+=(libonnx-testdata)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# graft's native image addon (scripts/build-native.mjs) compiles against libjpeg-turbo, libpng and
# libdeflate (PNG's zlib streams, inflated ~3x faster than zlib does).
[ -f /usr/include/jpeglib.h ] || need+=(libjpeg62-turbo-dev)
[ -f /usr/include/png.h ] || need+=(libpng-dev)
[ -f /usr/include/libdeflate.h ] || need+=(libdeflate-dev)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v make >/dev/null 2>&1 || need+=(make)
# The scale-out tests (test/scale) start a real Redis for BullMQ's queue.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
GRAFT_REQUIRE_NATIVE=1 npm ci --no-audit --no-fund
npm run build
