// Every bad input of SPEC.md's table gives the named error with a helpful message and
// never a wasm panic: afterwards the same socket still works and new ones still connect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { harness, FAST, PANIC } from './harness.mjs';
import { BROWSER } from '../support/browser.mjs';

let h;
before(async () => {
  h = await harness();
});
after(async () => {
  await h?.close();
});

const T = { timeout: 15_000 };

test('invalid URLs throw SyntaxError naming the URL, as the native constructor does', T, async (t) => {
  const page = await h.open(t);
  const r = await page.evaluate(async () => {
    const { SteadySocket, thrown } = await import('/helpers.mjs');
    const inputs = ['ws://[bad', 'ftp://x', 'ws://127.0.0.1:1/#fragment', 'ws://127.0.0.1:1/#', 'javascript:alert(1)'];
    return inputs.map((url) => ({
      url,
      native: thrown(() => new WebSocket(url)),
      steady: thrown(() => new SteadySocket(url)),
    }));
  });
  for (const { url, native, steady } of r) {
    assert.equal(native?.name, 'SyntaxError', `native ${url}`);
    assert.ok(steady, `new SteadySocket(${JSON.stringify(url)}) did not throw`);
    assert.equal(steady.name, 'SyntaxError', `${url}: ${steady.name}: ${steady.message}`);
    assert.equal(steady.isDOMException, true, url);
    assert.ok(steady.message.includes(url), `the message names the URL: ${steady.message}`);
  }
});

test('invalid or duplicate subprotocols throw SyntaxError, as the native constructor does', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(async ({ url }) => {
    const { SteadySocket, thrown } = await import('/helpers.mjs');
    const inputs = [['a', 'a'], ['a b'], [''], 'a,b', ['chat', 'x', 'chat'], ['é'], '(x)'];
    return inputs.map((protocols) => ({
      protocols: JSON.stringify(protocols),
      native: thrown(() => new WebSocket(url, protocols)),
      steady: thrown(() => new SteadySocket(url, protocols)),
    }));
  }, inst);
  for (const { protocols, native, steady } of r) {
    assert.equal(native?.name, 'SyntaxError', `native ${protocols}`);
    assert.ok(steady, `protocols ${protocols} did not throw`);
    assert.equal(steady.name, 'SyntaxError', `${protocols}: ${steady.name}: ${steady.message}`);
    assert.equal(steady.isDOMException, true, protocols);
  }
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 0);
});

test('a close code other than 1000 or 3000-4999, or a reason over 123 bytes, throws and the socket stays open', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST }) => {
      const { SteadySocket, next, thrown } = await import('/helpers.mjs');
      const n = new WebSocket(url);
      const s = new SteadySocket(url, undefined, FAST);
      await Promise.all([next(n, 'open'), next(s, 'open')]);
      const calls = {
        'close(1001)': (ws) => ws.close(1001),
        'close(2999)': (ws) => ws.close(2999),
        'close(5000)': (ws) => ws.close(5000),
        'close(0)': (ws) => ws.close(0),
        'close(1005)': (ws) => ws.close(1005),
        "close(1000, 124 bytes)": (ws) => ws.close(1000, 'x'.repeat(124)),
        "close(4000, 62 x 'é' = 124 bytes)": (ws) => ws.close(4000, 'é'.repeat(62)),
      };
      const out = [];
      for (const [call, f] of Object.entries(calls)) {
        out.push({ call, native: thrown(() => f(n)), steady: thrown(() => f(s)), state: s.readyState });
      }
      const reconnectBad = thrown(() => s.reconnect(1001));
      const stateAfterReconnectBad = s.readyState;
      const echoed = next(s, 'message');
      s.send('still open');
      const { data } = await echoed;
      // The limits themselves are fine: 123 bytes, 4999.
      const closed = next(s, 'close');
      s.close(4999, 'x'.repeat(123));
      const ev = await closed;
      n.close();
      return { out, reconnectBad, stateAfterReconnectBad, data, closeEvent: { code: ev.code, reason: ev.reason.length } };
    },
    { ...inst, FAST },
  );
  for (const { call, native, steady, state } of r.out) {
    assert.ok(steady, `${call} did not throw`);
    assert.equal(steady.name, native.name, `${call}: native ${native.name}, steady ${steady.name}: ${steady.message}`);
    assert.equal(steady.isDOMException, true, call);
    assert.equal(state, 1, `readyState after ${call}`);
  }
  assert.equal(r.out[0].steady.name, 'InvalidAccessError');
  assert.match(r.out[0].steady.message, /1001/);
  assert.equal(r.out.at(-1).steady.name, 'SyntaxError');
  assert.equal(r.reconnectBad?.name, 'InvalidAccessError');
  assert.equal(r.stateAfterReconnectBad, 1);
  assert.equal(r.data, 'still open');
  assert.deepEqual(r.closeEvent, { code: 4999, reason: 123 });
  const log = await h.ctl(`/instances/${inst.id}/log`);
  assert.equal(log.handshakes, 2, 'the bad reconnect() made no new connection');
});

