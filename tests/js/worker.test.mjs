// SteadySocket in a dedicated Web Worker (no window, no document): the echo, a
// reconnect, and `online` on WorkerGlobalScope cutting a backoff wait short. The
// worker is tests/js/fixtures/worker.mjs; the page only relays fault-server routes.
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

test('in a dedicated worker, SteadySocket echoes, reconnects, and reconnects at once on online', { timeout: 20_000 }, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    ({ url, id, FAST }) =>
      new Promise((resolve, reject) => {
        const worker = new Worker('/worker.mjs', { type: 'module' });
        worker.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
        worker.onmessage = async ({ data }) => {
          if (data.ready) return worker.postMessage({ url, id, FAST });
          if (data.ctl) return worker.postMessage({ reply: await ctl(data.ctl) });
          worker.terminate();
          if (data.error) reject(new Error(data.error));
          else resolve(data.result);
        };
      }),
    { ...inst, FAST },
  );
  assert.deepEqual(r.env, { window: 'undefined', document: 'undefined', worker: 'function' });
  assert.equal(r.echoed, 'in a worker');
  assert.equal(r.echoedAgain, 'after reconnect');
  assert.deepEqual(r.log, ['open', 'close', 'reconnecting', 'open', 'close']);
  assert.equal(r.delay, 60_000);
  assert.ok(r.onlineToOpen < 2000, `open ${Math.round(r.onlineToOpen)} ms after online (the wait was 60 s)`);
});
