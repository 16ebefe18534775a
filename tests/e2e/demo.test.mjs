// End-to-end test of the demo pages (www/) in headless Chromium against the demo server.
// Needs the package built into pkg/ (scripts/build-pkg.sh --dev).
// Run: node --test tests/e2e/
// Screenshots go to test-artifacts/ (echo.png, chat.png, reconnecting.png).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../www/server.mjs';
import { launch, ARTIFACTS } from '../support/browser.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG = path.resolve(HERE, '..', '..', 'pkg', 'steadysocket.js');
const XSS = '<img src=x onerror=alert(1)>';
// Short, exact reconnect delays (read by www/panel.js from the query string).
const FAST = 'minDelay=50&maxDelay=300&jitter=0&timeout=2000';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('demo pages', { timeout: 60_000, skip: !fs.existsSync(PKG) && 'pkg/ is not built: run scripts/build-pkg.sh --dev' }, () => {
  let browser;
  let srv;
  let port;
  /** Every WebSocket message the demo server(s) received: { endpoint, client, text }. */
  const received = [];
  const onMessage = (m) => received.push(m);
  const pages = [];

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    srv = await startServer({ port: 0, log: () => {}, onMessage });
    port = srv.port;
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** A page that records dialogs and CSP violations; checked by `clean(page)`. */
  async function open(pathAndQuery) {
    const page = await browser.newPage();
    page.problems = [];
    page.dialogs = 0;
    page.on('dialog', (d) => {
      page.dialogs++;
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
        page.problems.push(`csp: ${m.text()}`);
      }
    });
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith('ws')) page.problems.push(`request failed: ${r.url()}`);
    });
    await page.setViewportSize({ width: 1280, height: 760 });
    await page.goto(`http://127.0.0.1:${port}${pathAndQuery}`);
    pages.push(page);
    return page;
  }

  function clean(page) {
    assert.deepEqual(page.problems, [], 'no page errors or CSP violations');
    assert.equal(page.dialogs, 0, 'no dialog opened');
  }

  const state = (page, s, timeout = 5000) =>
    page.waitForSelector(`#panel[data-state="${s}"]`, { timeout });

  async function send(page, text) {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  }

  /** Texts of log entries of one kind ("in", "out", "sys"). */
  const texts = (page, kind) =>
    page.$$eval(`#log .entry-${kind} .text`, (els) => els.map((e) => e.textContent));

  /** Waits until a log entry of `kind` has exactly `text`. */
  const seen = (page, kind, text, timeout = 5000) =>
    page.waitForFunction(
      ([k, t]) => [...document.querySelectorAll(`#log .entry-${k} .text`)].some((e) => e.textContent === t),
      [kind, text],
      { timeout },
    );

  /** The badge status of the last sent entry with `text`. */
  const status = (page, text) =>
    page.$$eval(
      '#log .entry-out',
      (els, t) => els.filter((e) => e.querySelector('.text').textContent === t).map((e) => e.dataset.status),
      text,
    );

  it('echo: Enter sends, the echo appears, the badge says delivered', async () => {
    const page = await open(`/?${FAST}`);
    await state(page, 'open');
    await send(page, 'hello, steadysocket');
    await seen(page, 'in', 'hello, steadysocket');
    assert.deepEqual(await status(page, 'hello, steadysocket'), ['delivered']);
    assert.equal(await page.inputValue('#text'), '', 'input cleared');
    // the Send button works too
    await page.fill('#text', 'sent with the button');
    await page.click('#composer button[type=submit]');
    await seen(page, 'in', 'sent with the button');
    assert.match(await page.textContent('#conn-state'), /Open/);
    clean(page);
  });

  it('a message with markup shows literally (no element, no dialog)', async () => {
    const page = await open(`/?${FAST}`);
    await state(page, 'open');
    await send(page, XSS);
    await seen(page, 'in', XSS);
    assert.equal(await page.locator('#log img').count(), 0);
    assert.equal(await page.locator('img').count(), 0);
    assert.deepEqual((await texts(page, 'out')).filter((t) => t === XSS), [XSS]);
    await send(page, 'the line above is plain text');
    await seen(page, 'in', 'the line above is plain text');
    await sleep(100);
    clean(page);
    await page.screenshot({ path: path.join(ARTIFACTS, 'echo.png') });
  });

  it('chat: two visitors see each other join and talk', async () => {
    const alice = await open(`/chat.html?${FAST}&name=alice`);
    await state(alice, 'open');
    await alice.waitForFunction(() => document.querySelector('#online').textContent.startsWith('Online (1)'));
    const bob = await open(`/chat.html?${FAST}&name=bob`);
    await state(bob, 'open');
    await seen(alice, 'sys', 'bob joined');
    await seen(bob, 'sys', 'You joined as bob');
    assert.equal(await alice.inputValue('#name'), 'alice');

    await send(bob, 'hi alice!');
    await seen(alice, 'in', 'hi alice!');
    const from = await alice.$$eval('#log .entry-in', (els) =>
      els.map((e) => [e.querySelector('.who').textContent, e.querySelector('.text').textContent]),
    );
    assert.deepEqual(from, [['bob', 'hi alice!']]);
    assert.deepEqual(await status(bob, 'hi alice!'), ['delivered']);

    await send(alice, 'hello bob, welcome');
    await send(alice, XSS);
    await seen(bob, 'in', 'hello bob, welcome');
    await seen(bob, 'in', XSS);
    assert.equal(await bob.locator('img').count(), 0, 'markup from the room stays text');
    await alice.waitForFunction(() => document.querySelector('#online').textContent === 'Online (2): you, bob');

    // A name with markup is cleaned up by the server and shown as text.
    const eve = await open(`/chat.html?${FAST}&name=${encodeURIComponent('<b>eve</b>')}`);
    await state(eve, 'open');
    await seen(alice, 'sys', 'beveb joined');
    await send(alice, 'See you!');
    await seen(bob, 'in', 'See you!');
    await eve.close();
    await seen(alice, 'sys', 'beveb left');

    // Clear log empties the log.
    await bob.click('#clear');
    assert.equal(await bob.locator('#log li').count(), 0);

    for (const p of [alice, bob]) clean(p);
    await alice.screenshot({ path: path.join(ARTIFACTS, 'chat.png') });
    await alice.close();
    await bob.close();
  });

  it('chat, "One connection for all tabs": two tabs, one server connection, both talk', async () => {
    const count = async () => (await (await fetch(`http://127.0.0.1:${port}/api/connections`)).json()).chat;
    const one = await open(`/chat.html?${FAST}&shared=1&name=sam`);
    await state(one, 'open');
    await sleep(500); // earlier tests' connections finish closing
    const alone = await count();
    const two = await open(`/chat.html?${FAST}&shared=1&name=sam`);
    await state(two, 'open');
    assert.equal(await two.isChecked('#shared'), true);
    await sleep(500);
    assert.equal(await count(), alone, 'the second tab made no connection of its own');
    for (const p of [one, two]) {
      await p.waitForFunction(
        (n) => document.querySelector('#server-count').textContent === `server: ${n} chat connection${n === 1 ? '' : 's'}`,
        alone,
        { timeout: 5000 },
      );
    }
    assert.equal(await two.textContent('#online'), 'Online (shared connection)');

    // What the second tab sends goes out on the first tab's connection; both see it.
    await send(two, 'from the second tab');
    await seen(one, 'out', 'from the second tab');
    await two.waitForFunction(() =>
      [...document.querySelectorAll('#log .entry-out')].some((e) => e.dataset.status === 'delivered'),
    null, { timeout: 5000 });
    assert.equal(received.filter((m) => m.endpoint === 'chat' && m.text.includes('from the second tab')).length, 1);

    // The first tab goes away: the second one takes the connection over.
    await one.close();
    await state(two, 'open', 5000);
    await send(two, 'still here');
    await two.waitForFunction(() =>
      [...document.querySelectorAll('#log .entry-out')].filter((e) => e.dataset.status === 'delivered').length >= 2,
    null, { timeout: 5000 });
    assert.equal(await count(), alone);
    clean(two);
    await two.close();
  });

  it('"Drop me (server)" cuts the socket; the panel shows reconnecting, then open', async () => {
    const page = await open('/?minDelay=1000&maxDelay=1000&jitter=0');
    await state(page, 'open');
    await page.click('#btn-drop');
    await page.waitForFunction(
      () =>
        document.querySelector('#panel').dataset.state === 'reconnecting' &&
        /^Reconnecting in \d\.\d s$/.test(document.querySelector('#conn-state').textContent),
      null,
      { timeout: 2000 },
    );
    await state(page, 'open', 4000);
    const events = await page.$$eval('#conn-events li:not([data-kind="note"])', (els) =>
      els.map((e) => `${e.dataset.kind}: ${e.querySelector('span').textContent}`).reverse(),
    );
    const i = events.findIndex((e) => e.startsWith('close: closed: 1006'));
    assert.ok(i > 0, events.join('\n'));
    assert.match(events[i + 1], /^reconnecting: retry #1 in 1\.0 s/, events.join('\n'));
    assert.ok(events.slice(i + 1).some((e) => e.startsWith('open:')), events.join('\n'));
    assert.match(await page.textContent('#conn-last-close'), /^1006 /);
    await seen(page, 'sys', 'Reconnected.');
    // and it works again
    await send(page, 'after the drop');
    await seen(page, 'in', 'after the drop');
    clean(page);
    await page.close();
  });

  it('Close stops for good, a message typed then waits; Reconnect comes back and delivers it (also while open)', async () => {
    const page = await open(`/?${FAST}`);
    await state(page, 'open');
    await page.click('#btn-close');
    await state(page, 'stopped');
    assert.match(await page.textContent('#conn-detail'), /Closed by you/);
    assert.equal(await page.isDisabled('#btn-close'), true);
    await send(page, 'while closed');
    assert.deepEqual(await status(page, 'while closed'), ['pending']);
    await page.click('#btn-reconnect');
    await state(page, 'open');
    await seen(page, 'in', 'while closed');
    await send(page, 'back again');
    await seen(page, 'in', 'back again');
    // Reconnect while open: a fresh connection, not reported as a lost one
    await page.click('#btn-reconnect');
    await page.waitForFunction(() => {
      const kinds = [...document.querySelectorAll('#conn-events li')].map((e) => e.dataset.kind);
      return kinds[0] === 'open' && kinds[1] === 'close';
    });
    assert.match(await page.textContent('#conn-last-close'), /^1000 “reconnect requested”/);
    assert.deepEqual(
      (await texts(page, 'sys')).filter((t) => t.startsWith('Connection lost')),
      [],
      'a requested reconnect is not a lost connection',
    );
    await send(page, 'after reconnect()');
    await seen(page, 'in', 'after reconnect()');
    clean(page);
    await page.close();
  });

  it('server restart: a message typed during the outage is delivered exactly once', async () => {
    const page = await open('/?minDelay=200&maxDelay=600&jitter=0&timeout=2000');
    await state(page, 'open');
    await send(page, 'before the outage');
    await seen(page, 'in', 'before the outage');

    await srv.close(); // 1001 to every client, port closed
    srv = null;
    await state(page, 'reconnecting');
    const during = 'typed during the outage';
    await send(page, during);
    assert.deepEqual(await status(page, during), ['pending']);
    assert.match(await page.textContent('#conn-queued'), /^1 message, \d+ B$/);
    await sleep(700); // let a few attempts fail against the closed port
    await page.waitForFunction(() => /Reconnecting in/.test(document.querySelector('#conn-state').textContent));
    await page.screenshot({ path: path.join(ARTIFACTS, 'reconnecting.png') });

    srv = await startServer({ port, log: () => {}, onMessage });
    await state(page, 'open', 5000);
    await seen(page, 'in', during);
    assert.deepEqual(await status(page, during), ['delivered']);
    await sleep(300); // room for a duplicate to show up, if there were one
    assert.deepEqual((await texts(page, 'in')).filter((t) => t === during), [during], 'echoed once');
    assert.equal(received.filter((m) => m.endpoint === 'echo' && m.text === during).length, 1, 'server got it once');
    assert.equal(await page.textContent('#conn-queued'), 'nothing waiting');
    const kinds = await page.$$eval('#conn-events li', (els) => els.map((e) => e.dataset.kind).reverse());
    assert.equal(kinds.at(-1), 'open', kinds.join(','));
    assert.equal(kinds.at(-2), 'reconnecting', kinds.join(','));
    clean(page);
  });
});
