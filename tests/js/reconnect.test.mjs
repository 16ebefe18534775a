// Reconnecting, the send queue, stopping for good, close() in every state, and URL
// providers, against the fault server's kill/stop/start/reject/stall/close faults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, FAST } from './harness.mjs';
import { BROWSER } from '../support/browser.mjs';

let h;
before(async () => {
  h = await harness();
});
after(async () => {
  await h?.close();
});

const T = { timeout: 15_000 };
const types = (log) => log.map((e) => e.type);

test('a dropped connection fires close, then reconnecting with attempt, delay, code and reason, then open again', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, record } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const log = record(s);
      await next(s, 'open');
      let during = null;
      s.addEventListener('reconnecting', () => (during = { readyState: s.readyState, retryCount: s.retryCount }), { once: true });
      const reopened = next(s, 'open', 3000);
      await ctl(`/instances/${id}/kill`);
      await reopened;
      const echoed = next(s, 'message');
      s.send('after reconnect');
      const { data } = await echoed;
      const out = { log, during, retryCount: s.retryCount, data };
      s.close();
      await next(s, 'close');
      return out;
    },
    { ...inst, FAST },
  );
  assert.deepEqual(types(r.log).slice(0, 4), ['open', 'close', 'reconnecting', 'open']);
  assert.deepEqual(r.log[1], { type: 'close', readyState: 0, code: 1006, reason: '', wasClean: false });
  assert.deepEqual(r.log[2].detail, { attempt: 1, delay: 50, code: 1006, reason: '' });
  assert.deepEqual(r.during, { readyState: 0, retryCount: 1 });
  assert.equal(r.retryCount, 1, 'retryCount resets only after minUptime (default 5 s)');
  assert.equal(r.data, 'after reconnect');
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.equal(log.handshakes, 2);
});

test('retry delays grow by the factor up to the maximum, and retryCount resets after minUptime', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, until } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, minUptime: 150 });
      await next(s, 'open');
      const seen = [];
      s.addEventListener('reconnecting', (e) => seen.push({ ...e.detail, retryCount: s.retryCount }));
      await ctl(`/instances/${id}/stop`); // refused from now on
      await until(() => seen.length >= 4, 3000, '4 reconnecting events');
      const reopened = next(s, 'open', 3000);
      await ctl(`/instances/${id}/start`);
      await reopened;
      const openedAt = performance.now();
      const retryCountAtOpen = s.retryCount;
      await until(() => s.retryCount === 0, 2000, 'retryCount back to 0');
      const resetAfter = performance.now() - openedAt;
      // After the reset, the schedule starts again at the minimum.
      const again = next(s, 'reconnecting');
      await ctl(`/instances/${id}/kill`);
      const afterReset = (await again).detail;
      s.close();
      return { seen: seen.slice(0, 4), retryCountAtOpen, resetAfter, afterReset };
    },
    { ...inst, FAST },
  );
  // min 50, growth 2, max 200, jitter 0.
  assert.deepEqual(r.seen.map((d) => d.delay), [50, 100, 200, 200]);
  assert.deepEqual(r.seen.map((d) => d.attempt), [1, 2, 3, 4]);
  assert.deepEqual(r.seen.map((d) => d.retryCount), [1, 2, 3, 4]);
  assert.ok(r.retryCountAtOpen >= 4, `retryCount at open: ${r.retryCountAtOpen}`);
  assert.ok(r.resetAfter >= 140 && r.resetAfter < 1000, `reset ${r.resetAfter} ms after open (minUptime 150)`);
  assert.equal(r.afterReset.attempt, 1);
  assert.equal(r.afterReset.delay, 50);
});

