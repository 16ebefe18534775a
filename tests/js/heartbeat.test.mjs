// The application-level heartbeat: pings after inbound silence, the response filtered
// out and timed, and a silent server detected and left.
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
const HB = { ...FAST, heartbeatInterval: 100, heartbeatTimeout: 200 };
const texts = (connection) => connection.received.map((m) => m.data);

test('after inbound silence the socket pings and reports heartbeat events with the round-trip time', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, HB }) => {
      const { SteadySocket, next, until, sleep, record } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, HB);
      const messages = [];
      s.addEventListener('message', (e) => messages.push(e.data));
      const viaProperty = [];
      s.onheartbeat = (e) => viaProperty.push(e.detail.rtt);
      await next(s, 'open');
      const openedAt = performance.now();
      const beats = [];
      s.addEventListener('heartbeat', (e) => beats.push({ rtt: e.detail.rtt, at: performance.now() - openedAt }));
      await until(() => beats.length >= 2, 2000, 'two heartbeat events');
      s.close();
      await next(s, 'stop');
      const log = record(s);
      await sleep(400); // a heartbeat timer left running would act now
      return { beats, viaProperty, messages, afterStop: log.map((e) => e.type) };
    },
    // A generous timeout: this test is about the pings, and a loaded CI machine can
    // hold a pong back longer than HB's 200 ms (a timeout would reconnect).
    { ...inst, HB: { ...HB, heartbeatTimeout: 1000 } },
  );
  for (const b of r.beats) {
    assert.equal(typeof b.rtt, 'number');
    assert.ok(b.rtt >= 0 && b.rtt < 200, `rtt ${b.rtt}`);
  }
  assert.ok(r.beats[0].at >= 90, `first heartbeat ${r.beats[0].at} ms after open (interval 100)`);
  assert.ok(r.viaProperty.length >= 2, 'onheartbeat fires too');
  assert.deepEqual(r.messages, [], 'the "pong" answers never reach message listeners');
  assert.deepEqual(r.afterStop, []);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.equal(log.handshakes, 1);
  const pings = texts(log.connections[0]);
  assert.ok(pings.length >= 2 && pings.every((m) => m === 'ping'), JSON.stringify(pings));
});

test('inbound traffic counts as liveness: no pings while messages keep arriving', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, HB }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...HB, heartbeatInterval: 150 });
      let beats = 0;
      s.addEventListener('heartbeat', () => beats++);
      await next(s, 'open');
      // An echo every 25 ms for 500 ms: never 150 ms of silence.
      for (let i = 0; i < 20; i++) {
        s.send(`m${i}`);
        await sleep(25);
      }
      const during = beats;
      s.close();
      await next(s, 'close');
      return { during };
    },
    { ...inst, HB },
  );
  assert.equal(r.during, 0);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.ok(!texts(log.connections[0]).includes('ping'), JSON.stringify(texts(log.connections[0])));
});

test('the heartbeat response is held back from message listeners only while the heartbeat is on', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, until } = await import('/helpers.mjs');
      const on = new SteadySocket(url, undefined, { ...FAST, heartbeatInterval: 5000 });
      const off = new SteadySocket(url, undefined, FAST);
      const got = { on: [], off: [] };
      on.addEventListener('message', (e) => got.on.push(e.data));
      off.addEventListener('message', (e) => got.off.push(e.data));
      await Promise.all([next(on, 'open'), next(off, 'open')]);
      await ctl(`/instances/${id}/send?text=pong`);
      await ctl(`/instances/${id}/send?text=after`);
      await until(() => got.on.length >= 1 && got.off.length >= 2, 2000, 'the messages');
      on.close();
      off.close();
      return got;
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.on, ['after']);
  assert.deepEqual(r.off, ['pong', 'after']);
});

test('heartbeatMessage and heartbeatResponse replace "ping" and "pong"', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, HB }) => {
      const { SteadySocket, next, until } = await import('/helpers.mjs');
      // The echo server answers "are-you-there" with itself.
      const s = new SteadySocket(url, undefined, {
        ...HB,
        heartbeatMessage: 'are-you-there',
        heartbeatResponse: 'are-you-there',
      });
      const messages = [];
      s.addEventListener('message', (e) => messages.push(e.data));
      let beats = 0;
      s.addEventListener('heartbeat', () => beats++);
      await next(s, 'open');
      await until(() => beats >= 2, 2000, 'two heartbeat events');
      s.close();
      await next(s, 'close');
      return { messages };
    },
    { ...inst, HB },
  );
  assert.deepEqual(r.messages, []);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  const sent = texts(log.connections[0]);
  assert.ok(sent.length >= 2 && sent.every((m) => m === 'are-you-there'), JSON.stringify(sent));
});

test('a server that goes silent is left within interval + timeout, and the socket reconnects once it answers again', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, HB }) => {
      const { SteadySocket, next, record } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, HB);
      await next(s, 'open');
      await next(s, 'heartbeat', 1000);
      const log = record(s);
      const reconnecting = next(s, 'reconnecting', 3000);
      await ctl(`/instances/${id}/mode?mute=1`);
      const t0 = performance.now();
      const rec = await reconnecting;
      const detectedAfter = performance.now() - t0;
      await ctl(`/instances/${id}/mode?mute=0`);
      await next(s, 'open', 6000); // a liveness bound (a loaded machine once took over 3 s)
      await next(s, 'heartbeat', 1000); // alive again: answers come back
      s.close();
      return { log: log.map((e) => e.type), detail: rec.detail, detectedAfter };
    },
    { ...inst, HB },
  );
  assert.deepEqual(r.log.slice(0, 3), ['error', 'close', 'reconnecting']);
  assert.equal(r.detail.attempt, 1);
  // At most 100 ms of silence before the ping, then 200 ms for an answer; + slack.
  assert.ok(r.detectedAfter < 100 + 200 + 200, `detected after ${r.detectedAfter} ms`);
  assert.ok(r.detectedAfter >= 150, `detected after ${r.detectedAfter} ms: too early to be a timeout`);
  assert.ok(r.log.includes('open'));
});

test('with the heartbeat off, the message path reads no clock: messages sent on the open socket and received cost no performance.now(); with it on, a clock that calls back into the socket is fine', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST, HB }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const N = 300;
      // Counts the clock reads (the wasm side calls performance.now() through the
      // instance, so an own property sees them) while N echoes go out and come back.
      const reads = async (options) => {
        const s = new SteadySocket(url, undefined, options);
        await next(s, 'open');
        let got = 0;
        const all = new Promise((resolve) => s.addEventListener('message', () => ++got === N && resolve()));
        const now = performance.now;
        let count = 0;
        // The clock is JS too: it may call back into the socket (nothing may be
        // borrowed inside the wasm side while it runs).
        performance.now = function () {
          count++;
          void s.readyState, s.bufferedAmount, s.protocol;
          return now.call(this);
        };
        try {
          for (let i = 0; i < N; i++) s.send(`m${i}`);
          await all;
        } finally {
          delete performance.now;
        }
        s.close();
        await next(s, 'stop');
        return count;
      };
      return { off: await reads(FAST), on: await reads({ ...HB, heartbeatTimeout: 5000 }) };
    },
    { ...inst, FAST, HB },
  );
  // Without a heartbeat only timers re-armed by a change of deadline read it: a few.
  assert.ok(r.off < 10, `${r.off} clock reads for 300 messages out and 300 in without a heartbeat`);
  // With one, each inbound message records its time (the heartbeat's liveness).
  assert.ok(r.on >= 300, `${r.on} clock reads with the heartbeat on (one per inbound message)`);
});
