#!/usr/bin/env bash
# Installs everything graft and its tests need on a fresh Debian machine: system packages (ONNX's operator
# conformance data, Chromium for the browser tests) and the npm dependencies (which also builds dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -d /usr/share/libonnx-testdata/data ] || need+=(libonnx-testdata)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
npm run build
