#!/usr/bin/env node
// `npm run bench`: throughput, latency, size and memory of steadysocket, side by side
// with the raw browser WebSocket and other wrappers, in one headless Chromium page
// against one local echo server (Node `ws`, perMessageDeflate off, 127.0.0.1).
//
// Contenders alternate run by run (the order rotates), each workload runs RUNS times,
// and the table reports medians; ratios are taken within a run (contender / raw of
// the same run) and then their median, so machine drift cancels out.
//
//   npm run bench                     # everything, 5 runs
//   npm run bench -- --runs 3 --quick # fewer messages (a smoke run)
//   npm run bench -- --only memory    # one section: throughput | dispatch | size | memory
//   npm run bench -- --only throughput --workload flood   # one workload
//   npm run bench -- --contenders 'SteadySocket (JS)'     # some contenders (and raw)
//   npm run bench -- --profile 'SteadySocket (JS)' --workload flood
//                                     # a DevTools CPU profile of one contender on one
//                                     # workload: the top functions by self time, and
//                                     # bench-results/profile-<workload>.cpuprofile (DevTools opens it)
//
// Writes bench-results/latest.json (and a dated copy) for tracking.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchServer } from '../benches/server.mjs';
import { launch, CHROMIUM } from '../tests/support/browser.mjs';
import { sizeReport } from './size.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const RUNS = Number(option('runs', 5));
const ONLY = option('only', 'all');
const QUICK = flag('quick');
const scale = (n) => (QUICK ? Math.max(10, Math.round(n / 10)) : n);

// `kind` is what runs; `heartbeat` turns steadysocket's heartbeat on (1 s, never due
// while messages flow); `second` adds another socket with its own listener and flood.
const STEADY = ['raw WebSocket', 'SteadySocket (JS)', 'steadysocket (Rust)'];
const ALL_WORKLOADS = [
  { id: 'text', kind: 'text', title: `${scale(20000)} pipelined 64 B text echoes`, n: scale(20000), size: 64 },
  { id: 'text-hb', kind: 'text', heartbeat: true, only: STEADY, title: `${scale(20000)} pipelined 64 B text echoes, heartbeat on`, n: scale(20000), size: 64 },
  { id: 'pingpong', kind: 'pingpong', title: `${scale(2000)} sequential 64 B round trips`, n: scale(2000), size: 64 },
  { id: 'binary', kind: 'binary', title: `${scale(2000)} pipelined 64 KiB binary echoes`, n: scale(2000), size: 65536 },
  { id: 'flood', kind: 'flood', title: `receive-only flood of ${scale(100000)} 64 B messages`, n: scale(100000), size: 64 },
  { id: 'flood-hb', kind: 'flood', heartbeat: true, only: STEADY, title: `receive-only flood of ${scale(100000)} 64 B messages, heartbeat on`, n: scale(100000), size: 64 },
  {
    id: 'flood-2',
    kind: 'flood',
    second: true,
    only: ['raw WebSocket', 'SteadySocket (JS)', 'reconnecting-websocket', 'EventTarget floor'],
    title: `receive-only flood of ${scale(100000)} 64 B messages while a second socket of the same kind, with its own listener, gets ${scale(25000)}`,
    n: scale(100000),
    size: 64,
  },
];
const WORKLOADS = ALL_WORKLOADS.filter((w) => option('workload', w.id) === w.id);
const ALL_CONTENDERS = [
  'raw WebSocket',
  'SteadySocket (JS)',
  'steadysocket (Rust)',
  'gloo-net (Rust)',
  'reconnecting-websocket',
  'EventTarget floor',
];
// --contenders 'a,b': only those (the raw WebSocket always runs: ratios need it).
const CONTENDERS = option('contenders')
  ? ALL_CONTENDERS.filter((c) => c === 'raw WebSocket' || option('contenders').split(',').includes(c))
  : ALL_CONTENDERS;
const contendersOf = (w) => CONTENDERS.filter((c) => !w.only || w.only.includes(c));

