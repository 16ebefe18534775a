// Tests for the demo server (www/server.mjs) and the fault server
// (tests/support/fault-server.mjs). Run: node --test tests/node/
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import WebSocket from 'ws';
import { startServer, CSP } from '../../www/server.mjs';
import { startFaultServer } from '../support/fault-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

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

/** Every client opened through here is terminated after the test (t.after). */
function clientsFor(t) {
  const clients = new Set();
  t.after(() => {
    for (const ws of clients) ws.terminate();
  });
  return (url, protocols, opts) => {
    const ws = new WebSocket(url, protocols, opts);
    clients.add(ws);
    // Queue incoming messages so no message is missed between awaits.
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

function opened(ws, ms = 1500) {
  return withTimeout(
    new Promise((resolve, reject) => {
      if (ws.readyState === WebSocket.OPEN) return resolve(ws);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
      ws.once('close', (code) => reject(new Error(`closed before open: ${code}`)));
    }),
    ms,
    'open',
  );
}

function next(ws, ms = 1000) {
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
  const m = await next(ws, ms);
  assert.equal(m.isBinary, false);
  return JSON.parse(m.text);
}

/** Resolves true if no message arrives within ms. */
async function silentFor(ws, ms) {
  try {
    await next(ws, ms);
    return false;
  } catch {
    return true;
  }
}

const closed = (ws, ms = 1500) => withTimeout(ws.closed, ms, 'close');

/** Resolves { status, headers } from an upgrade attempt that the server refused. */
function unexpectedResponse(ws, ms = 1500) {
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.once('unexpected-response', (req, res) => {
        res.resume();
        resolve({ status: res.statusCode, headers: res.headers });
        req.destroy();
      });
      ws.once('open', () => reject(new Error('unexpectedly opened')));
    }),
    ms,
    'unexpected-response',
  );
}

/** Raw HTTP request (the path is sent exactly as given, not normalised). */
function request(port, rawPath, { method = 'GET', headers = {} } = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: rawPath, method, headers, agent: false },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    }),
    1500,
    `${method} ${rawPath}`,
  );
}

/** Raw TCP: send a request line exactly as written (bypasses any client normalisation). */
function rawRequest(port, text) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      const chunks = [];
      s.on('data', (c) => chunks.push(c));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.write(text);
    }),
    1500,
    'raw request',
  );
}

function tcpRefused(port) {
  return withTimeout(
    new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.on('error', (err) => resolve(err.code === 'ECONNREFUSED'));
    }),
    1000,
    'tcp connect',
  );
}

async function waitFor(fn, ms = 1000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await sleep(10);
  }
}

// ---- demo server ----------------------------------------------------------------------