test('messages sent during an outage arrive exactly once, in order, before anything sent from onopen', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, until } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const echoes = [];
      s.addEventListener('message', (e) => echoes.push(e.data));
      await next(s, 'open');
      s.send('before');
      await until(() => echoes.length === 1, 2000, 'echo of "before"');
      const first = next(s, 'reconnecting');
      await ctl(`/instances/${id}/stop`);
      await first;
      s.send('m1');
      s.send('m2');
      await next(s, 'reconnecting'); // a further failed attempt: the queue must survive it
      s.send('m3');
      const buffered = s.bufferedAmount;
      const states = s.readyState;
      s.onopen = () => s.send('from-onopen');
      const reopened = next(s, 'open', 3000);
      await ctl(`/instances/${id}/start`);
      await reopened;
      await until(() => echoes.length >= 5, 2000, 'all echoes');
      await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate
      s.close();
      return { echoes, buffered, states };
    },
    { ...inst, FAST },
  );
  assert.equal(r.states, 0);
  assert.equal(r.buffered, 6);
  assert.deepEqual(r.echoes, ['before', 'm1', 'm2', 'm3', 'from-onopen']);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  const all = log.connections.flatMap((c) => c.received.map((m) => m.data));
  assert.deepEqual(all, ['before', 'm1', 'm2', 'm3', 'from-onopen']);
  assert.deepEqual(log.connections.at(-1).received.map((m) => m.data), ['m1', 'm2', 'm3', 'from-onopen']);
});

test('after close(), send() queues without throwing and reconnect() connects again and delivers it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, record, thrown } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const log = record(s);
      await next(s, 'open');
      const stopped = next(s, 'stop');
      s.close(1000, 'done');
      await stopped;
      const afterClose = s.readyState;
      let handed;
      const sendError = thrown(() => (handed = s.send('queued-after-close')));
      s.close(); // a second close() is a no-op
      s.reconnect();
      const afterReconnect = s.readyState;
      const first = next(s, 'message');
      await next(s, 'open');
      const queued = (await first).data;
      const echoed = next(s, 'message');
      s.send('back');
      const { data } = await echoed;
      const out = { log: log.map((e) => e.type), afterClose, sendError, handed, afterReconnect, queued, data };
      s.close();
      return out;
    },
    { ...inst, FAST },
  );
  assert.equal(r.afterClose, 3);
  assert.equal(r.sendError, null);
  assert.equal(r.handed, false, 'queued');
  assert.equal(r.afterReconnect, 0);
  assert.equal(r.queued, 'queued-after-close', 'the reconnect delivered it first');
  assert.equal(r.data, 'back');
  assert.deepEqual(r.log.slice(0, 6), ['open', 'close', 'stop', 'open', 'message', 'message']);
  const log = await h.logWhen(inst.id, (l) => l.connections[0]?.closeCode != null);
  assert.equal(log.handshakes, 2);
  assert.equal(log.connections[0].closeCode, 1000);
  assert.equal(log.connections[0].closeReason, 'done');
});

test('reconnect() while open closes the connection with its code and reason and connects at once', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next, record } = await import('/helpers.mjs');
      // A long backoff: reconnect() must not wait for it.
      const s = new SteadySocket(url, undefined, { minReconnectionDelay: 5000, maxReconnectionDelay: 5000 });
      await next(s, 'open');
      const log = record(s);
      const t0 = performance.now();
      s.reconnect(4002, 'again');
      await next(s, 'open', 2000);
      const took = performance.now() - t0;
      s.close();
      return { log, took };
    },
    inst,
  );
  assert.deepEqual(types(r.log), ['close', 'open']);
  assert.ok(r.took < 1000, `reopened after ${r.took} ms`);
  const log = await h.logWhen(inst.id, (l) => l.connections[0]?.closeCode != null);
  assert.equal(log.handshakes, 2);
  assert.equal(log.connections[0].closeCode, 4002);
  assert.equal(log.connections[0].closeReason, 'again');
});

