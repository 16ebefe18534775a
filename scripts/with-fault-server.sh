#!/usr/bin/env bash
# Runs a command with the fault-injecting test server up on a free loopback port,
# its control URL in STEADYSOCKET_CONTROL, and the browser-test settings exported.
# The server is stopped when the command ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
node tests/support/fault-server.mjs >"$out" 2>&1 </dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$out"' EXIT

for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" || true)
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out" >&2; echo "fault server died" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "fault server did not start" >&2; exit 1; }

export STEADYSOCKET_CONTROL="$url"
export CHROMEDRIVER=/usr/bin/chromedriver   # never let the runner pick a driver itself
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-90}
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver.json"
"$@"