// option, value, expected error. Every message must name the option.
const BAD_OPTIONS = [
  ['minReconnectionDelay', -1, 'RangeError'],
  ['minReconnectionDelay', NaN, 'RangeError'],
  ['minReconnectionDelay', Infinity, 'RangeError'],
  ['minReconnectionDelay', '100', 'TypeError'],
  ['maxReconnectionDelay', -5, 'RangeError'],
  ['reconnectionDelayGrowFactor', 0.5, 'RangeError'],
  ['reconnectionDelayGrowFactor', NaN, 'RangeError'],
  ['reconnectionDelayGrowFactor', Infinity, 'RangeError'],
  ['reconnectionJitter', 2, 'RangeError'],
  ['reconnectionJitter', -0.1, 'RangeError'],
  ['connectionTimeout', 0, 'RangeError'],
  ['connectionTimeout', -1, 'RangeError'],
  ['minUptime', {}, 'TypeError'],
  ['maxRetries', -1, 'RangeError'],
  ['maxRetries', 1.5, 'RangeError'],
  ['maxRetries', 'many', 'TypeError'],
  ['maxEnqueuedMessages', -1, 'RangeError'],
  ['maxEnqueuedBytes', NaN, 'RangeError'],
  ['closeTimeout', 0, 'RangeError'],
  ['heartbeatInterval', -1, 'RangeError'],
  ['heartbeatTimeout', 0, 'RangeError'],
  ['heartbeatMessage', 42, 'TypeError'],
  ['heartbeatResponse', false, 'TypeError'],
  ['startClosed', 'yes', 'TypeError'],
  ['debug', 1, 'TypeError'],
  ['stopOnCloseCodes', 4000, 'TypeError'],
  ['stopOnCloseCodes', ['4000'], 'TypeError'],
  ['stopOnCloseCodes', [99], 'RangeError'],
  ['shouldReconnect', true, 'TypeError'],
];

test('bad options throw RangeError or TypeError whose message names the option', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, bad }) => {
      const { SteadySocket, thrown } = await import('/helpers.mjs');
      const out = bad.map(([option, value]) => ({
        option,
        value: String(value),
        error: thrown(() => new SteadySocket(url, undefined, { [option]: value })),
      }));
      out.push({
        option: 'minReconnectionDelay > maxReconnectionDelay',
        error: thrown(() => new SteadySocket(url, undefined, { minReconnectionDelay: 500, maxReconnectionDelay: 100 })),
      });
      out.push({ option: '(options not an object)', error: thrown(() => new SteadySocket(url, undefined, 'fast')) });
      return out;
    },
    // (Playwright carries NaN and Infinity into the page intact.)
    { ...inst, bad: BAD_OPTIONS.map(([o, v]) => [o, v]) },
  );
  for (const [i, [option, value, expected]] of BAD_OPTIONS.entries()) {
    const { error } = r[i];
    const what = `${option}: ${String(value)}`;
    assert.ok(error, `${what} did not throw`);
    assert.equal(error.name, expected, `${what}: ${error.name}: ${error.message}`);
    assert.ok(error.message.includes(option), `${what}: the message names the option: ${error.message}`);
  }
  const minMax = r.at(-2).error;
  assert.equal(minMax?.name, 'RangeError', 'minReconnectionDelay above maxReconnectionDelay');
  assert.match(minMax.message, /minReconnectionDelay|maxReconnectionDelay/);
  assert.equal(r.at(-1).error?.name, 'TypeError');
  assert.equal((await h.ctl(`/instances/${inst.id}/log`)).handshakes, 0, 'a refused socket never connects');
});

