#!/usr/bin/env bash
# Installs whatever is missing for building, testing and serving lrp-wasm, and does nothing when all
# is present. Debian packages via apt-get (needs root), npm dependencies via `npm ci`.
#   --train   also install PyTorch and ONNX for scripts/train_mnist.py and scripts/train_shapes.py
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(emscripten libeigen3-dev cmake g++ make googletest libgtest-dev chromium firefox-esr libonnx-testdata)
[[ "${1:-}" == "--train" ]] && packages+=(python3-torch python3-torchvision python3-onnx python3-numpy)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: need root to run apt-get (missing: ${missing[*]})" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund
fi

# The package tests install the packed tarball offline (tests/package.test.mjs, tests/e2e/bundlers.test.mjs): npm
# then resolves its dependency pngjs from the cache, which needs pngjs's registry document, not only the tarball
# `npm ci` cached. Done once per install of node_modules.
if [[ ! -f node_modules/.lrp-cache-filled ]]; then
  echo "setup: caching the package's dependencies for offline installs"
  npm cache add "pngjs@$(node -p "require('./node_modules/pngjs/package.json').version")" >/dev/null
  touch node_modules/.lrp-cache-filled
fi
