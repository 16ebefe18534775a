// The fuzz suite's invariant checker on hand-written logs (no browser): a clean run
// passes, and each injected defect is reported under its rule. Guards the checker
// against rules that can never fire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { check } from './check.mjs';

const plan = {
  seed: 1,
  config: {
    urlKind: 'string',
    protocolsKind: 'none',
    options: { closeTimeout: 300, maxReconnectionDelay: 200, minReconnectionDelay: 50, reconnectionJitter: 0 },
  },
  steps: [],
};
const cur = (rs) => ({ id: 1, rs, libClosed: false, url: 'ws://x/', protocol: '' });

/** A clean run: connect, send one message while OPEN and one while CONNECTING after a drop, close. */
function clean() {
  const log = [
    { k: 'callstart', fn: 'ctor' },
    { k: 'call', fn: 'ctor', err: null },
    { k: 'nnew', id: 1, url: 'ws://x/', protocols: [], live: [] },
    { k: 'ev', type: 'connecting', rs: 0, detail: { attempt: 0 } },
    { k: 'step', n: 0, op: 'send', rs: 0 },
    { k: 'nev', id: 1, type: 'open' },
    { k: 'ev', type: 'open', rs: 1, url: 'ws://x/', protocol: '', cur: cur(1) },
    { k: 'callstart', fn: 'send', src: 'step', seq: 1, kind: 'text', rs: 1, buf: 0, cur: cur(1) },
    { k: 'nsend', id: 1, rs: 1, seq: 1 },
    { k: 'call', fn: 'send', start: 7, src: 'step', seq: 1, kind: 'text', body: 'q:1:1', bin: false, expect: null, ret: true, err: null, rsAfter: 1, bufAfter: 0 },
    { k: 'nev', id: 1, type: 'close', code: 1006 },
    { k: 'ev', type: 'close', rs: 0, code: 1006, reason: '' },
    { k: 'ev', type: 'reconnecting', rs: 0, detail: { attempt: 1, delay: 50, code: 1006, reason: '' } },
    { k: 'step', n: 1, op: 'send', rs: 0 },
    { k: 'callstart', fn: 'send', src: 'step', seq: 2, kind: 'buffer', rs: 0, buf: 0, cur: { ...cur(3) } },
    { k: 'call', fn: 'send', start: 14, src: 'step', seq: 2, kind: 'buffer', body: 'b:1:2', bin: true, expect: null, ret: false, err: null, rsAfter: 0, bufAfter: 5 },
    { k: 'nnew', id: 2, url: 'ws://x/', protocols: [], live: [] },
    { k: 'ev', type: 'connecting', rs: 0, detail: { attempt: 1 } },
    { k: 'nev', id: 2, type: 'open' },
    { k: 'nsend', id: 2, rs: 1, seq: 2 },
    { k: 'ev', type: 'open', rs: 1, url: 'ws://x/', protocol: '', cur: { ...cur(1), id: 2 } },
    { k: 'ev', type: 'message', rs: 1, data: '[ArrayBuffer]' },
    { k: 'phase', name: 'healed', opened: true, rs: 1, buf: 0 },
    { k: 'callstart', fn: 'close', src: 'final', arg: 2, args: '[1000,"bye"]', rs: 1, cur: { ...cur(1), id: 2 } },
    { k: 'nclose', id: 2, rs: 1, args: ['1000', 'bye'] },
    { k: 'call', fn: 'close', start: 23, src: 'final', arg: 2, expect: null, err: null, rsAfter: 2 },
    { k: 'nev', id: 2, type: 'close', code: 1000 },
    { k: 'ev', type: 'close', rs: 3, code: 1000, reason: 'bye' },
    { k: 'ev', type: 'stop', rs: 3, detail: { reason: 'close' } },
    { k: 'phase', name: 'final-stop', stopped: true, rs: 3 },
    { k: 'phase', name: 'done', rs: 3, live: [] },
  ];
  log.forEach((e, i) => (e.t = i));
  const server = {
    truncated: false,
    connections: [
      { n: 1, protocols: [], received: [{ type: 'text', data: 'q:1:1' }] },
      { n: 2, protocols: [], received: [{ type: 'binary', base64: Buffer.from('b:1:2').toString('base64') }] },
    ],
  };
  return { log, server };
}

