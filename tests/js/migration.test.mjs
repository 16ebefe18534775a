// What users coming from reconnecting-websocket and partysocket rely on: a delay
// option set alone, send() after close() queueing, send()'s return value,
// drainQueuedMessages(), and the `WebSocket` option for unit tests without a server.
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

test('a maxReconnectionDelay set alone below the default minimum lowers the minimum to it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { maxReconnectionDelay: 200, reconnectionJitter: 0 });
      const delays = [];
      for (let i = 0; i < 3; i++) delays.push((await next(s, 'reconnecting', 3000)).detail.delay);
      s.close();
      return delays;
    },
    inst,
  );
  assert.deepEqual(r, [200, 200, 200]);
});

test('a minReconnectionDelay set alone above the default maximum raises the maximum to it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { minReconnectionDelay: 45_000, reconnectionJitter: 0 });
      const { delay } = (await next(s, 'reconnecting', 3000)).detail;
      s.close();
      return delay;
    },
    inst,
  );
  assert.equal(r, 45_000);
});

test('both delays set with the minimum above the maximum is a RangeError naming both', T, async (t) => {
  const page = await h.open(t);
  const r = await page.evaluate(async () => {
    const { SteadySocket, thrown } = await import('/helpers.mjs');
    return thrown(() => new SteadySocket('ws://127.0.0.1:1/', [], { minReconnectionDelay: 500, maxReconnectionDelay: 200 }));
  });
  assert.equal(r.name, 'RangeError');
  assert.match(r.message, /minReconnectionDelay/);
  assert.match(r.message, /maxReconnectionDelay/);
});

test('send() after max retries or a stop queues (no throw) and a later reconnect() delivers it once, in order', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('reject=503');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, until, log, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { ...fast, maxRetries: 0 });
      await next(s, 'stop', 3000);
      const returned = [s.send('a'), s.send('b')];
      const buffered = s.bufferedAmount;
      await sleep(300); // nothing delivers it by itself
      const before = (await log(id)).handshakes;
      await window.ctl(`/instances/${id}/mode?reject=0`);
      s.reconnect();
      await next(s, 'open');
      await until(async () => (await log(id)).connections[0]?.received.length >= 2, 2000, 'both messages');
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return { returned, buffered, before, received: l.connections[0].received.map((m) => m.data) };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.deepEqual(r.returned, [false, false]);
  assert.equal(r.buffered, 2);
  assert.equal(r.before, 1, 'no attempt between the stop and reconnect()');
  assert.deepEqual(r.received, ['a', 'b']);
});

test('with debug on, a send() on a stopped socket logs a warning', T, async (t) => {
  const page = await h.open(t);
  await page.evaluate(async () => {
    const { SteadySocket, next } = await import('/helpers.mjs');
    const s = new SteadySocket('ws://127.0.0.1:1/', [], { debug: true, startClosed: true });
    s.close();
    await next(s, 'stop');
    s.send('late');
  });
  assert.ok(page.lines.some((l) => l.startsWith('warning:') && /stopped socket/.test(l)), page.lines.join('\n'));
});

test('drainQueuedMessages() takes back everything queued, in order, and reports one discard', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id, fast }) => {
      const { SteadySocket, next, sleep, log } = await import('/helpers.mjs');
      const s = new SteadySocket(url, [], { ...fast, startClosed: true });
      const discards = [];
      s.ondiscard = (e) => discards.push(e.detail);
      const view = new Uint8Array([9, 1, 2, 3]).subarray(1);
      s.send('one');
      s.send(view);
      s.send(new Blob(['b']));
      const drained = s.drainQueuedMessages();
      const kinds = drained.map((d) => Object.prototype.toString.call(d));
      const bytes = Array.from(drained[1]);
      const again = s.drainQueuedMessages();
      await sleep(0);
      const buffered = s.bufferedAmount;
      s.reconnect();
      await next(s, 'open');
      await sleep(100);
      s.close();
      await next(s, 'stop');
      const l = await log(id);
      return { first: drained[0], kinds, bytes, again, discards, buffered, received: l.connections[0].received.length };
    },
    { url: inst.url, id: inst.id, fast: FAST },
  );
  assert.equal(r.first, 'one');
  assert.deepEqual(r.kinds, ['[object String]', '[object Uint8Array]', '[object Blob]']);
  assert.deepEqual(r.bytes, [1, 2, 3], 'exactly the viewed bytes');
  assert.deepEqual(r.again, []);
  assert.deepEqual(r.discards, [{ reason: 'cleared', count: 3 }]);
  assert.equal(r.buffered, 0);
  assert.equal(r.received, 0, 'nothing drained is sent');
});

test('the WebSocket option lets users unit-test their code with a fake socket and no server', T, async (t) => {
  const page = await h.open(t);
  const r = await page.evaluate(async () => {
    const { SteadySocket, next } = await import('/helpers.mjs');
    // The smallest test double a user would write (mock-socket's has the same shape).
    const made = [];
    class FakeSocket extends EventTarget {
      static CONNECTING = 0;
      static OPEN = 1;
      constructor(url, protocols) {
        super();
        Object.assign(this, { url, protocols, readyState: 0, sent: [], binaryType: 'blob' });
        Object.assign(this, { bufferedAmount: 0, protocol: '', extensions: '' });
        made.push(this);
        setTimeout(() => {
          this.readyState = 1;
          this.dispatchEvent(new Event('open'));
        }, 5);
      }
      send(data) {
        this.sent.push(data);
        // An echo, as a server would.
        setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data: `echo:${data}` })), 1);
      }
      close(code = 1005, reason = '') {
        if (this.readyState > 1) return;
        this.readyState = 3;
        setTimeout(() => this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean: true })), 1);
      }
      drop() {
        this.readyState = 3;
        this.dispatchEvent(Object.assign(new Event('close'), { code: 1006, reason: '', wasClean: false }));
      }
    }
    const s = new SteadySocket('wss://example.invalid/live', ['v1'], {
      WebSocket: FakeSocket,
      minReconnectionDelay: 10,
      maxReconnectionDelay: 10,
    });
    s.send('queued');
    await next(s, 'open');
    const echo = (await next(s, 'message')).data;
    s.send('live');
    const second = (await next(s, 'message')).data;
    const closing = next(s, 'close');
    made[0].drop(); // the fake's connection dies: the library reconnects through it
    const closed = (await closing).code;
    await next(s, 'open');
    s.close(1000, 'done');
    await next(s, 'stop');
    return {
      urls: made.map((m) => m.url),
      protocols: made[0].protocols,
      sent: made[0].sent,
      echo,
      second,
      closed,
      count: made.length,
    };
  });
  assert.deepEqual(r.urls, ['wss://example.invalid/live', 'wss://example.invalid/live']);
  assert.deepEqual(r.protocols, ['v1']);
  assert.deepEqual(r.sent, ['queued', 'live']);
  assert.equal(r.echo, 'echo:queued');
  assert.equal(r.second, 'echo:live');
  assert.equal(r.closed, 1006);
  assert.equal(r.count, 2);
});

test('a WebSocket option that is not a constructor is a TypeError naming it', T, async (t) => {
  const page = await h.open(t);
  const r = await page.evaluate(async () => {
    const { SteadySocket, thrown } = await import('/helpers.mjs');
    return thrown(() => new SteadySocket('ws://127.0.0.1:1/', [], { WebSocket: 'nope' }));
  });
  assert.equal(r.name, 'TypeError');
  assert.match(r.message, /WebSocket/);
});
