// Browser tests of the framework hooks (crates/steadysocket-yew, crates/steadysocket-leptos),
// through the hidden test page of each example (`?test=hooks`, examples/*/src/hooks_test.rs),
// in headless Chromium against the fault-injecting server (tests/support/fault-server.mjs).
// Needs the examples built: scripts/build-examples.sh all
// Run: node --test tests/e2e/hooks.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../www/server.mjs';
import { startFaultServer } from '../support/fault-server.mjs';
import { launch } from '../support/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILT = path.resolve(HERE, '..', '..', 'www', 'examples');
const EXAMPLES = ['yew-chat', 'leptos-chat'];
const BURST = 1000;
// HOOKS_CYCLES=1000 for a longer look at the memory.
const CYCLES = Number(process.env.HOOKS_CYCLES || 200);

// Before any page script: count native sockets (created, and collected) and the event
// listeners on sockets, window and document (every closure steadysocket hands the
// browser is one of these), and keep the wasm memory to read its size.
const INSTRUMENT = () => {
  const stats = { created: 0, collected: 0, listeners: 0 };
  window.__hooks = stats;
  const Native = window.WebSocket;
  const registry = new FinalizationRegistry(() => stats.collected++);
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      stats.created++;
      registry.register(this, null);
    }
  };
  const live = new WeakMap();
  const tracked = (t) => t instanceof Native || t === window || t === document;
  const set = (target, type, capture) => {
    let byType = live.get(target);
    if (!byType) live.set(target, (byType = new Map()));
    const key = `${type}/${capture}`;
    if (!byType.has(key)) byType.set(key, new Set());
    return byType.get(key);
  };
  const capture = (o) => Boolean(typeof o === 'object' && o ? o.capture : o);
  const { addEventListener: add, removeEventListener: remove } = EventTarget.prototype;
  EventTarget.prototype.addEventListener = function (type, fn, options) {
    if (fn && tracked(this)) {
      const s = set(this, type, capture(options));
      if (!s.has(fn)) (s.add(fn), stats.listeners++);
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, options) {
    if (fn && tracked(this)) {
      const s = set(this, type, capture(options));
      if (s.delete(fn)) stats.listeners--;
    }
    return remove.call(this, type, fn, options);
  };
  for (const name of ['instantiate', 'instantiateStreaming']) {
    const real = WebAssembly[name];
    WebAssembly[name] = async (...args) => {
      const result = await real.apply(WebAssembly, args);
      window.__wasmMemory = (result.instance ?? result).exports.memory;
      return result;
    };
  }
};

