// In-page executor of one fuzz plan (see generate.mjs). Evaluated as a classic script in
// the fixture page (page.evaluate(source)); defines `window.__fuzz.run(plan, inst)`,
// which returns the run's log for check.mjs.
//
// It wraps the page's native WebSocket BEFORE the socket under test is created, so what
// the library does to native sockets is observed from outside the library:
//   nnew   a native socket was constructed (with the ids of the other ones still live:
//          CONNECTING/OPEN and close() not called on them)
//   nsend  native send() with the socket's readyState and the sequence number decoded
//          from the bytes actually passed
//   nclose native close() called (by the library: the test never touches natives)
//   nev    a native open/error/close event (seen through a listener of our own)
// Besides: callstart/call (every send/close/reconnect by the steps, handlers and
// providers, with arguments, result or error, readyState before and after), ev (every
// event of the socket, recorded by the first listener), step (readyState at the start of
// each step, always in a fresh macrotask), prov (provider calls), ctl (fault-server
// routes), err (exceptions that escaped: traps), phase, note.
(() => {
  if (window.__fuzz) return;
  const NativeWS = window.WebSocket;
  const proto = NativeWS.prototype;
  const L = [];
  const natives = [];
  const byWs = new WeakMap();
  const blobSeq = new WeakMap();
  const pending = [];
  let cur = null;
  const now = () => Math.round(performance.now() * 10) / 10;
  const push = (e) => {
    e.t = now();
    L.push(e);
    return e;
  };
  const isTrap = (e) =>
    (typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError) ||
    /unreachable|RuntimeError|panicked|recursive use|closure invoked/i.test(`${e?.name} ${e?.message}`);
  // What the page is doing (step > handler/provider > call), for error reports.
  const ctx = [];
  const within = (name, f) => {
    ctx.push(name);
    try {
      return f();
    } finally {
      ctx.pop();
    }
  };
  /** Code run by the browser (events, timers): its own context, the step's is restored. */
  const alone = (name, f) => {
    const saved = ctx.splice(0);
    ctx.push(name);
    try {
      return f();
    } finally {
      ctx.splice(0, ctx.length, ...saved);
    }
  };
  const errOf = (e) => ({ name: e?.name ?? typeof e, msg: String(e?.message ?? e).slice(0, 300), trap: isTrap(e), ctx: ctx.join(' > ') });

  window.addEventListener('error', (e) => push({ k: 'err', where: 'window.onerror', ...errOf(e.error ?? { message: e.message }) }));
  window.addEventListener('unhandledrejection', (e) => push({ k: 'err', where: 'unhandledrejection', ...errOf(e.reason) }));

  const decoder = new TextDecoder();
  /** The sequence number carried by a payload (null: not ours, 'ping': heartbeat). */
  function seqOf(data) {
    if (typeof data === 'string') {
      const m = /^q:\d+:(\d+)/.exec(data);
      if (m) return Number(m[1]);
      return data === 'ping' ? 'ping' : null;
    }
    if (data instanceof Blob) return blobSeq.has(data) ? blobSeq.get(data) : undefined;
    try {
      let u8;
      if (data instanceof ArrayBuffer) u8 = new Uint8Array(data);
      else if (ArrayBuffer.isView(data)) u8 = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      else return null;
      const m = /^[bB]:\d+:(\d+) *$/.exec(decoder.decode(u8));
      return m ? Number(m[1]) : null;
    } catch {
      return null; // detached or shared: not decodable
    }
  }

  const origSend = proto.send;
  proto.send = function send(data) {
    const n = byWs.get(this);
    const e = push({ k: 'nsend', id: n ? n.id : -1, rs: this.readyState, seq: seqOf(data) });
    if (e.seq === undefined) {
      e.seq = null;
      // A Blob the library made itself (a copy): read what it carries.
      pending.push(data.arrayBuffer().then((b) => { e.seq = seqOf(b); }, () => {}));
    }
    return origSend.apply(this, arguments);
  };
  const origClose = proto.close;
  proto.close = function close(...args) {
    const n = byWs.get(this);
    if (n) n.libClosed = true;
    push({ k: 'nclose', id: n ? n.id : -1, rs: this.readyState, args: args.map(String) });
    return origClose.apply(this, args);
  };
  const live = () => natives.filter((n) => !n.libClosed && n.ws.readyState <= 1).map((n) => n.id);
  window.WebSocket = new Proxy(NativeWS, {
    construct(target, args) {
      const others = live();
      let ws;
      try {
        ws = Reflect.construct(target, args);
      } catch (e) {
        push({ k: 'nnew-failed', url: String(args[0]), err: errOf(e) });
        throw e;
      }
      const n = { id: natives.length + 1, ws, libClosed: false };
      natives.push(n);
      byWs.set(ws, n);
      cur = n;
      const protocols = args[1] === undefined ? [] : typeof args[1] === 'string' ? [args[1]] : Array.from(args[1], String);
      push({ k: 'nnew', id: n.id, url: ws.url, protocols, live: others });
      for (const type of ['open', 'error', 'close']) {
        ws.addEventListener(type, (e) => push({ k: 'nev', id: n.id, type, code: e.code, wasClean: e.wasClean }));
      }
      return ws;
    },
  });

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const channel = new MessageChannel();
  const ticks = [];
  channel.port1.onmessage = () => ticks.shift()?.();
  /** The next task, without setTimeout's clamping (for tight polling). */
  const tick = () => new Promise((resolve) => { ticks.push(resolve); channel.port2.postMessage(0); });

  async function run(plan, inst) {
    const { config, seed } = plan;
    const { SteadySocket } = await import('/helpers.mjs');
    let s;
    let quiet = false;
    let seqN = 0;
    let tp = 0;
    const budget = { ...config.budget };
    const tape = () => (tp < plan.tape.length ? plan.tape[tp++] : 1);
    let trapCount = 0;
    const safe = (f, what) => {
      try {
        return f();
      } catch (e) {
        if (trapCount++ < 20) push({ k: 'err', where: what, ...errOf(e) });
        return `throws:${e?.name}`;
      }
    };
    const rsOf = () => (s ? safe(() => s.readyState, 'readyState') : null);
    const bufOf = () => (s ? safe(() => s.bufferedAmount, 'bufferedAmount') : null);
    const curInfo = () => cur && { id: cur.id, rs: cur.ws.readyState, libClosed: cur.libClosed, url: cur.ws.url, protocol: cur.ws.protocol };

    // ----- payloads ---------------------------------------------------------------
    const enc = new TextEncoder();
    let shared;
    const sharedBuffer = () => {
      if (shared !== undefined) return shared;
      shared = null;
      try {
        if (typeof SharedArrayBuffer === 'function') shared = new SharedArrayBuffer(256);
      } catch {}
      if (!shared) {
        try {
          shared = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer;
        } catch {}
      }
      return shared;
    };
    const detach = (ab) => {
      if (typeof ab.transfer === 'function') ab.transfer();
      else structuredClone(ab, { transfer: [ab] });
    };
    const padded = (prefix, seq, multiple = 1, size = 0) => {
      let body = `${prefix}:${seed}:${seq}`;
      while (body.length % multiple || body.length < size) body += ' ';
      return body;
    };
    /** { data, body (what the server must receive), bin, expect (error name), mutate } */
    function payload(kind, seq) {
      switch (kind) {
        case 'text': {
          const body = `q:${seed}:${seq}${seq % 3 === 0 ? '|héllo €' : ''}`;
          return { data: body, body, bin: false };
        }
        case 'buffer': {
          const body = padded('b', seq);
          const u8 = new Uint8Array(enc.encode(body));
          return { data: u8.buffer, body, bin: true, mutate: () => u8.fill(0xee) };
        }
        case 'u8view':
        case 'dataview':
        case 'f32view': {
          const body = padded('b', seq, kind === 'f32view' ? 4 : 1);
          const bytes = enc.encode(body);
          const off = kind === 'f32view' ? 4 * (1 + (seq % 3)) : 1 + (seq % 7);
          const all = new Uint8Array(off + bytes.length + 5).fill(0xff);
          all.set(bytes, off);
          const data =
            kind === 'u8view' ? new Uint8Array(all.buffer, off, bytes.length)
            : kind === 'dataview' ? new DataView(all.buffer, off, bytes.length)
            : new Float32Array(all.buffer, off, bytes.length / 4);
          return { data, body, bin: true, mutate: () => all.fill(0xee) };
        }
        case 'blob':
        case 'bigblob': {
          const body = padded('B', seq, 1, kind === 'bigblob' ? 65536 : 0);
          const data = new Blob([body.slice(0, 2), enc.encode(body.slice(2))]);
          blobSeq.set(data, seq);
          return { data, body, bin: true };
        }
        case 'detached': {
          const ab = new Uint8Array(enc.encode(padded('b', seq))).buffer;
          detach(ab);
          return { data: ab, expect: 'TypeError' };
        }
        case 'detachedView': {
          const ab = new Uint8Array(enc.encode(padded('b', seq))).buffer;
          const view = new Uint8Array(ab, 1, 3);
          detach(ab);
          return { data: view, expect: 'TypeError' };
        }
        case 'sharedView': {
          const sab = sharedBuffer();
          if (!sab) return null;
          const bytes = enc.encode(padded('b', seq));
          const view = new Uint8Array(sab, 8, bytes.length);
          view.set(bytes);
          return { data: view, body: padded('b', seq), bin: true, expect: 'TypeError' };
        }
        case 'sharedBuffer': {
          const sab = sharedBuffer();
          return sab ? { data: sab, expect: 'TypeError' } : null;
        }
        case 'number': return { data: 42, expect: 'TypeError' };
        case 'object': return { data: { toString: () => `q:${seed}:${seq}` }, expect: 'TypeError' };
        case 'null': return { data: null, expect: 'TypeError' };
        case 'undefined': return { data: undefined, expect: 'TypeError' };
        case 'array': return { data: [`q:${seed}:${seq}`], expect: 'TypeError' };
        case 'bool': return { data: true, expect: 'TypeError' };
        case 'none': return { none: true, expect: 'TypeError' };
        default: throw new Error(`unknown kind ${kind}`);
      }
    }

    // ----- the calls under test ---------------------------------------------------
    function doSend(kind, src) {
      if (!s) return;
      const seq = ++seqN;
      let p;
      try {
        p = payload(kind, seq);
      } catch (e) {
        push({ k: 'note', what: 'payload', kind, err: errOf(e) });
        return;
      }
      if (!p) {
        push({ k: 'note', what: 'unavailable', kind });
        return;
      }
      const cs = { k: 'callstart', fn: 'send', src, seq, kind, rs: rsOf(), buf: bufOf(), cur: curInfo() };
      push(cs);
      const start = L.length - 1;
      let ret;
      let err = null;
      within(`send(${kind})`, () => {
        try {
          ret = p.none ? s.send() : s.send(p.data);
        } catch (e) {
          err = errOf(e);
        }
      });
      try {
        p.mutate?.(); // the caller reuses its buffer: what was sent must not change
      } catch {}
      push({
        k: 'call', fn: 'send', start, src, seq, kind, body: p.body ?? null, bin: Boolean(p.bin),
        expect: p.expect ?? null, ret: typeof ret === 'boolean' ? ret : `${typeof ret}`, err,
        rsAfter: rsOf(), bufAfter: bufOf(),
      });
    }
    function doCall(fn, argIndex, src) {
      if (!s) return;
      const { args, expect } = config.closeArgs[argIndex];
      const cs = { k: 'callstart', fn, src, arg: argIndex, args: JSON.stringify(args).slice(0, 60), rs: rsOf(), cur: curInfo() };
      push(cs);
      const start = L.length - 1;
      let err = null;
      within(`${fn}()`, () => {
        try {
          s[fn](...args);
        } catch (e) {
          err = errOf(e);
        }
      });
      push({ k: 'call', fn, start, src, arg: argIndex, expect, err, rsAfter: rsOf() });
    }
    function readProps(src) {
      if (!s) return;
      push({
        k: 'props', src,
        v: {
          readyState: rsOf(),
          bufferedAmount: bufOf(),
          retryCount: safe(() => s.retryCount, 'retryCount'),
          url: safe(() => s.url, 'url'),
          protocol: safe(() => s.protocol, 'protocol'),
          extensions: safe(() => s.extensions, 'extensions'),
          binaryType: safe(() => s.binaryType, 'binaryType'),
        },
      });
    }
    const kindFrom = (x) => config.kindList[Math.min(config.kindList.length - 1, Math.floor(x * config.kindList.length))];
    const argFrom = (x, list) => list[Math.min(list.length - 1, Math.floor(x * list.length))];
    /** What a handler or provider does: reads, sends, sometimes close() or reconnect(). */
    function react(src, opts) {
      within(src, () => reactIn(src, opts));
    }
    function reactIn(src, { mayReconnect = true } = {}) {
      if (quiet || !s || budget.actions <= 0) return;
      const R = config.rates;
      const x = tape();
      if (x < R.send) {
        budget.actions--;
        doSend(kindFrom(tape()), src);
        if (tape() < 0.3) doSend(kindFrom(tape()), src);
      } else if (x < R.send + R.close) {
        if (budget.close-- <= 0) return;
        budget.actions--;
        doCall('close', argFrom(tape(), tape() < 0.8 ? config.validClose : config.invalidClose), src);
      } else if (x < R.send + R.close + R.reconnect) {
        if (!mayReconnect || budget.reconnect-- <= 0) return;
        budget.actions--;
        doCall('reconnect', argFrom(tape(), config.validClose), src);
      } else if (x < R.send + R.close + R.reconnect + R.props) {
        readProps(src);
      }
    }

    // ----- providers --------------------------------------------------------------
    let provDepth = 0;
    let provCalls = 0;
    const goodUrl = (attempt) => `${inst.url}/?a=${attempt}&c=${++provCalls}`;
    function providerResult(attempt, kind) {
      const x = quiet ? 1 : tape();
      const f = config.provFail;
      if (x < f / 3) {
        push({ k: 'prov', kind, attempt, result: 'throws' });
        throw new Error('fuzz: the URL provider fails');
      }
      if (x < (2 * f) / 3) {
        push({ k: 'prov', kind, attempt, result: 'number' });
        return 42;
      }
      if (x < f) {
        push({ k: 'prov', kind, attempt, result: 'invalid' });
        return 'ws://[bad';
      }
      const url = goodUrl(attempt);
      push({ k: 'prov', kind, attempt, result: url });
      return url;
    }
    const touch = (src, allowReconnect) => {
      if (quiet || !s || !config.reentry) return;
      within(src, () => {
        const e = { k: 'prov-touch', src, rs: rsOf(), retryCount: safe(() => s.retryCount, 'retryCount') };
        push(e);
        reactIn(src, { mayReconnect: allowReconnect });
      });
    };
    const syncProvider = (attempt) => {
      provDepth++;
      try {
        touch('p:sync', provDepth === 1);
        return providerResult(attempt, 'sync');
      } finally {
        provDepth--;
      }
    };
    const asyncProvider = async (attempt) => {
      provDepth++;
      try {
        touch('p:async-sync', false); // the synchronous part runs inside the attempt
      } finally {
        provDepth--;
      }
      const wait = quiet ? 0 : Math.floor(tape() * config.asyncMaxDelay);
      await sleep(wait);
      return alone('async URL provider (after await)', () => {
        touch('p:async', true);
        return providerResult(attempt, 'async');
      });
    };
    const protocolsProvider = (kind) => {
      if (kind === 'fn') {
        return () => {
          touch('pp:sync', false);
          push({ k: 'prov', kind: 'protocols', result: ['fz1', 'fz2'] });
          return ['fz1', 'fz2'];
        };
      }
      return async () => {
        touch('pp:async-sync', false);
        await sleep(quiet ? 0 : Math.floor(tape() * 20));
        push({ k: 'prov', kind: 'protocols-async', result: 'fz2' });
        return 'fz2';
      };
    };

    // ----- construction -----------------------------------------------------------
    const urlArg = config.urlKind === 'sync' ? syncProvider : config.urlKind === 'async' ? asyncProvider : inst.url;
    const STATIC_PROTOCOLS = { none: undefined, string: 'fz1', array: ['fz1', 'fz2'], fn: ['fz1', 'fz2'], asyncFn: 'fz2' };
    let protocolsArg = STATIC_PROTOCOLS[config.protocolsKind];
    if (config.protocolsKind === 'fn' || config.protocolsKind === 'asyncFn') protocolsArg = protocolsProvider(config.protocolsKind);
    const TYPES = ['connecting', 'open', 'message', 'error', 'close', 'reconnecting', 'stop', 'heartbeat', 'discard'];
    const record = (sock) => {
      for (const type of TYPES) {
        sock.addEventListener(type, (e) => alone(`event ${type}`, () => {
          const x = { k: 'ev', type, rs: rsOf() };
          if (type === 'message') {
            x.data = typeof e.data === 'string' ? e.data.slice(0, 60) : `[${Object.prototype.toString.call(e.data).slice(8, -1)}]`;
          }
          if (type === 'close') Object.assign(x, { code: e.code, reason: e.reason, wasClean: e.wasClean });
          if (e.detail !== undefined && e.detail !== null) x.detail = { ...e.detail };
          if (type === 'open') Object.assign(x, { url: safe(() => s.url, 'url'), protocol: safe(() => s.protocol, 'protocol'), cur: curInfo() });
          push(x);
        }));
      }
    };
    const construct = (protocols, what) => {
      push({ k: 'callstart', fn: 'ctor', what });
      try {
        const sock = new SteadySocket(urlArg, protocols, config.options);
        push({ k: 'call', fn: 'ctor', what, err: null });
        return sock;
      } catch (e) {
        push({ k: 'call', fn: 'ctor', what, err: errOf(e) });
        return null;
      }
    };
    s = construct(protocolsArg, config.protocolsKind);
    if (!s && typeof protocolsArg === 'function') {
      // The violation is recorded (check.mjs: ctor-valid-args); go on with the static
      // equivalent so that the rest of the seed still runs.
      s = construct(STATIC_PROTOCOLS[config.protocolsKind], 'fallback');
    }
    if (!s) {
      push({ k: 'phase', name: 'no-socket' });
      return { log: L, natives: natives.length };
    }
    record(s);
    safe(() => { s.binaryType = config.binaryType; }, 'binaryType=');
    for (const h of config.handlers) {
      const [how, type] = h.includes(':') ? h.split(':') : ['on', h.slice(2)];
      const fn = () => alone(`handler ${h}`, () => react(`h:${type}`));
      if (how === 'on') s[`on${type}`] = fn;
      else s.addEventListener(type, fn);
    }

    // ----- steps ------------------------------------------------------------------
    const ctl = async (route) => {
      push({ k: 'ctl-start', route });
      try {
        await window.ctl(`/instances/${inst.id}${route}`);
        push({ k: 'ctl', route });
      } catch (e) {
        push({ k: 'ctl', route, err: String(e?.message ?? e).slice(0, 200) });
      }
    };
    async function exec(step) {
      switch (step.op) {
        case 'send': return doSend(step.kind, 'step');
        case 'burst': for (const kind of step.kinds) doSend(kind, 'step'); return;
        case 'close': return doCall('close', step.arg, 'step');
        case 'reconnect': return doCall('reconnect', step.arg, 'step');
        case 'wait': return sleep(step.ms);
        case 'kill': return ctl('/kill');
        case 'rst': return ctl('/kill?rst=1');
        case 'restart':
          await ctl('/close?code=1012&reason=restart');
          await ctl('/stop');
          await sleep(step.ms);
          return ctl('/start');
        case 'outage': return ctl('/stop');
        case 'start': return ctl('/start');
        case 'stall': return ctl(`/mode?stall=${step.on ? 1 : 0}`);
        case 'reject': return ctl(`/mode?reject=${step.on ? step.status : 0}`);
        case 'mute': return ctl(`/mode?mute=${step.on ? 1 : 0}`);
        case 'flap': return ctl(step.on ? `/mode?closeOnOpen=4001&closeAfterMs=${step.after}` : '/mode?closeOnOpen=0');
        case 'serverClose': return ctl(`/close?code=${step.code}&reason=${encodeURIComponent(step.reason)}`);
        case 'serverSend': return ctl(`/send?text=${encodeURIComponent(step.text)}`);
        case 'binaryType': safe(() => { s.binaryType = step.value; }, 'binaryType='); return;
        case 'props': return readProps('step');
        case 'drain':
          if (typeof s.drainQueuedMessages === 'function') {
            const start = L.length;
            push({ k: 'callstart', fn: 'drain', src: 'step', rs: rsOf() });
            let out = null;
            let err = null;
            try {
              out = Array.from(s.drainQueuedMessages(), (m) => seqOf(m));
            } catch (e) {
              err = errOf(e);
            }
            push({ k: 'call', fn: 'drain', start, src: 'step', drained: out, err });
          }
          return;
        case 'window': {
          // Aim at the moment the server's close frame has arrived (native CLOSING)
          // while the wrapper still says OPEN: SPEC says such sends are queued.
          if (rsOf() === 3) doCall('reconnect', 0, 'step:window');
          const t1 = performance.now();
          while (rsOf() !== 1 && performance.now() - t1 < 400) await sleep(5);
          const closing = ctl(`/close?code=${step.code}&reason=w`);
          const t0 = performance.now();
          let hit = false;
          let seen = '';
          while (performance.now() - t0 < 300) {
            const c = cur;
            const state = c ? `${c.id}:${c.ws.readyState}/${rsOf()}` : 'none';
            if (!seen.endsWith(state)) seen += `${seen ? ' ' : ''}${state}`;
            if (c && !c.libClosed && c.ws.readyState === 2 && rsOf() === 1) {
              hit = true;
              for (const kind of step.kinds) doSend(kind, 'step:window');
              break;
            }
            if (c && c.ws.readyState === 3 && rsOf() !== 1) break; // missed it
            await tick();
          }
          push({ k: 'note', what: 'window', hit, seen, ms: Math.round(performance.now() - t0) });
          return closing;
        }
        default: throw new Error(`unknown op ${step.op}`);
      }
    }

    for (const [n, step] of plan.steps.entries()) {
      await sleep(0); // a fresh task: every event of the previous step is dispatched
      const e = { k: 'step', n, op: step.op, rs: rsOf() };
      push(e);
      ctx.length = 0;
      ctx.push(`step ${n} ${step.op}`);
      try {
        await exec(step);
      } catch (err) {
        push({ k: 'err', where: `step ${n}`, ...errOf(err) });
      }
      ctx.length = 0;
      if (step.wait) await sleep(step.wait);
    }

    // ----- heal, deliver, stop, stay quiet ------------------------------------------
    await sleep(0);
    const healStep = { k: 'step', n: plan.steps.length, op: 'heal', rs: rsOf() };
    push(healStep);
    ctx.length = 0;
    ctx.push('heal');
    push({ k: 'phase', name: 'heal' });
    quiet = true;
    await ctl('/mode?reject=0&stall=0&mute=0&closeOnOpen=0&closeAfterMs=0');
    await ctl('/start');
    const bricked = () => typeof rsOf() === 'string'; // every call traps: no point waiting
    const until = async (f, ms) => {
      const end = performance.now() + ms;
      while (performance.now() < end && !bricked()) {
        if (f()) return true;
        await sleep(5);
      }
      return f();
    };
    const lastEv = () => {
      for (let i = L.length - 1; i >= 0; i--) if (L[i].k === 'ev' && L[i].type !== 'message' && L[i].type !== 'heartbeat') return L[i];
      return null;
    };
    if (rsOf() === 2) await until(() => rsOf() === 3, 2000);
    if (rsOf() === 3) doCall('reconnect', 0, 'heal');
    const opened = await until(() => rsOf() === 1 && bufOf() === 0, 5000);
    push({ k: 'phase', name: 'healed', opened, rs: rsOf(), buf: bufOf() });
    await sleep(50);
    doCall('close', 2, 'final');
    const stopped = await until(() => lastEv()?.type === 'stop', 3000);
    push({ k: 'phase', name: 'final-stop', stopped, rs: rsOf() });
    await sleep(300); // nothing may happen now
    await Promise.all(pending);
    push({ k: 'phase', name: 'done', rs: rsOf(), live: live() });
    return { log: L, natives: natives.length, tapeUsed: tp };
  }

  window.__fuzz = { run, log: L };
})();