describe('demo server (www/server.mjs)', { timeout: 30_000 }, () => {
  let tmp;
  let srv;
  let wsBase;
  const WASM = Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const SECRET = 'TOP-SECRET-CONTENT';

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'steadysocket-www-'));
    const root = path.join(tmp, 'www');
    const pkg = path.join(tmp, 'pkg');
    await fs.mkdir(root);
    await fs.mkdir(pkg);
    await fs.writeFile(path.join(root, 'index.html'), '<!doctype html><title>demo</title>');
    await fs.writeFile(path.join(root, 'app.js'), 'export const x = 1;');
    await fs.writeFile(path.join(root, 'style.css'), 'body{}');
    await fs.writeFile(path.join(tmp, 'secret.txt'), SECRET);
    await fs.writeFile(path.join(pkg, 'steadysocket_bg.wasm'), WASM);
    await fs.writeFile(path.join(pkg, 'steadysocket.js'), 'export default 1;');
    await fs.writeFile(path.join(pkg, 'steadysocket.d.ts'), 'export {};');
    await fs.writeFile(path.join(pkg, 'package.json'), '{"name":"steadysocket"}');
    await fs.symlink(path.join(tmp, 'secret.txt'), path.join(root, 'link.txt'));
    srv = await startServer({ port: 0, root, pkgDir: pkg, log: () => {} });
    wsBase = `ws://127.0.0.1:${srv.port}`;
  });

  after(async () => {
    await srv?.close();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it('serves / as index.html with security headers; HEAD has no body', async () => {
    assert.equal(srv.url, `http://127.0.0.1:${srv.port}/`);
    const r = await request(srv.port, '/');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/html/);
    assert.equal(r.body.toString(), '<!doctype html><title>demo</title>');
    assert.equal(r.headers['content-security-policy'], CSP);
    assert.match(CSP, /script-src 'self' 'wasm-unsafe-eval'/);
    assert.match(CSP, /frame-ancestors 'none'/);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    const h = await request(srv.port, '/index.html', { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(Number(h.headers['content-length']), r.body.length);
  });

  it('serves pkg/ with correct MIME types (.wasm = application/wasm)', async () => {
    const w = await request(srv.port, '/pkg/steadysocket_bg.wasm');
    assert.equal(w.status, 200);
    assert.equal(w.headers['content-type'], 'application/wasm');
    assert.deepEqual(w.body, WASM);
    assert.equal(w.headers['content-security-policy'], undefined, 'CSP only on HTML');
    const expect = {
      '/pkg/steadysocket.js': /^text\/javascript/,
      '/pkg/steadysocket.d.ts': /^text\/plain/,
      '/pkg/package.json': /^application\/json/,
      '/app.js': /^text\/javascript/,
      '/style.css': /^text\/css/,
    };
    for (const [p, re] of Object.entries(expect)) {
      const r = await request(srv.port, p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers['content-type'], re, p);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
    }
  });

  it('rejects path traversal (raw, encoded, via pkg/, via symlink)', async () => {
    const attempts = [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2fsecret.txt',
      '/pkg/../../secret.txt',
      '/pkg/%2e%2e/%2e%2e/secret.txt',
      '/pkg/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%00',
      '/%zz',
      '/link.txt',
    ];
    for (const p of attempts) {
      const raw = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const status = Number(raw.split(' ')[1]);
      assert.ok(status === 400 || status === 404, `${p} gave ${status}`);
      assert.ok(!raw.includes(SECRET), `${p} leaked the file`);
    }
  });

  it('unknown path gives 404 text/plain; other methods give 405', async () => {
    const r = await request(srv.port, '/nope.html');
    assert.equal(r.status, 404);
    assert.match(r.headers['content-type'], /^text\/plain/);
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const m = await request(srv.port, '/index.html', { method });
      assert.equal(m.status, 405, method);
      assert.match(m.headers.allow, /GET/);
    }
  });

  it('plain GET to a WebSocket endpoint gives 426', async () => {
    for (const p of ['/echo', '/chat', '/chat?name=x']) {
      const r = await request(srv.port, p);
      assert.equal(r.status, 426, p);
      assert.equal(r.headers.upgrade, 'websocket');
    }
  });

  it('upgrade to an unknown path is refused with 404', async (t) => {
    const open = clientsFor(t);
    const ws = open(`${wsBase}/nope`);
    const r = await unexpectedResponse(ws);
    assert.equal(r.status, 404);
    // and the server is still fine
    const ok = await opened(open(`${wsBase}/echo`));
    ok.send('still alive');
    assert.equal((await next(ok)).text, 'still alive');
  });

  it('echo keeps text as text and binary as binary', async (t) => {
    const ws = await opened(clientsFor(t)(`${wsBase}/echo`));
    ws.send('héllo');
    const bin = Buffer.from([0, 1, 2, 250, 255]);
    ws.send(bin);
    ws.send(Buffer.from('text-bytes'), { binary: false });
    const a = await next(ws);
    assert.deepEqual([a.isBinary, a.text], [false, 'héllo']);
    const b = await next(ws);
    assert.equal(b.isBinary, true);
    assert.deepEqual(b.data, bin);
    const c = await next(ws);
    assert.deepEqual([c.isBinary, c.text], [false, 'text-bytes']);
  });

  it('echo answers text "ping" with "pong" and does not echo it', async (t) => {
    const ws = await opened(clientsFor(t)(`${wsBase}/echo`));
    ws.send('ping');
    ws.send('after');
    ws.send(Buffer.from('ping')); // binary "ping" is echoed as is
    ws.send('pingx');
    assert.deepEqual(
      [await next(ws), await next(ws), await next(ws), await next(ws)].map((m) => [
        m.isBinary,
        m.data.toString(),
      ]),
      [
        [false, 'pong'],
        [false, 'after'],
        [true, 'ping'],
        [false, 'pingx'],
      ],
    );
  });

  it('a message over 1 MiB closes with 1009; invalid UTF-8 with 1007', async (t) => {
    const open = clientsFor(t);
    const big = await opened(open(`${wsBase}/echo`));
    big.send(Buffer.alloc(1024 * 1024 + 1));
    assert.equal((await closed(big)).code, 1009);

    const exact = await opened(open(`${wsBase}/echo`));
    exact.send(Buffer.alloc(1024 * 1024, 7));
    const m = await next(exact, 1500);
    assert.equal(m.data.length, 1024 * 1024);

    const bad = await opened(open(`${wsBase}/echo`));
    bad.send(Buffer.from([0xff, 0xfe, 0xc3]), { binary: false });
    assert.equal((await closed(bad)).code, 1007);
  });

  it('chat broadcasts messages and join/leave notices', async (t) => {
    const open = clientsFor(t);
    const alice = await opened(open(`${wsBase}/chat?name=alice`));
    const welcome = await nextJson(alice);
    assert.equal(welcome.type, 'welcome');
    assert.equal(welcome.name, 'alice');
    assert.deepEqual(await nextJson(alice), { type: 'join', name: 'alice' });

    const bob = await opened(open(`${wsBase}/chat?name=${encodeURIComponent('<b>bob</b>')}`));
    assert.equal((await nextJson(bob)).type, 'welcome');
    const bobJoin = await nextJson(bob);
    assert.equal(bobJoin.type, 'join');
    assert.ok(!/[<>]/.test(bobJoin.name), 'name is sanitised');
    assert.match(bobJoin.name, /bob/);
    assert.deepEqual(await nextJson(alice), bobJoin, 'alice sees bob join');

    const before = Date.now();
    bob.send('hi all');
    for (const ws of [alice, bob]) {
      const msg = await nextJson(ws);
      assert.equal(msg.type, 'message');
      assert.equal(msg.from, bobJoin.name);
      assert.equal(msg.text, 'hi all');
      assert.ok(typeof msg.time === 'number' && msg.time >= before - 5, 'time is ms epoch');
    }

    bob.send('ping');
    assert.equal((await next(bob)).text, 'pong');
    assert.ok(await silentFor(alice, 100), 'ping is not broadcast');

    bob.close();
    assert.deepEqual(await nextJson(alice), { type: 'leave', name: bobJoin.name });
  });

  it('chat names: missing → guest-NNNN, long → 32 chars', async (t) => {
    const open = clientsFor(t);
    const guest = await opened(open(`${wsBase}/chat`));
    assert.match((await nextJson(guest)).name, /^guest-\d{4}$/);
    const long = await opened(open(`${wsBase}/chat?name=${'x'.repeat(100)}`));
    assert.equal((await nextJson(long)).name, 'x'.repeat(32));
  });

  it('liveness: terminates clients that stop answering protocol pings', async (t) => {
    const quick = await startServer({
      port: 0,
      root: path.join(tmp, 'www'),
      pkgDir: path.join(tmp, 'pkg'),
      log: () => {},
      heartbeatIntervalMs: 250, // wide enough that a loaded CI machine still pongs in time
    });
    t.after(() => quick.close());
    const open = clientsFor(t);
    const good = await opened(open(`ws://127.0.0.1:${quick.port}/echo`));
    const deaf = await opened(open(`ws://127.0.0.1:${quick.port}/echo`, { autoPong: false }));
    let pings = 0;
    deaf.on('ping', () => pings++);
    const { code } = await closed(deaf, 3000);
    assert.equal(code, 1006, 'terminated without a close frame');
    assert.ok(pings >= 1);
    assert.equal(good.readyState, WebSocket.OPEN, 'a client that pongs stays connected');
  });

  it('POST /api/drop?client=ID cuts that client\'s sockets (1006) and no others', async (t) => {
    const open = clientsFor(t);
    const id = 'a1b2c3d4e5f60718';
    const echo = await opened(open(`${wsBase}/echo?client=${id}`));
    const chat = await opened(open(`${wsBase}/chat?client=${id}&name=dropme`));
    const other = await opened(open(`${wsBase}/echo?client=someone-else-1`));
    const anon = await opened(open(`${wsBase}/echo`));
    const r = await request(srv.port, `/api/drop?client=${id}`, { method: 'POST' });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.deepEqual(JSON.parse(r.body), { dropped: 2 });
    assert.equal((await closed(echo)).code, 1006, 'terminated: no close frame');
    assert.equal((await closed(chat)).code, 1006);
    for (const ws of [other, anon]) {
      ws.send('still here');
      assert.equal((await next(ws)).text, 'still here');
    }
    // nothing left under that id; the same id can connect again
    const again = await request(srv.port, `/api/drop?client=${id}`, { method: 'POST' });
    assert.equal(again.status, 404);
    assert.deepEqual(JSON.parse(again.body), { dropped: 0 });
    const back = await opened(open(`${wsBase}/echo?client=${id}`));
    assert.deepEqual(JSON.parse((await request(srv.port, `/api/drop?client=${id}`, { method: 'POST' })).body), {
      dropped: 1,
    });
    assert.equal((await closed(back)).code, 1006);
  });

  it('/api/drop refuses GET (405), bad ids (400) and cross-origin posts (403)', async (t) => {
    const open = clientsFor(t);
    const id = 'victim-0123456789';
    const ws = await opened(open(`${wsBase}/echo?client=${id}`));
    const get = await request(srv.port, `/api/drop?client=${id}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    for (const q of ['', '?client=', '?client=short', '?client=has%20space%20in%20it', `?client=${'x'.repeat(65)}`]) {
      const r = await request(srv.port, `/api/drop${q}`, { method: 'POST' });
      assert.equal(r.status, 400, q);
      assert.equal(typeof JSON.parse(r.body).error, 'string');
    }
    const cross = await request(srv.port, `/api/drop?client=${id}`, {
      method: 'POST',
      headers: { Origin: 'http://evil.example' },
    });
    assert.equal(cross.status, 403);
    const same = await request(srv.port, `/api/drop?client=unknown-client-id`, {
      method: 'POST',
      headers: { Origin: `http://127.0.0.1:${srv.port}` },
    });
    assert.equal(same.status, 404, 'same-origin post is allowed');
    ws.send('survived');
    assert.equal((await next(ws)).text, 'survived');
  });

  it('connections per IP are limited: the next one is closed with 1013', async (t) => {
    const small = await startServer({
      port: 0,
      root: path.join(tmp, 'www'),
      pkgDir: path.join(tmp, 'pkg'),
      log: () => {},
      maxConnectionsPerIp: 2,
    });
    t.after(() => small.close());
    const base = `ws://127.0.0.1:${small.port}`;
    const open = clientsFor(t);
    const a = await opened(open(`${base}/echo`));
    const b = await opened(open(`${base}/chat?name=b`));
    const c = open(`${base}/echo`);
    assert.deepEqual(await closed(c), { code: 1013, reason: 'try again later' });
    const d = open(`${base}/chat`);
    assert.deepEqual(await closed(d), { code: 1013, reason: 'try again later' });
    a.close();
    await closed(a);
    // a slot is free again (the server counts closes asynchronously: retry briefly)
    const e = await waitFor(
      async () => {
        const ws = await opened(open(`${base}/echo`));
        ws.send('x');
        const r = await Promise.race([next(ws, 500).then(() => 'echoed'), ws.closed.then(() => 'closed')]);
        return r === 'echoed' ? ws : null;
      },
      1500,
      'a free slot',
    );
    assert.equal(e.readyState, WebSocket.OPEN);
    assert.equal(b.readyState, WebSocket.OPEN, 'the others were not touched');
  });

  it('onMessage sees every message with its endpoint and client id', async (t) => {
    const seen = [];
    const s = await startServer({
      port: 0,
      root: path.join(tmp, 'www'),
      pkgDir: path.join(tmp, 'pkg'),
      log: () => {},
      onMessage: (m) => seen.push([m.endpoint, m.client, m.isBinary, m.text]),
    });
    t.after(() => s.close());
    const open = clientsFor(t);
    const echo = await opened(open(`ws://127.0.0.1:${s.port}/echo?client=observer-1`));
    echo.send('one');
    echo.send(Buffer.from([1, 2]));
    await next(echo);
    await next(echo);
    const chat = await opened(open(`ws://127.0.0.1:${s.port}/chat`));
    await nextJson(chat);
    await nextJson(chat);
    chat.send('two');
    await nextJson(chat);
    assert.deepEqual(seen, [
      ['echo', 'observer-1', false, 'one'],
      ['echo', 'observer-1', true, null],
      ['chat', null, false, 'two'],
    ]);
  });

  it('logs connects and disconnects with the client id', async (t) => {
    const lines = [];
    const s = await startServer({
      port: 0,
      root: path.join(tmp, 'www'),
      pkgDir: path.join(tmp, 'pkg'),
      log: (line) => lines.push(line),
    });
    t.after(() => s.close());
    const ws = await opened(clientsFor(t)(`ws://127.0.0.1:${s.port}/echo?client=logged-client-1`));
    ws.close(4000, 'bye');
    await closed(ws);
    await waitFor(() => lines.some((l) => /disconnected/.test(l)));
    assert.match(lines[0], /^echo#1 127\.0\.0\.1:\d+ client=logged-c connected$/);
    assert.match(lines[1], /^echo#1 .* disconnected \(4000 bye\)$/);
  });

  it('close() sends 1001 "server shutting down" and stops listening', async (t) => {
    const s = await startServer({ port: 0, root: path.join(tmp, 'www'), log: () => {} });
    const ws = await opened(clientsFor(t)(`ws://127.0.0.1:${s.port}/echo`));
    await s.close();
    assert.deepEqual(await closed(ws), { code: 1001, reason: 'server shutting down' });
    assert.equal(await tcpRefused(s.port), true);
  });

  it('CLI prints its URL and exits 0 on SIGTERM', async (t) => {
    const child = spawn(process.execPath, [path.join(REPO, 'www', 'server.mjs')], {
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    const line = await withTimeout(firstLine(child.stdout), 3000, 'demo server banner');
    const m = /^steadysocket demo: http:\/\/127\.0\.0\.1:(\d+)\/$/.exec(line);
    assert.ok(m, line);
    const ws = await opened(clientsFor(t)(`ws://127.0.0.1:${m[1]}/echo`));
    child.kill('SIGTERM');
    assert.deepEqual(await closed(ws, 2000), { code: 1001, reason: 'server shutting down' });
    const [code] = await withTimeout(once(child, 'exit'), 2000, 'exit');
    assert.equal(code, 0);
  });
});

function firstLine(stream) {
  return new Promise((resolve, reject) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i !== -1) resolve(buf.slice(0, i));
    });
    stream.on('end', () => reject(new Error(`stream ended: ${JSON.stringify(buf)}`)));
  });
}

