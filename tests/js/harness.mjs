// Shared set-up for tests/js/*.test.mjs: one fault server, one static server (root =
// tests/js/fixtures, /pkg/ = the built package) and one Chromium per test file, and a
// fresh page per test. Everything is closed in `close()` so `node --test` exits.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFaultServer } from '../support/fault-server.mjs';
import { startServer } from '../../www/server.mjs';
import { launch } from '../support/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FIXTURES = path.join(HERE, 'fixtures');
// STEADYSOCKET_PKG: test another build of the package (e.g. a copy with a deliberate bug).
export const PKG = process.env.STEADYSOCKET_PKG || path.resolve(HERE, '..', '..', 'pkg');

/** Console text that means the wasm module panicked or trapped. */
export const PANIC = /panicked|unreachable|RuntimeError|recursive use of an object|closure invoked/i;

/** Fast, deterministic reconnect options for tests. */
export const FAST = Object.freeze({
  minReconnectionDelay: 50,
  maxReconnectionDelay: 200,
  reconnectionDelayGrowFactor: 2,
  reconnectionJitter: 0,
  connectionTimeout: 2000,
  closeTimeout: 300,
});

export async function harness() {
  const fault = await startFaultServer();
  const web = await startServer({ port: 0, root: FIXTURES, pkgDir: PKG, log: null });
  const browser = await launch();

  /** Calls a fault-server control route; throws with the server's message on failure. */
  async function ctl(route) {
    const res = await fetch(fault.url + route);
    const body = await res.json();
    if (!res.ok) throw new Error(`fault server ${route}: ${res.status} ${body.error}`);
    return body;
  }

  /**
   * The log of instance `id` once `ready(log)` holds (polled; the server records a
   * close only when the TCP connection ends, a moment after the browser's close
   * event). Returns the last log after `ms` either way: the assertions then say why.
   */
  async function logWhen(id, ready, ms = 2000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const log = await ctl(`/instances/${id}/log`);
      if (ready(log) || Date.now() > deadline) return log;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Creates a fault-server instance: `{ id, port, url }`; query is e.g. 'protocol=b'. */
  const instance = (query = '') => ctl(`/instances${query ? `?${query}` : ''}`);

  /**
   * A fresh page with the fixtures loaded, `window.ctl(route)` bound to the fault
   * server, and its console collected in `page.lines`. Closed after the test `t`,
   * which then fails if anything on the console looks like a wasm panic.
   */
  async function open(t) {
    const page = await browser.newPage();
    page.lines = [];
    page.on('console', (m) => page.lines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => page.lines.push(`pageerror: ${e.message}`));
    await page.exposeFunction('ctl', ctl);
    await page.goto(`${web.url}/`);
    try {
      await page.waitForFunction(() => window.T !== undefined, null, { timeout: 10_000 });
    } catch (e) {
      // Usually pkg/ missing or being rebuilt (scripts/build-pkg.sh empties it first).
      await page.close().catch(() => {});
      throw new Error(`the fixture page did not load the package: ${e.message}\n${page.lines.join('\n')}`);
    }
    t.after(async () => {
      await page.close().catch(() => {});
      const bad = page.lines.filter((l) => PANIC.test(l));
      if (bad.length) throw new Error(`the page logged a wasm panic/trap:\n${bad.join('\n')}`);
    });
    return page;
  }

  async function close() {
    await browser.close();
    await web.close();
    await fault.close();
  }

  return { fault, web, browser, ctl, logWhen, instance, open, close };
}