test('maxRetries 2 makes exactly three handshakes, then one stop event with reason max-retries', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, record, thrown, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, maxRetries: 2 });
      const log = record(s);
      await next(s, 'stop', 3000);
      const readyState = s.readyState;
      await sleep(350); // longer than any retry delay (200): nothing more may happen
      const handshakes = (await ctl(`/instances/${id}/log`)).handshakes;
      const sendError = thrown(() => s.send('x')); // queued, for a later reconnect()
      const atStop = [...log];
      s.close(); // already stopped: no further events
      await sleep(20);
      const closeAddedEvents = log.length - atStop.length;
      await ctl(`/instances/${id}/mode?reject=0`);
      s.reconnect();
      await next(s, 'open');
      s.close();
      return { log: atStop, readyState, handshakes, sendError, closeAddedEvents };
    },
    { ...inst, FAST },
  );
  assert.equal(r.handshakes, 3);
  assert.deepEqual(types(r.log), [
    ...['error', 'close', 'reconnecting', 'error', 'close', 'reconnecting'],
    ...['error', 'close', 'stop'],
  ]);
  const stop = r.log.at(-1);
  assert.deepEqual(stop.detail, { reason: 'max-retries' });
  assert.equal(stop.readyState, 3);
  assert.equal(r.readyState, 3);
  assert.deepEqual(r.log.filter((e) => e.type === 'reconnecting').map((e) => e.detail.attempt), [1, 2]);
  assert.equal(r.sendError, null);
  assert.equal(r.closeAddedEvents, 0);
});

test('a close code listed in stopOnCloseCodes stops for good with reason close-code', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('closeOnOpen=4004');
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, record, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, stopOnCloseCodes: [4003, 4004] });
      const log = record(s);
      await next(s, 'stop', 3000);
      await sleep(250); // a retry (50 ms) would show by now
      return { log, readyState: s.readyState };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.log, [
    { type: 'open', readyState: 1 },
    { type: 'close', readyState: 3, code: 4004, reason: 'closeOnOpen', wasClean: true },
    { type: 'stop', readyState: 3, detail: { reason: 'close-code' } },
  ]);
  assert.equal(r.readyState, 3);
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 1);
});

test('shouldReconnect sees each close; true reconnects and false stops for good', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('closeOnOpen=4005');
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, record, sleep } = await import('/helpers.mjs');
      const calls = [];
      const shouldReconnect = (e) => {
        calls.push({ code: e.code, reason: e.reason, wasClean: e.wasClean });
        return calls.length < 2;
      };
      const s = new SteadySocket(url, undefined, { ...FAST, shouldReconnect });
      const log = record(s);
      await next(s, 'stop', 3000);
      await sleep(250); // a retry (50 ms) would show by now
      return { calls, log: log.map((e) => e.type), stop: log.at(-1), readyState: s.readyState };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.calls, [
    { code: 4005, reason: 'closeOnOpen', wasClean: true },
    { code: 4005, reason: 'closeOnOpen', wasClean: true },
  ]);
  assert.deepEqual(r.log, ['open', 'close', 'reconnecting', 'open', 'close', 'stop']);
  assert.deepEqual(r.stop.detail, { reason: 'close-code' });
  assert.equal(r.readyState, 3);
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 2);
});

test('a server close with 1013 (try again later) waits maxReconnectionDelay', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('closeOnOpen=1013');
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const rec = await next(s, 'reconnecting', 2000);
      const t0 = performance.now();
      await ctl(`/instances/${id}/mode?closeOnOpen=0`);
      await next(s, 'open', 2000, () => s.readyState === 1 && performance.now() - t0 > 0);
      const waited = performance.now() - t0;
      s.close();
      return { detail: rec.detail, waited };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.detail, { attempt: 1, delay: 200, code: 1013, reason: 'closeOnOpen' });
  assert.ok(r.waited >= 150, `reopened after ${r.waited} ms`);
});

