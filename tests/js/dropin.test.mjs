// SteadySocket as a drop-in for the browser WebSocket: side by side with the native
// socket, on the same fault-server echo instance, in the same page.
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

test('open, message and close arrive in the same order and readyStates as on a native WebSocket', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(async ({ url }) => {
    const { SteadySocket, describe } = await import('/helpers.mjs');
    async function run(Ctor) {
      const ws = new Ctor(`${url}/room?x=1`);
      const states = [ws.readyState];
      const events = [];
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${Ctor.name}: no close in 2 s`)), 2000);
        ws.addEventListener('open', (e) => {
          events.push(describe(e));
          ws.send('hello');
        });
        ws.addEventListener('message', (e) => {
          events.push(describe(e));
          ws.close(4000, 'bye');
          states.push(ws.readyState);
        });
        ws.addEventListener('error', (e) => events.push(describe(e)));
        ws.addEventListener('close', (e) => {
          events.push(describe(e));
          clearTimeout(timer);
          resolve();
        });
      });
      states.push(ws.readyState);
      return { states, events, url: ws.url };
    }
    return { native: await run(WebSocket), steady: await run(SteadySocket) };
  }, inst);

  assert.deepEqual(r.native.events.map((e) => e.type), ['open', 'message', 'close']);
  assert.deepEqual(r.native.states, [0, 2, 3]);
  assert.deepEqual(r.steady, r.native);

  // The client's close code and reason reached the server, for both sockets.
  const log = await h.logWhen(inst.id, (l) => l.connections.every((c) => c.closeCode !== null));
  assert.equal(log.connections.length, 2);
  for (const c of log.connections) {
    assert.equal(c.url, '/room?x=1');
    assert.equal(c.closeCode, 4000);
    assert.equal(c.closeReason, 'bye');
    assert.deepEqual(c.received, [{ type: 'text', data: 'hello' }]);
  }
});

test('url is normalised exactly as the native WebSocket normalises it', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(async ({ url, port }) => {
    const { SteadySocket } = await import('/helpers.mjs');
    const inputs = [
      url,
      `WS://127.0.0.1:${port}/a/../b?q=1`,
      `http://127.0.0.1:${port}/from-http`,
      '/relative/path?x=y',
      new URL(`${url}/an-URL-object`),
    ];
    return inputs.map((input) => {
      const n = new WebSocket(input);
      const s = new SteadySocket(input, undefined, { startClosed: true });
      const out = { input: String(input), native: n.url, steady: s.url };
      n.close();
      s.close();
      return out;
    });
  }, inst);
  for (const { input, native, steady } of r) assert.equal(steady, native, `url of ${input}`);
  assert.equal(r[0].steady, `${inst.url}/`);
});

test('protocol and extensions read like the native ones, before and after the server picks a subprotocol', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('protocol=b');
  const r = await page.evaluate(async ({ url }) => {
    const { SteadySocket, next } = await import('/helpers.mjs');
    const n = new WebSocket(url, ['a', 'b']);
    const s = new SteadySocket(url, ['a', 'b']);
    const before = { native: [n.protocol, n.extensions], steady: [s.protocol, s.extensions] };
    await Promise.all([next(n, 'open'), next(s, 'open')]);
    const afterOpen = { native: [n.protocol, n.extensions], steady: [s.protocol, s.extensions] };
    n.close();
    s.close();
    await Promise.all([next(n, 'close'), next(s, 'close')]);
    return { before, afterOpen };
  }, inst);
  assert.deepEqual(r.before.steady, r.before.native);
  assert.deepEqual(r.before.steady, ['', '']);
  assert.deepEqual(r.afterOpen.steady, r.afterOpen.native);
  assert.deepEqual(r.afterOpen.steady, ['b', '']);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  for (const c of log.connections) {
    assert.deepEqual(c.protocols, ['a', 'b']);
    assert.equal(c.protocol, 'b');
  }
});

