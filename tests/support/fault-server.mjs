// Fault-injecting WebSocket test server for the browser tests.
//
// A CONTROL server (HTTP + JSON, CORS-open, always up) creates independent WebSocket
// "instances", each listening on its own fresh 127.0.0.1 port, whose behaviour can be
// changed at run time (kill, stop/start listening, reject, stall, mute, close, ...).
//
//   node tests/support/fault-server.mjs
//     prints exactly one line: "fault-server listening on http://127.0.0.1:PORT"
//     env: CONTROL_PORT (default 0 = any free port), MAX_LIFETIME_MS (default 30 min)
//     exits on SIGTERM/SIGINT, when stdin (if it is a pipe/socket) closes, or after
//     MAX_LIFETIME_MS.
//
// Every control route accepts GET or POST; parameters come in the query string.
//   /health                      -> { ok, instances }
//   /instances?<mode>            -> { id, port, url }           (create; 429 over the limit)
//   /instances/ID/kill[?rst=1]   -> { killed }                  (destroy all TCP connections)
//   /instances/ID/stop           -> { stopped: true, killed }   (stop listening + destroy all)
//   /instances/ID/start          -> { port }                    (listen again, same port)
//   /instances/ID/mode?<mode>    -> { mode }
//   /instances/ID/close?code&reason[&linger=ms] -> { closed }   (graceful close frame; with
//                                linger: the TCP connection stays, unread, for ms first)
//   /instances/ID/pause          -> { paused }                  (stop reading open connections)
//   /instances/ID/send?text=...  (or ?base64=... for binary) -> { sent }
//   /instances/ID/log            -> { connections, handshakes, rejected, stalled, ... }
//   /instances/ID/reset          -> { reset: true, mode }
//   /instances/ID/delete  or  DELETE /instances/ID -> { deleted: true }
// <mode> keys: reject, stall, mute, echo, heartbeat, closeOnOpen, closeAfterMs,
//              sendOnOpen, protocol, record, auth (a token: "auth TOKEN" -> "ok").
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket } from 'ws';

const noop = () => {};
const HOST = '127.0.0.1';
const MAX_PAYLOAD = 16 * 1024 * 1024;
// Recording limits per instance (keeps memory bounded during benchmarks).
const MAX_RECORDED_MESSAGES = 100_000;
const MAX_RECORDED_BYTES = 64 * 1024 * 1024;

export const DEFAULT_MODE = Object.freeze({
  reject: 0,
  stall: false,
  mute: false,
  echo: true,
  heartbeat: true,
  closeOnOpen: 0,
  closeAfterMs: 0,
  sendOnOpen: '',
  auth: '',
  protocol: '',
  record: true,
});

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function parseBool(key, v) {
  if (v === '1' || v === 'true' || v === 'yes' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'no' || v === 'off' || v === '') return false;
  throw new HttpError(400, `bad value for ${key}: ${JSON.stringify(v)} (use 1 or 0)`);
}

