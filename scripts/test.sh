#!/usr/bin/env bash
# Every test: native C++ (ctest), the package in Node (node:test), the demo in Chromium (playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== native engine tests (ctest)"
ctest --test-dir build/native --output-on-failure -j "$(nproc)"

echo "== package tests (node --test)"
node --test --test-concurrency=2 tests/*.test.mjs

echo "== browser tests (chromium + playwright-core)"
node --test --test-concurrency=1 tests/e2e/*.test.mjs
