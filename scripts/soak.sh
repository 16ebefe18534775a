#!/usr/bin/env bash
# The randomized browser fault suite (tests/js/fuzz.test.mjs) with many more seeds than
# `npm test` runs. Bounded: FUZZ_SEEDS seeds (default 200, ~5 s each), and the whole run is
# stopped after SOAK_TIMEOUT seconds (default 3600) whatever happens.
#
#   npm run soak                          200 seeds from a base derived from the clock
#   FUZZ_BASE=1000 FUZZ_SEEDS=50 npm run soak
#   FUZZ_SKIP=providers npm run soak      (families: tests/js/fuzz/generate.mjs)
#   STEADYSOCKET_PKG=/tmp/pkg npm run soak  test another build of the package
#
# A failing seed is printed with its plan, the violated invariants and how to replay it
# alone (FUZZ_SEED=n node --test tests/js/fuzz.test.mjs); full logs go to
# test-artifacts/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${STEADYSOCKET_PKG:-pkg}
if [ ! -f "$pkg/steadysocket.js" ]; then
  [ -z "${STEADYSOCKET_PKG:-}" ] || { echo "soak: $pkg has no steadysocket.js" >&2; exit 1; }
  npm run build
fi
export FUZZ_SEEDS=${FUZZ_SEEDS:-200}
export FUZZ_BASE=${FUZZ_BASE:-$(( $(date +%s) % 1000000 ))}
echo "soak: $FUZZ_SEEDS seeds from $FUZZ_BASE${FUZZ_SKIP:+ (FUZZ_SKIP=$FUZZ_SKIP)}; replay one: FUZZ_SEED=n node --test tests/js/fuzz.test.mjs" >&2
exec timeout --kill-after=30 "${SOAK_TIMEOUT:-3600}" node --test tests/js/fuzz.test.mjs