function parseInt10(key, v, min, max) {
  if (!/^\d{1,10}$/.test(v)) throw new HttpError(400, `bad value for ${key}: ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new HttpError(400, `${key} out of range [${min}, ${max}]: ${n}`);
  return n;
}

function validCloseCode(code) {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

function parseCloseCode(key, v) {
  const n = parseInt10(key, v, 0, 4999);
  if (!validCloseCode(n)) throw new HttpError(400, `${key}: ${n} is not a sendable close code`);
  return n;
}

function parseReason(v) {
  if (Buffer.byteLength(v) > 123) throw new HttpError(400, 'reason longer than 123 UTF-8 bytes');
  return v;
}

const MODE_PARSERS = {
  reject: (v) => {
    const n = parseInt10('reject', v, 0, 599);
    if (n !== 0 && (n < 200 || n === 101)) throw new HttpError(400, `reject: bad status ${n}`);
    return n;
  },
  stall: (v) => parseBool('stall', v),
  mute: (v) => parseBool('mute', v),
  echo: (v) => parseBool('echo', v),
  heartbeat: (v) => parseBool('heartbeat', v),
  record: (v) => parseBool('record', v),
  closeOnOpen: (v) => (v === '0' || v === '' ? 0 : parseCloseCode('closeOnOpen', v)),
  closeAfterMs: (v) => parseInt10('closeAfterMs', v, 0, 600_000),
  sendOnOpen: (v) => v,
  auth: (v) => v,
  protocol: (v) => v,
};

/** Parses mode keys from URLSearchParams; throws HttpError(400) on unknown keys or bad values. */
export function parseMode(params, allowed = null) {
  const out = {};
  for (const [key, value] of params) {
    if (allowed && !allowed.includes(key)) throw new HttpError(400, `unknown parameter: ${key}`);
    const parser = MODE_PARSERS[key];
    if (!parser) throw new HttpError(400, `unknown mode key: ${key}`);
    out[key] = parser(value);
  }
  return out;
}

function rawHttpResponse(status, body) {
  const text = `${body}\n`;
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] || 'Unknown'}\r\n` +
    'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}

class Instance {
  constructor(id) {
    this.id = id;
    this.port = 0;
    this.mode = { ...DEFAULT_MODE };
    this.sockets = new Set(); // every raw TCP connection
    this.live = new Set(); // { ws, entry, timers }
    this.queue = Promise.resolve(); // serialises stop/start/delete
    this.deleted = false;
    this.resetLog();

    this.server = http.createServer((req, res) => {
      res.on('error', noop);
      const body = 'Upgrade Required: this is a WebSocket endpoint\n';
      res.writeHead(426, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        Upgrade: 'websocket',
        'Access-Control-Allow-Origin': '*',
      });
      res.end(body);
    });
    this.server.on('error', noop);
    this.server.on('clientError', (err, socket) => socket.destroy());
    this.server.on('connection', (socket) => {
      socket.on('error', noop);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));

    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: MAX_PAYLOAD,
      autoPong: false, // answered by hand so that mute also silences protocol pongs
      handleProtocols: (offered) => {
        if (this.mode.protocol && offered.has(this.mode.protocol)) return this.mode.protocol;
        for (const p of offered) return p;
        return false;
      },
    });
    this.wss.on('error', noop);
  }

  resetLog() {
    this.connections = [];
    this.handshakes = 0;
    this.rejected = 0;
    this.stalled = 0;
    this.recordedMessages = 0;
    this.recordedBytes = 0;
    this.truncated = false;
  }

  get listening() {
    return this.server.listening;
  }

  listen(port) {
    return new Promise((resolve, reject) => {
      const onError = (err) => {
        this.server.off('listening', onListening);
        reject(err);
      };
      const onListening = () => {
        this.server.off('error', onError);
        resolve(this.server.address().port);
      };
      this.server.once('error', onError);
      this.server.once('listening', onListening);
      this.server.listen(port, HOST);
    });
  }

  async start() {
    if (this.listening) return this.port;
    for (let attempt = 0; ; attempt++) {
      try {
        this.port = await this.listen(this.port);
        return this.port;
      } catch (err) {
        if (err.code !== 'EADDRINUSE' || attempt >= 40) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  killAll(rst = false) {
    let n = 0;
    for (const socket of this.sockets) {
      n++;
      if (rst && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
    }
    for (const { ws } of this.live) ws.terminate();
    return n;
  }

  async stop() {
    const wasListening = this.listening;
    const closed = wasListening
      ? new Promise((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    const killed = this.killAll();
    this.server.closeAllConnections?.();
    await closed;
    return killed;
  }

  onUpgrade(req, socket, head) {
    socket.on('error', noop);
    this.handshakes++;
    try {
      if (this.mode.reject) {
        this.rejected++;
        socket.once('finish', () => socket.destroy());
        socket.end(rawHttpResponse(this.mode.reject, `rejected by fault-server (${this.mode.reject})`));
        return;
      }
      if (this.mode.stall) {
        // Keep the TCP connection open and never answer; destroyed by kill/stop/delete.
        this.stalled++;
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, socket));
    } catch {
      socket.destroy();
    }
  }

  onConnection(ws, req, socket) {
    const inst = this;
    const entry = {
      n: this.connections.length + 1,
      url: req.url,
      protocols: String(req.headers['sec-websocket-protocol'] || '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      protocol: ws.protocol || '',
      openedAt: Date.now(),
      closedAt: null,
      closeCode: null,
      closeReason: null,
      received: [],
    };
    this.connections.push(entry);
    const conn = { ws, entry, timers: new Set() };
    this.live.add(conn);

    // Mute: swallow everything ws writes to this socket (frames, pongs, close frames and
    // even the FIN), so that the peer sees a connection that is open but silent.
    const realWrite = socket.write;
    const realEnd = socket.end;
    socket.write = function (chunk, encoding, cb) {
      if (inst.mode.mute) {
        const done = typeof encoding === 'function' ? encoding : cb;
        if (typeof done === 'function') process.nextTick(done);
        return true;
      }
      return realWrite.apply(this, arguments);
    };
    socket.end = function (...args) {
      if (inst.mode.mute && !this.readableEnded) return this;
      return realEnd.apply(this, args);
    };

    ws.on('error', noop);
    ws.on('ping', (data) => {
      if (!inst.mode.mute && ws.readyState === WebSocket.OPEN) ws.pong(data);
    });
    ws.on('message', (data, isBinary) => {
      this.record(entry, data, isBinary);
      if (this.mode.mute) return;
      if (
        this.mode.heartbeat &&
        !isBinary &&
        data.length === 4 &&
        data.toString() === 'ping'
      ) {
        ws.send('pong');
        return;
      }
      // auth=TOKEN: "auth TOKEN" is answered "ok", any other "auth ..." "denied";
      // what comes before a successful auth is marked in the log (beforeAuth).
      if (this.mode.auth && !isBinary && data.toString().startsWith('auth ')) {
        const good = data.toString() === `auth ${this.mode.auth}`;
        if (good) entry.authed = true;
        ws.send(good ? 'ok' : 'denied');
        return;
      }
      if (this.mode.auth && !entry.authed) {
        const last = entry.received.at(-1);
        if (last) last.beforeAuth = true;
      }
      if (this.mode.echo) ws.send(data, { binary: isBinary });
    });
    ws.once('close', (code, reason) => {
      entry.closedAt = Date.now();
      entry.closeCode = code;
      entry.closeReason = reason.toString();
      for (const t of conn.timers) clearTimeout(t);
      this.live.delete(conn);
    });

    const { sendOnOpen, closeOnOpen, closeAfterMs } = this.mode;
    if (sendOnOpen) ws.send(sendOnOpen);
    if (closeOnOpen) {
      const doClose = () => {
        if (ws.readyState === WebSocket.OPEN) ws.close(closeOnOpen, 'closeOnOpen');
      };
      if (closeAfterMs > 0) {
        const t = setTimeout(() => {
          conn.timers.delete(t);
          doClose();
        }, closeAfterMs);
        conn.timers.add(t);
      } else {
        doClose();
      }
    }
  }

  record(entry, data, isBinary) {
    if (!this.mode.record) return;
    if (
      this.recordedMessages >= MAX_RECORDED_MESSAGES ||
      this.recordedBytes + data.length > MAX_RECORDED_BYTES
    ) {
      this.truncated = true;
      return;
    }
    this.recordedMessages++;
    this.recordedBytes += data.length;
    entry.received.push(isBinary ? { binary: data } : { type: 'text', data: data.toString() });
  }

  snapshot() {
    return {
      id: this.id,
      port: this.port,
      listening: this.listening,
      mode: { ...this.mode },
      open: this.live.size,
      handshakes: this.handshakes,
      rejected: this.rejected,
      stalled: this.stalled,
      truncated: this.truncated,
      connections: this.connections.map((c) => ({
        ...c,
        received: c.received.map((m) =>
          m.binary
            ? { type: 'binary', base64: m.binary.toString('base64'), length: m.binary.length }
            : m,
        ),
      })),
    };
  }

  openConnections() {
    return [...this.live].filter(({ ws }) => ws.readyState === WebSocket.OPEN);
  }
}

/**
 * Starts the control server.
 * @returns {Promise<{port:number, url:string, close():Promise<void>, instances:Map}>}
 */
export async function startFaultServer({
  port = 0,
  host = HOST,
  maxInstances = 200,
  maxLifetimeMs = 30 * 60 * 1000,
  onExpire = null,
} = {}) {
  const instances = new Map();
  let nextId = 1;

  function getInstance(id) {
    const inst = instances.get(id);
    if (!inst) throw new HttpError(404, `unknown instance: ${id}`);
    return inst;
  }

  function serialised(inst, fn) {
    const run = inst.queue.then(fn, fn);
    inst.queue = run.catch(noop);
    return run;
  }

  async function deleteInstance(inst) {
    instances.delete(inst.id);
    inst.deleted = true;
    await serialised(inst, () => inst.stop());
    inst.wss.close();
  }

  async function route(method, pathname, params) {
    if (method === 'DELETE' && !pathname.startsWith('/instances/')) {
      throw new HttpError(405, 'DELETE is only for /instances/ID');
    }
    if (pathname === '/health') return { ok: true, instances: instances.size };

    if (pathname === '/instances') {
      const mode = parseMode(params);
      if (instances.size >= maxInstances) {
        throw new HttpError(429, `too many instances (limit ${maxInstances})`);
      }
      const id = `i${nextId++}`;
      const inst = new Instance(id);
      Object.assign(inst.mode, mode);
      instances.set(id, inst);
      try {
        await inst.start();
      } catch (err) {
        instances.delete(id);
        throw err;
      }
      return { id, port: inst.port, url: `ws://${HOST}:${inst.port}` };
    }

    const m = /^\/instances\/([A-Za-z0-9_-]{1,32})(?:\/([A-Za-z]+))?\/?$/.exec(pathname);
    if (!m) throw new HttpError(404, `no such route: ${pathname}`);
    const inst = getInstance(m[1]);
    const action = m[2] || (method === 'DELETE' ? 'delete' : null);
    if (method === 'DELETE' && action !== 'delete') {
      throw new HttpError(405, 'DELETE is only for /instances/ID');
    }
    const only = (...keys) => {
      for (const key of params.keys()) {
        if (!keys.includes(key)) throw new HttpError(400, `unknown parameter: ${key}`);
      }
    };

    switch (action) {
      case null:
      case 'log':
        only();
        return inst.snapshot();
      case 'kill': {
        only('rst');
        const rst = params.has('rst') ? parseBool('rst', params.get('rst')) : false;
        return { killed: inst.killAll(rst) };
      }
      case 'stop': {
        only();
        const killed = await serialised(inst, () => inst.stop());
        return { stopped: true, killed };
      }
      case 'start': {
        only();
        const p = await serialised(inst, () => inst.start());
        return { port: p };
      }
      case 'mode': {
        Object.assign(inst.mode, parseMode(params));
        return { mode: { ...inst.mode } };
      }
      case 'close': {
        only('code', 'reason', 'linger');
        const code = params.has('code') ? parseCloseCode('code', params.get('code')) : 1000;
        const reason = parseReason(params.get('reason') || '');
        const linger = params.has('linger') ? parseInt10('linger', params.get('linger'), 1, 10_000) : 0;
        const open = inst.openConnections();
        for (const { ws } of open) {
          if (!linger) {
            ws.close(code, reason);
            continue;
          }
          // A close frame, then `linger` ms in which the server reads nothing (so
          // the client's close reply goes unanswered) before the TCP connection
          // goes: the browser's socket is CLOSING, its close event still to come.
          const socket = ws._socket;
          const body = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
          socket.write(Buffer.concat([Buffer.from([0x88, body.length]), body]));
          socket.pause();
          setTimeout(() => socket.destroy(), linger).unref();
        }
        return { closed: open.length };
      }
      case 'pause': {
        // Stop reading from every open connection (a server that stops reading):
        // the client's sends pile up in its kernel buffer, then its bufferedAmount.
        only();
        const open = inst.openConnections();
        for (const { ws } of open) ws._socket.pause();
        return { paused: open.length };
      }
      case 'send': {
        only('text', 'base64');
        let payload;
        let binary = false;
        if (params.has('text')) {
          payload = params.get('text');
        } else if (params.has('base64')) {
          const b64 = params.get('base64');
          if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(b64)) throw new HttpError(400, 'bad base64');
          payload = Buffer.from(b64, 'base64');
          binary = true;
        } else {
          throw new HttpError(400, 'send needs ?text=... or ?base64=...');
        }
        const open = inst.openConnections();
        for (const { ws } of open) ws.send(payload, { binary });
        return { sent: open.length };
      }
      case 'reset': {
        only();
        inst.resetLog();
        inst.mode = { ...DEFAULT_MODE };
        return { reset: true, mode: { ...inst.mode } };
      }
      case 'delete': {
        only();
        await deleteInstance(inst);
        return { deleted: true };
      }
      default:
        throw new HttpError(404, `no such route: ${pathname}`);
    }
  }

  const CORS = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Methods': 'GET, POST, DELETE, OPTIONS',
    'Access-Control-Allow-Headers': 'content-type',
    'Access-Control-Max-Age': '600',
  };

  function reply(res, status, obj) {
    if (res.headersSent || res.destroyed) return;
    const body = Buffer.from(JSON.stringify(obj));
    res.writeHead(status, {
      ...CORS,
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': body.length,
      'Cache-Control': 'no-store',
    });
    res.end(body);
  }

  const server = http.createServer(async (req, res) => {
    res.on('error', noop);
    req.on('error', noop);
    req.resume(); // parameters are in the query string; drain any body
    try {
      if (req.method === 'OPTIONS') {
        const headers = { ...CORS, 'Content-Length': 0 };
        if (req.headers['access-control-request-private-network']) {
          headers['Access-Control-Allow-Private-Network'] = 'true';
        }
        res.writeHead(204, headers);
        return res.end();
      }
      if (!['GET', 'POST', 'DELETE', 'HEAD'].includes(req.method)) {
        throw new HttpError(405, `method not allowed: ${req.method}`);
      }
      let url;
      try {
        url = new URL(req.url, 'http://localhost');
      } catch {
        throw new HttpError(400, 'bad url');
      }
      const result = await route(req.method, url.pathname, url.searchParams);
      reply(res, 200, result);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      reply(res, status, { error: err && err.message ? err.message : String(err) });
    }
  });
  server.on('error', noop);
  server.on('clientError', (err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  let closing = null;
  async function close() {
    if (closing) return closing;
    closing = (async () => {
      clearTimeout(lifetime);
      const all = [...instances.values()];
      await Promise.all(all.map((inst) => deleteInstance(inst).catch(noop)));
      await new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    })();
    return closing;
  }

  const lifetime = setTimeout(() => {
    close().finally(() => onExpire && onExpire());
  }, maxLifetimeMs);
  lifetime.unref();

  return { port: actualPort, url: `http://${HOST}:${actualPort}`, instances, close };
}

// ---- CLI ----------------------------------------------------------------------------
const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.CONTROL_PORT || 0);
  const maxLifetimeMs = Number(process.env.MAX_LIFETIME_MS || 30 * 60 * 1000);
  let srv = null;
  let exiting = false;
  const shutdown = (why) => {
    if (exiting) return;
    exiting = true;
    process.stderr.write(`fault-server: ${why}, exiting\n`);
    setTimeout(() => process.exit(0), 2000).unref();
    (srv ? srv.close() : Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    process.stderr.write(`fault-server: uncaught ${err && err.stack}\n`);
  });
  // Exit when the parent's stdin pipe closes. /dev/null or a TTY is not watched, so that
  // `node fault-server.mjs &` in a script does not exit at once.
  try {
    const st = fs.fstatSync(0);
    if (st.isFIFO() || st.isSocket()) {
      process.stdin.on('end', () => shutdown('stdin closed'));
      process.stdin.on('close', () => shutdown('stdin closed'));
      process.stdin.on('error', () => shutdown('stdin error'));
      process.stdin.resume();
    }
  } catch {
    // no stdin at all
  }
  startFaultServer({
    port,
    maxLifetimeMs: Number.isFinite(maxLifetimeMs) && maxLifetimeMs > 0 ? maxLifetimeMs : 1_800_000,
    onExpire: () => shutdown('MAX_LIFETIME_MS reached'),
  }).then(
    (s) => {
      srv = s;
      process.stdout.write(`fault-server listening on ${s.url}\n`);
    },
    (err) => {
      process.stderr.write(`fault-server: cannot listen: ${err.message}\n`);
      process.exit(1);
    },
  );
}
