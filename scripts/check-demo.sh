#!/usr/bin/env bash
# Runs the README's demo and compares its summary with the example's expected output.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(npm run --silent demo 2>/dev/null)
if diff -u examples/checkout-saga/expected-output.txt <(printf '%s\n' "$out"); then
  echo "demo checkout: output matches examples/checkout-saga/expected-output.txt"
else
  echo "demo checkout: output differs from the expected output (above)" >&2
  exit 1
fi
