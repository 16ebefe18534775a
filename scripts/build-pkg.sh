#!/usr/bin/env bash
# Builds the npm package from this repo with plain cargo + wasm-bindgen (no
# downloads): pkg/ for browsers (--target web) and pkg-bundler/ for bundlers.
#
#   scripts/build-pkg.sh             # release build (what is published)
#   scripts/build-pkg.sh --dev       # debug build, faster to compile
#   scripts/build-pkg.sh --wasm-pack # the same package, with wasm-pack doing the
#                                    # cargo + wasm-bindgen step (no downloads:
#                                    # --mode no-install uses the wasm-bindgen on
#                                    # PATH; wasm-opt is off in Cargo.toml)
#   NO_MINIFY=1 scripts/build-pkg.sh # release, but the JS bundle not minified (for
#                                    # readable names in `npm run bench -- --profile`)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

profile=release
cargo_flags=(--release)
route=cargo
case "${1:-}" in
  --dev) profile=debug; cargo_flags=() ;;
  --wasm-pack) route=wasm-pack ;;
esac

if [ "$route" = cargo ]; then
  cargo build --quiet --lib --target wasm32-unknown-unknown --features js "${cargo_flags[@]}"
fi
wasm=target/wasm32-unknown-unknown/$profile/steadysocket.wasm
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)


build() { # target dir entry node-entry
  local target=$1 dir=$2 entry=$3 node_entry=$4
  rm -rf "$dir"
  if [ "$route" = wasm-pack ]; then
    wasm-pack --quiet build --mode no-install --release --target "$target" \
      --out-dir "$dir/core" --out-name steadysocket_core . -- --features js
    # wasm-pack's own package.json describes only the core; ours is below.
    rm -f "$dir/core/package.json" "$dir/core/README.md" "$dir/core/.gitignore" "$dir/core/LICENSE"*
  else
    wasm-bindgen --target "$target" --out-dir "$dir/core" --out-name steadysocket_core "$wasm"
  fi
  if [ "$profile" = release ]; then
    scripts/wasm-opt.sh "$dir/core/steadysocket_core_bg.wasm"
    if [ "$target" = web ]; then
      # One- and two-letter import/export names instead of the hashed ones, in the
      # wasm and its glue alike (checked to link). The bundler build keeps its
      # names: there the wasm imports the glue as an ES module by them.
      node scripts/shorten-names.mjs "$dir/core/steadysocket_core_bg.wasm" "$dir/core/steadysocket_core.js"
    fi
  fi
  cp js/socket.js "$dir/socket.js"
  cp "js/$entry" "$dir/steadysocket.js"
  cp "js/$node_entry" "$dir/steadysocket.node.js" # the "node" export (SSR, tests)
  cp js/node.js "$dir/node.js"
  cp js/steadysocket.d.ts "$dir/steadysocket.d.ts"
  cp js/README.md "$dir/README.md" 2>/dev/null || cp README.md "$dir/README.md"
  node -e '
    const fs = require("fs");
    const [template, out, version] = process.argv.slice(1);
    const pkg = JSON.parse(fs.readFileSync(template, "utf8"));
    pkg.version = version;
    fs.writeFileSync(out, JSON.stringify(pkg, null, 2) + "\n");
  ' js/package.template.json "$dir/package.json" "$version"
  if [ "$target" = web ]; then
    # One file per entry: entry + shell + glue (scripts/bundle.mjs), so a page loads
    # one JS file before the wasm. What browsers download is minified (a source map
    # with the readable sources sits beside it); a --dev build is not minified.
    local minify=()
    [ "$profile" = release ] && [ -z "${NO_MINIFY:-}" ] && minify=(--minify)
    node scripts/bundle.mjs "${minify[@]}" "$dir" steadysocket.js steadysocket.node.js
  elif [ "$profile" = release ]; then
    # Minified likewise, file by file: bundlers put these together themselves.
    local shipped=()
    for f in socket.js steadysocket.js core/steadysocket_core.js core/steadysocket_core_bg.js; do
      [ -f "$dir/$f" ] && shipped+=("$dir/$f")
    done
    node scripts/minify.mjs "${shipped[@]}"
  fi
}

build web pkg index.web.js index.node.js
build bundler pkg-bundler index.bundler.js index.bundler.node.js
echo "built pkg/ and pkg-bundler/ ($profile, v$version)" >&2
