// Abuse tests for the demo server (www/server.mjs): a client that never reads, a chat
// broadcast flood, a message flood (rate limit), unsolicited / replayed pongs, the per-IP
// connection cap, and control characters in what it logs. Run: node --test tests/node/
//
// Every server listens on 127.0.0.1:0 and every client is cut after its test.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { startServer, logSafe, MAX_BUFFERED_BYTES } from '../../www/server.mjs';

// ---- helpers --------------------------------------------------------------------------

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A demo server closed after the test; its log lines are collected in `srv.lines`. */
async function serverFor(t, options = {}) {
  const lines = [];
  const srv = await startServer({ port: 0, log: (line) => lines.push(line), ...options });
  srv.lines = lines;
  srv.base = `ws://127.0.0.1:${srv.port}`;
  t.after(() => srv.close());
  return srv;
}

/** `ws` clients, terminated after the test, with an inbox so no message is missed. */
function clientsFor(t) {
  const clients = new Set();
  t.after(() => {
    for (const ws of clients) ws.terminate();
  });
  return (url, opts) => {
    const ws = new WebSocket(url, opts);
    clients.add(ws);
    ws.inbox = [];
    ws.waiters = [];
    ws.on('message', (data, isBinary) => {
      const msg = { data, isBinary, text: isBinary ? null : data.toString() };
      const w = ws.waiters.shift();
      if (w) w(msg);
      else ws.inbox.push(msg);
    });
    ws.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', (err) => {
      ws.lastError = err;
    });
    return ws;
  };
}

function opened(ws, ms = 2000) {
  return withTimeout(
    new Promise((resolve, reject) => {
      if (ws.readyState === WebSocket.OPEN) return resolve(ws);
      ws.once('open', () => resolve(ws));
      ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)));
    }),
    ms,
    'open',
  );
}

function next(ws, ms = 2000) {
  if (ws.inbox.length) return Promise.resolve(ws.inbox.shift());
  let waiter;
  const p = new Promise((resolve) => {
    waiter = resolve;
    ws.waiters.push(resolve);
  });
  return withTimeout(p, ms, 'message').catch((err) => {
    ws.waiters = ws.waiters.filter((w) => w !== waiter);
    throw err;
  });
}

async function nextJson(ws, ms) {
  return JSON.parse((await next(ws, ms)).text);
}

/** Next chat message of type "message" (join/leave notices are skipped). */
async function nextChat(ws, ms) {
  for (;;) {
    const m = await nextJson(ws, ms);
    if (m.type === 'message') return m;
  }
}

const closed = (ws, ms = 2000) => withTimeout(ws.closed, ms, 'close');

/**
 * A raw TCP WebSocket client: does the handshake, then nothing by itself. The socket is
 * paused (it reads nothing) unless the test resumes it. Destroyed after the test.
 */
