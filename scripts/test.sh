#!/usr/bin/env bash
# Everything `npm test` checks, in order, failing fast:
#   set-up, formatting, clippy (host + wasm32), native tests (core in virtual time),
#   node tests of the servers, browser tests of the Rust API (wasm-bindgen-test in
#   headless Chromium, then headless Firefox ESR, against the fault-injecting server,
#   started here on a free loopback port), the npm package build, and the JS tests of
#   the package (Chromium through Playwright, then Firefox through puppeteer-core over
#   WebDriver BiDi) and of the demo pages, the examples and the framework hooks
#   (Playwright, Chromium only).
#
#   SETUP_SKIP_FIREFOX=1 scripts/test.sh   # Chromium only (Firefox is not installed)
#
#   scripts/test.sh            # everything
#   scripts/test.sh browser    # only the browser suite (quick iteration)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n== %s\n' "$*"; }
only=${1:-all}

step "set-up"
scripts/setup.sh

if [ "$only" = all ]; then
  step "cargo fmt --check"
  cargo fmt --all -- --check

  step "clippy (host and wasm32, warnings denied)"
  cargo clippy --quiet --all-targets -- -D warnings
  cargo clippy --quiet --all-targets --target wasm32-unknown-unknown -- -D warnings
  cargo clippy --quiet --lib --target wasm32-unknown-unknown --features js -- -D warnings
  cargo clippy --quiet --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings

  step "rustdoc (wasm32, warnings denied: the API docs users read)"
  RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --target wasm32-unknown-unknown
  RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --target wasm32-unknown-unknown \
    -p steadysocket-yew -p steadysocket-leptos
  # The hooks' doc examples, compiled for wasm32 (all no_run: they need a page).
  cargo test --quiet --doc --target wasm32-unknown-unknown -p steadysocket-yew -p steadysocket-leptos

  step "native tests (the core, in virtual time)"
  cargo test --quiet

  step "node tests (demo and fault servers)"
  node --test tests/node/

  step "TypeScript: the package's public types, as users write code against them"
  node_modules/.bin/tsc -p tests/types
fi

firefox=1
if [ -n "${SETUP_SKIP_FIREFOX:-}" ]; then
  firefox=
  printf '\ntest: SETUP_SKIP_FIREFOX is set: the browser suites run in Chromium only\n' >&2
fi

step "browser tests of the Rust API (wasm-bindgen-test, headless Chromium)"
STEADYSOCKET_BROWSER=chromium scripts/with-fault-server.sh cargo test --target wasm32-unknown-unknown --test web
if [ -n "$firefox" ]; then
  step "browser tests of the Rust API (wasm-bindgen-test, headless Firefox ESR)"
  STEADYSOCKET_BROWSER=firefox scripts/with-fault-server.sh cargo test --target wasm32-unknown-unknown --test web
fi

step "the Rust API in a dedicated Web Worker (wasm-bindgen-test)"
STEADYSOCKET_BROWSER=chromium scripts/with-fault-server.sh cargo test --target wasm32-unknown-unknown --test worker
[ -z "$firefox" ] || STEADYSOCKET_BROWSER=firefox scripts/with-fault-server.sh cargo test --target wasm32-unknown-unknown --test worker

step "npm package build (through wasm-pack, as users may build it) and its size budget"
scripts/build-pkg.sh --wasm-pack
node scripts/size.mjs --check

step "framework hooks and examples (Yew, Leptos): clippy, then build into www/examples/"
cargo clippy --quiet -p steadysocket-yew -p steadysocket-leptos -p yew-chat -p leptos-chat \
  --target wasm32-unknown-unknown -- -D warnings
scripts/build-examples.sh all

step "bundler examples (Vite, webpack, esbuild) against the npm pack tarball, and what it ships"
scripts/build-js-examples.sh

step "JS tests of the npm package and the demo (Playwright, headless Chromium)"
suites=()
for d in tests/js tests/e2e; do
  compgen -G "$d/*.test.mjs" >/dev/null && suites+=("$d/")
done
STEADYSOCKET_BROWSER=chromium node --test --test-concurrency=1 "${suites[@]}"
if [ -n "$firefox" ]; then
  # The package tests again in Firefox; the e2e tests use much more of Playwright's
  # page API than the adapter in tests/support/browser.mjs offers: Chromium only.
  step "JS tests of the npm package (puppeteer-core over WebDriver BiDi, headless Firefox ESR)"
  # The fuzz suite's 12 seeds run in Chromium only here (time); its checker's own
  # tests run in both. STEADYSOCKET_BROWSER=firefox npm run soak runs it in Firefox.
  firefox_suites=()
  for f in tests/js/*.test.mjs; do
    [ "$f" = tests/js/fuzz.test.mjs ] || firefox_suites+=("$f")
  done
  STEADYSOCKET_BROWSER=firefox node --test --test-concurrency=1 "${firefox_suites[@]}" tests/js/fuzz/
fi
