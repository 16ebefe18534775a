// The seeded plan of one fuzz run: socket configuration, a list of steps (sends of every
// payload kind, close/reconnect with valid and invalid arguments, server faults, waits)
// and a "tape" of random numbers that the page's re-entrant handlers and URL/protocols
// providers consume in order. Everything random is decided here, from the seed alone, so
// a seed always produces the same plan; only the browser's timing varies between runs.

/** splitmix32-seeded sfc32: small, fast, good enough for test generation. */
export function rng(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
    /** `weights` is { key: weight }; returns a key. */
    weighted(weights) {
      const entries = Object.entries(weights).filter(([, w]) => w > 0);
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let x = next() * total;
      for (const [key, w] of entries) {
        x -= w;
        if (x < 0) return key;
      }
      return entries.at(-1)[0];
    },
  };
  return r;
}

/**
 * Arguments for close()/reconnect(), with the error the SPEC (and the native
 * WebSocket) requires: codes other than 1000 or 3000–4999 → InvalidAccessError,
 * reasons over 123 UTF-8 bytes → SyntaxError (the code is checked first).
 */
export const CLOSE_ARGS = [
  { args: [], expect: null },
  { args: [1000], expect: null },
  { args: [1000, 'bye'], expect: null },
  { args: [4000, 'fuzz'], expect: null },
  { args: [4999], expect: null },
  { args: [3000], expect: null },
  { args: ['4001'], expect: null }, // converted as WebIDL does: 4001
  { args: [3000.7, 'frac'], expect: null },
  { args: [1000, 'é'.repeat(61)], expect: null }, // 122 bytes
  { args: [4321, 'x'.repeat(123)], expect: null }, // the limit
  { args: [999], expect: 'InvalidAccessError' },
  { args: [1001], expect: 'InvalidAccessError' },
  { args: [1005], expect: 'InvalidAccessError' },
  { args: [2999], expect: 'InvalidAccessError' },
  { args: [5000], expect: 'InvalidAccessError' },
  { args: [0], expect: 'InvalidAccessError' },
  { args: [-1], expect: 'InvalidAccessError' },
  { args: ['abc'], expect: 'InvalidAccessError' },
  { args: [65536], expect: 'InvalidAccessError' },
  { args: [1000, 'x'.repeat(124)], expect: 'SyntaxError' },
  { args: [4000, 'é'.repeat(62)], expect: 'SyntaxError' }, // 124 bytes
  { args: [1001, 'x'.repeat(124)], expect: 'InvalidAccessError' },
];
const VALID_CLOSE = CLOSE_ARGS.map((a, i) => (a.expect ? -1 : i)).filter((i) => i >= 0);
const INVALID_CLOSE = CLOSE_ARGS.map((a, i) => (a.expect ? i : -1)).filter((i) => i >= 0);

/**
 * Payload kinds and what `send()` must do with them (SPEC "Sending"): the first group is
 * accepted; detached buffers, views of detached buffers, views of shared memory and
 * every other type throw TypeError and leave the socket and its queue untouched.
 */
export const KINDS = {
  text: 24,
  buffer: 8,
  u8view: 8,
  dataview: 5,
  f32view: 4,
  blob: 6,
  bigblob: 1,
  detached: 5,
  detachedView: 4,
  sharedView: 4,
  sharedBuffer: 1,
  number: 2,
  object: 2,
  null: 2,
  undefined: 1,
  array: 1,
  bool: 1,
  none: 1,
};
export const INVALID_KINDS = new Set([
  'detached', 'detachedView', 'sharedView', 'sharedBuffer',
  'number', 'object', 'null', 'undefined', 'array', 'bool', 'none',
]);

/**
 * Families that FUZZ_SKIP may switch off (comma-separated), for iterating on one
 * defect at a time. The default is to exercise everything.
 *   providers  - URL/protocols are plain values (no provider functions)
 *   reentry    - providers and handlers never call back into the socket
 *   detached   - no detached buffers or views of them
 *   shared     - no views of shared memory
 *   protofn    - protocols are never a function
 *   window     - no sends aimed at the "wrapper OPEN, native CLOSING" window
 *   closeargs  - close()/reconnect() only with valid arguments
 *   heartbeat  - heartbeat always off
 */
export const SKIPPABLE = ['providers', 'reentry', 'detached', 'shared', 'protofn', 'window', 'closeargs', 'heartbeat'];

export function parseSkip(text = '') {
  const skip = new Set(
    String(text)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of skip) {
    if (!SKIPPABLE.includes(s)) throw new Error(`FUZZ_SKIP: unknown family ${s} (known: ${SKIPPABLE.join(', ')})`);
  }
  return skip;
}

const SERVER_CLOSE_CODES = [1000, 1001, 1011, 1012, 1013, 4000, 4001, 4099, 4100, 3000];