/** After splicing: point every call back at its callstart. */
function relink(log) {
  log.forEach((e, i) => {
    if (e.k !== 'call' || e.fn === 'ctor') return;
    for (let k = i - 1; k >= 0; k--) {
      if (log[k].k === 'callstart' && log[k].fn === e.fn && log[k].seq === e.seq) {
        e.start = k;
        return;
      }
    }
  });
}
const rules = (log, server) => [...new Set(check(plan, { log }, server).map((v) => v.rule))].sort();
const at = (log, pred) => log.findIndex(pred);

test('a clean run has no violations', () => {
  const { log, server } = clean();
  assert.deepEqual(check(plan, { log }, server), []);
});

test('each injected defect is reported under its rule', () => {
  const cases = {
    'one-live-native': ({ log }) => { log[at(log, (e) => e.k === 'nnew' && e.id === 2)].live = [1]; },
    'native-send-not-open': ({ log }) => { log[at(log, (e) => e.k === 'nsend' && e.seq === 2)].rs = 2; },
    'server-duplicate': ({ server }) => { server.connections[1].received.push(server.connections[0].received[0]); },
    'server-order': ({ server }) => { server.connections.reverse(); },
    'payload-bytes': ({ server }) => { server.connections[1].received[0].base64 = Buffer.from('b:1:2\u00ee').toString('base64'); },
    'queued-never-sent': ({ log }) => { log.splice(at(log, (e) => e.k === 'nsend' && e.seq === 2), 1, { k: 'note' }); },
    'send-return': ({ log }) => { log[at(log, (e) => e.k === 'call' && e.seq === 1)].ret = 'undefined'; },
    'send-accepts-valid': ({ log }) => { Object.assign(log[at(log, (e) => e.k === 'call' && e.seq === 2)], { err: { name: 'InvalidStateError', msg: 'x' } }); },
    'no-trap': ({ log }) => { log.push({ k: 'err', where: 'readyState', name: 'RuntimeError', msg: 'unreachable', trap: true, ctx: 'x' }); },
    'event-order': ({ log }) => { log.splice(at(log, (e) => e.type === 'reconnecting'), 0, { k: 'ev', type: 'close', rs: 0, code: 1006 }); },
    'message-state': ({ log }) => { log.splice(at(log, (e) => e.type === 'reconnecting') + 1, 0, { k: 'ev', type: 'message', rs: 0, data: 'x' }); },
    'quiet-after-stop': ({ log }) => { log.push({ k: 'ev', type: 'connecting', rs: 0, detail: { attempt: 0 } }); },
    'ready-state': ({ log }) => { log[at(log, (e) => e.k === 'step' && e.n === 1)].rs = 1; },
    'attempt-after-close': ({ log }) => {
      const i = at(log, (e) => e.k === 'phase' && e.name === 'final-stop');
      log.splice(i, 0, { k: 'nnew', id: 3, url: 'ws://x/', protocols: [], live: [] });
    },
    'leaked-native': ({ log }) => { log.at(-1).live = [2]; },
    'stop-reason': ({ log }) => { log[at(log, (e) => e.type === 'stop')].detail.reason = 'max-retries'; },
  };
  for (const [rule, inject] of Object.entries(cases)) {
    const run = clean();
    inject(run);
    run.log.forEach((e, i) => (e.t ??= i));
    relink(run.log);
    assert.ok(rules(run.log, run.server).includes(rule), `${rule}: got ${rules(run.log, run.server).join(', ') || 'nothing'}`);
  }
});