test('after every bad input the same socket still works, a new socket still connects, and nothing panicked', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url, FAST, bad }) => {
      const { SteadySocket, next, thrown } = await import('/helpers.mjs');
      const s = new SteadySocket(url, undefined, FAST);
      await next(s, 'open');
      const errors = [];
      const attempt = (f) => {
        const e = thrown(f);
        if (e) errors.push(e);
      };
      // Everything at once, against one live socket and the shared wasm module.
      for (const u of ['ws://[bad', 'ftp://x', 'ws://h/#f', '', '\u0000', 'ws://\uD800']) attempt(() => new SteadySocket(u));
      attempt(() => new SteadySocket());
      attempt(() => new SteadySocket(url, ['a', 'a']));
      attempt(() => new SteadySocket(url, [1, {}]));
      attempt(() => new SteadySocket(url, {}));
      for (const [option, value] of bad) attempt(() => new SteadySocket(url, undefined, { [option]: value }));
      for (const v of [42, {}, null, undefined, Symbol('s')]) attempt(() => s.send(v));
      attempt(() => s.send());
      for (const code of [1001, 2999, 5000, -1, 65536, 1e300, NaN, 999.5, '4000x', {}]) attempt(() => s.close(code));
      attempt(() => s.close(1000, 'x'.repeat(124)));
      attempt(() => s.close(1000, '\uD800'.repeat(42))); // lone surrogates: 3 bytes each
      attempt(() => s.reconnect(2999));
      s.binaryType = 'nonsense';
      s.binaryType = null;
      // A lone surrogate in a message is sent as U+FFFD, as the native socket does.
      const echoed = next(s, 'message');
      s.send('\uD800 ok');
      const first = (await echoed).data;
      const stateAfter = s.readyState;
      const s2 = new SteadySocket(url, undefined, FAST);
      await next(s2, 'open');
      const echoed2 = next(s2, 'message');
      s2.send('new socket');
      const second = (await echoed2).data;
      s.close();
      s2.close();
      await Promise.all([next(s, 'close'), next(s2, 'close')]);
      return {
        count: errors.length,
        names: [...new Set(errors.map((e) => e.name))].sort(),
        unnamed: errors.filter((e) => !e.isError).map((e) => e.message),
        first,
        stateAfter,
        second,
      };
    },
    { ...inst, FAST, bad: BAD_OPTIONS.map(([o, v]) => [o, v]) },
  );
  assert.ok(r.count >= 45, `${r.count} inputs threw`);
  assert.deepEqual(r.names, ['InvalidAccessError', 'RangeError', 'SyntaxError', 'TypeError']);
  assert.deepEqual(r.unnamed, []);
  assert.equal(r.first, '\uFFFD ok');
  assert.equal(r.stateAfter, 1);
  assert.equal(r.second, 'new socket');
  const bad = page.lines.filter((l) => PANIC.test(l));
  assert.deepEqual(bad, []);
});

test('close() codes and subprotocol lists are converted as the native WebSocket converts them', T, async (t) => {
  const page = await h.open(t);
  const inst = await h.instance();
  const r = await page.evaluate(
    async ({ url }) => {
      const { SteadySocket, next, thrown } = await import('/helpers.mjs');
      const out = {};
      // WebIDL `unsigned short`: a numeric string is a number, a fraction is cut to a whole one.
      for (const code of ['4000', 3000.7]) {
        for (const [name, Ctor] of [['native', WebSocket], ['steady', SteadySocket]]) {
          const ws = new Ctor(`${url}/${name}/${code}`);
          await next(ws, 'open');
          const closed = next(ws, 'close');
          const error = thrown(() => ws.close(code));
          if (!error) await closed;
          else ws.close();
          out[`close(${JSON.stringify(code)}) ${name}`] = error?.name ?? null;
        }
      }
      // `sequence<DOMString>`: entries become strings, any iterable is a sequence.
      for (const [label, protocols] of [['[1]', [1]], ["new Set(['a'])", new Set(['a'])]]) {
        for (const [name, Ctor] of [['native', WebSocket], ['steady', SteadySocket]]) {
          const e = thrown(() => new Ctor(url, protocols).close());
          out[`protocols ${label} ${name}`] = e?.name ?? null;
        }
      }
      return out;
    },
    inst,
  );
  const log = await h.logWhen(inst.id, (l) => l.connections.every((c) => c.closeCode !== null));
  const codes = Object.fromEntries(log.connections.map((c) => [c.url, c.closeCode]));
  assert.equal(codes['/native/4000'], 4000);
  // A fraction: Chromium truncates (3000.7 -> 3000, 3001.5 -> 3001); Firefox follows
  // WebIDL [Clamp] and rounds half to even (3000.7 -> 3001, 3001.5 -> 3002).
  assert.equal(codes['/native/3000.7'], BROWSER === 'firefox' ? 3001 : 3000);
  const differences = [];
  for (const key of Object.keys(r).filter((k) => k.endsWith(' native'))) {
    const steadyKey = key.replace(/ native$/, ' steady');
    if (r[steadyKey] !== r[key]) differences.push(`${steadyKey} threw ${r[steadyKey]}, native threw ${r[key]}`);
  }
  for (const code of ['4000', '3000.7']) {
    if (codes[`/steady/${code}`] !== codes[`/native/${code}`]) {
      differences.push(`close(${code}): server got ${codes[`/steady/${code}`]}, from native ${codes[`/native/${code}`]}`);
    }
  }
  // KNOWN DIVERGENCE (reported, not fixed): js/socket.js `toCode` truncates as Chromium
  // does, so in Firefox close(3000.7) sends 3000 where the native socket sends 3001.
  // Listed here so that any other difference still fails, and so that a fix shows up.
  const known = BROWSER === 'firefox' ? ['close(3000.7): server got 3000, from native 3001'] : [];
  assert.deepEqual(differences, known);
});