/** The whole plan of `seed`. */
export function generate(seed, { skip = new Set(), steps: stepCount } = {}) {
  const r = rng(seed);
  const kinds = { ...KINDS };
  if (skip.has('detached')) kinds.detached = kinds.detachedView = 0;
  if (skip.has('shared')) kinds.sharedView = kinds.sharedBuffer = 0;
  // A weighted list the page indexes with tape values (handlers pick kinds too).
  const kindList = [];
  for (const [k, w] of Object.entries(kinds)) for (let i = 0; i < w; i++) kindList.push(k);
  const pickKind = () => r.pick(kindList);

  const heartbeat = !skip.has('heartbeat') && r.chance(0.4);
  const options = {
    minReconnectionDelay: r.pick([10, 30, 50]),
    maxReconnectionDelay: r.pick([100, 200]),
    reconnectionDelayGrowFactor: r.pick([1.5, 2]),
    reconnectionJitter: r.pick([0, 0, 0.5]),
    connectionTimeout: r.int(300, 600),
    closeTimeout: r.int(200, 400),
    minUptime: r.pick([50, 500, 5000]),
  };
  if (r.chance(0.25)) options.maxRetries = r.int(2, 6);
  if (r.chance(0.3)) options.stopOnCloseCodes = [4100];
  if (r.chance(0.1)) options.startClosed = true;
  if (heartbeat) {
    options.heartbeatInterval = r.int(40, 100);
    options.heartbeatTimeout = r.int(100, 250);
  }

  const providers = !skip.has('providers');
  const urlKind = providers ? r.weighted({ string: 2, sync: 2, async: 2 }) : 'string';
  const protoFn = providers && !skip.has('protofn');
  const protocolsKind = r.weighted({ none: 3, string: 1, array: 1, fn: protoFn ? 1 : 0, asyncFn: protoFn ? 1 : 0 });
  const reentry = !skip.has('reentry');

  const HANDLERS = ['onopen', 'onclose', 'onmessage', 'onreconnecting', 'onerror', 'onconnecting', 'onstop', 'onheartbeat', 'listener:open', 'listener:close'];
  const handlers = reentry ? HANDLERS.filter(() => r.chance(0.5)) : [];

  const config = {
    urlKind,
    protocolsKind,
    options,
    binaryType: r.pick(['blob', 'arraybuffer']),
    handlers,
    reentry,
    // Probabilities of what a handler or provider does when it runs.
    rates: { send: r.pick([0.2, 0.35, 0.5]), close: r.pick([0.02, 0.05]), reconnect: r.pick([0.02, 0.05]), props: 0.15 },
    budget: { actions: 40, close: 3, reconnect: 4 },
    provFail: providers ? r.pick([0, 0.1, 0.25]) : 0,
    asyncMaxDelay: r.pick([20, 60, 800]), // 800 > connectionTimeout: abandoned async attempts
    kindList,
    closeArgs: CLOSE_ARGS,
    validClose: VALID_CLOSE,
    invalidClose: skip.has('closeargs') ? VALID_CLOSE : INVALID_CLOSE,
  };

  const weights = {
    send: 30,
    burst: 8,
    close: 6,
    reconnect: 6,
    wait: 8,
    kill: 4,
    rst: 3,
    restart: 3,
    outage: 2,
    start: 4,
    stall: 3,
    reject: 3,
    mute: heartbeat ? 5 : 2,
    flap: 2,
    serverClose: 5,
    serverSend: 3,
    window: skip.has('window') ? 0 : 3,
    binaryType: 2,
    props: 2,
    drain: 1,
  };
  const closeArg = () => (r.chance(0.7) || skip.has('closeargs') ? r.pick(VALID_CLOSE) : r.pick(INVALID_CLOSE));
  const n = stepCount ?? r.int(40, 80);
  const steps = [];
  for (let i = 0; i < n; i++) {
    const op = r.weighted(weights);
    const step = { op };
    switch (op) {
      case 'send':
        step.kind = pickKind();
        break;
      case 'burst':
        step.kinds = Array.from({ length: r.int(2, 6) }, pickKind);
        break;
      case 'close':
        step.arg = closeArg();
        break;
      case 'reconnect':
        step.arg = r.chance(0.85) ? r.pick(VALID_CLOSE) : closeArg();
        break;
      case 'wait':
        step.ms = r.int(30, 150);
        break;
      case 'restart':
        step.ms = r.int(10, 120);
        break;
      case 'stall':
      case 'reject':
      case 'mute':
      case 'flap':
        step.on = r.chance(0.55);
        if (op === 'reject') step.status = r.pick([403, 500, 503]);
        if (op === 'flap') step.after = r.int(0, 40);
        break;
      case 'serverClose':
        step.code = options.stopOnCloseCodes && r.chance(0.3) ? 4100 : r.pick(SERVER_CLOSE_CODES);
        step.reason = r.pick(['', 'bye', 'restart', 'é€']);
        break;
      case 'serverSend':
        step.text = `srv:${i}`;
        break;
      case 'window':
        step.code = r.pick([1000, 1001, 4000, 1012]);
        step.kinds = Array.from({ length: r.int(1, 4) }, pickKind);
        break;
      case 'binaryType':
        step.value = r.pick(['blob', 'arraybuffer', 'nonsense']);
        break;
      default:
        break;
    }
    const w = r.next();
    step.wait = w < 0.3 ? 0 : w < 0.8 ? r.int(1, 20) : r.int(20, 60);
    steps.push(step);
  }
  const tape = Array.from({ length: 600 }, () => Math.round(r.next() * 1e6) / 1e6);
  return { seed, config, steps, tape };
}

/** One line per step, for failure reports. */
export function describeStep(step) {
  const { op, wait, ...rest } = step;
  const args = Object.entries(rest)
    .map(([k, v]) => `${k}=${k === 'arg' ? JSON.stringify(CLOSE_ARGS[v].args).slice(0, 40) : JSON.stringify(v)}`)
    .join(' ');
  return `${op}${args ? ` ${args}` : ''}${wait ? ` (+${wait} ms)` : ''}`;
}
