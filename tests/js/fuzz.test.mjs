// Randomized fault suite in the real browser: each seed drives one page through a random
// interleaving of sends of every payload kind, close()/reconnect() with valid and invalid
// arguments, re-entrant providers and handlers, and fault-server faults; then checks the
// invariants of tests/js/fuzz/check.mjs (no trap, one live native socket, queued messages
// delivered exactly once and in order, legal event order, readyState, ...).
//
//   node --test tests/js/fuzz.test.mjs                 FUZZ_SEEDS seeds (default 12) from FUZZ_BASE (default 1)
//   FUZZ_SEED=17 node --test tests/js/fuzz.test.mjs    replay one seed
//   FUZZ_SEEDS=200 FUZZ_BASE=5000 ...                  more (npm run soak)
//   FUZZ_SKIP=providers,detached ...                   switch families off (generate.mjs: SKIPPABLE)
//   FUZZ_STEPS=20 ...                                  fixed number of steps per seed
// A failing seed prints its plan, the violated invariants, the log around the first one
// and the replay command; the whole run is saved under test-artifacts/fuzz/.
import { test, before, after } from 'node:test';
import { harness } from './harness.mjs';
import { parseSkip } from './fuzz/generate.mjs';
import { runSeed, report, saveArtifact } from './fuzz/run.mjs';

const env = process.env;
const int = (name, fallback) => {
  if (env[name] === undefined || env[name] === '') return fallback;
  const n = Number(env[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(env[name])}`);
  return n;
};
const one = int('FUZZ_SEED', null);
const count = int('FUZZ_SEEDS', 12);
const base = int('FUZZ_BASE', 1);
const steps = int('FUZZ_STEPS', undefined);
const skip = parseSkip(env.FUZZ_SKIP);
const seeds = one !== null ? [one] : Array.from({ length: count }, (_, i) => base + i);

let h;
const failed = [];
let total = 0;
before(async () => {
  h = await harness();
});
after(async () => {
  await h?.close();
  const head = `fuzz: ${seeds.length} seed(s) in ${(total / 1000).toFixed(1)} s${skip.size ? `, FUZZ_SKIP=${[...skip].join(',')}` : ''}`;
  const lines = [failed.length ? `${head}; ${failed.length} failed:` : `${head}; all passed`];
  for (const f of failed) lines.push(`  seed ${f.seed}: ${f.rules.join(', ')}`);
  if (failed.length) lines.push(`replay one: FUZZ_SEED=<seed> node --test tests/js/fuzz.test.mjs`);
  console.log(lines.join('\n'));
});

for (const seed of seeds) {
  test(`fuzz seed ${seed}: invariants hold through random sends, closes, reconnects, re-entrant callbacks and server faults`, { timeout: 120_000 }, async (t) => {
    const run = await runSeed(h, t, seed, { skip, steps });
    total += run.ms;
    if (run.violations.length === 0) return;
    const rules = [...new Set(run.violations.map((x) => x.rule))];
    failed.push({ seed, rules });
    const artifact = saveArtifact(run);
    throw new Error(report(run, { artifact }));
  });
}