test('an attempt that hangs is abandoned after connectionTimeout, and the retry is not held up by it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('stall=1');
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, record } = await import('/helpers.mjs');
      // The attempt starts inside the constructor: measure from before it.
      const t0 = performance.now();
      const s = new SteadySocket(url, undefined, { ...FAST, connectionTimeout: 200 });
      const log = record(s);
      const rec = await next(s, 'reconnecting', 2000);
      const timedOutAfter = performance.now() - t0;
      await ctl(`/instances/${id}/mode?stall=0`);
      const t1 = performance.now();
      // Chromium holds a new handshake to the same host:port behind one that was
      // abandoned without close() for 8 s or more.
      await next(s, 'open', 3000);
      const reopenedAfter = performance.now() - t1;
      s.close();
      return { log: log.map((e) => e.type), detail: rec.detail, timedOutAfter, reopenedAfter };
    },
    { ...inst, FAST },
  );
  if (BROWSER === 'firefox') {
    // Firefox delays a new handshake to a host:port whose last connection failed (RFC 6455
    // 7.2.3; measured: ~340 ms after one failure, growing ~1.5x with each), which is longer
    // than this connectionTimeout: the first retry may time out too. Only failed attempts
    // come before the open, and it comes once Firefox's delay has passed.
    const opened = r.log.indexOf('open');
    assert.ok(opened >= 3 && opened % 3 === 0, r.log.join());
    const failed = Array.from({ length: opened }, (_, i) => ['error', 'close', 'reconnecting'][i % 3]);
    assert.deepEqual(r.log.slice(0, opened + 1), [...failed, 'open']);
  } else {
    assert.deepEqual(r.log.slice(0, 4), ['error', 'close', 'reconnecting', 'open']);
  }
  assert.equal(r.detail.code, 1006);
  assert.ok(r.timedOutAfter >= 190 && r.timedOutAfter < 600, `timed out after ${r.timedOutAfter} ms`);
  const reopenBound = BROWSER === 'firefox' ? 2500 : 1000;
  assert.ok(r.reopenedAfter < reopenBound, `reopened after ${r.reopenedAfter} ms`);
});

test('a full queue throws QueueFullError and leaves the queue as it was', T, async (t) => {
  const page = await h.open(t);
  const byCount = await h.instance();
  const byBytes = await h.instance();
  await h.ctl(`/instances/${byCount.id}/stop`);
  await h.ctl(`/instances/${byBytes.id}/stop`);
  const r = await page.evaluate(
    async ({ byCount, byBytes, FAST }) => {
      const { SteadySocket, next, thrown, until, received } = await import('/helpers.mjs');
      const a = new SteadySocket(byCount.url, undefined, { ...FAST, maxEnqueuedMessages: 3 });
      const b = new SteadySocket(byBytes.url, undefined, { ...FAST, maxEnqueuedBytes: 5 });
      const out = { a: [], b: [] };
      for (const m of ['a', 'bb', 'ccc', 'dddd']) out.a.push(thrown(() => a.send(m)));
      out.aBuffered = a.bufferedAmount;
      for (const m of ['abc', 'def', 'de', 'x']) out.b.push(thrown(() => b.send(m)));
      out.bBuffered = b.bufferedAmount;
      const opened = Promise.all([next(a, 'open', 3000), next(b, 'open', 3000)]);
      await ctl(`/instances/${byCount.id}/start`);
      await ctl(`/instances/${byBytes.id}/start`);
      await opened;
      await until(async () => (await received(byCount.id)).length >= 3 && (await received(byBytes.id)).length >= 2, 2000, 'flushes');
      out.aReceived = await received(byCount.id);
      out.bReceived = await received(byBytes.id);
      a.close();
      b.close();
      return out;
    },
    { byCount, byBytes, FAST },
  );
  assert.deepEqual(r.a.slice(0, 3), [null, null, null]);
  assert.equal(r.a[3]?.name, 'QueueFullError');
  assert.equal(r.a[3].isError, true);
  assert.equal(r.aBuffered, 6);
  assert.deepEqual(r.aReceived, ['a', 'bb', 'ccc']);
  assert.deepEqual(r.b.map((e) => e?.name ?? null), [null, 'QueueFullError', null, 'QueueFullError']);
  assert.equal(r.bBuffered, 5);
  assert.deepEqual(r.bReceived, ['abc', 'de']);
});

test('close() on a server that stopped answering fires close within closeTimeout', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, record, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, closeTimeout: 300 });
      await next(s, 'open');
      await ctl(`/instances/${id}/mode?mute=1`);
      const log = record(s);
      const t0 = performance.now();
      s.close(1000, 'bye');
      const closing = s.readyState;
      await next(s, 'close', 2000);
      const took = performance.now() - t0;
      const atClose = s.readyState;
      await sleep(300);
      return { log, took, closing, atClose };
    },
    { ...inst, FAST },
  );
  assert.equal(r.closing, 2);
  assert.equal(r.atClose, 3);
  assert.ok(r.took >= 250 && r.took < 500, `close event after ${r.took} ms (closeTimeout 300)`);
  assert.deepEqual(types(r.log), ['close', 'stop']);
  assert.deepEqual(r.log[1].detail, { reason: 'close' });
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 1);
});