test('binaryType starts as blob, switches to arraybuffer like the native one, and is kept across reconnects', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, bytes } = await import('/helpers.mjs');
      const kind = (d) => Object.prototype.toString.call(d).slice(8, -1);
      async function echo(ws, payload) {
        const got = next(ws, 'message');
        ws.send(payload);
        const { data } = await got;
        return { kind: kind(data), bytes: await bytes(data) };
      }
      const out = { native: {}, steady: {} };
      const n = new WebSocket(url);
      const s = new SteadySocket(url, undefined, FAST);
      out.native.initial = n.binaryType;
      out.steady.initial = s.binaryType;
      await Promise.all([next(n, 'open'), next(s, 'open')]);
      out.native.blob = await echo(n, new Uint8Array([1, 2, 3]));
      out.steady.blob = await echo(s, new Uint8Array([1, 2, 3]));
      n.binaryType = 'arraybuffer';
      s.binaryType = 'arraybuffer';
      out.native.ab = await echo(n, new Uint8Array([4, 5]));
      out.steady.ab = await echo(s, new Uint8Array([4, 5]));
      n.binaryType = 'bogus'; // an invalid enum value is ignored
      s.binaryType = 'bogus';
      out.native.afterBogus = n.binaryType;
      out.steady.afterBogus = s.binaryType;
      n.close();

      // Reconnect: the setting survives.
      const reopened = next(s, 'open', 3000);
      await ctl(`/instances/${id}/kill`);
      await reopened;
      out.steady.afterReconnect = s.binaryType;
      out.steady.abAfterReconnect = await echo(s, new Uint8Array([6]));

      // Set during the backoff wait (no native socket): applies to the next one.
      s.addEventListener('reconnecting', () => (s.binaryType = 'blob'), { once: true });
      const reopened2 = next(s, 'open', 3000);
      await ctl(`/instances/${id}/kill`);
      await reopened2;
      out.steady.setInBackoff = await echo(s, new Uint8Array([7]));

      // Set right after construction (native socket still connecting).
      const s2 = new SteadySocket(url, undefined, FAST);
      s2.binaryType = 'arraybuffer';
      await next(s2, 'open');
      out.steady.setWhileConnecting = await echo(s2, new Uint8Array([8]));
      s.close();
      s2.close();
      return out;
    },
    { ...inst, FAST },
  );
  const { native, steady } = r;
  assert.equal(native.initial, 'blob');
  assert.equal(steady.initial, native.initial);
  assert.deepEqual(native.blob, { kind: 'Blob', bytes: [1, 2, 3] });
  assert.deepEqual(steady.blob, native.blob);
  assert.deepEqual(native.ab, { kind: 'ArrayBuffer', bytes: [4, 5] });
  assert.deepEqual(steady.ab, native.ab);
  assert.equal(native.afterBogus, 'arraybuffer');
  assert.equal(steady.afterBogus, native.afterBogus);
  assert.equal(steady.afterReconnect, 'arraybuffer');
  assert.deepEqual(steady.abAfterReconnect, { kind: 'ArrayBuffer', bytes: [6] });
  assert.deepEqual(steady.setInBackoff, { kind: 'Blob', bytes: [7] });
  assert.deepEqual(steady.setWhileConnecting, { kind: 'ArrayBuffer', bytes: [8] });
});

