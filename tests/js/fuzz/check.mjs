// Invariants of one fuzz run, checked on the page's log (page.js) and the fault server's
// log after the run. Each violation names its rule and the log index where it showed.
// The rules come from SPEC.md ("Lifecycle", "Reconnect policy", "Sending", "Heartbeat",
// "Events"); where the code and the SPEC differ, the SPEC is what is checked.

import { Buffer } from 'node:buffer';
import { INVALID_KINDS } from './generate.mjs';

/** What each rule means, for reports. */
export const RULES = {
  'no-trap': 'no RuntimeError / wasm trap / panic, in any call, callback or on the console',
  'one-live-native': 'at most one native socket CONNECTING or OPEN without close() called on it',
  'attempt-after-close': 'after close(), no new native socket (attempt) until reconnect()',
  'attempt-after-stop': 'after a stop (max retries, stop code), no new native socket until reconnect()',
  'native-send-not-open': 'nothing is ever handed to a native socket that is not OPEN',
  'sent-after-stop': 'after stop, nothing reaches a native socket until the next attempt (reconnect())',
  'leaked-native': 'after the final stop no native socket is left CONNECTING/OPEN unclosed',
  'send-rejects-invalid': 'detached, shared and wrong-typed payloads throw TypeError',
  'send-accepts-valid': 'string/ArrayBuffer/view/Blob never throw (also while stopped: they queue)',
  'send-untouched': 'a send that throws leaves readyState and the queue (bufferedAmount) untouched',
  'send-return': 'send() returns true iff handed to an OPEN native socket, false when queued',
  'queued-never-sent': 'a message accepted while it could not be handed over is handed over later (never dropped)',
  'resent': 'no message is handed to native sockets twice',
  'handover-order': 'messages reach native sockets in the order they were sent',
  'thrown-sent': 'a send that threw never reaches a native socket',
  'payload-bytes': 'the server receives exactly the bytes sent (views: only the viewed bytes; text stays text)',
  'server-duplicate': 'the server never receives a message twice',
  'server-order': 'the server receives messages in the order they were sent (over all connections)',
  'thrown-arrived': 'a send that threw never arrives at the server',
  'queued-lost': 'a queued message handed to a socket that did not die abnormally arrives at the server',
  'protocols-offered': 'every handshake offers the configured subprotocols (value or provider)',
  'ctor-valid-args': 'the constructor accepts every documented argument form (URL/protocols providers)',
  'close-args': 'close()/reconnect() with invalid arguments throw the named error and change nothing; valid ones do not throw',
  'event-order': 'events follow the lifecycle: connecting → (open → message*)? → error? → close → reconnecting | stop',
  'ready-state': 'readyState (between tasks) agrees with the last event',
  'message-state': 'message events are dispatched only while OPEN (or CLOSING after close())',
  'close-while-connecting': 'close() while the native socket is CONNECTING fires error, then close 1006 "", then stop',
  'close-timeout': 'after close(), stop follows within closeTimeout (+1 s slack for a loaded machine)',
  'stop-reason': 'stop.detail.reason says why: "close" after close(), else max-retries / close-code as configured',
  'reconnecting-detail': 'reconnecting.detail has attempt ≥ 1 and a delay within the policy (1013: near the maximum)',
  'open-url': 'at open, url and protocol are those of the connection that opened',
  'pong-delivered': 'heartbeat responses are not delivered as messages',
  'heal-reopen': 'once the server is healthy again, the socket reopens (reconnect() if stopped) and flushes its queue',
  'final-stop': 'the final close() ends in a stop event',
  'quiet-after-stop': 'nothing happens after the final stop: no event, no native socket',
};

const CLOSE_SLACK_MS = 1000;
const PANIC = /panicked|unreachable|RuntimeError|recursive use of an object|closure invoked/i;

