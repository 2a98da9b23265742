#!/usr/bin/env bash
# Runs the README's demos and compares their output with the examples' expected output: the
# checkout saga, and the food-delivery process in each of its three variants.
set -euo pipefail
cd "$(dirname "$0")/.."

check() { # name expected-file command...
  local name=$1 expected=$2; shift 2
  local out
  out=$("$@" 2>/dev/null)
  if diff -u "$expected" <(printf '%s\n' "$out"); then
    echo "demo $name: output matches $expected"
  else
    echo "demo $name: output differs from $expected (above)" >&2
    exit 1
  fi
}

check checkout examples/checkout-saga/expected-output.txt npm run --silent demo
for variant in choreography orchestration hybrid; do
  check "food-delivery --variant $variant" "examples/food-delivery/expected/$variant.txt" \
    npm run --silent oncue -- demo food-delivery --variant "$variant"
done