test('close() while connecting, waiting to retry or open gives exactly one close event and no further handshakes', T, async (t) => {
  const page = await h.open(t);
  const stalled = await h.instance('stall=1');
  const rejecting = await h.instance('reject=503');
  const echo = await h.instance();
  const r = await page.evaluate(
    async ({ stalled, rejecting, echo, FAST }) => {
      const { SteadySocket, next, record, sleep, until, log } = await import('/helpers.mjs');
      const opts = { ...FAST, minReconnectionDelay: 150, maxReconnectionDelay: 150 };
      const out = {};

      const c = new SteadySocket(stalled.url, undefined, opts);
      await until(async () => (await log(stalled.id)).stalled === 1, 2000, 'a stalled handshake');
      const cLog = record(c);
      c.close();
      c.close();

      const w = new SteadySocket(rejecting.url, undefined, opts);
      await next(w, 'reconnecting', 2000);
      const wLog = record(w);
      w.close();
      w.close();

      const o = new SteadySocket(echo.url, undefined, opts);
      await next(o, 'open');
      const oLog = record(o);
      o.close();
      o.close();

      await sleep(300); // > the 150 ms retry delay: a leaked retry would show now
      for (const [k, l] of Object.entries({ connecting: cLog, waiting: wLog, open: oLog })) {
        out[k] = l;
      }
      out.states = [c.readyState, w.readyState, o.readyState];
      return out;
    },
    { stalled, rejecting, echo, FAST },
  );
  // While connecting, the native socket fires `error` first (see boundary.test.mjs).
  assert.deepEqual(types(r.connecting), ['error', 'close', 'stop'], 'close() while connecting');
  r.connecting.shift();
  for (const k of ['connecting', 'waiting', 'open']) {
    assert.deepEqual(types(r[k]), ['close', 'stop'], `close() while ${k}`);
    assert.deepEqual(r[k][1].detail, { reason: 'close' }, `close() while ${k}`);
    assert.equal(r[k][0].readyState, 3, `readyState in the close event (${k})`);
  }
  assert.deepEqual(r.states, [3, 3, 3]);
  assert.equal((await h.ctl(`/instances/${stalled.id}/log`)).stalled, 1);
  assert.equal((await h.ctl(`/instances/${rejecting.id}/log`)).handshakes, 1);
  assert.equal((await h.ctl(`/instances/${echo.id}/log`)).handshakes, 1);
});

test('close() while connecting sets readyState to CLOSING at once, as the native WebSocket does', T, async (t) => {
  const page = await h.open(t);
  const a = await h.instance('stall=1');
  const b = await h.instance('stall=1');
  const r = await page.evaluate(
    async ({ a, b, firefox }) => {
      const { SteadySocket, next, until, log, sleep } = await import('/helpers.mjs');
      const n = new WebSocket(a.url);
      const s = new SteadySocket(b.url);
      // Firefox lets only one handshake per host (IP, not host:port: RFC 6455 4.1) be in
      // progress: b's waits in the browser behind a's and never reaches the server.
      const bStalls = firefox ? 0 : 1;
      await until(async () => (await log(a.id)).stalled === 1 && (await log(b.id)).stalled === bStalls, 2000, 'stalled handshakes');
      if (firefox) await sleep(300); // b would have reached the server by now if it could
      const bStalled = (await log(b.id)).stalled;
      const closes = Promise.all([next(n, 'close'), next(s, 'close')]);
      n.close();
      s.close();
      const afterClose = { native: n.readyState, steady: s.readyState };
      await closes;
      return { afterClose, afterEvent: { native: n.readyState, steady: s.readyState }, bStalled };
    },
    { a, b, firefox: BROWSER === 'firefox' },
  );
  assert.equal(r.bStalled, BROWSER === 'firefox' ? 0 : 1, 'the second handshake reached the server');
  assert.deepEqual(r.afterEvent, { native: 3, steady: 3 });
  assert.equal(r.afterClose.native, 2);
  // SPEC: "close() ... sets CLOSING at once, and the close event fires exactly once".
  assert.equal(r.afterClose.steady, r.afterClose.native, 'readyState right after close() while CONNECTING');
});

