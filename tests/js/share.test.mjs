// `share`: one native connection for every page of one browser context (Web Locks +
// BroadcastChannel), against the real fault server, which counts the connections.
// Each test uses its own share name (all pages of the test file share one context).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, FAST } from './harness.mjs';

let h;
before(async () => {
  h = await harness();
});
after(async () => {
  await h?.close();
});

let names = 0;
const shareName = () => `test-${process.pid}-${++names}`;

/** Opens a page with a shared socket on `url` as window.s, its events in window.log. */
async function sharedPage(t, url, name, extra = {}) {
  const page = await h.open(t);
  await page.evaluate(
    async ({ url, name, FAST, extra }) => {
      const { SteadySocket, record } = await import('/helpers.mjs');
      if (extra.noLocks) delete Navigator.prototype.locks;
      window.s = new SteadySocket(url, [], { ...FAST, share: name });
      window.log = record(window.s);
      window.texts = [];
      window.s.addEventListener('message', (e) => window.texts.push(e.data));
      window.opens = [];
      window.s.addEventListener('open', () => window.opens.push(Date.now()));
    },
    { url, name, FAST, extra },
  );
  return page;
}

/** Three pages sharing `name`: the first leads (it is open before the others start). */
async function threePages(t, url, name) {
  const a = await sharedPage(t, url, name);
  await whenOpen(a);
  const b = await sharedPage(t, url, name);
  const c = await sharedPage(t, url, name);
  await Promise.all([whenOpen(b), whenOpen(c)]);
  return [a, b, c];
}

const whenOpen = (page, ms = 5000) =>
  page.evaluate(async (ms) => {
    const { until } = await import('/helpers.mjs');
    await until(() => window.s.readyState === 1, ms, 'readyState OPEN');
  }, ms);

const sendAll = (page, prefix, n) =>
  page.evaluate(
    ({ prefix, n }) => {
      for (let i = 1; i <= n; i++) window.s.send(`${prefix}-${i}`);
    },
    { prefix, n },
  );

/** The texts the server received, over all its connections, in arrival order. */
async function received(id) {
  const log = await h.ctl(`/instances/${id}/log`);
  return log.connections.flatMap((c) => c.received.filter((m) => m.type === 'text').map((m) => m.data));
}

async function receivedWhen(id, ready, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await received(id);
    if (ready(got) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Each of `prefix-1..n` arrived, first arrivals in order; `once`: exactly once each. */
function assertDelivered(got, prefix, n, once) {
  const mine = got.filter((m) => m.startsWith(`${prefix}-`));
  const firsts = [...new Set(mine)];
  assert.deepEqual(firsts, Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`), `${prefix}: ${mine}`);
  if (once) assert.equal(mine.length, n, `${prefix} duplicated: ${mine}`);
}

test('three pages share one native connection: every send reaches the server once and in order, every page gets every message', async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const [a, b, c] = await threePages(t, url, name);
  const log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 1, 'one connection for three pages');
  assert.equal(log.open, 1);

  // Followers report the leader's connection as their own.
  for (const p of [b, c]) {
    const seen = await p.evaluate(() => ({
      readyState: window.s.readyState,
      url: window.s.url,
      events: window.log.map((e) => e.type),
    }));
    assert.equal(seen.readyState, 1);
    assert.equal(seen.url, new URL(url).href);
    assert.deepEqual(seen.events, ['open'], 'open once, after construction');
  }

  await Promise.all([sendAll(a, 'a', 30), sendAll(b, 'b', 30), sendAll(c, 'c', 30)]);
  const got = await receivedWhen(id, (g) => g.length >= 90);
  for (const p of ['a', 'b', 'c']) assertDelivered(got, p, 30, true);
  assert.equal(got.length, 90);

  // The server echoes each one: every page receives all 90, in the server's order.
  await h.ctl(`/instances/${id}/send?text=${encodeURIComponent('from-server')}`);
  for (const p of [a, b, c]) {
    const texts = await p.evaluate(async () => {
      const { until } = await import('/helpers.mjs');
      await until(() => window.texts.length >= 91, 5000, '91 messages');
      return window.texts;
    });
    assert.deepEqual(texts, [...got, 'from-server']);
  }
  // Everything a follower relayed was confirmed: nothing held.
  for (const p of [b, c]) {
    assert.equal(await p.evaluate(() => window.s.bufferedAmount), 0);
  }
});

test("closing the leader's page hands over within 1 s, with nothing a follower sent lost", async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const [a, b, c] = await threePages(t, url, name);

  // Followers send while the leader goes away, and after.
  await Promise.all([sendAll(b, 'b', 20), sendAll(c, 'c', 20)]);
  const gone = Date.now();
  await a.close();
  await Promise.all([
    b.evaluate(() => {
      for (let i = 21; i <= 40; i++) window.s.send(`b-${i}`);
    }),
    c.evaluate(() => {
      for (let i = 21; i <= 40; i++) window.s.send(`c-${i}`);
    }),
  ]);
  const reopened = [];
  for (const p of [b, c]) {
    const r = await p.evaluate(async () => {
      const { until } = await import('/helpers.mjs');
      await until(() => window.opens.length >= 2, 5000, 'a second open');
      return { at: window.opens[1], events: window.log.map((e) => [e.type, e.code, e.reason]) };
    });
    reopened.push(r.at);
    const events = r.events.filter(([type]) => type !== 'message');
    assert.deepEqual(events, [
      ['open', undefined, undefined],
      ['close', 1006, 'leader left'],
      ['reconnecting', undefined, undefined],
      ['open', undefined, undefined],
    ]);
  }
  const handover = Math.max(...reopened) - gone;
  t.diagnostic(`handover: ${handover} ms`);
  assert.ok(handover < 1000, `open again ${handover} ms after the leader's page closed`);

  const got = await receivedWhen(id, (g) => new Set(g).size >= 80);
  assertDelivered(got, 'b', 40, false);
  assertDelivered(got, 'c', 40, false);
  const log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 2, 'one new connection, by the new leader');
  assert.equal(log.open, 1);
});

test("close() on the leader's socket passes the connection on; its own later sends follow it", async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const [a, b, c] = await threePages(t, url, name);
  const own = await a.evaluate(async () => {
    const { next } = await import('/helpers.mjs');
    const stop = next(window.s, 'stop');
    window.s.close();
    await stop;
    window.s.send('a-late');
    return window.log.map((e) => e.type);
  });
  assert.deepEqual(own, ['open', 'close', 'stop']);
  for (const p of [b, c]) {
    await p.evaluate(async () => {
      const { until } = await import('/helpers.mjs');
      await until(() => window.opens.length >= 2, 5000, 'a second open');
    });
  }
  let log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 2);
  assert.equal(log.open, 1);
  // The closed one rejoins as a follower: its held message goes through the new leader.
  await a.evaluate(() => window.s.reconnect());
  await whenOpen(a);
  const got = await receivedWhen(id, (g) => g.includes('a-late'));
  assert.equal(got.filter((m) => m === 'a-late').length, 1);
  log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 2, 'rejoining made no connection of its own');
});

