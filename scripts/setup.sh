#!/usr/bin/env bash
# Installs everything steadysocket needs to build, test and serve, on a fresh
# Debian machine with only the package registries reachable. Idempotent: each
# step is skipped when its tool is already present, so a warm run takes seconds
# and prints nothing but a final "ready" line.
#
#   scripts/setup.sh            # everything (Rust target, wasm-bindgen-cli, Chromium, npm ci)
#   SETUP_SKIP_BROWSER=1 ...    # skip Chromium + chromedriver (e.g. for `npm start` only)
#   SETUP_SKIP_FIREFOX=1 ...    # skip Firefox ESR + geckodriver (the browser suites then
#                               # run in Chromium only; scripts/test.sh says so)
#   SETUP_SKIP_WASM_PACK=1 ...  # skip wasm-pack (only `npm test` uses it)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

export PATH="$HOME/.cargo/bin:$PATH"

# 1. The wasm32 target (rust-toolchain.toml names it too; rustup fetches it on demand,
#    but doing it here keeps the first build's output clean).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null
fi

# 2. wasm-bindgen-cli at exactly the version in Cargo.lock (the two must be equal).
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ -z "$want" ]; then
  log "Cargo.lock names no wasm-bindgen version"; exit 1
fi
have_wb=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have_wb" != "$want" ] || ! have wasm-bindgen-test-runner; then
  log "installing wasm-bindgen-cli $want (a few minutes, once)"
  # Not --locked: its lock file names a crate version this registry lacks.
  cargo install --quiet wasm-bindgen-cli --version "$want" --force
fi

# 2b. wasm-pack, for the package build `npm test` checks (it downloads nothing when
#     run with --mode no-install and wasm-opt off, as scripts/build-pkg.sh does).
if [ -z "${SETUP_SKIP_WASM_PACK:-}" ] && ! have wasm-pack; then
  log "installing wasm-pack (a few minutes, once)"
  cargo install --quiet --locked wasm-pack
fi

# 3. Chromium and chromedriver from Debian (never a downloaded browser).
if [ -z "${SETUP_SKIP_BROWSER:-}" ] && { ! have chromedriver || ! [ -x /usr/bin/chromium ]; }; then
  log "installing chromium + chromium-driver (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# 3b. Firefox ESR from Debian and geckodriver from crates.io (never a downloaded browser):
#     the browser suites run in headless Firefox too. Cold: about 2 minutes, mostly
#     compiling geckodriver.
GECKODRIVER_VERSION=0.37.1
if [ -z "${SETUP_SKIP_FIREFOX:-}" ]; then
  if ! [ -x /usr/bin/firefox-esr ]; then
    log "installing firefox-esr (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq firefox-esr >/dev/null
  fi
  if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 { print $2 }')" != "$GECKODRIVER_VERSION" ]; then
    log "installing geckodriver $GECKODRIVER_VERSION (a minute or two, once)"
    cargo install --quiet --locked geckodriver --version "$GECKODRIVER_VERSION" --force \
      || cargo install --quiet geckodriver --version "$GECKODRIVER_VERSION" --force
  fi
fi

# 4. Node dependencies, exactly as locked. Re-run only when the lock changed.
stamp=node_modules/.steadysocket-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
fi

log "ready"
