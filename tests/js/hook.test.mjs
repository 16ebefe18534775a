// onConnect: a hook that runs after every native open, before the queue flushes and
// `open` fires, tested with a real auth exchange (the fault server's `auth` mode
// answers "auth TOKEN" with "ok", any other token with "denied").
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

const T = { timeout: 20_000 };

test('messages queued while connecting go out only after the hook authenticated, and open fires then', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('auth=secret');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, until, log, authHook } = await import('/helpers.mjs');
      const seen = [];
      const events = [];
      let s;
      s = new SteadySocket(url, [], { ...fast, onConnect: authHook(['secret'], seen, () => s) });
      for (const type of ['open', 'error', 'close', 'reconnecting']) s.addEventListener(type, () => events.push(type));
      s.send('q1');
      s.send('q2');
      await next(s, 'open', 3000);
      s.send('live');
      await until(async () => (await log(id)).connections[0]?.received.length >= 4, 2000, 'four messages');
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return { seen, events, received: l.connections[0].received.map((m) => [m.data, Boolean(m.beforeAuth)]) };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.seen, [{ attempt: 0, readyState: 0 }]);
  assert.deepEqual(r.events.slice(0, 1), ['open']);
  assert.deepEqual(r.received, [
    ['auth secret', false],
    ['q1', false],
    ['q2', false],
    ['live', false],
  ]);
});

test('a hook that rejects fails the attempt like a connect failure; the next attempt authenticates and flushes', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('auth=secret');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, until, log, authHook } = await import('/helpers.mjs');
      const seen = [];
      const events = [];
      const s = new SteadySocket(url, [], { ...fast, onConnect: authHook(['wrong', 'secret'], seen) });
      for (const type of ['open', 'error', 'close', 'reconnecting']) {
        s.addEventListener(type, (e) => events.push(type === 'close' ? `close:${e.code}:${e.reason}` : type));
      }
      s.send('queued');
      await next(s, 'open', 5000);
      await until(async () => (await log(id)).connections[1]?.received.length >= 2, 2000, 'the flush');
      const retries = s.retryCount;
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return {
        seen: seen.map((x) => x.attempt),
        events,
        retries,
        first: l.connections[0].received.map((m) => m.data),
        firstClose: [l.connections[0].closeCode, l.connections[0].closeReason],
        second: l.connections[1].received.map((m) => m.data),
      };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.seen, [0, 1]);
  assert.deepEqual(r.events.slice(0, 4), ['error', 'close:1006:onConnect failed', 'reconnecting', 'open']);
  assert.equal(r.retries, 1, 'the retry count is not reset by a failed hook');
  assert.deepEqual(r.first, ['auth wrong'], 'nothing queued went out on the rejected connection');
  assert.deepEqual(r.firstClose, [1000, 'onConnect failed']);
  assert.deepEqual(r.second, ['auth secret', 'queued']);
});

test('a hook that never settles fails after connectionTimeout', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, fast }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      let calls = 0;
      const t0 = performance.now();
      const s = new SteadySocket(url, [], {
        ...fast,
        connectionTimeout: 300,
        onConnect: () => (calls++ === 0 ? new Promise(() => {}) : undefined),
      });
      const close = await next(s, 'close', 2000);
      const after = performance.now() - t0;
      await next(s, 'open', 3000);
      s.close();
      return { code: close.code, reason: close.reason, after, calls };
    },
    { url: inst.url, fast: FAST },
  );
  assert.equal(r.code, 1006);
  assert.equal(r.reason, 'onConnect failed');
  assert.ok(r.after >= 290 && r.after < 1500, `failed after ${r.after} ms`);
  assert.equal(r.calls, 2);
});

test('the server dropping during the hook rejects its next(), and the socket reconnects', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const outcomes = [];
      let conn0;
      const s = new SteadySocket(url, [], {
        ...fast,
        onConnect: async (conn) => {
          if (conn.attempt > 0) return;
          conn0 = conn;
          await window.ctl(`/instances/${id}/kill`);
          try {
            await conn.next();
            outcomes.push('resolved');
          } catch (e) {
            outcomes.push(e.name);
          }
          try {
            conn.send('late');
            outcomes.push('sent');
          } catch (e) {
            outcomes.push(e.name);
          }
        },
      });
      const events = [];
      for (const type of ['open', 'close', 'reconnecting']) s.addEventListener(type, () => events.push(type));
      await next(s, 'open', 5000);
      let afterSettle;
      try {
        conn0.send('after settle');
      } catch (e) {
        afterSettle = e.name;
      }
      s.close();
      return { outcomes, events, afterSettle };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.outcomes, ['InvalidStateError', 'InvalidStateError']);
  assert.deepEqual(r.events.slice(0, 3), ['close', 'reconnecting', 'open']);
  assert.equal(r.afterSettle, 'InvalidStateError');
});

test('messages the hook did not read are delivered right after open, in order; those it read never are', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('sendOnOpen=hello');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const got = [];
      const s = new SteadySocket(url, [], {
        ...fast,
        onConnect: async (conn) => {
          const first = await conn.next(); // "hello", read by the hook
          await window.ctl(`/instances/${id}/send?text=one`);
          await window.ctl(`/instances/${id}/send?text=two`);
          await sleep(100); // both arrive while the hook still runs
          got.push(`hook:${first}`);
        },
      });
      s.onopen = () => got.push('open');
      s.onmessage = (e) => got.push(e.data);
      await next(s, 'open', 3000);
      await sleep(100);
      s.close();
      return got;
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r, ['hook:hello', 'open', 'one', 'two']);
});

test('clearQueue() from the hook discards what was queued (e.g. the user changed)', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, sleep, log } = await import('/helpers.mjs');
      let cleared;
      const s = new SteadySocket(url, [], {
        ...fast,
        onConnect: (conn) => {
          cleared = conn.clearQueue();
        },
      });
      const discards = [];
      s.ondiscard = (e) => discards.push(e.detail);
      s.send('for the old user');
      await next(s, 'open', 3000);
      await sleep(100);
      s.close();
      const l = await log(id);
      return { cleared, discards, received: l.connections[0].received.length };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.equal(r.cleared, 1);
  assert.deepEqual(r.discards, [{ reason: 'cleared', count: 1 }]);
  assert.equal(r.received, 0);
});
