#!/usr/bin/env bash
# Everything `npm test` checks, in order, failing fast:
#   set-up, formatting, clippy (host + wasm32), native tests (core in virtual time),
#   node tests of the servers, browser tests of the Rust API (wasm-bindgen-test in
#   headless Chromium against the fault-injecting server, started here on a free
#   loopback port), the npm package build, and the JS tests of the package and the
#   demo pages (Playwright driving the same Chromium).
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

  step "rustdoc (wasm32, warnings denied: the API docs users read)"
  RUSTDOCFLAGS="-D warnings" cargo doc --quiet --no-deps --target wasm32-unknown-unknown

  step "native tests (the core, in virtual time)"
  cargo test --quiet

  step "node tests (demo and fault servers)"
  node --test tests/node/

  step "TypeScript: the package's public types, as users write code against them"
  node_modules/.bin/tsc -p tests/types
fi

step "browser tests of the Rust API (wasm-bindgen-test, headless Chromium)"
scripts/with-fault-server.sh cargo test --target wasm32-unknown-unknown --test web

step "npm package build (through wasm-pack, as users may build it) and its size budget"
scripts/build-pkg.sh --wasm-pack
node scripts/size.mjs --check

step "framework examples (Yew, Leptos): clippy, then build into www/examples/"
cargo clippy --quiet -p yew-chat -p leptos-chat --target wasm32-unknown-unknown -- -D warnings
scripts/build-examples.sh all

step "JS tests of the npm package and the demo (Playwright, headless Chromium)"
suites=()
for d in tests/js tests/e2e; do
  compgen -G "$d/*.test.mjs" >/dev/null && suites+=("$d/")
done
node --test --test-concurrency=1 "${suites[@]}"
