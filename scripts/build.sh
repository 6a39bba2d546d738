#!/usr/bin/env bash
# Builds the native engine + tests (build/native), the WebAssembly module (build/wasm) and the npm
# package bundles (dist/: scripts/bundle.mjs). Incremental: cmake and esbuild only redo what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j "$jobs"

# Debian's emcc needs the acorn module from /usr/share/nodejs (see TOOLCHAIN notes).
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
if [[ ! -f build/wasm/CMakeCache.txt ]]; then
  emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build/wasm -j "$jobs"

node scripts/bundle.mjs
