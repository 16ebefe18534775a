// send(): every accepted payload type, the order, exactly the viewed bytes, copies of
// queued buffers, and TypeError for anything else.
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

/** The server's record of one connection as compact strings: 't:text' / 'b:hex'. */
function compact(connection) {
  return connection.received.map((m) =>
    m.type === 'text' ? `t:${m.data}` : `b:${Buffer.from(m.base64, 'base64').toString('hex')}`,
  );
}

// The payload mix is `mix()` in fixtures/helpers.mjs.
const EXPECTED = [
  't:first',
  'b:dead',
  'b:020304',
  'b:0607',
  `b:${'ab'.repeat(64 * 1024)}`,
  't:after-blob',
  `b:${Buffer.from('blob-text').toString('hex')}`,
  `b:${Buffer.from(new Float32Array([2]).buffer).toString('hex')}`,
  't:héllo €',
];

test('strings, ArrayBuffers, views and Blobs sent while open arrive in order, with exactly the viewed bytes', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  await page.evaluate(
    async ({ url, id }) => {
      const { SteadySocket, next, until, log, mix } = await import('/helpers.mjs');
      const s = new SteadySocket(url);
      await next(s, 'open');
      const payloads = mix();
      for (const p of payloads) s.send(p);
      await until(async () => (await log(id)).connections[0].received.length >= payloads.length, 3000, 'all messages at the server');
      s.close();
      await next(s, 'close');
    },
    inst,
  );
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.equal(log.connections.length, 1);
  assert.deepEqual(compact(log.connections[0]), EXPECTED);
});

test('the same mix sent while connecting is queued, counted in bufferedAmount, and flushed once in order before open fires', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id }) => {
      const { SteadySocket, next, until, log, mix } = await import('/helpers.mjs');
      const s = new SteadySocket(url);
      const payloads = mix();
      const amounts = [];
      for (const p of payloads) {
        s.send(p);
        amounts.push(s.bufferedAmount);
      }
      const stateWhileQueued = s.readyState;
      // Sent from the open handler: must come after everything queued.
      s.onopen = () => s.send('from-onopen');
      await next(s, 'open');
      await until(async () => (await log(id)).connections[0]?.received.length >= payloads.length + 1, 3000, 'all messages at the server');
      await until(() => s.bufferedAmount === 0, 2000, 'bufferedAmount back to 0');
      s.close();
      await next(s, 'close');
      return { amounts, stateWhileQueued };
    },
    inst,
  );
  assert.equal(r.stateWhileQueued, 0);
  // Each payload adds its byte size: 5, 2, 3, 2, 65536, 10, 9, 4, 'héllo €' = 10 UTF-8 bytes.
  const sizes = [5, 2, 3, 2, 65536, 10, 9, 4, 10];
  const running = sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0));
  assert.deepEqual(r.amounts, running);
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.equal(log.connections.length, 1);
  assert.deepEqual(compact(log.connections[0]), [...EXPECTED, 't:from-onopen']);
});

test('a buffer changed after a queued send() still sends the bytes it held at send() time', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  await page.evaluate(
    async ({ url, id }) => {
      const { SteadySocket, next, until, log } = await import('/helpers.mjs');
      const s = new SteadySocket(url);
      const ab = new Uint8Array([1, 2, 3]).buffer;
      s.send(ab);
      new Uint8Array(ab)[0] = 9;
      const view = new Uint8Array([0, 4, 5, 6, 0]);
      s.send(view.subarray(1, 4));
      view.fill(7);
      const dv = new DataView(new ArrayBuffer(2));
      dv.setUint16(0, 0x0a0b);
      s.send(dv);
      dv.setUint16(0, 0xffff);
      s.send(ab); // the changed buffer, as it is now
      await next(s, 'open');
      await until(async () => (await log(id)).connections[0]?.received.length >= 4, 3000, '4 messages');
      s.close();
      await next(s, 'close');
    },
    inst,
  );
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.deepEqual(compact(log.connections[0]), ['b:010203', 'b:040506', 'b:0a0b', 'b:090203']);
});

test('numbers, objects, null, undefined and a missing argument throw TypeError and send nothing', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance('echo=0');
  const r = await page.evaluate(
    async ({ url, id }) => {
      const { SteadySocket, next, until, log, thrown } = await import('/helpers.mjs');
      const bad = {
        number: (s) => s.send(42),
        object: (s) => s.send({ toString: () => 'obj' }),
        array: (s) => s.send([1, 2]),
        null: (s) => s.send(null),
        undefined: (s) => s.send(undefined),
        symbol: (s) => s.send(Symbol('x')),
        boolean: (s) => s.send(true),
        none: (s) => s.send(),
      };
      const s = new SteadySocket(url);
      const connecting = {};
      for (const [k, f] of Object.entries(bad)) connecting[k] = thrown(() => f(s));
      const bufferedAfterConnecting = s.bufferedAmount;
      await next(s, 'open');
      const open = {};
      for (const [k, f] of Object.entries(bad)) open[k] = thrown(() => f(s));
      s.send('still works');
      await until(async () => (await log(id)).connections[0]?.received.length >= 1, 2000, 'a message');
      const stillOpen = s.readyState;
      s.close();
      await next(s, 'close');
      return { connecting, open, bufferedAfterConnecting, stillOpen };
    },
    inst,
  );
  for (const phase of ['connecting', 'open']) {
    for (const [k, e] of Object.entries(r[phase])) {
      assert.ok(e, `${phase}: send(${k}) did not throw`);
      assert.equal(e.name, 'TypeError', `${phase}: send(${k}) threw ${e.name}: ${e.message}`);
      assert.equal(e.ctor, 'TypeError', `${phase}: send(${k})`);
      assert.match(e.message, /send/, `${phase}: send(${k}) message names send`);
    }
  }
  assert.equal(r.bufferedAfterConnecting, 0);
  assert.equal(r.stillOpen, 1);
  // Give a wrongly accepted payload time to arrive; only the good one may be there.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.deepEqual(compact(log.connections[0]), ['t:still works']);
});