/** The violations of one run: [{ rule, i, msg }] (i: index in the page log). */
export function check(plan, result, server, consoleLines = []) {
  const { config } = plan;
  const opts = config.options;
  const log = result.log ?? [];
  const out = [];
  const v = (rule, i, msg) => out.push({ rule, i, msg });

  if (result.aborted) v('final-stop', log.length - 1, `the run did not finish: ${result.aborted}`);

  // ----- traps ------------------------------------------------------------------------
  log.forEach((e, i) => {
    const err = e.err && typeof e.err === 'object' ? e.err : e.k === 'err' ? e : null;
    if (!err?.trap) return;
    // The library call just before, if it threw something else: often the cause (a JS
    // exception unwinding through wasm leaves the core borrowed; later calls trap).
    let cause = '';
    const lo = Math.max(0, i - 8);
    // The call whose entry encloses the trap (it trapped while the call was recorded),
    // or the entry right before it.
    const near = log.slice(lo, i + 8).map((c, k) => ({ c, k: lo + k })).filter(({ c, k }) => c.k === 'call' && c.err && !c.err.trap && ((k > i && c.start < i) || k === i - 1));
    const c = near[0]?.c;
    if (c) cause = `; just before, ${c.fn}(${c.kind ?? ''}) from ${c.src} threw ${c.err.name}: ${c.err.msg.slice(0, 90)}`;
    v('no-trap', i, `${err.name}: ${err.msg} (${e.k === 'err' ? `reading ${e.where}` : `${e.fn}() from ${e.src}`}; in: ${err.ctx || '?'})${cause}`);
  });
  for (const line of consoleLines) {
    if (PANIC.test(line)) v('no-trap', -1, `console: ${line.slice(0, 200)}`);
  }

  // ----- calls --------------------------------------------------------------------------
  const calls = new Map(); // callstart index -> call
  log.forEach((e, i) => {
    if (e.k === 'call' && e.start !== undefined) calls.set(e.start, { ...e, i });
  });
  const ctor = log.find((e) => e.k === 'call' && e.fn === 'ctor');
  if (ctor?.err) v('ctor-valid-args', log.indexOf(ctor), `new SteadySocket(${config.urlKind} url, ${config.protocolsKind} protocols) threw ${ctor.err.name}: ${ctor.err.msg}`);

  const sends = new Map(); // seq -> { start, call, handed }
  const nsendBySeq = new Map();
  const nsendSeqs = [];
  log.forEach((e, i) => {
    if (e.k !== 'nsend') return;
    if (e.rs !== 1) v('native-send-not-open', i, `native send on socket #${e.id} in readyState ${e.rs} (seq ${e.seq})`);
    if (typeof e.seq === 'number') {
      if (!nsendBySeq.has(e.seq)) nsendBySeq.set(e.seq, []);
      nsendBySeq.get(e.seq).push({ ...e, i });
      nsendSeqs.push({ seq: e.seq, i });
    }
  });
  for (const [start, call] of calls) {
    const s = log[start];
    if (call.fn === 'send') {
      const handed = log.slice(start, call.i).some((e) => e.k === 'nsend' && e.seq === call.seq && e.rs === 1);
      sends.set(call.seq, { s, call, handed });
      const where = `seq ${call.seq} (${call.kind}, from ${call.src}, readyState ${s.rs})`;
      if (call.err?.trap) continue;
      if (call.expect) {
        if (!call.err) v('send-rejects-invalid', call.i, `${where} was accepted (returned ${call.ret})`);
        else if (call.err.name !== call.expect) v('send-rejects-invalid', call.i, `${where} threw ${call.err.name} (${call.err.msg}), not ${call.expect}`);
        const trappedAfter = typeof call.rsAfter === 'string' || typeof call.bufAfter === 'string'; // under no-trap
        if (call.err && !trappedAfter && (call.rsAfter !== s.rs || (s.rs !== 1 && call.bufAfter !== s.buf))) {
          v('send-untouched', call.i, `${where}: readyState ${s.rs}→${call.rsAfter}, bufferedAmount ${s.buf}→${call.bufAfter}`);
        }
      } else if (call.err) {
        v('send-accepts-valid', call.i, `${where} threw ${call.err.name}: ${call.err.msg}`);
      } else if (call.ret !== handed) {
        v('send-return', call.i, `${where} returned ${call.ret}, but it was ${handed ? 'handed to an OPEN native socket' : 'queued'}`);
      }
    } else if (call.fn === 'close' || call.fn === 'reconnect') {
      if (call.err?.trap) continue;
      const what = `${call.fn}(${s.args.slice(1, -1)}) from ${call.src} in readyState ${s.rs}`;
      if (call.expect) {
        if (!call.err) v('close-args', call.i, `${what} did not throw ${call.expect}`);
        else if (call.err.name !== call.expect) v('close-args', call.i, `${what} threw ${call.err.name}, not ${call.expect}`);
        if (call.rsAfter !== s.rs) v('close-args', call.i, `${what} threw but changed readyState ${s.rs}→${call.rsAfter}`);
      } else if (call.err) {
        v('close-args', call.i, `${what} threw ${call.err.name}: ${call.err.msg}`);
      }
    }
  }
  const drained = new Set();
  for (const [, call] of calls) if (call.fn === 'drain' && Array.isArray(call.drained)) call.drained.forEach((q) => drained.add(q));

  // Accepted sends of valid kinds; what the wrapper did with each.
  const accepted = [...sends.values()].filter(({ call }) => !call.err && !INVALID_KINDS.has(call.kind));
  const thrown = new Set([...sends.values()].filter(({ call }) => call.err).map(({ call }) => call.seq));
  const healed = log.find((e) => e.k === 'phase' && e.name === 'healed');
  const trapped = out.some((x) => x.rule === 'no-trap');
  for (const { s, call, handed } of accepted) {
    const ns = nsendBySeq.get(call.seq) ?? [];
    const onOpen = ns.filter((e) => e.rs === 1);
    if (onOpen.length > 1) v('resent', onOpen[1].i, `seq ${call.seq} handed to native sockets ${onOpen.length} times (#${onOpen.map((e) => e.id).join(', #')})`);
    if (!handed && onOpen.length === 0 && !drained.has(call.seq) && healed?.opened) {
      // A hint for the diagnosis: what happened to the queue after this send.
      const closeAfter = log.slice(call.i).findIndex((e) => e.k === 'call' && e.fn === 'close' && !e.err && log[e.start].rs !== 3);
      const grew = typeof call.bufAfter === 'number' && typeof s.buf === 'number' && call.bufAfter > s.buf;
      const window = s.rs === 1 && s.cur && s.cur.rs !== 1;
      const hint = window && !grew ? ' (the wrapper said OPEN, its native socket was CLOSING: dropped, not queued — bufferedAmount did not grow)'
        : closeAfter >= 0 ? ` (queued${window ? ' while the native socket was CLOSING' : ''}; close() at log#${call.i + closeAfter} came before the next open and the queue did not survive it)`
        : window ? ' (queued while the native socket was CLOSING, then lost)' : '';
      v('queued-never-sent', call.i, `seq ${call.seq} (${call.kind}, from ${call.src}, sent in readyState ${s.rs}, native ${s.cur ? `#${s.cur.id} rs ${s.cur.rs}` : 'none'}) was accepted but never handed to an OPEN native socket${hint}`);
    }
  }
  for (const q of thrown) {
    const ns = nsendBySeq.get(q);
    if (ns) v('thrown-sent', ns[0].i, `seq ${q} threw in send() but reached native socket #${ns[0].id}`);
  }
  for (let k = 1; k < nsendSeqs.length; k++) {
    if (nsendSeqs[k].seq <= nsendSeqs[k - 1].seq && nsendSeqs[k].seq !== nsendSeqs[k - 1].seq) {
      v('handover-order', nsendSeqs[k].i, `seq ${nsendSeqs[k].seq} handed over after seq ${nsendSeqs[k - 1].seq}`);
    }
  }

  // ----- the server's view ------------------------------------------------------------
  if (server) {
    const got = [];
    for (const c of server.connections) {
      for (const m of c.received) {
        const bin = m.type === 'binary';
        const text = bin ? Buffer.from(m.base64, 'base64').toString('utf8') : m.data;
        if (!bin && text === (opts.heartbeatMessage ?? 'ping')) continue;
        const match = bin ? /^[bB]:(\d+):(\d+) *$/.exec(text) : /^q:(\d+):(\d+)/.exec(text);
        if (!match || Number(match[1]) !== plan.seed) {
          const hint = bin && text === '' ? ' (empty: the bytes of a detached buffer, or of a view of one?)' : '';
          v('payload-bytes', -1, `connection ${c.n} received an unexpected ${bin ? 'binary' : 'text'} message ${JSON.stringify(text.slice(0, 60))}${hint}`);
          continue;
        }
        got.push({ seq: Number(match[2]), bin, text, conn: c.n });
      }
    }
    const seen = new Map();
    let last = 0;
    for (const g of got) {
      const sent = sends.get(g.seq);
      if (seen.has(g.seq)) v('server-duplicate', -1, `seq ${g.seq} received on connection ${seen.get(g.seq)} and again on ${g.conn}`);
      seen.set(g.seq, g.conn);
      if (g.seq < last) v('server-order', -1, `seq ${g.seq} received (connection ${g.conn}) after seq ${last}`);
      last = Math.max(last, g.seq);
      if (thrown.has(g.seq)) v('thrown-arrived', sent?.call.i ?? -1, `seq ${g.seq} (${sent?.call.kind}) threw in send() but arrived at the server`);
      else if (sent && sent.call.body !== null && (sent.call.body !== g.text || sent.call.bin !== g.bin)) {
        v('payload-bytes', sent.call.i, `seq ${g.seq} (${sent.call.kind}) sent ${sent.call.bin ? 'binary' : 'text'} ${JSON.stringify(sent.call.body.slice(0, 40))}, received ${g.bin ? 'binary' : 'text'} ${JSON.stringify(g.text.slice(0, 40))}`);
      }
    }
    // A queued message handed to a native socket must arrive, unless that socket then
    // died abnormally (1006: killed, reset) — what is in flight then may be lost.
    const closeOf = new Map();
    const bornAt = new Map();
    log.forEach((e, i) => {
      if (e.k === 'nev' && e.type === 'close' && !closeOf.has(e.id)) closeOf.set(e.id, { ...e, i });
      if (e.k === 'nnew') bornAt.set(e.id, i);
    });
    // Server-side closes, kills, stops, and the closeOnOpen ("flap") mode, as log index
    // intervals: what was handed to a connection that the server ended may be lost (SPEC,
    // "Browser facts": a graceful server close races with sends).
    const faults = [];
    let flapFrom = null;
    log.forEach((e, i) => {
      if (e.k === 'ctl-start' && /^\/(close|kill|stop)/.test(e.route)) {
        const end = log.findIndex((x, k) => k > i && x.k === 'ctl' && x.route === e.route);
        faults.push([i, end < 0 ? log.length : end]);
      }
      if (e.k === 'ctl-start' && /closeOnOpen=[1-9]/.test(e.route)) flapFrom ??= i;
      if (e.k === 'ctl-start' && /closeOnOpen=0/.test(e.route) && flapFrom !== null) {
        faults.push([flapFrom, i]);
        flapFrom = null;
      }
    });
    if (flapFrom !== null) faults.push([flapFrom, log.length]);
    const serverEnded = (id) => {
      const from = bornAt.get(id) ?? 0;
      const to = closeOf.get(id)?.i ?? log.length;
      return faults.some(([a, b]) => a <= to && b >= from);
    };
    if (!server.truncated) {
      for (const { call, handed } of accepted) {
        if (handed || seen.has(call.seq)) continue;
        const ns = (nsendBySeq.get(call.seq) ?? []).filter((e) => e.rs === 1);
        if (ns.length === 0) continue; // queued-never-sent (or drained)
        const ended = closeOf.get(ns[0].id);
        if (!ended || ended.code === 1006 || serverEnded(ns[0].id)) continue;
        v('queued-lost', call.i, `seq ${call.seq} (${call.kind}) was queued, handed to native socket #${ns[0].id} (closed later with ${ended.code}, no server-side close/kill meanwhile) and never arrived`);
      }
    }
    const want = { none: [], string: ['fz1'], array: ['fz1', 'fz2'], fn: ['fz1', 'fz2'], asyncFn: ['fz2'] }[config.protocolsKind];
    for (const c of server.connections) {
      if (JSON.stringify(c.protocols) !== JSON.stringify(want)) {
        v('protocols-offered', -1, `connection ${c.n} offered ${JSON.stringify(c.protocols)}, configured ${config.protocolsKind} → ${JSON.stringify(want)}`);
      }
    }
  }

  // ----- lifecycle: one pass over the log ------------------------------------------------
  let st = opts.startClosed ? 'idle' : 'initial';
  let beforeError = null;
  let pendingReconnects = 0;
  let closes = 0; // effective close() calls, each owing one stop("close")
  let lastClose = -1;
  let blockedByClose = false;
  let blockedByStop = false;
  let abortWatch = null; // close() while the native socket was CONNECTING
  let closeWatch = null; // close() → stop within closeTimeout
  let lastCloseCode = null;
  const finalStop = log.findIndex((e) => e.k === 'phase' && e.name === 'final-stop');
  const bad = (i, msg) => v('event-order', i, msg);
  log.forEach((e, i) => {
    if (e.k === 'callstart' && e.fn === 'reconnect' && !calls.get(i)?.err) {
      pendingReconnects++;
      blockedByClose = false;
      blockedByStop = false;
      abortWatch = null;
      closeWatch = null;
    }
    if (e.k === 'call' && e.fn === 'close' && !e.err) {
      const s = log[e.start];
      blockedByClose = true;
      // Effective: CONNECTING/OPEN, or never started (startClosed); a no-op while
      // CLOSING or stopped.
      if (s.rs === 0 || s.rs === 1 || (s.rs === 3 && st === 'idle')) {
        closes++;
        lastClose = i;
        closeWatch = { i, t: s.t };
        if (s.rs === 0 && s.cur && s.cur.rs === 0 && !s.cur.libClosed && st === 'connecting') abortWatch = { i, seen: [] };
      }
    }
    if (e.k === 'nnew') {
      if (e.live.length) v('one-live-native', i, `native socket #${e.id} created while #${e.live.join(', #')} still CONNECTING/OPEN and not closed`);
      if (blockedByClose) v('attempt-after-close', i, `native socket #${e.id} (${e.url}) created after close() and before any reconnect()`);
      else if (blockedByStop) v('attempt-after-stop', i, `native socket #${e.id} created after stop and before reconnect()`);
      if (i > finalStop && finalStop >= 0) v('quiet-after-stop', i, `native socket #${e.id} created after the final stop`);
    }
    if (e.k === 'nsend' && st === 'stopped' && pendingReconnects === 0) {
      v('sent-after-stop', i, `native send (seq ${e.seq}) on socket #${e.id} after stop, with no reconnect() since`);
    }
    if (e.k === 'step' && typeof e.rs === 'number') {
      const implied = { initial: [0], idle: [3], connecting: [0], open: [1], waiting: [0], stopped: [3], closed: [] }[st] ?? [];
      const allowed = st === 'errored' ? [beforeError === 'open' ? 1 : 0] : [...implied];
      if (closes > 0) allowed.push(2);
      if (st === 'closed') bad(i, 'a close event not followed (in the same task) by reconnecting, stop or connecting');
      else if (!allowed.includes(e.rs)) v('ready-state', i, `readyState ${e.rs} at step ${e.n} after the last event left the socket ${st}${closes ? ' (close() pending)' : ''}: expected ${allowed.join(' or ')}`);
    }
    if (e.k !== 'ev') return;
    if (finalStop >= 0 && i > finalStop) v('quiet-after-stop', i, `${e.type} event after the final stop`);
    if (abortWatch && !['message', 'heartbeat', 'discard'].includes(e.type)) {
      abortWatch.seen.push(e);
      if (e.type === 'stop' || e.type === 'connecting' || abortWatch.seen.length >= 3) {
        const types = abortWatch.seen.map((x) => x.type).join(',');
        const c = abortWatch.seen.find((x) => x.type === 'close');
        if (types !== 'error,close,stop' || c.code !== 1006 || c.reason !== '') {
          v('close-while-connecting', i, `close() while the native socket was CONNECTING gave ${abortWatch.seen.map((x) => (x.type === 'close' ? `close(${x.code} ${JSON.stringify(x.reason)})` : x.type)).join(', ')}; expected error, close(1006 ""), stop`);
        }
        abortWatch = null;
      }
    }
    switch (e.type) {
      case 'connecting': {
        // During a backoff wait the attempt is either the timer's (attempt ≥ 1) or
        // reconnect()'s (which resets the count: attempt 0); elsewhere only reconnect().
        const mayBeTimer = st === 'waiting' && e.detail?.attempt !== 0;
        const consumed = pendingReconnects > 0 && !mayBeTimer;
        if (consumed) pendingReconnects--;
        if (st === 'initial' || st === 'waiting' || consumed) {
          if (['connecting', 'open', 'errored'].includes(st)) bad(i, `connecting while the previous attempt (${st}) never closed`);
          // Only when a step lies between: a connecting emitted before a close() made
          // inside that attempt's own provider is dispatched after it.
          const later = closes > 0 && lastClose >= 0 && log.slice(lastClose, i).some((x) => x.k === 'step');
          if (later && !consumed) v('attempt-after-close', i, 'a new attempt (connecting) after close(), without reconnect()');
        } else {
          bad(i, `connecting in state ${st} without reconnect()`);
        }
        if (e.detail && typeof e.detail.attempt !== 'number') bad(i, `connecting without detail.attempt: ${JSON.stringify(e.detail)}`);
        blockedByStop = false;
        st = 'connecting';
        break;
      }
      case 'open':
        if (st !== 'connecting') bad(i, `open in state ${st}`);
        if (e.cur && e.cur.rs === 1 && (e.url !== e.cur.url || e.protocol !== e.cur.protocol)) {
          v('open-url', i, `at open: url ${JSON.stringify(e.url)} protocol ${JSON.stringify(e.protocol)}, the native socket: ${JSON.stringify(e.cur.url)} ${JSON.stringify(e.cur.protocol)}`);
        }
        st = 'open';
        break;
      case 'message':
        if (st !== 'open') v('message-state', i, `message ${JSON.stringify(e.data)} in state ${st}`);
        else if (e.rs !== 1 && e.rs !== 2) v('message-state', i, `message dispatched in readyState ${e.rs}`);
        if (opts.heartbeatInterval && e.data === (opts.heartbeatResponse ?? 'pong')) v('pong-delivered', i, 'the heartbeat response reached message listeners');
        break;
      case 'heartbeat':
        if (st !== 'open') bad(i, `heartbeat in state ${st}`);
        break;
      case 'error':
        if (st === 'connecting' || st === 'open') {
          beforeError = st;
          st = 'errored';
        } else bad(i, `error in state ${st}`);
        break;
      case 'close':
        lastCloseCode = e.code;
        if (['connecting', 'open', 'errored'].includes(st) || (closes > 0 && (st === 'waiting' || st === 'idle'))) st = 'closed';
        else bad(i, `close in state ${st} (a second close for one attempt, or close without an attempt)`);
        break;
      case 'reconnecting': {
        if (st !== 'closed') bad(i, `reconnecting in state ${st}`);
        const d = e.detail ?? {};
        const max = opts.maxReconnectionDelay;
        const jitter = opts.reconnectionJitter;
        if (!(Number.isInteger(d.attempt) && d.attempt >= 1) || !(d.delay >= 0 && d.delay <= max + 1)) {
          v('reconnecting-detail', i, `detail ${JSON.stringify(d)} (maxReconnectionDelay ${max})`);
        } else if (d.code === 1013 && d.delay < max * (1 - jitter) - 1) {
          v('reconnecting-detail', i, `after 1013 the wait is ${d.delay} ms, expected in [${max * (1 - jitter)}, ${max}]`);
        }
        st = 'waiting';
        break;
      }
      case 'stop': {
        if (st !== 'closed' && st !== 'idle') bad(i, `stop in state ${st}`);
        const reason = e.detail?.reason;
        if (reason === 'close') {
          if (closes > 0) closes--;
          else v('stop-reason', i, 'stop reason "close" without a close() that owed it');
        } else if (closes > 0) {
          v('stop-reason', i, `stop reason ${JSON.stringify(reason)} while close() was pending`);
        } else {
          if (reason === 'max-retries' && opts.maxRetries === undefined) v('stop-reason', i, 'max-retries without maxRetries');
          else if (reason === 'close-code' && !(opts.stopOnCloseCodes ?? []).includes(lastCloseCode)) v('stop-reason', i, `close-code stop after close code ${lastCloseCode}`);
          else if (!['max-retries', 'close-code'].includes(reason)) v('stop-reason', i, `stop reason ${JSON.stringify(reason)}`);
          blockedByStop = pendingReconnects === 0;
        }
        if (closeWatch && e.t - closeWatch.t > opts.closeTimeout + CLOSE_SLACK_MS) {
          v('close-timeout', i, `stop ${Math.round(e.t - closeWatch.t)} ms after close() (closeTimeout ${opts.closeTimeout})`);
        }
        if (closes === 0) closeWatch = null;
        st = 'stopped';
        break;
      }
      case 'discard':
        break;
      default:
        bad(i, `unknown event type ${e.type}`);
    }
  });

  const healedOk = healed?.opened;
  if (healed && !healedOk) v('heal-reopen', log.indexOf(healed), `the server was healthy again but after 5 s readyState is ${healed.rs}, bufferedAmount ${healed.buf}`);
  const fs = log[finalStop];
  if (fs && !fs.stopped) v('final-stop', finalStop, `close() gave no stop within 3 s (readyState ${fs.rs})`);
  const done = log.find((e) => e.k === 'phase' && e.name === 'done');
  if (done && done.live.length) v('leaked-native', log.indexOf(done), `native socket(s) #${done.live.join(', #')} still CONNECTING/OPEN after the final stop`);
  if (closeWatch && !fs) v('close-timeout', closeWatch.i, 'close() never ended in stop');
  return out;
}
