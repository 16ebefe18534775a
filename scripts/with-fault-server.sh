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
# Never let wasm-bindgen-test-runner pick a driver itself: with none set it takes the
# first on PATH, and with several set it takes GECKODRIVER over CHROMEDRIVER (its fixed
# order: gecko, safari, chrome, edge; any *_REMOTE beats them all). So set exactly one.
# STEADYSOCKET_BROWSER=firefox selects headless Firefox ESR (geckodriver); the default
# is Chromium.
unset GECKODRIVER CHROMEDRIVER SAFARIDRIVER MSEDGEDRIVER \
  GECKODRIVER_REMOTE CHROMEDRIVER_REMOTE SAFARIDRIVER_REMOTE MSEDGEDRIVER_REMOTE
case "${STEADYSOCKET_BROWSER:-chromium}" in
  firefox)
    GECKODRIVER=$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver")
    export GECKODRIVER ;;
  chromium|chrome) export CHROMEDRIVER=/usr/bin/chromedriver ;;
  *) echo "STEADYSOCKET_BROWSER must be chromium or firefox, not '$STEADYSOCKET_BROWSER'" >&2; exit 2 ;;
esac
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-90}
export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver.json"
"$@"
