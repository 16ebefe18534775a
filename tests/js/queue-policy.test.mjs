// The queue policy (message expiry, drop-oldest overflow, discard events), delivery
// results (sendWithResult), and the resume signals (Page Lifecycle `resume`, a
// wall-clock jump after the machine slept).
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

const T = { timeout: 15_000 };

test('messageTtl discards a queued message once it has waited that long, and says so', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, until, log } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { ...fast, startClosed: true, messageTtl: 150 });
      const discards = [];
      s.addEventListener('discard', (e) => discards.push(e.detail));
      s.send('old');
      await next(s, 'discard', 1000);
      const afterExpiry = s.bufferedAmount;
      s.send('fresh', { ttl: 5000 }); // a per-message ttl overrides messageTtl
      s.reconnect();
      await next(s, 'open');
      await until(async () => (await log(id)).connections[0]?.received.length >= 1, 2000, 'a message');
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return { discards, afterExpiry, received: l.connections[0].received.map((m) => m.data) };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.discards, [{ reason: 'ttl', count: 1 }]);
  assert.equal(r.afterExpiry, 0);
  assert.deepEqual(r.received, ['fresh']);
});

test('a ttl of 0 sends only now: discarded at once while not open', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, fast }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], fast);
      const discards = [];
      s.ondiscard = (e) => discards.push(e.detail);
      const queued = s.send('stale', { ttl: 0 });
      const result = await s.sendWithResult('stale too', { ttl: 0 }).then(() => 'sent', (e) => e.name);
      await next(s, 'open');
      const now = await s.sendWithResult('fresh', { ttl: 0 }).then(() => 'sent', (e) => e.name);
      const echo = (await next(s, 'message')).data;
      s.close();
      return { queued, result, now, echo, discards, bad: (() => { try { s.send('x', { ttl: -1 }); } catch (e) { return e.name; } })() };
    },
    { url: inst.url, fast: FAST },
  );
  assert.equal(r.queued, false);
  assert.equal(r.result, 'TimeoutError');
  assert.equal(r.now, 'sent');
  assert.equal(r.echo, 'fresh');
  assert.deepEqual(r.discards, [{ reason: 'ttl', count: 1 }, { reason: 'ttl', count: 1 }]);
  assert.equal(r.bad, 'RangeError');
});

test('queueOverflow "drop-oldest" makes room by discarding the oldest, and reports it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, until, log } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { ...fast, startClosed: true, maxEnqueuedMessages: 2, queueOverflow: 'drop-oldest' });
      const discards = [];
      s.ondiscard = (e) => discards.push(e.detail);
      const first = s.sendWithResult('1').then(() => 'sent', (e) => e.name);
      s.send('2');
      s.send('3');
      const firstFate = await first;
      s.reconnect();
      await next(s, 'open');
      await until(async () => (await log(id)).connections[0]?.received.length >= 2, 2000, 'two messages');
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return { discards, firstFate, received: l.connections[0].received.map((m) => m.data) };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.discards, [{ reason: 'overflow', count: 1 }]);
  assert.equal(r.firstFate, 'AbortError');
  assert.deepEqual(r.received, ['2', '3']);
});

test('sendWithResult resolves once handed to an open socket and rejects with the reason it was not', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, fast }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const fate = (p) => p.then(() => 'sent', (e) => e.name);
      const s = new SteadySocket(url, [], { ...fast, maxEnqueuedMessages: 1 });
      const queued = fate(s.sendWithResult('queued')); // flushed on open
      const full = await fate(s.sendWithResult('no room'));
      await next(s, 'open');
      const afterOpen = await queued;
      const live = await fate(s.sendWithResult('live'));
      s.close();
      await next(s, 'stop');
      const stopped = await fate(s.sendWithResult('after stop'));
      const drained = fate(s.sendWithResult.call(s, 'x').catch((e) => Promise.reject(e)));
      const plain = s.send('plain after stop'); // plain send still queues
      const s2 = new SteadySocket(url, [], { ...fast, startClosed: true });
      const cleared = fate(s2.sendWithResult('cleared'));
      s2.drainQueuedMessages();
      const s3 = new SteadySocket('ws://127.0.0.1:1/', [], { ...fast, maxRetries: 0 });
      const gaveUp = fate(s3.sendWithResult('never'));
      return { full, afterOpen, live, stopped, drained: await drained, plain, cleared: await cleared, gaveUp: await gaveUp };
    },
    { url: inst.url, fast: FAST },
  );
  assert.deepEqual(r, {
    full: 'QueueFullError',
    afterOpen: 'sent',
    live: 'sent',
    stopped: 'InvalidStateError',
    drained: 'InvalidStateError',
    plain: false,
    cleared: 'AbortError',
    gaveUp: 'InvalidStateError',
  });
});

test('a Page Lifecycle resume cuts a long backoff wait short', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { minReconnectionDelay: 60_000, maxReconnectionDelay: 60_000 });
      await next(s, 'reconnecting', 3000);
      const t0 = performance.now();
      const connecting = next(s, 'connecting', 1000);
      document.dispatchEvent(new Event('resume'));
      await connecting;
      const took = performance.now() - t0;
      s.close();
      return took;
    },
    inst,
  );
  assert.ok(r < 500, `a new attempt after ${r} ms`);
});

test('a wall-clock jump (the machine slept) cuts a long backoff wait short within about a second', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { minReconnectionDelay: 60_000, maxReconnectionDelay: 60_000 });
      await next(s, 'reconnecting', 3000);
      await sleep(1200); // a check or two with the clocks in agreement: nothing
      const early = s.retryCount;
      const realNow = Date.now;
      const t0 = performance.now();
      Date.now = () => realNow() + 10 * 60_000; // ten minutes asleep
      try {
        await next(s, 'connecting', 2500);
      } finally {
        Date.now = realNow;
      }
      const took = performance.now() - t0;
      s.close();
      return { took, early };
    },
    inst,
  );
  assert.equal(r.early, 1);
  assert.ok(r.took < 1500, `a new attempt ${r.took} ms after the jump`);
});