test('constants, bufferedAmount and the EventTarget base match the native WebSocket', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(async ({ url }) => {
    const { SteadySocket, next } = await import('/helpers.mjs');
    const names = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
    const s = new SteadySocket(url);
    const out = {
      staticNative: names.map((k) => WebSocket[k]),
      staticSteady: names.map((k) => SteadySocket[k]),
      instanceSteady: names.map((k) => s[k]),
      instanceOfEventTarget: s instanceof EventTarget,
      // The shipped file is bundled and minified: the class keeps its name.
      name: SteadySocket.name,
      tag: Object.prototype.toString.call(s),
      bufferedType: typeof s.bufferedAmount,
      bufferedConnecting: s.bufferedAmount,
    };
    // The constants cannot be overwritten (writable: false), as on WebSocket.
    try {
      SteadySocket.OPEN = 7;
    } catch {
      // strict-mode assignment to a read-only property throws; either way it stays
    }
    out.staticAfterWrite = SteadySocket.OPEN;
    await next(s, 'open');
    out.bufferedOpen = s.bufferedAmount;
    s.close();
    await next(s, 'close');
    return out;
  }, inst);
  assert.deepEqual(r.staticNative, [0, 1, 2, 3]);
  assert.deepEqual(r.staticSteady, r.staticNative);
  assert.deepEqual(r.instanceSteady, r.staticNative);
  assert.equal(r.staticAfterWrite, 1);
  assert.equal(r.instanceOfEventTarget, true);
  assert.equal(r.name, 'SteadySocket');
  assert.equal(r.tag, '[object SteadySocket]');
  assert.equal(r.bufferedType, 'number');
  assert.equal(r.bufferedConnecting, 0);
  assert.equal(r.bufferedOpen, 0);
});

test('onX handlers and listeners fire in native order; a replaced handler keeps its place; once listeners fire once', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(async ({ url }) => {
    const { SteadySocket, next } = await import('/helpers.mjs');
    async function run(Ctor) {
      const ws = new Ctor(url);
      const order = [];
      const checks = [];
      const check = (name) =>
        function (e) {
          order.push(name);
          checks.push(e.target === ws && e.currentTarget === ws && this === ws);
        };
      ws.onopen = check('onopen');
      ws.addEventListener('message', check('A'));
      const h1 = check('H1');
      ws.onmessage = h1;
      ws.addEventListener('message', check('B'));
      ws.addEventListener('message', check('once'), { once: true });
      const h2 = check('H2');
      ws.onmessage = h2; // replaces H1 in H1's place (before B)
      const getters = [ws.onmessage === h2];
      await next(ws, 'open');
      let got = next(ws, 'message');
      ws.send('one');
      await got;
      order.push('|');
      ws.onmessage = null; // removes the handler...
      getters.push(ws.onmessage === null);
      ws.addEventListener('message', check('C'));
      ws.onmessage = check('H3'); // ...so setting it again puts it last, after C
      got = next(ws, 'message');
      ws.send('two');
      await got;
      ws.onclose = check('onclose');
      got = next(ws, 'close');
      ws.close();
      await got;
      return { order, checks: checks.every(Boolean), getters };
    }
    return { native: await run(WebSocket), steady: await run(SteadySocket) };
  }, inst);
  assert.deepEqual(r.native.order, ['onopen', 'A', 'H2', 'B', 'once', '|', 'A', 'B', 'C', 'H3', 'onclose']);
  assert.deepEqual(r.steady, r.native);
  assert.equal(r.steady.checks, true);
});

test('a close code and reason sent by the server reach the close event as on a native WebSocket', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, describe } = await import('/helpers.mjs');
      const n = new WebSocket(url);
      const s = new SteadySocket(url, undefined, FAST);
      await Promise.all([next(n, 'open'), next(s, 'open')]);
      const closes = Promise.all([next(n, 'close'), next(s, 'close')]);
      const reconnecting = next(s, 'reconnecting');
      const reopened = next(s, 'open', 3000);
      await ctl(`/instances/${id}/close?code=4001&reason=${encodeURIComponent('server says bye')}`);
      const [nc, sc] = (await closes).map(describe);
      // SteadySocket then reconnects (a server close is not final).
      const rec = await reconnecting;
      await reopened;
      s.close();
      return { nc, sc, rec: rec.detail };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.nc, { type: 'close', readyState: 3, code: 4001, reason: 'server says bye', wasClean: true });
  // Same code, reason and wasClean; readyState is CONNECTING, not CLOSED, because
  // the socket is about to reconnect (SPEC: CLOSED only once stopped for good).
  assert.deepEqual({ ...r.sc, readyState: 3 }, r.nc);
  assert.equal(r.sc.readyState, 0);
  assert.deepEqual(r.rec, { attempt: 1, delay: 50, code: 4001, reason: 'server says bye' });
});