function sh(cmd, argv) {
  execFileSync(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

function build() {
  if (flag('no-build')) return; // --no-build: measure what pkg/ and target/bench-web hold
  console.error('bench: building the package and the Rust contenders (release)…');
  sh('bash', ['scripts/build-pkg.sh']);
  sh('cargo', ['build', '--quiet', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'steadysocket-bench']);
  sh('wasm-bindgen', [
    '--target', 'web', '--out-dir', 'target/bench-web', '--out-name', 'steadysocket_bench',
    'target/wasm32-unknown-unknown/release/steadysocket_bench.wasm',
  ]);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// In the page: run one workload with one contender.
async function runInPage(page, contender, workload, url) {
  return page.evaluate(
    async ({ contender, workload, url }) => {
      const w = await import('/bench/workloads.js');
      if (contender.endsWith('(Rust)')) {
        const rust = await import('/rust/steadysocket_bench.js');
        await rust.default();
        const prefix = contender.startsWith('gloo') ? 'gloo' : 'steady';
        const name = `${prefix}_${workload.kind}${workload.heartbeat ? '_hb' : ''}`;
        const result = await rust[name](url, workload.n, workload.size);
        return Array.isArray(result) || ArrayBuffer.isView(result) ? Array.from(result) : result;
      }
      const make = (await w.jsContenders(workload))[contender];
      switch (workload.kind) {
        case 'text':
          return w.pipelined(make, url, workload.n, workload.size, false);
        case 'binary':
          return w.pipelined(make, url, workload.n, workload.size, true);
        case 'pingpong':
          return w.pingpong(make, url, workload.n, workload.size);
        case 'flood':
          return w.flood(make, url, workload.n, workload.size, workload.second);
      }
      throw new Error(`unknown workload ${workload.id}`);
    },
    { contender, workload, url },
  );
}

async function throughput(page, server) {
  const rows = {};
  for (const workload of WORKLOADS) {
    const contenders = contendersOf(workload);
    const perContender = Object.fromEntries(contenders.map((c) => [c, []]));
    for (let run = 0; run < RUNS; run++) {
      const order = contenders.map((_, i) => contenders[(i + run) % contenders.length]);
      const thisRun = {};
      for (const contender of order) {
        const raw = await runInPage(page, contender, workload, `${server.ws}/echo`);
        thisRun[contender] = Array.isArray(raw)
          ? { ms: raw.reduce((a, b) => a + b, 0), rtts: raw }
          : { ms: raw };
      }
      for (const c of contenders) {
        const r = thisRun[c];
        perContender[c].push({
          msgsPerSec: workload.n / (r.ms / 1000),
          ratio: thisRun['raw WebSocket'].ms / r.ms,
          p50: r.rtts && percentile(r.rtts, 50),
          p99: r.rtts && percentile(r.rtts, 99),
        });
      }
      process.stderr.write(`bench: ${workload.id} run ${run + 1}/${RUNS} done\n`);
    }
    rows[workload.id] = Object.fromEntries(
      contenders.map((c) => {
        const runs = perContender[c];
        const msgs = median(runs.map((r) => r.msgsPerSec));
        const ratios = runs.map((r) => r.ratio);
        return [
          c,
          {
            msgsPerSec: msgs,
            mbPerSec: (msgs * workload.size) / 1e6,
            ratio: median(ratios),
            ratioMin: Math.min(...ratios),
            ratioMax: Math.max(...ratios),
            ratios,
            p50: workload.kind === 'pingpong' ? median(runs.map((r) => r.p50)) : undefined,
            p99: workload.kind === 'pingpong' ? median(runs.map((r) => r.p99)) : undefined,
          },
        ];
      }),
    );
  }
  return rows;
}

// A CPU profile (DevTools protocol) of one contender on the selected workloads.
async function profile(context, page, server, contender) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
  const lines = [];
  for (const workload of WORKLOADS) {
    await runInPage(page, contender, workload, `${server.ws}/echo`); // warm up
    await cdp.send('Profiler.start');
    await runInPage(page, contender, workload, `${server.ws}/echo`);
    const { profile: p } = await cdp.send('Profiler.stop');
    fs.writeFileSync(path.join(ROOT, `bench-results/profile-${workload.id}.cpuprofile`), JSON.stringify(p));
    const self = new Map();
    const dt = new Map();
    for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
    let total = 0;
    for (const node of p.nodes) {
      const t = dt.get(node.id) ?? 0;
      total += t;
      const f = node.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${path.basename(f.url || '')}${f.url ? `:${f.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + t);
    }
    lines.push(`\n${contender}, ${workload.title}: ${(total / 1000).toFixed(0)} ms sampled; top self time`);
    for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      lines.push(`  ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  }
  return lines.join('\n');
}

/**
 * The CPU a `message` costs, without a network: a test double for the native
 * WebSocket (SteadySocket's `WebSocket` option) has the same 64 `MessageEvent`s
 * dispatched on it, N at a time, in a loop, with one listener at the far end that
 * reads `data`. "raw" is the double's own dispatch to that listener (what the browser
 * does for a raw socket); each other row adds what its wrapper does per message. Each
 * contender runs ROUNDS rounds in rotation; the best round is the figure (the least
 * disturbed by GC and by other processes on this machine), the median beside it.
 */
async function dispatch(page) {
  const n = scale(200000);
  const rounds = Math.max(7, RUNS * 2);
  return page.evaluate(
    async ({ n, rounds }) => {
      const { SteadySocket } = await import('/pkg/steadysocket.js');
      class Double extends EventTarget {
        constructor(url) {
          super();
          Object.assign(this, { url, readyState: 0, binaryType: 'blob', bufferedAmount: 0, protocol: '', extensions: '' });
          setTimeout(() => {
            this.readyState = 1;
            this.dispatchEvent(new Event('open'));
          });
        }
        send() {}
        close() {
          this.readyState = 3;
        }
      }
      const events = Array.from({ length: 64 }, (_, i) => new MessageEvent('message', { data: String(i).padStart(64, 'x') }));
      // Each contender's far-end listener counts what reached it (checked below).
      const got = {};
      const reader = (name) => {
        got[name] = 0;
        return (e) => {
          if (e.data.length === 64) got[name]++;
        };
      };
      const { FloorMessageEvent } = await import('/bench/workloads.js');
      const steady = async (name, options) => {
        let double;
        const s = new SteadySocket('ws://127.0.0.1:9/', [], {
          ...options,
          WebSocket: class extends Double {
            constructor(url) {
              super(url);
              double = this;
            }
          },
        });
        await new Promise((resolve) => s.addEventListener('open', resolve, { once: true }));
        s.addEventListener('message', reader(name));
        return double;
      };
      const raw = new Double('');
      raw.addEventListener('message', reader('raw'));
      const floorOuter = new EventTarget();
      floorOuter.addEventListener('message', reader('EventTarget floor'));
      const floor = new Double('');
      floor.addEventListener('message', (e) => floorOuter.dispatchEvent(new FloorMessageEvent(e.data)));
      const targets = {
        raw,
        'EventTarget floor': floor,
        'SteadySocket (JS)': await steady('SteadySocket (JS)', {}),
        'SteadySocket (JS), heartbeat on': await steady('SteadySocket (JS), heartbeat on', { heartbeatInterval: 60000 }),
      };
      const names = Object.keys(targets);
      const us = Object.fromEntries(names.map((k) => [k, []]));
      for (let round = 0; round < rounds; round++) {
        for (let i = 0; i < names.length; i++) {
          const name = names[(i + round) % names.length];
          const target = targets[name];
          const t0 = performance.now();
          for (let j = 0; j < n; j++) target.dispatchEvent(events[j & 63]);
          us[name].push(((performance.now() - t0) * 1000) / n);
          await new Promise((resolve) => setTimeout(resolve));
        }
      }
      for (const name of names) {
        if (got[name] !== n * rounds) throw new Error(`bench: ${name} delivered ${got[name]} of ${n * rounds} messages`);
      }
      return { n, rounds, us };
    },
    { n, rounds },
  );
}

function printDispatch(d) {
  const stat = (v) => {
    const s = [...v].sort((a, b) => a - b);
    return { best: s[0], median: s[s.length >> 1], max: s.at(-1) };
  };
  const raw = stat(d.us.raw).best;
  const lines = [
    `\n${d.n} messages per round, ${d.rounds} rounds each; µs per message.\n`,
    '| contender | best | beyond raw | median | worst |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [name, v] of Object.entries(d.us)) {
    const s = stat(v);
    lines.push(`| ${name} | ${fmt(s.best, 2)} | ${name === 'raw' ? '' : `+${fmt(s.best - raw, 2)}`} | ${fmt(s.median, 2)} | ${fmt(s.max, 2)} |`);
  }
  return lines.join('\n');
}

async function memory(context, page, server) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  const sample = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const wasm = await page.evaluate(() => window.__wasmMemory());
    return { jsHeap: usedSize, wasmMemory: wasm };
  };
  await page.evaluate(async (wsUrl) => {
    // The wasm instance, as the package makes it (its exports have one- or
    // two-letter names: the memory is found by its type).
    let memory;
    // The package instantiates with `new WebAssembly.Instance` (the glue's initSync).
    const { Instance } = WebAssembly;
    WebAssembly.Instance = function (...args) {
      const made = new Instance(...args);
      memory ??= Object.values(made.exports).find((v) => v instanceof WebAssembly.Memory);
      return made;
    };
    const { SteadySocket } = await import('/pkg/steadysocket.js');
    if (!memory) throw new Error('bench: the package was loaded before its wasm memory could be found');
    window.__wasmMemory = () => memory.buffer.byteLength;
    window.__opens = 0;
    window.__socket = new SteadySocket(`${wsUrl}/drop`, [], {
      minReconnectionDelay: 0,
      maxReconnectionDelay: 0,
      reconnectionJitter: 0,
    });
    window.__socket.onopen = () => window.__opens++;
  }, server.ws);
  const CYCLES = scale(1000);
  const waitOpens = async (n) => {
    const t0 = Date.now();
    while ((await page.evaluate(() => window.__opens)) < n) {
      if (Date.now() - t0 > 120_000) throw new Error(`only reached ${await page.evaluate(() => window.__opens)} cycles`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await waitOpens(Math.min(100, CYCLES));
  const at100 = await sample();
  await waitOpens(CYCLES);
  const atEnd = await sample();
  await page.evaluate(() => window.__socket.close());

  const QUEUED = scale(10000);
  const beforeQueue = await sample();
  // Three rounds: the wasm memory a round leaves grown (it never shrinks) must be
  // reused by the next, not grown again.
  const afterQueue = [];
  for (let round = 0; round < 3; round++) {
    await page.evaluate(
      async ({ wsUrl, n }) => {
        const { SteadySocket } = await import('/pkg/steadysocket.js');
        const s = new SteadySocket(`${wsUrl}/echo`, [], { startClosed: true, maxEnqueuedMessages: n });
        for (let i = 0; i < n; i++) s.send(`queued message ${i}`);
        let got = 0;
        await new Promise((resolve) => {
          s.onmessage = () => {
            if (++got === n) resolve();
          };
          s.reconnect();
        });
        s.close();
      },
      { wsUrl: server.ws, n: QUEUED },
    );
    afterQueue.push(await sample());
  }
  return { cycles: CYCLES, at100, atEnd, queued: QUEUED, beforeQueue, afterQueue };
}

const fmt = (n, digits = 0) =>
  n === undefined ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;

function printThroughput(rows) {
  const lines = [];
  for (const w of WORKLOADS) {
    lines.push(`\n### ${w.title}\n`);
    const lat = w.kind === 'pingpong';
    lines.push(`| contender | msgs/s | MB/s | ${lat ? 'p50 ms | p99 ms | ' : ''}vs raw | spread (min–max of ${RUNS}) |`);
    lines.push(`|---|---:|---:|${lat ? '---:|---:|' : ''}---:|---:|`);
    for (const c of contendersOf(w)) {
      const r = rows[w.id][c];
      lines.push(
        `| ${c} | ${fmt(r.msgsPerSec)} | ${fmt(r.mbPerSec, 1)} | ${lat ? `${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ` : ''}${fmt(r.ratio, 2)} | ${fmt(r.ratioMin, 2)}–${fmt(r.ratioMax, 2)} |`,
      );
    }
  }
  return lines.join('\n');
}

async function main() {
  fs.mkdirSync(path.join(ROOT, 'bench-results'), { recursive: true });
  build();
  const chromiumVersion = execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim();
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    browser: chromiumVersion,
    node: process.version,
    runs: RUNS,
    quick: QUICK,
  };
  let out = `# steadysocket benchmarks — ${result.date.slice(0, 10)}\n\n${result.machine}; ${result.browser}; Node ${result.node}; ${RUNS} runs, medians.\n`;

  if (ONLY === 'all' || ONLY === 'size') {
    console.error('bench: size…');
    result.size = sizeReport({ buildApps: true });
    out += `\n## Size (gzip -9)\n\n| artifact | wasm | JS | total |\n|---|---:|---:|---:|\n`;
    for (const r of result.size) out += `| ${r.name} | ${kb(r.wasmGz)} | ${kb(r.jsGz)} | ${kb(r.wasmGz + r.jsGz)} |\n`;
  }

  if (ONLY === 'all' || ONLY === 'throughput' || ONLY === 'dispatch' || ONLY === 'memory') {
    const server = await startBenchServer();
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/bench/`);
      if (option('profile')) {
        console.log(await profile(browser.context, page, server, option('profile')));
        return;
      }
      if (ONLY === 'all' || ONLY === 'throughput') {
        result.throughput = await throughput(page, server);
        out += `\n## Throughput and latency\n${printThroughput(result.throughput)}\n`;
      }
      if (ONLY === 'all' || ONLY === 'dispatch') {
        console.error('bench: dispatch…');
        result.dispatch = await dispatch(page);
        out += `\n## CPU per message, no network (a test-double WebSocket)\n${printDispatch(result.dispatch)}\n`;
      }
      if (ONLY === 'all' || ONLY === 'memory') {
        console.error('bench: memory…');
        const page2 = await browser.newPage();
        await page2.goto(`${server.url}/bench/`);
        const m = await memory(browser.context, page2, server);
        result.memory = m;
        out += `\n## Memory (SteadySocket JS, after forced GC)\n\n| moment | JS heap | wasm memory |\n|---|---:|---:|\n`;
        out += `| after 100 reconnect cycles | ${kb(m.at100.jsHeap)} | ${kb(m.at100.wasmMemory)} |\n`;
        out += `| after ${m.cycles} reconnect cycles | ${kb(m.atEnd.jsHeap)} | ${kb(m.atEnd.wasmMemory)} |\n`;
        out += `| before ${m.queued} queued-then-flushed messages | ${kb(m.beforeQueue.jsHeap)} | ${kb(m.beforeQueue.wasmMemory)} |\n`;
        m.afterQueue.forEach((q, i) => {
          out += `| after them, round ${i + 1} of ${m.afterQueue.length} | ${kb(q.jsHeap)} | ${kb(q.wasmMemory)} |\n`;
        });
      }
    } finally {
      await browser.close();
      await server.close();
    }
  }

  const json = JSON.stringify(result, null, 2);
  fs.writeFileSync(path.join(ROOT, 'bench-results/latest.json'), json);
  fs.writeFileSync(path.join(ROOT, `bench-results/${result.date.replace(/[:.]/g, '-')}.json`), json);
  fs.writeFileSync(path.join(ROOT, 'bench-results/latest.md'), out);
  console.log(out);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
