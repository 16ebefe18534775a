// End-to-end test of the bundler example apps (examples/js-vite, js-webpack,
// js-esbuild), each built against the `npm pack` tarball of pkg/ by
// scripts/build-js-examples.sh, in headless Chromium against the fault server: the
// echo, and a reconnect (the server refuses connections for a while; what is sent
// meanwhile arrives once it is back). The Vite app is also run under `vite` (the
// dev server a Vite user starts first).
// Run: scripts/build-js-examples.sh && node --test tests/e2e/js-examples.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../www/server.mjs';
import { startFaultServer } from '../support/fault-server.mjs';
import { launch } from '../support/browser.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = (name) => path.join(ROOT, 'examples', `js-${name}`);

// What is served for each built app (the directory with its index.html), and the
// files the build must have produced.
const BUILT = {
  vite: { root: path.join(app('vite'), 'dist'), files: ['dist/index.html'] },
  webpack: { root: app('webpack'), files: ['dist/main.js'] },
  esbuild: { root: app('esbuild'), files: ['dist/main.js', 'dist/core/steadysocket_core_bg.wasm'] },
};

// The browser logs each refused attempt while the server is down; the static
// servers have no favicon.
const EXPECTED_ERRORS = /^WebSocket connection to .* failed|^Failed to load resource: .*404/;

describe('bundler examples', { timeout: 90_000 }, () => {
  let browser;
  let fault;

  const ctl = async (route) => {
    const res = await fetch(fault.url + route);
    const body = await res.json();
    if (!res.ok) throw new Error(`fault server ${route}: ${res.status} ${body.error}`);
    return body;
  };

  before(async () => {
    for (const [name, { files }] of Object.entries(BUILT)) {
      for (const f of files) {
        const file = path.join(app(name), f);
        assert.ok(fs.existsSync(file), `${file} is missing: run scripts/build-js-examples.sh`);
      }
    }
    fault = await startFaultServer();
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await fault?.close();
  });

  /** Opens the app at `base`, echoes, survives an outage; returns nothing, asserts all. */
  async function echoAndReconnect(base, label) {
    const inst = await ctl('/instances');
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !EXPECTED_ERRORS.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    const status = page.locator('#status');
    const lines = page.locator('#log li');
    try {
      await page.goto(`${base}?ws=${encodeURIComponent(inst.url)}`);
      await status.filter({ hasText: /^open$/ }).waitFor({ timeout: 10_000 });

      await page.fill('#text', `hello from ${label}`);
      await page.press('#text', 'Enter');
      await lines.filter({ hasText: `hello from ${label}` }).waitFor({ timeout: 5_000 });

      await ctl(`/instances/${inst.id}/stop`); // drops the connection, refuses new ones
      await status.filter({ hasText: /^reconnecting \(attempt \d+\)$/ }).waitFor({ timeout: 5_000 });
      await page.fill('#text', 'sent during the outage');
      await page.press('#text', 'Enter');
      await ctl(`/instances/${inst.id}/start`);
      await status.filter({ hasText: /^open$/ }).waitFor({ timeout: 10_000 });
      await lines.filter({ hasText: 'sent during the outage' }).waitFor({ timeout: 5_000 });

      assert.deepEqual(await lines.allTextContents(), [`hello from ${label}`, 'sent during the outage']);
      const log = await ctl(`/instances/${inst.id}/log`);
      assert.equal(log.connections.length, 2, 'one connection before the outage, one after');
      assert.deepEqual(
        log.connections.map((c) => c.received.map((m) => m.data)),
        [[`hello from ${label}`], ['sent during the outage']],
        'the queued message went out once, on the new connection',
      );
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
      await ctl(`/instances/${inst.id}/delete`).catch(() => {});
    }
  }

  for (const name of Object.keys(BUILT)) {
    it(`${name}: the built app echoes and reconnects`, async () => {
      const web = await startServer({ port: 0, root: BUILT[name].root, log: null });
      try {
        await echoAndReconnect(`${web.url.replace(/\/$/, '')}/`, name);
      } finally {
        await web.close();
      }
    });
  }

  it('vite: the app under the dev server (`npm run dev`) echoes and reconnects', async () => {
    const vite = spawn(process.execPath, ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', '0'], {
      cwd: app('vite'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    let output = '';
    try {
      const url = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`vite did not start:\n${output}`)), 20_000);
        const look = (chunk) => {
          output += chunk;
          const m = /Local:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        vite.stdout.on('data', look);
        vite.stderr.on('data', look);
        vite.once('exit', (code) => reject(new Error(`vite exited (${code}):\n${output}`)));
      });
      await echoAndReconnect(url, 'vite dev');
    } finally {
      vite.kill('SIGTERM');
    }
  });
});