test('a page that calls close() stops alone; reconnect() joins again', async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const [a, b, c] = await threePages(t, url, name);

  const closed = await b.evaluate(async () => {
    const { next } = await import('/helpers.mjs');
    const stop = next(window.s, 'stop');
    window.s.close(1000, 'done here');
    const e = await stop;
    return { state: window.s.readyState, reason: e.detail?.reason, events: window.log.map((x) => [x.type, x.code, x.reason]) };
  });
  assert.equal(closed.state, 3);
  assert.deepEqual(closed.events.slice(-2), [
    ['close', 1000, 'done here'],
    ['stop', undefined, undefined],
  ]);

  await h.ctl(`/instances/${id}/send?text=after`);
  const last = (p) => p.evaluate(async () => {
    const { sleep } = await import('/helpers.mjs');
    await sleep(300);
    return window.texts.at(-1);
  });
  assert.equal(await last(a), 'after');
  assert.equal(await last(c), 'after');
  assert.equal(await last(b), undefined, 'the closed page receives nothing');
  let log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 1, 'the shared connection stayed');
  assert.equal(log.open, 1);

  // Sent while closed: held, delivered once it joins again.
  await b.evaluate(() => {
    window.s.send('late');
    window.s.reconnect();
  });
  await whenOpen(b);
  const got = await receivedWhen(id, (g) => g.includes('late'));
  assert.equal(got.filter((m) => m === 'late').length, 1);
  log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 1);
});

test('a server restart is one reconnect for everyone, and follower sends made meanwhile arrive once', async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const a = await sharedPage(t, url, name);
  await whenOpen(a);
  const b = await sharedPage(t, url, name);
  await whenOpen(b);
  await h.ctl(`/instances/${id}/stop`);
  await b.evaluate(async () => {
    const { until } = await import('/helpers.mjs');
    await until(() => window.s.readyState === 0, 3000, 'CONNECTING');
    for (let i = 1; i <= 5; i++) window.s.send(`b-${i}`);
  });
  const held = await b.evaluate(() => window.s.bufferedAmount);
  assert.equal(held, 15, 'held, and counted, until the leader sends them');
  await h.ctl(`/instances/${id}/start`);
  await Promise.all([whenOpen(a), whenOpen(b)]);
  const got = await receivedWhen(id, (g) => g.length >= 5);
  assertDelivered(got, 'b', 5, true);
  const log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.open, 1, 'one connection after the restart');
});

test('without Web Locks each page connects by itself', async (t) => {
  const { id, url } = await h.instance();
  const name = shareName();
  const a = await sharedPage(t, url, name, { noLocks: true });
  const b = await sharedPage(t, url, name, { noLocks: true });
  await Promise.all([whenOpen(a), whenOpen(b)]);
  await sendAll(b, 'b', 3);
  const got = await receivedWhen(id, (g) => g.length >= 3);
  assertDelivered(got, 'b', 3, true);
  const log = await h.ctl(`/instances/${id}/log`);
  assert.equal(log.handshakes, 2);
  assert.equal(log.open, 2);
});

test('share must be a non-empty string', async (t) => {
  const page = await h.open(t);
  const errors = await page.evaluate(async () => {
    const { SteadySocket } = await import('/helpers.mjs');
    const out = [];
    for (const share of ['', 42, true, {}]) {
      try {
        new SteadySocket('ws://127.0.0.1:9', [], { share, startClosed: true });
        out.push('no error');
      } catch (e) {
        out.push(`${e.name}: ${e.message}`);
      }
    }
    return out;
  });
  for (const e of errors) assert.match(e, /^TypeError: .*share/);
});
