// `for await (const data of socket)`: messages in order, through reconnects, until the
// socket stops for good; leaving the loop early cleans up.
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

test('for await yields the messages in order and ends after close()', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const got = [];
      const loop = (async () => {
        for await (const data of s) {
          got.push(data);
          if (got.length === 3) s.close();
        }
        return 'ended';
      })();
      await next(s, 'open');
      for (const m of ['one', 'two', 'three']) s.send(m);
      const how = await Promise.race([loop, sleep(2000).then(() => 'still running after 2 s')]);
      return { got, how, readyState: s.readyState };
    },
    { ...inst, FAST },
  );
  assert.equal(r.how, 'ended');
  assert.deepEqual(r.got, ['one', 'two', 'three']);
  assert.equal(r.readyState, 3);
});

test('for await keeps yielding across a reconnect and ends only when the socket stops for good', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, id, FAST }) => {
      const { SteadySocket, next, sleep, until } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, { ...FAST, maxRetries: 0 });
      const got = [];
      let ended = false;
      const loop = (async () => {
        for await (const data of s) got.push(data);
        ended = true;
      })();
      await next(s, 'open');
      s.send('before');
      await until(() => got.length === 1, 2000, 'first message');
      // maxRetries 0 would stop here; use reconnect() to go on instead: a dropped
      // connection must not end the loop while the socket is not stopped for good.
      s.reconnect();
      await next(s, 'open');
      s.send('after');
      await until(() => got.length === 2, 2000, 'second message');
      const endedBeforeStop = ended;
      const stopped = next(s, 'stop', 2000);
      await ctl(`/instances/${id}/kill`); // maxRetries 0: stops for good
      await stopped;
      await Promise.race([loop, sleep(1000)]);
      return { got, endedBeforeStop, ended };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.got, ['before', 'after']);
  assert.equal(r.endedBeforeStop, false);
  assert.equal(r.ended, true, 'the loop ends on stop (max-retries)');
});

test('breaking out of the loop removes its listeners and leaves the socket open', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      const live = new Map(); // "type" -> Set of listeners added and not yet removed
      const add = s.addEventListener;
      const remove = s.removeEventListener;
      s.addEventListener = function (type, fn, o) {
        if (!live.has(type)) live.set(type, new Set());
        live.get(type).add(fn);
        return add.call(this, type, fn, o);
      };
      s.removeEventListener = function (type, fn, o) {
        live.get(type)?.delete(fn);
        return remove.call(this, type, fn, o);
      };
      await next(s, 'open');
      const got = [];
      let during = 0;
      const loop = (async () => {
        for await (const data of s) {
          during = [...live.values()].reduce((n, set) => n + set.size, 0);
          got.push(data);
          if (data === 'two') break;
        }
      })();
      s.send('one');
      s.send('two');
      await Promise.race([loop, sleep(2000)]);
      const left = Object.fromEntries([...live].map(([k, set]) => [k, set.size]));
      // The socket is still usable, and a new loop sees only new messages.
      const state = s.readyState;
      s.send('three');
      let nextLoop = null;
      for await (const data of s) {
        nextLoop = data;
        break;
      }
      s.close();
      return { got, during, left, state, nextLoop };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.got, ['one', 'two']);
  assert.ok(r.during >= 1, 'the loop did listen');
  assert.ok(Object.values(r.left).every((n) => n === 0), `listeners left behind: ${JSON.stringify(r.left)}`);
  assert.equal(r.state, 1);
  assert.equal(r.nextLoop, 'three');
});

test('next() called twice without waiting gets two messages in order', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      await next(s, 'open');
      const it = s[Symbol.asyncIterator]();
      const a = it.next();
      const b = it.next();
      s.send('x');
      s.send('y');
      const timeout = sleep(2000).then(() => 'pending after 2 s');
      const results = await Promise.all([Promise.race([a, timeout]), Promise.race([b, timeout])]);
      // return() while a next() waits: that next() completes as done.
      const c = it.next();
      await it.return();
      const afterReturn = await Promise.race([c, timeout]);
      s.close();
      return { results, afterReturn };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r.results, [
    { value: 'x', done: false },
    { value: 'y', done: false },
  ]);
  assert.deepEqual(r.afterReturn, { value: undefined, done: true });
});

test('iterating a socket that has already stopped ends at once', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, sleep } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      await next(s, 'open');
      s.close();
      await next(s, 'stop');
      const got = [];
      const loop = (async () => {
        for await (const data of s) got.push(data);
        return 'ended';
      })();
      return { how: await Promise.race([loop, sleep(1000).then(() => 'still running')]), got };
    },
    { ...inst, FAST },
  );
  assert.deepEqual(r, { how: 'ended', got: [] });
});
