#!/usr/bin/env bash
# Builds the framework examples into www/examples/<name>/, where the demo server
# (`npm start`) serves them: http://127.0.0.1:8080/examples/yew-chat/ and
# http://127.0.0.1:8080/examples/leptos-chat/ (add ?fast=1 for quick reconnects).
#
#   scripts/build-examples.sh            # both (same as `all`)
#   scripts/build-examples.sh yew        # or: leptos, all
#
# Plain cargo + wasm-bindgen (the CLI must equal the crate version: scripts/setup.sh
# installs it), then wasm-opt -Oz from the npm `binaryen` package when installed.
# Idempotent; prints one line per example.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

case "${1:-all}" in
  yew) examples=(yew-chat) ;;
  leptos) examples=(leptos-chat) ;;
  all) examples=(yew-chat leptos-chat) ;;
  *) echo "usage: $0 [yew|leptos|all]" >&2; exit 2 ;;
esac

packages=()
for name in "${examples[@]}"; do packages+=(-p "$name"); done
cargo build --quiet --release --target wasm32-unknown-unknown "${packages[@]}"


for name in "${examples[@]}"; do
  src=examples/$name
  out=www/examples/$name
  stem=${name//-/_}
  tmp=$(mktemp -d)
  wasm-bindgen --target web --no-typescript --out-dir "$tmp" --out-name "$stem" \
    "target/wasm32-unknown-unknown/release/$name.wasm"
  scripts/wasm-opt.sh "$tmp/${stem}_bg.wasm"
  cp "$src/index.html" "$src/bootstrap.js" "$tmp/"
  cp examples/chat.css "$tmp/style.css" # one stylesheet for both examples
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  mv "$tmp" "$out"
  chmod 755 "$out"
  size=$(wc -c <"$out/${stem}_bg.wasm")
  gz=$(gzip -9 <"$out/${stem}_bg.wasm" | wc -c)
  echo "built $out/ (wasm $((size / 1024)) KiB, $((gz / 1024)) KiB gzipped)" >&2
done