async function rawClient(t, port, pathAndQuery) {
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  socket.ended = new Promise((resolve) => socket.once('close', resolve));
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(
    `GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const rest = await withTimeout(
    new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const onData = (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.pause();
        const head = buf.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 101 /.test(head)) return reject(new Error(`no upgrade: ${head}`));
        resolve(buf.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error('closed during the handshake')));
    }),
    2000,
    'raw handshake',
  );
  socket.early = rest; // bytes that came with the 101 (e.g. the first frames)
  return socket;
}

/** One masked client frame (FIN set). The mask key is random, as RFC 6455 asks. */
function clientFrame(opcode, payload) {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), u64(len)]);
  const mask = crypto.randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

function u64(n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** The log line of the socket whose client end is `localPort`, matching `re`. */
function lineOf(srv, localPort, re) {
  return srv.lines.find((l) => l.includes(`127.0.0.1:${localPort} `) && re.test(l));
}

const KiB = 1024;

// ---- a client that never reads ----------------------------------------------------------

describe('demo server: a client that never reads', { timeout: 30_000 }, () => {
  it('chat: a slow member is cut at maxBufferedBytes; the room keeps going', async (t) => {
    const srv = await serverFor(t); // default limits
    const open = clientsFor(t);
    const slow = await rawClient(t, srv.port, '/chat?name=slow'); // paused: reads nothing
    const fast = await opened(open(`${srv.base}/chat?name=fast`));
    const watcher = await opened(open(`${srv.base}/chat?name=watcher`));
    const text = 'x'.repeat(256 * KiB);
    let sent = 0;
    let cut = null;
    // Flood the room, one message at a time (each waits for its own broadcast to come
    // back), until the server gives up on the slow member: at most 160 x 256 KiB = 40 MiB,
    // far more than the kernel's socket buffers on loopback plus the 1 MiB limit.
    while (sent < 160 && !cut) {
      fast.send(text);
      sent++;
      const back = await nextChat(fast, 3000);
      assert.equal(back.text.length, text.length);
      cut = lineOf(srv, slow.localPort, /too slow/);
    }
    assert.ok(cut, `the slow member was never cut (${sent} x 256 KiB sent)`);
    const buffered = Number(/: (\d+) bytes buffered/.exec(cut)[1]);
    assert.ok(buffered > 0 && buffered <= MAX_BUFFERED_BYTES, `buffered ${buffered} at the cut`);
    assert.match(cut, /closing$/);
    // It cannot read the close frame, so the server terminates it after closeGraceMs
    // (1 s) while it still reads nothing; then it sees the end once it reads again.
    await waitFor(() => lineOf(srv, slow.localPort, /disconnected/), 3000, 'the slow member dropped');
    slow.resume();
    await withTimeout(slow.ended, 3000, 'the slow member sees the end');
    // Everyone else got every message, then the leave notice, and the room still works.
    let got = 0;
    while (got < sent) {
      const m = await nextJson(watcher);
      if (m.type === 'message') got++;
    }
    assert.deepEqual(await nextJson(watcher), { type: 'leave', name: 'slow' }, 'the room hears it left');
    assert.equal(fast.readyState, WebSocket.OPEN);
    fast.send('still here');
    assert.equal((await nextChat(watcher)).text, 'still here');
  });

  it('echo: a client that sends but never reads is cut; what is queued stays bounded', async (t) => {
    const limit = 256 * KiB;
    const srv = await serverFor(t, { maxBufferedBytes: limit, closeGraceMs: 300 });
    const raw = await rawClient(t, srv.port, '/echo');
    const frame = clientFrame(0x2, crypto.randomBytes(64 * KiB));
    let sent = 0;
    let cut = null;
    // Up to 640 x 64 KiB = 40 MiB of echoes that are never read.
    while (sent < 640 && !cut && !raw.destroyed) {
      if (!raw.write(frame)) {
        await Promise.race([new Promise((r) => raw.once('drain', r)), raw.ended, sleep(500)]);
      }
      sent++;
      cut = lineOf(srv, raw.localPort, /too slow/);
      if (sent % 16 === 0) await sleep(1); // let the server read and echo
    }
    cut ??= await waitFor(() => lineOf(srv, raw.localPort, /too slow/), 2000, 'the cut').catch(() => null);
    assert.ok(cut, `the client was never cut (${sent} x 64 KiB sent)`);
    const buffered = Number(/: (\d+) bytes buffered/.exec(cut)[1]);
    assert.ok(buffered > 0 && buffered <= limit, `buffered ${buffered} at the cut (limit ${limit})`);
    await waitFor(() => lineOf(srv, raw.localPort, /disconnected/), 3000, 'the client dropped');
    raw.resume();
    await withTimeout(raw.ended, 3000, 'the client sees the end');
  });

  it('one message bigger than the limit still goes onto an empty buffer', async (t) => {
    const srv = await serverFor(t, { maxBufferedBytes: 4 * KiB });
    const ws = await opened(clientsFor(t)(`${srv.base}/echo`));
    for (let i = 0; i < 3; i++) {
      ws.send(Buffer.alloc(64 * KiB, i));
      const m = await next(ws);
      assert.equal(m.data.length, 64 * KiB);
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
  });
});

// ---- rate limit -----------------------------------------------------------------------

describe('demo server: per-connection rate limit', { timeout: 30_000 }, () => {
  it('over the burst: the rest is dropped and the socket closed with 1008', async (t) => {
    const seen = [];
    const srv = await serverFor(t, {
      messagesPerSecond: 5,
      messageBurst: 10,
      onMessage: (m) => seen.push(m.text),
    });
    const ws = await opened(clientsFor(t)(`${srv.base}/echo`));
    for (let i = 1; i <= 30; i++) ws.send(`m${i}`);
    const { code, reason } = await closed(ws);
    assert.deepEqual({ code, reason }, { code: 1008, reason: 'rate limit exceeded' });
    const echoed = ws.inbox.map((m) => m.text);
    // 10 of burst, plus at most one token refilled while they were read (5/s).
    assert.ok(echoed.length >= 10 && echoed.length <= 11, `echoed ${echoed.length}`);
    assert.deepEqual(echoed, Array.from({ length: echoed.length }, (_, i) => `m${i + 1}`));
    assert.deepEqual(seen, echoed, 'messages past the limit are not handled');
    assert.ok(srv.lines.some((l) => /^echo#1 .* rate limit: over 5 messages\/s \(burst 10\): closing$/.test(l)));
  });

  it('a client that keeps to the rate is never limited', async (t) => {
    const srv = await serverFor(t, { messagesPerSecond: 50, messageBurst: 3 });
    const ws = await opened(clientsFor(t)(`${srv.base}/echo`));
    for (let i = 0; i < 15; i++) {
      ws.send(`n${i}`);
      assert.equal((await next(ws)).text, `n${i}`);
      await sleep(40); // 25 messages/s at most
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('chat: a flooding member is closed (1008); the room sees only its burst', async (t) => {
    const srv = await serverFor(t, { messagesPerSecond: 1, messageBurst: 20 });
    const open = clientsFor(t);
    const room = await opened(open(`${srv.base}/chat?name=room`));
    const flooder = await opened(open(`${srv.base}/chat?name=flooder`));
    for (let i = 1; i <= 200; i++) flooder.send(`flood ${i}`);
    assert.equal((await closed(flooder)).code, 1008);
    const texts = [];
    for (;;) {
      const m = await nextJson(room);
      if (m.type === 'leave') break;
      if (m.type === 'message') texts.push(m.text);
    }
    assert.ok(texts.length >= 20 && texts.length <= 21, `room saw ${texts.length}`);
    assert.equal(room.readyState, WebSocket.OPEN);
  });

  it('the defaults let a 300-message burst through (the examples send 200)', async (t) => {
    const srv = await serverFor(t);
    const open = clientsFor(t);
    const room = await opened(open(`${srv.base}/chat?name=room`));
    const burst = await opened(open(`${srv.base}/chat?name=burst`));
    for (let i = 1; i <= 300; i++) burst.send(`burst ${i}`);
    const texts = [];
    while (texts.length < 300) texts.push((await nextChat(room)).text);
    assert.deepEqual(texts, Array.from({ length: 300 }, (_, i) => `burst ${i + 1}`));
    assert.equal(burst.readyState, WebSocket.OPEN);
  });
});

// ---- liveness -----------------------------------------------------------------------------

describe('demo server: liveness counts only answers to its own pings', { timeout: 30_000 }, () => {
  const HEARTBEAT = 250; // wide enough that a loaded machine still pongs in time

  it('unsolicited pongs and pongs with another payload do not keep a client alive', async (t) => {
    const srv = await serverFor(t, { heartbeatIntervalMs: HEARTBEAT });
    const open = clientsFor(t);
    const honest = await opened(open(`${srv.base}/echo`)); // ws answers pings itself
    const unsolicited = await opened(open(`${srv.base}/echo`, { autoPong: false }));
    const wrong = await opened(open(`${srv.base}/echo`, { autoPong: false }));
    const timer = setInterval(() => {
      if (unsolicited.readyState === WebSocket.OPEN) unsolicited.pong();
      if (wrong.readyState === WebSocket.OPEN) wrong.pong('alive!');
    }, 25);
    t.after(() => clearInterval(timer));
    wrong.on('ping', () => wrong.pong('not your payload'));
    assert.equal((await closed(unsolicited, 4000)).code, 1006, 'terminated');
    assert.equal((await closed(wrong, 4000)).code, 1006, 'terminated');
    assert.equal(honest.readyState, WebSocket.OPEN, 'a client that answers stays');
  });

  it('a replayed pong does not count; answering each ping by hand does', async (t) => {
    const srv = await serverFor(t, { heartbeatIntervalMs: HEARTBEAT });
    const open = clientsFor(t);
    const manual = await opened(open(`${srv.base}/chat`, { autoPong: false }));
    manual.on('ping', (data) => manual.pong(data));
    const replayer = await opened(open(`${srv.base}/chat`, { autoPong: false }));
    let first = null;
    let timer = null;
    t.after(() => clearInterval(timer));
    replayer.on('ping', (data) => {
      if (first) return; // later pings are ignored...
      first = data;
      replayer.pong(data); // ...the first is answered, and then replayed forever
      timer = setInterval(() => replayer.readyState === WebSocket.OPEN && replayer.pong(first), 25);
    });
    const started = Date.now();
    assert.equal((await closed(replayer, 4000)).code, 1006, 'terminated');
    assert.ok(first && first.length > 0, 'the server pings with a payload');
    assert.ok(Date.now() - started >= 2 * HEARTBEAT - 50, 'not before its second ping went unanswered');
    await sleep(3 * HEARTBEAT);
    assert.equal(manual.readyState, WebSocket.OPEN, 'answering each ping keeps a client alive');
  });
});

// ---- per-IP connection cap --------------------------------------------------------------

describe('demo server: per-IP connection cap', { timeout: 30_000 }, () => {
  it('the cap+1th socket from 127.0.0.1 gets 1013; refused ones take no slot; closing frees one', async (t) => {
    const srv = await serverFor(t, { maxConnectionsPerIp: 3 });
    const open = clientsFor(t);
    const a = await opened(open(`${srv.base}/echo`));
    const b = await opened(open(`${srv.base}/chat`));
    const c = await opened(open(`${srv.base}/echo?client=capped-client-1`));
    for (let i = 0; i < 5; i++) {
      const extra = open(`${srv.base}/${i % 2 ? 'chat' : 'echo'}`);
      assert.deepEqual(await closed(extra), { code: 1013, reason: 'try again later' });
    }
    // A clean close frees a slot (the server counts it on its own 'close': retry briefly).
    a.close();
    await closed(a);
    const d = await waitFor(() => admitted(open(`${srv.base}/echo`)), 2000, 'a slot after a close');
    assert.deepEqual(await closed(open(`${srv.base}/echo`)), { code: 1013, reason: 'try again later' });
    // So does a terminated one (no close frame: /api/drop).
    const dropped = await post(srv.port, '/api/drop?client=capped-client-1');
    assert.equal(dropped, 200);
    await closed(c);
    const e = await waitFor(() => admitted(open(`${srv.base}/chat`)), 2000, 'a slot after a drop');
    assert.deepEqual(await closed(open(`${srv.base}/chat`)), { code: 1013, reason: 'try again later' });
    for (const ws of [b, d, e]) assert.equal(ws.readyState, WebSocket.OPEN);
  });

  it('a refused client that never answers the close frame is cut after closeGraceMs', async (t) => {
    const srv = await serverFor(t, { maxConnectionsPerIp: 1, closeGraceMs: 300 });
    const first = await opened(clientsFor(t)(`${srv.base}/echo`));
    const raw = await rawClient(t, srv.port, '/echo');
    raw.resume(); // reads (and so gets the 1013 close frame) but never answers it
    const started = Date.now();
    await withTimeout(raw.ended, 3000, 'the refused socket is cut'); // ws alone waits 30 s
    assert.ok(Date.now() - started < 2000);
    assert.equal(first.readyState, WebSocket.OPEN);
  });
});

/** The socket once it is open and echoes (a socket refused with 1013 opens, then closes). */
async function admitted(ws) {
  try {
    await opened(ws);
    ws.send('x');
    const r = await Promise.race([next(ws, 500).then(() => 'echoed', () => 'silent'), ws.closed.then(() => 'closed')]);
    if (r === 'echoed') return ws;
  } catch {
    // closed before it opened: try again
  }
  ws.terminate();
  return null;
}

function post(port, p) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: p, method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    }),
    1500,
    `POST ${p}`,
  );
}

// ---- logs -------------------------------------------------------------------------------

describe('demo server: control characters never reach the log', { timeout: 30_000 }, () => {
  const NASTY = ['\r', '\n', '\x1b', '\x07', '\x00', '\x7f', '\u0085', '\u009b', '\u2028', '\u202e'];

  it('a close reason with CR, LF, ESC, C1 and bidi controls is logged escaped, on one line', async (t) => {
    const srv = await serverFor(t);
    const ws = await opened(clientsFor(t)(`${srv.base}/echo`));
    const reason = 'bye\r\n[fake] echo#9 admin logged in\x1b[2J\x07\u009b31m\u2028\u202eevil';
    assert.ok(Buffer.byteLength(reason) <= 123);
    ws.close(4000, reason);
    await closed(ws);
    const line = await waitFor(() => srv.lines.find((l) => /disconnected/.test(l)), 1000, 'the close logged');
    for (const c of NASTY) assert.ok(!line.includes(c), `raw ${JSON.stringify(c)} in ${JSON.stringify(line)}`);
    assert.match(line, /^echo#1 127\.0\.0\.1:\d+ disconnected \(4000 bye\\x0d\\x0a\[fake\] echo#9 admin logged in\\x1b\[2J\\x07\\x9b31m\\u2028\\u202eevil\)$/);
  });

  it('logSafe escapes C0, DEL, C1, separators and bidi controls, and caps the length', () => {
    assert.equal(logSafe('plain text, ünïcödé ok'), 'plain text, ünïcödé ok');
    assert.equal(logSafe('a\r\nb\tc\x00\x1b[0m'), 'a\\x0d\\x0ab\\x09c\\x00\\x1b[0m');
    assert.equal(logSafe('\x7f\u0080\u009f'), '\\x7f\\x80\\x9f');
    assert.equal(logSafe('x\u2028y\u2029z\u202eq\u2066'), 'x\\u2028y\\u2029z\\u202eq\\u2066');
    assert.equal(logSafe(Buffer.from('name\nwith newline')), 'name\\x0awith newline');
    assert.equal(logSafe('/chat?name=%0a\n'), '/chat?name=%0a\\x0a');
    assert.equal(logSafe(undefined), '');
    assert.equal(logSafe('y'.repeat(500)), 'y'.repeat(200) + '…');
    for (const c of NASTY) assert.ok(!logSafe(`a${c}b`).includes(c), JSON.stringify(c));
  });
});