describe('framework hooks', { timeout: 120_000 }, () => {
  let browser;
  let web;
  let faults;

  before(async () => {
    for (const name of EXAMPLES) {
      const wasm = path.join(BUILT, name, `${name.replace('-', '_')}_bg.wasm`);
      assert.ok(fs.existsSync(wasm), `${wasm} is missing: run scripts/build-examples.sh all`);
    }
    browser = await launch();
    web = await startServer({ port: 0, log: () => {} });
    faults = await startFaultServer();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await faults?.close();
  });

  /** A call to the fault server's control API. */
  async function control(route) {
    const res = await fetch(`${faults.url}${route}`);
    const body = await res.json();
    assert.ok(res.ok, `${route}: ${body.error}`);
    return body;
  }

  /** A fresh fault-server instance, its page (`?test=hooks`) and the page's problems. */
  async function open(name, query = '', mode = '') {
    const server = await control(`/instances${mode}`);
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // The browser itself logs each refused attempt while the server is down.
      if (m.type() === 'error' && !/^WebSocket connection to .* failed/.test(m.text())) {
        problems.push(`console: ${m.text()}`);
      }
    });
    await page.addInitScript(INSTRUMENT);
    const ws = encodeURIComponent(server.url);
    await page.goto(`http://127.0.0.1:${web.port}/examples/${name}/?test=hooks&ws=${ws}${query}`);
    const done = async () => {
      await page.close();
      await control(`/instances/${server.id}/delete`);
    };
    const log = () => control(`/instances/${server.id}/log`);
    return { server, page, problems, log, done };
  }

  for (const name of EXAMPLES) {
    describe(name, () => {
      it('a 1,000-message burst reaches the component in order, on one socket', async () => {
        const { page, problems, log, done } = await open(name, `&burst=${BURST}`);
        try {
          await page.waitForSelector('#probe[data-state="open"]');
          await page.click('#burst'); // sends b0…b999 at once; the server echoes each
          await page.waitForSelector(`#probe[data-count="${BURST}"]`, { timeout: 20_000 });
          const got = (await page.textContent('#log')).split(' ');
          assert.deepEqual(got, Array.from({ length: BURST }, (_, i) => `b${i}`), 'every message, in order, once');
          assert.equal(await page.getAttribute('#probe', 'data-last'), `b${BURST - 1}`, 'the last message');
          const server = await log();
          assert.equal(server.connections.length, 1, 'one socket, however often the component re-rendered');
          assert.deepEqual(problems, []);
        } finally {
          await done();
        }
      });

      it('a 1,000-message burst delivered in one task (held back by on_connect) reaches the component in order', async () => {
        // The echoes arrive while on_connect runs and come out together right after
        // open: a hook that kept only the latest message would show one of them.
        const { page, problems, done } = await open(name, `&held=${BURST}`);
        try {
          await page.waitForSelector(`#probe[data-count="${BURST}"]`, { timeout: 20_000 });
          const got = (await page.textContent('#log')).split(' ');
          assert.deepEqual(got, Array.from({ length: BURST }, (_, i) => `b${i}`), 'every message, in order, once');
          assert.equal(await page.getAttribute('#probe', 'data-last'), `b${BURST - 1}`, 'the last message');
          assert.deepEqual(problems, []);
        } finally {
          await done();
        }
      });

      it(`unmount closes with 1000 and frees everything, over ${CYCLES} mount/unmount cycles`, async () => {
        // Each connection gets 8 KB on open and holds it in its inbox: whatever of a
        // socket outlives its component shows in the memory figures.
        const { page, problems, log, done } = await open(name, '', `?sendOnOpen=${'x'.repeat(8192)}`);
        try {
          const cdp = await page.context().newCDPSession(page);
          const measure = async () => {
            for (let i = 0; i < 2; i++) {
              await cdp.send('HeapProfiler.collectGarbage');
              // FinalizationRegistry callbacks run in a later task.
              await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
            }
            const { usedSize } = await cdp.send('Runtime.getHeapUsage');
            const s = await page.evaluate(() => ({ ...window.__hooks, wasm: window.__wasmMemory.buffer.byteLength }));
            return { heap: usedSize, wasm: s.wasm, sockets: s.created - s.collected, listeners: s.listeners };
          };
          // Mount (wait for its message), unmount (wait for it to go), n times, in the page.
          const cycle = (n) =>
            page.evaluate(async (n) => {
              const until = (f) =>
                new Promise((resolve, reject) => {
                  const t0 = performance.now();
                  const tick = () =>
                    f() ? resolve() : performance.now() - t0 > 5000 ? reject(new Error('timed out')) : setTimeout(tick, 1);
                  tick();
                });
              const toggle = document.querySelector('#toggle');
              for (let i = 0; i < n; i++) {
                if (!document.querySelector('#probe')) toggle.click();
                await until(() => document.querySelector('#probe[data-count="1"]'));
                toggle.click();
                await until(() => !document.querySelector('#probe'));
              }
            }, n);
          const warmup = 20;
          await page.waitForSelector('#probe[data-state="open"]');
          await cycle(warmup);
          const first = await measure();
          await cycle(CYCLES / 2);
          const middle = await measure();
          await cycle(CYCLES / 2);
          const last = await measure();
          const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
          console.log(
            `${name}: after ${warmup} / ${warmup + CYCLES / 2} / ${warmup + CYCLES} cycles: ` +
              `JS heap ${kib(first.heap)} / ${kib(middle.heap)} / ${kib(last.heap)}, ` +
              `wasm memory ${kib(first.wasm)} / ${kib(middle.wasm)} / ${kib(last.wasm)}, ` +
              `live sockets ${first.sockets} / ${middle.sockets} / ${last.sockets}, ` +
              `listeners ${first.listeners} / ${middle.listeners} / ${last.listeners}`,
          );

          // The server saw every socket closed with 1000, one per mount.
          let server;
          const deadline = Date.now() + 5000;
          while ((server = await log()).open > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          assert.equal(server.open, 0, 'no socket left open');
          assert.equal(server.connections.length, warmup + CYCLES, 'one socket per mount');
          const codes = new Set(server.connections.map((c) => c.closeCode));
          assert.deepEqual([...codes], [1000], 'every unmount closed with 1000');

          // Nothing of the sockets is left in the page: no listener, no native socket.
          assert.equal(last.listeners, first.listeners, 'every listener removed');
          assert.ok(last.sockets <= 2, `native sockets collected (${last.sockets} left)`);
          // The memory plateaus: the second hundred cycles add (next to) nothing.
          assert.ok(last.wasm <= middle.wasm, `wasm memory grew ${kib(last.wasm - middle.wasm)} in ${CYCLES / 2} cycles`);
          assert.ok(
            last.heap - middle.heap < 256 * 1024,
            `JS heap grew ${kib(last.heap - middle.heap)} in ${CYCLES / 2} cycles`,
          );
          assert.deepEqual(problems, []);
        } finally {
          await done();
        }
      });

      it('recovers from a server restart, shows it in the status, and obeys close/reconnect/restart', async () => {
        const { server, page, problems, log, done } = await open(name);
        const state = (s) => page.waitForSelector(`#probe[data-state="${s}"]`);
        try {
          await state('open');
          await control(`/instances/${server.id}/stop`);
          await state('reconnecting');
          assert.ok(Number(await page.getAttribute('#probe', 'data-attempt')) >= 1, 'the attempt shows');
          await page.click('#send-one');
          await page.waitForSelector('#probe[data-queued="1"]');
          await control(`/instances/${server.id}/start`);
          await state('open');
          await page.waitForSelector('#probe[data-queued="0"]');
          await page.waitForSelector('#probe[data-last="one"]');
          assert.equal(await page.textContent('#log'), 'one', 'the queued message, once');

          await page.click('#close');
          await state('closed');
          await page.click('#reconnect');
          await state('open');
          await page.click('#restart'); // restart_with: a new socket, the old one closed with 1000
          await waitFor(async () => (await log()).connections.length === 4, 'the restarted socket');
          await state('open');
          const { connections } = await log();
          // 1: killed by the stop; 2: close(); 3: closed by restart_with; 4: open.
          assert.deepEqual(
            connections.map((c) => c.closeCode),
            [1006, 1000, 1000, null],
            'close() and restart_with close with 1000',
          );
          assert.deepEqual(problems, []);
        } finally {
          await done();
        }
      });

      it('server-pushed JSON lands in the typed value; a message that does not decode is an error', async () => {
        const { server, page, problems, done } = await open(name, '&probe=json');
        const push = (text) => control(`/instances/${server.id}/send?text=${encodeURIComponent(text)}`);
        // `attached`: the element is empty (invisible) until a value arrives.
        const shows = (selector) => page.waitForSelector(selector, { state: 'attached' });
        try {
          await shows('#json[data-state="open"]');
          await push(JSON.stringify({ kind: 'price', n: 42 }));
          await shows('#json[data-last="price:42"]');
          await push('not json');
          await page.waitForFunction(() => document.querySelector('#json').dataset.error !== '');
          assert.equal(await page.getAttribute('#json', 'data-last'), 'price:42', 'kept the last good value');
          await push(JSON.stringify({ kind: 'tick', n: 43 }));
          await shows('#json[data-last="tick:43"]');
          assert.deepEqual(problems, []);
        } finally {
          await done();
        }
      });
    });
  }
});

async function waitFor(predicate, what, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
