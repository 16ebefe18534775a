// Runs one seed: a fresh fault-server instance and page, the plan executed in the page
// (page.js), the server's log collected, the invariants checked (check.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, describeStep } from './generate.mjs';
import { check, RULES } from './check.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PAGE_SOURCE = fs.readFileSync(path.join(HERE, 'page.js'), 'utf8');
export const ARTIFACTS = path.resolve(HERE, '../../../test-artifacts/fuzz');

const RUN_TIMEOUT_MS = 60_000;

/** Runs `seed` on harness `h` within node:test context `t`. */
export async function runSeed(h, t, seed, { skip, steps } = {}) {
  const started = Date.now();
  const plan = generate(seed, { skip, steps });
  const inst = await h.instance();
  let page;
  let result;
  try {
    page = await h.open(t);
    await page.evaluate(PAGE_SOURCE);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
    });
    try {
      result = await Promise.race([page.evaluate(([p, i]) => window.__fuzz.run(p, i), [plan, inst]), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    const log = page ? await page.evaluate(() => window.__fuzz?.log ?? []).catch(() => []) : [];
    result = { log, aborted: String(e?.message ?? e).split('\n')[0] };
  }
  // The server records a connection's end when its TCP connection ends, a moment
  // after the browser's close event.
  const server = await h
    .logWhen(inst.id, (l) => l.connections.every((c) => c.closedAt !== null), 3000)
    .catch(() => null);
  await h.ctl(`/instances/${inst.id}/delete`).catch(() => {});
  const lines = page?.lines ?? [];
  const violations = check(plan, result, server, lines);
  return { seed, plan, result, server, violations, lines, ms: Date.now() - started };
}

/** One line per log entry, short. */
export function formatEntry(e, i) {
  const at = `#${String(i).padStart(4)} ${String(e.t ?? '').padStart(8)}`;
  const rest = { ...e };
  delete rest.k;
  delete rest.t;
  const show = (o) =>
    Object.entries(o)
      .filter(([, x]) => x !== null && x !== undefined)
      .map(([k, x]) => `${k}=${typeof x === 'object' ? JSON.stringify(x) : x}`)
      .join(' ')
      .slice(0, 220);
  switch (e.k) {
    case 'ev':
      return `${at}   ev ${e.type} ${show({ ...rest, type: undefined })}`;
    case 'step':
      return `${at} STEP ${e.n} ${e.op} rs=${e.rs}`;
    default:
      return `${at}   ${e.k} ${show(rest)}`;
  }
}

/** The failure report of a run: seed, plan, violations with context, how to replay. */
export function report(run, { artifact } = {}) {
  const { seed, plan, result, violations } = run;
  const log = result.log ?? [];
  const byRule = new Map();
  for (const x of violations) {
    if (!byRule.has(x.rule)) byRule.set(x.rule, []);
    byRule.get(x.rule).push(x);
  }
  const stepAt = (i) => {
    for (let k = Math.min(i, log.length - 1); k >= 0; k--) if (log[k].k === 'step') return log[k].n;
    return null;
  };
  const lines = [];
  lines.push(`fuzz seed ${seed}: ${byRule.size} invariant(s) violated (${run.ms} ms)`);
  const firstTrap = byRule.get('no-trap')?.[0]?.i ?? Infinity;
  for (const [rule, list] of byRule) {
    const first = list[0];
    const step = first.i >= 0 ? stepAt(first.i) : null;
    const after = rule !== 'no-trap' && first.i > firstTrap && firstTrap >= 0 ? ' [after the trap]' : '';
    lines.push(`  [${rule}]${list.length > 1 ? ` ×${list.length}` : ''}${after} ${first.i >= 0 ? `log#${first.i}` : 'server'}${step !== null ? ` (step ${step}${plan.steps[step] ? ` ${describeStep(plan.steps[step])}` : ''})` : ''}: ${first.msg}`);
    lines.push(`      rule: ${RULES[rule] ?? '?'}`);
  }
  const { options, ...cfg } = plan.config;
  lines.push(`plan: url=${cfg.urlKind} protocols=${cfg.protocolsKind} binaryType=${cfg.binaryType} handlers=[${cfg.handlers.join(',')}] rates=${JSON.stringify(cfg.rates)} provFail=${cfg.provFail} asyncMaxDelay=${cfg.asyncMaxDelay}`);
  lines.push(`      options=${JSON.stringify(options)}`);
  lines.push('steps:');
  plan.steps.forEach((s, n) => lines.push(`  ${String(n).padStart(3)} ${describeStep(s)}`));
  const first = violations.find((x) => x.i >= 0);
  if (first) {
    lines.push(`log around the first violation (log#${first.i}, ${log.length} entries in all):`);
    for (let i = Math.max(0, first.i - 25); i <= Math.min(log.length - 1, first.i + 5); i++) lines.push(formatEntry(log[i], i));
  }
  if (artifact) lines.push(`full plan, log and server log: ${artifact}`);
  lines.push(`replay: FUZZ_SEED=${seed} node --test tests/js/fuzz.test.mjs`);
  return lines.join('\n');
}

/** Writes the whole run to test-artifacts/fuzz/seed-N.json; returns the path. */
export function saveArtifact(run) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `seed-${run.seed}.json`);
  const log = (run.result.log ?? []).map((e, i) => formatEntry(e, i));
  fs.writeFileSync(file, JSON.stringify({ seed: run.seed, violations: run.violations, plan: run.plan, log, server: run.server, console: run.lines }, null, 1));
  return path.relative(process.cwd(), file);
}
