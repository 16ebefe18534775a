#!/usr/bin/env bash
# `npm start`: set up what is missing, build the npm package, serve the demo.
#   PORT=8080 (default), HOST=127.0.0.1 (default)
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_SKIP_BROWSER=1 SETUP_SKIP_WASM_PACK=1 scripts/setup.sh
scripts/build-pkg.sh
exec node www/server.mjs