// ---- fault server ---------------------------------------------------------------------

describe('fault server (tests/support/fault-server.mjs)', { timeout: 30_000 }, () => {
  let fault;

  async function ctl(route, method = 'POST') {
    const res = await fetch(`${fault.url}${route}`, { method, signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      assert.fail(`${route}: not JSON: ${text}`);
    }
    return { status: res.status, json, headers: res.headers };
  }

  async function ok(route, method) {
    const r = await ctl(route, method);
    assert.equal(r.status, 200, `${route}: ${JSON.stringify(r.json)}`);
    return r.json;
  }

  /** Creates an instance that is deleted after the test. */
  async function instance(t, query = '') {
    const inst = await ok(`/instances${query}`);
    t.after(() => ctl(`/instances/${inst.id}`, 'DELETE'));
    return inst;
  }

  before(async () => {
    fault = await startFaultServer();
  });
  after(() => fault?.close());

  it('health, CORS and preflight', async () => {
    const r = await ctl('/health', 'GET');
    assert.equal(r.status, 200);
    assert.equal(r.json.ok, true);
    assert.equal(typeof r.json.instances, 'number');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('content-type'), /^application\/json/);

    const count = fault.instances.size;
    const pre = await fetch(`${fault.url}/instances`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:1',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    assert.ok(pre.status === 204 || pre.status === 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    assert.match(pre.headers.get('access-control-allow-methods'), /GET/);
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /content-type/i);
    assert.equal(fault.instances.size, count, 'preflight created nothing');
  });

  it('errors: unknown route/instance 404, bad parameters 400, bad method 405', async () => {
    const cases = [
      ['/nope', 'POST', 404],
      ['/instances/zzz/log', 'GET', 404],
      ['/instances/zzz/kill', 'POST', 404],
      ['/instances?reject=abc', 'POST', 400],
      ['/instances?bogus=1', 'POST', 400],
      ['/health', 'PUT', 405],
    ];
    for (const [route, method, status] of cases) {
      const r = await ctl(route, method);
      assert.equal(r.status, status, `${method} ${route}`);
      assert.equal(typeof r.json.error, 'string');
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
    }
  });

  it('instance bad parameters give 400 and change nothing', async (t) => {
    const inst = await instance(t);
    const bad = [
      '/mode?reject=abc',
      '/mode?reject=99',
      '/mode?stall=maybe',
      '/mode?closeOnOpen=1006',
      '/mode?closeOnOpen=5000',
      '/mode?nope=1',
      '/mode?echo=0&mute=banana',
      '/close?code=1005',
      '/close?code=x',
      `/close?reason=${'r'.repeat(124)}`,
      '/send',
      '/frobnicate',
    ];
    for (const route of bad) {
      const r = await ctl(`/instances/${inst.id}${route}`);
      assert.ok(r.status === 400 || r.status === 404, `${route}: ${r.status}`);
    }
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.mode.echo, true, 'partial bad mode update was not applied');
    assert.equal(log.mode.reject, 0);
  });

  it('instance echoes text and binary, answers ping with pong', async (t) => {
    const inst = await instance(t);
    assert.match(inst.id, /^[A-Za-z0-9_-]{1,32}$/);
    assert.equal(inst.url, `ws://127.0.0.1:${inst.port}`);
    assert.notEqual(inst.port, fault.port);
    const ws = await opened(clientsFor(t)(inst.url));
    ws.send('hello');
    ws.send(Buffer.from([1, 2, 3]));
    ws.send('ping');
    const a = await next(ws);
    const b = await next(ws);
    const c = await next(ws);
    assert.deepEqual([a.isBinary, a.text], [false, 'hello']);
    assert.deepEqual([b.isBinary, [...b.data]], [true, [1, 2, 3]]);
    assert.deepEqual([c.isBinary, c.text], [false, 'pong']);
  });

  it('instances are independent (own ports, own logs)', async (t) => {
    const a = await instance(t);
    const b = await instance(t);
    assert.notEqual(a.port, b.port);
    assert.notEqual(a.id, b.id);
    const ws = await opened(clientsFor(t)(a.url));
    ws.send('only-a');
    await next(ws);
    assert.equal((await ok(`/instances/${a.id}/log`, 'GET')).connections.length, 1);
    assert.equal((await ok(`/instances/${b.id}/log`, 'GET')).connections.length, 0);
  });

  it('kill drops connections with 1006 and keeps listening', async (t) => {
    const inst = await instance(t);
    const open = clientsFor(t);
    const ws = await opened(open(inst.url));
    const r = await ok(`/instances/${inst.id}/kill`);
    assert.equal(r.killed, 1);
    assert.equal((await closed(ws)).code, 1006);
    const again = await opened(open(inst.url));
    again.send('x');
    assert.equal((await next(again)).text, 'x');
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.connections[0].closeCode, 1006);
    assert.ok(log.connections[0].closedAt >= log.connections[0].openedAt);
  });

  it('stop refuses connections; start listens again on the same port', async (t) => {
    const inst = await instance(t);
    const open = clientsFor(t);
    const ws = await opened(open(inst.url));
    const stopped = await ok(`/instances/${inst.id}/stop`);
    assert.equal(stopped.killed, 1);
    assert.equal((await closed(ws)).code, 1006);
    assert.equal(await tcpRefused(inst.port), true, 'port refuses while stopped');
    const refused = open(inst.url);
    await assert.rejects(opened(refused), /ECONNREFUSED/);
    assert.equal((await ok('/health', 'GET')).ok, true, 'control API stays up');

    const started = await ok(`/instances/${inst.id}/start`);
    assert.equal(started.port, inst.port);
    const again = await opened(open(inst.url));
    again.send('back');
    assert.equal((await next(again)).text, 'back');
    // start while already listening is harmless
    assert.equal((await ok(`/instances/${inst.id}/start`)).port, inst.port);
  });

  it('reject=503 refuses the upgrade with HTTP 503', async (t) => {
    const inst = await instance(t, '?reject=503');
    const open = clientsFor(t);
    assert.equal((await unexpectedResponse(open(inst.url))).status, 503);
    await ok(`/instances/${inst.id}/mode?reject=429`);
    assert.equal((await unexpectedResponse(open(inst.url))).status, 429);
    await ok(`/instances/${inst.id}/mode?reject=0`);
    await opened(open(inst.url));
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.handshakes, 3);
    assert.equal(log.rejected, 2);
    assert.equal(log.connections.length, 1);
  });

  it('stall leaves the handshake pending until the client gives up', async (t) => {
    const inst = await instance(t);
    await ok(`/instances/${inst.id}/mode?stall=1`);
    const open = clientsFor(t);
    const start = Date.now();
    const ws = open(inst.url, undefined, { handshakeTimeout: 250 });
    await assert.rejects(opened(ws), /handshake has timed out/i);
    assert.ok(Date.now() - start >= 200, 'pending until the client timeout');
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.handshakes, 1);
    assert.equal(log.stalled, 1);
    assert.equal(log.connections.length, 0);

    // stalled sockets are destroyed by kill
    const stuck = open(inst.url);
    let errored = false;
    stuck.on('error', () => (errored = true));
    await waitFor(async () => (await ok(`/instances/${inst.id}/log`, 'GET')).stalled === 2);
    assert.equal(stuck.readyState, WebSocket.CONNECTING);
    assert.ok((await ok(`/instances/${inst.id}/kill`)).killed >= 1);
    await closed(stuck);
    assert.ok(errored);
  });

  it('mute: records but sends nothing (no pong, no echo, no close reply)', async (t) => {
    const inst = await instance(t);
    const ws = await opened(clientsFor(t)(inst.url));
    await ok(`/instances/${inst.id}/mode?mute=1`);
    ws.send('ping');
    ws.send('echo me');
    assert.ok(await silentFor(ws, 300), 'nothing arrives while muted');
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal((await ok(`/instances/${inst.id}/send?text=hi`)).sent, 1);
    assert.ok(await silentFor(ws, 100), '/send is muted too');
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.deepEqual(log.connections[0].received, [
      { type: 'text', data: 'ping' },
      { type: 'text', data: 'echo me' },
    ]);
    // unmute: the same connection works again
    await ok(`/instances/${inst.id}/mode?mute=0`);
    ws.send('ping');
    assert.equal((await next(ws)).text, 'pong');
    // muted peer never answers a close frame (dead peer)
    await ok(`/instances/${inst.id}/mode?mute=1`);
    ws.close(1000, 'bye');
    await assert.rejects(closed(ws, 300), /timeout/);
    assert.equal(ws.readyState, WebSocket.CLOSING);
  });

  it('echo=0 and heartbeat=0 switch off replies', async (t) => {
    const inst = await instance(t, '?echo=0');
    const ws = await opened(clientsFor(t)(inst.url));
    ws.send('not echoed');
    ws.send('ping');
    assert.equal((await next(ws)).text, 'pong');
    await ok(`/instances/${inst.id}/mode?echo=1&heartbeat=0`);
    ws.send('ping');
    assert.equal((await next(ws)).text, 'ping', 'ping echoed as ordinary text');
    assert.ok(await silentFor(ws, 100));
  });

  it('close?code=4001 sends a proper close frame', async (t) => {
    const inst = await instance(t);
    const ws = await opened(clientsFor(t)(inst.url));
    const r = await ok(`/instances/${inst.id}/close?code=4001&reason=bye`);
    assert.equal(r.closed, 1);
    assert.deepEqual(await closed(ws), { code: 4001, reason: 'bye' });
    const log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.connections[0].closeCode, 4001);
    assert.equal(log.connections[0].closeReason, 'bye');
  });

  it('closeOnOpen closes each new connection, optionally after closeAfterMs', async (t) => {
    const inst = await instance(t, '?closeOnOpen=4002');
    const open = clientsFor(t);
    const a = open(inst.url);
    await opened(a);
    assert.deepEqual(await closed(a), { code: 4002, reason: 'closeOnOpen' });

    await ok(`/instances/${inst.id}/mode?closeOnOpen=1013&closeAfterMs=150`);
    const b = open(inst.url);
    await opened(b);
    const t0 = Date.now();
    b.send('still open');
    assert.equal((await next(b)).text, 'still open');
    assert.deepEqual(await closed(b), { code: 1013, reason: 'closeOnOpen' });
    assert.ok(Date.now() - t0 >= 120, `closed after ${Date.now() - t0} ms`);
  });

  it('sendOnOpen greets each connection; /send reaches every open connection', async (t) => {
    const inst = await instance(t, '?sendOnOpen=welcome');
    const open = clientsFor(t);
    const a = open(inst.url);
    const b = open(inst.url);
    await Promise.all([opened(a), opened(b)]);
    assert.equal((await next(a)).text, 'welcome');
    assert.equal((await next(b)).text, 'welcome');
    assert.equal((await ok(`/instances/${inst.id}/send?text=${encodeURIComponent('a b&c')}`)).sent, 2);
    for (const ws of [a, b]) assert.deepEqual([(await next(ws)).text], ['a b&c']);
    assert.equal((await ok(`/instances/${inst.id}/send?base64=AAEC`)).sent, 2);
    const m = await next(a);
    assert.deepEqual([m.isBinary, [...m.data]], [true, [0, 1, 2]]);
  });

  it('log records url, protocols and everything received, in order', async (t) => {
    const inst = await instance(t);
    const open = clientsFor(t);
    const ws = await opened(open(`${inst.url}/room/7?token=abc`, ['alpha', 'beta']));
    assert.equal(ws.protocol, 'alpha', 'default: first offered');
    ws.send('one');
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    ws.send('three');
    for (let i = 0; i < 3; i++) await next(ws);
    ws.close(4005, 'done');
    await closed(ws);

    await ok(`/instances/${inst.id}/mode?protocol=beta`);
    const ws2 = await opened(open(inst.url, ['alpha', 'beta']));
    assert.equal(ws2.protocol, 'beta');

    const log = await waitFor(async () => {
      const l = await ok(`/instances/${inst.id}/log`, 'GET');
      return l.connections[0]?.closeCode === 4005 ? l : null;
    });
    const c = log.connections[0];
    assert.equal(c.n, 1);
    assert.equal(c.url, '/room/7?token=abc');
    assert.deepEqual(c.protocols, ['alpha', 'beta']);
    assert.equal(c.protocol, 'alpha');
    assert.equal(typeof c.openedAt, 'number');
    assert.equal(c.closeReason, 'done');
    assert.deepEqual(c.received, [
      { type: 'text', data: 'one' },
      { type: 'binary', base64: '3q2+7w==', length: 4 },
      { type: 'text', data: 'three' },
    ]);
    const c2 = log.connections[1];
    assert.equal(c2.n, 2);
    assert.equal(c2.protocol, 'beta');
    assert.equal(c2.closedAt, null);
    assert.equal(c2.closeCode, null);
    assert.equal(log.handshakes, 2);
  });

  it('reset clears the log and the mode', async (t) => {
    const inst = await instance(t, '?echo=0&reject=500');
    const open = clientsFor(t);
    await unexpectedResponse(open(inst.url));
    const r = await ok(`/instances/${inst.id}/reset`);
    assert.equal(r.mode.reject, 0);
    assert.equal(r.mode.echo, true);
    let log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.deepEqual([log.handshakes, log.rejected, log.connections.length], [0, 0, 0]);
    const ws = await opened(open(inst.url));
    ws.send('echo again');
    assert.equal((await next(ws)).text, 'echo again');
    log = await ok(`/instances/${inst.id}/log`, 'GET');
    assert.equal(log.connections.length, 1);
  });

  it('delete closes everything and frees the port', async (t) => {
    const inst = await ok('/instances');
    const ws = await opened(clientsFor(t)(inst.url));
    const before = (await ok('/health', 'GET')).instances;
    assert.deepEqual(await ok(`/instances/${inst.id}`, 'DELETE'), { deleted: true });
    assert.equal((await closed(ws)).code, 1006);
    assert.equal(await tcpRefused(inst.port), true);
    assert.equal((await ok('/health', 'GET')).instances, before - 1);
    assert.equal((await ctl(`/instances/${inst.id}/log`, 'GET')).status, 404);
    // the port can be bound again by someone else
    const probe = net.createServer();
    await new Promise((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(inst.port, '127.0.0.1', resolve);
    });
    await new Promise((r) => probe.close(r));
    // POST /instances/ID/delete works too
    const other = await ok('/instances');
    assert.deepEqual(await ok(`/instances/${other.id}/delete`), { deleted: true });
    assert.equal(await tcpRefused(other.port), true);
  });

  it('instance limit answers 429', async () => {
    const small = await startFaultServer({ maxInstances: 2 });
    try {
      const post = (route) => fetch(`${small.url}${route}`, { method: 'POST' });
      assert.equal((await post('/instances')).status, 200);
      assert.equal((await post('/instances')).status, 200);
      const third = await post('/instances');
      assert.equal(third.status, 429);
      assert.equal(typeof (await third.json()).error, 'string');
      assert.equal(small.instances.size, 2);
      assert.equal((await post('/instances/i1/delete')).status, 200);
      assert.equal((await post('/instances')).status, 200);
    } finally {
      await small.close();
    }
  });

  it('survives garbage on the control and instance ports', async (t) => {
    const inst = await instance(t);
    await rawRequest(fault.port, 'NOT HTTP AT ALL\r\n\r\n');
    await rawRequest(inst.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await rawRequest(inst.port, '\x00\x01\x02garbage\r\n\r\n');
    const plain = await request(inst.port, '/');
    assert.equal(plain.status, 426);
    assert.equal((await ok('/health', 'GET')).ok, true);
    const ws = await opened(clientsFor(t)(inst.url));
    ws.send('fine');
    assert.equal((await next(ws)).text, 'fine');
  });

  it('CLI prints one line, serves, and exits on SIGTERM, stdin close and lifetime', async (t) => {
    const script = path.join(REPO, 'tests', 'support', 'fault-server.mjs');
    const run = (env = {}) => {
      const child = spawn(process.execPath, [script], {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      t.after(() => child.kill('SIGKILL'));
      return child;
    };
    const banner = /^fault-server listening on http:\/\/127\.0\.0\.1:(\d+)$/;

    const a = run();
    const line = await withTimeout(firstLine(a.stdout), 3000, 'banner');
    const m = banner.exec(line);
    assert.ok(m, line);
    const health = await (await fetch(`http://127.0.0.1:${m[1]}/health`)).json();
    assert.deepEqual(health, { ok: true, instances: 0 });
    a.kill('SIGTERM');
    assert.equal((await withTimeout(once(a, 'exit'), 2000, 'SIGTERM exit'))[0], 0);

    const b = run();
    assert.match(await withTimeout(firstLine(b.stdout), 3000, 'banner'), banner);
    b.stdin.end();
    assert.equal((await withTimeout(once(b, 'exit'), 2000, 'stdin exit'))[0], 0);

    const c = run({ MAX_LIFETIME_MS: '200' });
    assert.match(await withTimeout(firstLine(c.stdout), 3000, 'banner'), banner);
    assert.equal((await withTimeout(once(c, 'exit'), 2000, 'lifetime exit'))[0], 0);
  });
});
