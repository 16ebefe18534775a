#!/usr/bin/env bash
# Builds the JS example apps (examples/js-vite, js-webpack, js-esbuild) the way a
# user would: against the npm package as `npm pack` makes it from pkg/.
#
#   scripts/build-js-examples.sh                 # all three (after scripts/build-pkg.sh)
#   scripts/build-js-examples.sh vite webpack    # some
#
# First checks what the package ships (scripts/pack-check.mjs). Each app's
# dependencies are installed with `npm ci` only when its lock file or the tarball
# changed (the tarball is reproducible: same build, same bytes), so a warm run only
# packs and bundles. The apps' lock files record the tarball without an integrity
# hash on purpose: with one, npm ci would install the copy of an older build from
# npm's cache instead of the tarball that is there now.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f pkg/package.json ] || { echo "build-js-examples: pkg/ is not built: run scripts/build-pkg.sh" >&2; exit 1; }
node scripts/pack-check.mjs

mkdir -p target/npm
rm -f target/npm/steadysocket-*.tgz
name=$(cd pkg && npm pack --silent --ignore-scripts --pack-destination ../target/npm | tail -n 1)
mv -f "target/npm/$name" target/npm/steadysocket.tgz
tarball=$(sha256sum target/npm/steadysocket.tgz | cut -d' ' -f1)

apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(vite webpack esbuild)
for app in "${apps[@]}"; do
  dir=examples/js-$app
  [ -d "$dir" ] || { echo "build-js-examples: no such app: $dir" >&2; exit 2; }
  if node -e 'const l = require(process.argv[1]); process.exit(l.packages["node_modules/steadysocket"]?.integrity ? 0 : 1)' "$PWD/$dir/package-lock.json"; then
    echo "build-js-examples: $dir/package-lock.json records an integrity hash for the steadysocket tarball;" >&2
    echo "  remove that \"integrity\" line (see the top of this script)" >&2
    exit 1
  fi
  stamp=$dir/node_modules/.steadysocket-stamp
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) $tarball"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "build-js-examples: npm ci in $dir" >&2
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$stamp"
  fi
  cmp -s pkg/steadysocket.js "$dir/node_modules/steadysocket/steadysocket.js" \
    || { echo "build-js-examples: $dir has a stale steadysocket installed" >&2; exit 1; }
  start=$(date +%s%N)
  (cd "$dir" && npm run --silent build >/dev/null)
  echo "build-js-examples: built $dir ($(( ($(date +%s%N) - start) / 1000000 )) ms)" >&2
done