test('startClosed makes no connection until reconnect(); what was sent meanwhile is delivered then', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, sleep, until, received } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, startClosed: true });
      const events = [];
      for (const type of ['open', 'close', 'error', 'reconnecting', 'stop']) s.addEventListener(type, () => events.push(type));
      const initial = s.readyState;
      s.send('early');
      await sleep(300);
      const handshakesBefore = (await ctl(`/instances/${id}/log`)).handshakes;
      const eventsBefore = [...events];
      s.reconnect();
      await next(s, 'open');
      await until(async () => (await received(id)).length >= 1, 2000, 'the early message');
      s.close();
      return { initial, handshakesBefore, eventsBefore, got: await received(id) };
    },
    { ...inst, FAST },
  );
  assert.equal(r.initial, 3);
  assert.equal(r.handshakesBefore, 0);
  assert.deepEqual(r.eventsBefore, []);
  assert.deepEqual(r.got, ['early']);
});

test('a URL function is called once per attempt with the attempt number, sync or async', T, async (t) => {
  const page = await h.open(t);
  const sync = await h.instance();
  const asyncInst = await h.instance();
  const r = await page.evaluate(
    async ({ sync, asyncInst, FAST }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      async function run(inst, makeProvider) {
        const calls = [];
        const s = new SteadySocket(makeProvider(inst.url, calls), undefined, FAST);
        await next(s, 'open');
        for (let i = 0; i < 2; i++) {
          const reopened = next(s, 'open', 3000);
          await ctl(`/instances/${inst.id}/kill`);
          await reopened;
        }
        const url = s.url;
        s.close();
        return { calls, url };
      }
      return {
        sync: await run(sync, (base, calls) => (n) => {
          calls.push(n);
          return `${base}/sync?n=${n}`;
        }),
        async: await run(asyncInst, (base, calls) => async (n) => {
          calls.push(n);
          await sleep(10);
          return `${base}/async?n=${n}`;
        }),
      };
    },
    { sync, asyncInst, FAST },
  );
  assert.deepEqual(r.sync.calls, [0, 1, 2]);
  assert.deepEqual(r.async.calls, [0, 1, 2]);
  assert.equal(r.sync.url, `${sync.url}/sync?n=2`);
  assert.equal(r.async.url, `${asyncInst.url}/async?n=2`);
  const s = await h.ctl(`/instances/${sync.id}/log`);
  assert.deepEqual(s.connections.map((c) => c.url), ['/sync?n=0', '/sync?n=1', '/sync?n=2']);
  const a = await h.ctl(`/instances/${asyncInst.id}/log`);
  assert.deepEqual(a.connections.map((c) => c.url), ['/async?n=0', '/async?n=1', '/async?n=2']);
});

test('a URL provider that throws, rejects or returns garbage counts as a failed attempt and the socket recovers', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, record } = await import('/helpers.mjs');
      const provider = (n) => {
        if (n === 0) throw new Error('no token yet');
        if (n === 1) return Promise.reject(new Error('token server down'));
        if (n === 2) return 42;
        if (n === 3) return 'ftp://not-a-websocket';
        if (n === 4) return Promise.resolve({ not: 'a string' });
        return url;
      };
      const s = new SteadySocket(provider, undefined, FAST);
      const log = record(s); // attached after the constructor: its events must still come
      await next(s, 'open', 5000);
      const echoed = next(s, 'message');
      s.send('works');
      const { data } = await echoed;
      s.close();
      return { log, data };
    },
    { ...inst, FAST },
  );
  const untilOpen = r.log.slice(0, r.log.findIndex((e) => e.type === 'open') + 1);
  assert.deepEqual(types(untilOpen), [
    ...Array(5).fill(['error', 'close', 'reconnecting']).flat(),
    'open',
  ]);
  assert.deepEqual(
    untilOpen.filter((e) => e.type === 'reconnecting').map((e) => e.detail.attempt),
    [1, 2, 3, 4, 5],
  );
  assert.equal(r.data, 'works');
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 1);
});
