#!/usr/bin/env bash
# wasm-opt -Oz (or the passes given) in place, from the npm `binaryen` package (never
# Debian's: it breaks wasm-bindgen 0.2.130 output). The one place the flags live. Does
# nothing (exit 0) when the npm package is not installed.
#   scripts/wasm-opt.sh FILE.wasm              # -Oz, metadata sections stripped
#   scripts/wasm-opt.sh FILE.wasm PASS...      # those passes instead (stdout: theirs)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin/wasm-opt
[ -x "$bin" ] || exit 0
file=$1
shift
# Without the producers and target-features sections: metadata for tools, 0.2 KB
# (the features are given below instead, multivalue among them: wasm-bindgen's
# shims return several values).
[ $# -gt 0 ] || set -- -Oz --strip-producers --strip-target-features
"$bin" "$@" --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue -o "$file" "$file"
