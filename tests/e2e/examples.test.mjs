// End-to-end test of the framework examples (examples/yew-chat, examples/leptos-chat)
// in headless Chromium against the demo server, which serves them from www/examples/.
// Needs them built: scripts/build-examples.sh all
// Run: node --test tests/e2e/examples.test.mjs
// Screenshots go to test-artifacts/ (<name>.png, <name>-reconnecting.png).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { startServer } from '../../www/server.mjs';
import { launch, ARTIFACTS } from '../support/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BUILT = path.resolve(HERE, '..', '..', 'www', 'examples');
const EXAMPLES = ['yew-chat', 'leptos-chat'];
const BURST = 200;

describe('framework examples', { timeout: 60_000 }, () => {
  let browser;

  before(async () => {
    for (const name of EXAMPLES) {
      const wasm = path.join(BUILT, name, `${name.replace('-', '_')}_bg.wasm`);
      assert.ok(fs.existsSync(wasm), `${wasm} is missing: run scripts/build-examples.sh all`);
    }
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
  });

  for (const name of EXAMPLES) {
    it(`${name}: chats, survives a server restart, and closes its socket on unmount`, async () => {
      /** Every chat message the server(s) received, and the server's log lines. */
      const received = [];
      const lines = [];
      const options = {
        log: (line) => lines.push(line),
        onMessage: (m) =>
          m.endpoint === 'chat' && m.text !== 'ping' && !m.text.startsWith('burst ') && received.push(m.text),
      };
      let srv = await startServer({ port: 0, ...options });
      const port = srv.port;
      const connects = () => lines.filter((l) => /^chat#\d+ .* connected$/.test(l)).length;
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        // The browser itself logs each refused attempt while the server is down.
        if (m.type() === 'error' && !/^WebSocket connection to .* failed/.test(m.text())) {
          problems.push(`console: ${m.text()}`);
        }
      });
      try {
        await page.setViewportSize({ width: 900, height: 600 });
        await page.goto(`http://127.0.0.1:${port}/examples/${name}/?fast=1&name=${name}-tester`);
        const state = (s, timeout = 5000) =>
          page.waitForSelector(`#status[data-state="${s}"]`, { timeout });
        /** How many list entries show exactly `text`. */
        const shown = (text) =>
          page.$$eval('#messages .msg .text', (els, t) => els.filter((e) => e.textContent === t).length, text);
        const seen = (text, timeout = 5000) =>
          page.waitForFunction(
            (t) => [...document.querySelectorAll('#messages .msg .text')].some((e) => e.textContent === t),
            text,
            { timeout },
          );

        // 1. Connect, send with Enter and with the button; the room echoes to us too.
        await state('open');
        await page.waitForSelector(`#messages .sys >> text=Welcome, ${name}-tester`);
        await page.fill('#text', `hello from ${name}`);
        await page.press('#text', 'Enter');
        await seen(`hello from ${name}`);
        assert.equal(await page.inputValue('#text'), '', 'the input is cleared after sending');
        await page.fill('#text', 'sent with the button');
        await page.click('#composer button[type=submit]');
        await seen('sent with the button');
        assert.equal(
          await page.textContent('#messages .msg .from'),
          `${name}-tester`,
          'messages show who sent them',
        );
        // The heartbeat runs every 500 ms of silence with ?fast=1: an RTT shows up.
        await page.waitForFunction(() => /RTT \d+ ms/.test(document.querySelector('#status .rtt').textContent));
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

        // A burst from another client: every message is shown, none collapsed.
        const other = new WebSocket(`ws://127.0.0.1:${port}/chat?name=burst`);
        await new Promise((resolve, reject) => {
          other.once('open', resolve);
          other.once('error', reject);
        });
        for (let i = 1; i <= BURST; i++) other.send(`burst ${i}`);
        await page.waitForFunction(
          (n) => document.querySelectorAll('#messages .msg .text').length === n + 2,
          BURST,
        );
        const burst = await page.$$eval('#messages .msg .text', (els) =>
          els.map((e) => e.textContent).filter((t) => t.startsWith('burst ')),
        );
        assert.deepEqual(burst, Array.from({ length: BURST }, (_, i) => `burst ${i + 1}`));
        other.close();
        assert.equal(connects(), 2, 'one socket (plus the burst client), however often the page re-rendered');

        // 2. The server goes away: the status says so, and what we type is queued.
        await srv.close();
        await state('reconnecting');
        await page.fill('#text', 'typed during the outage');
        await page.press('#text', 'Enter');
        await page.waitForSelector('#status[data-queued="1"]');
        assert.match(await page.textContent('#status .queued'), /^1 queued$/);
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-reconnecting.png`) });

        // 3. A new server on the same port: open again, the queued message arrives once.
        srv = await startServer({ port, ...options });
        await state('open');
        await seen('typed during the outage');
        await page.waitForSelector('#status[data-queued="0"]');
        assert.equal(await shown('typed during the outage'), 1, 'shown once');
        assert.deepEqual(
          received,
          [`hello from ${name}`, 'sent with the button', 'typed during the outage'],
          'the server got each message exactly once, in order',
        );
        assert.equal(connects(), 3, 'one reconnect after the restart');

        // 4. Leave unmounts the room: its socket closes with 1000. Join makes a new one.
        await page.click('#leave');
        await page.waitForSelector('.left');
        await waitFor(() => lines.some((l) => / disconnected \(1000\b/.test(l)), 'a close with 1000');
        await page.click('#leave');
        await state('open');
        assert.equal(connects(), 4, 'one new socket after joining again');
        assert.deepEqual(problems, [], 'no page errors');
      } finally {
        await page.close();
        await srv.close();
      }
    });
  }
});

async function waitFor(predicate, what, timeout = 5000) {
  const deadline = Date.now() + timeout;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
