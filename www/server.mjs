// steadysocket demo server: static files (www/ and the built npm package in pkg/) plus
// WebSocket endpoints on the same port:
//   /echo  echoes every message with the same type; text "ping" is answered with "pong"
//   /chat  tiny broadcast chat (JSON messages), text "ping" is answered with "pong"
//   POST /api/drop?client=ID   cuts (terminates, no close frame: the browser sees 1006)
//          every socket that connected with `?client=ID`, so a visitor can watch a
//          reconnect. Answers JSON { dropped: n } (404 when none matched).
//
// Limits (each an option of startServer; defaults in brackets):
//   - 1 MiB per message (1009).
//   - maxConnectionsPerIp [50] open sockets per IP address: the next one is accepted and
//     closed at once with 1013 "try again later".
//   - maxBufferedBytes [1 MiB] queued for sending to one client: a message that would take
//     a client's `bufferedAmount` past it is not queued; the client is closed with 1013
//     "too slow: send buffer full" instead (one message is always let onto an empty
//     buffer, so a 1 MiB echo still works). A client that never reads thus holds at most
//     this much server memory, and one slow chat member cannot hold the room's broadcasts.
//   - messagesPerSecond [100] with a burst of messageBurst [500], per connection (token
//     bucket; heartbeat "ping"s count): the message over the limit is dropped and the
//     socket closed with 1008 "rate limit exceeded" (nothing more from it is handled).
//     0 or Infinity turns the limit off.
//   - A socket the server closes that has not finished the close handshake after
//     closeGraceMs [1000] is destroyed (ws' closeTimeout): a peer that never reads or
//     never answers the close frame does not keep its socket for ws' default 30 s.
//   - Liveness: a protocol ping with a fresh random payload every heartbeatIntervalMs
//     [30 s]; only a pong echoing that payload counts as an answer (unsolicited or stale
//     pongs do not), and a client that has not answered by the next round is terminated.
// Whatever a client supplies (close reasons, names, paths, error texts that quote them)
// goes through `logSafe` before it is logged: control characters are escaped.
//
//   node www/server.mjs            # PORT (default 8080), HOST (default 127.0.0.1)
//
// Only dependency: the `ws` package.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket } from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const MAX_PAYLOAD = 1024 * 1024; // 1 MiB
export const MAX_CONNECTIONS_PER_IP = 50;
export const MAX_BUFFERED_BYTES = 1024 * 1024; // 1 MiB per client
export const MESSAGES_PER_SECOND = 100;
export const MESSAGE_BURST = 500;
export const CLOSE_GRACE_MS = 1000;
/** Client ids accepted in `?client=` (the pages send 32 hex digits). */
export const CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
  "connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; " +
  "base-uri 'none'; frame-ancestors 'none'";

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export function mimeType(file) {
  if (file.endsWith('.d.ts')) return 'text/plain; charset=utf-8';
  return MIME[path.extname(file).toLowerCase()] || 'application/octet-stream';
}

const WS_PATHS = new Set(['/echo', '/chat']);
const noop = () => {};

/** Chat display name: printable, no markup characters, at most 32 characters. */
export function sanitizeName(raw) {
  if (typeof raw !== 'string') return '';
  const cleaned = raw
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} _.\-]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
  return Array.from(cleaned).slice(0, 32).join('').trim();
}

// C0, DEL, C1 (\p{Cc}), line/paragraph separators and the bidi controls that can make a
// log line read as something else.
const UNSAFE_IN_LOG = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Text a client supplied, made safe for a log line: control characters are shown as
 * `\xNN` / `\uNNNN` escapes (no raw CR, LF or ESC reaches the terminal) and the result is
 * cut to `max` characters.
 */
export function logSafe(raw, max = 200) {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw ?? '');
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return cut.replace(UNSAFE_IN_LOG, (c) => {
    const n = c.codePointAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A token bucket: `take()` is false once more than `burst` messages came faster than `perSecond`. */
function rateLimiter(perSecond, burst) {
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) return { take: () => true };
  const capacity = Math.max(1, burst);
  let tokens = capacity;
  let last = performance.now();
  return {
    take() {
      const now = performance.now();
      tokens = Math.min(capacity, tokens + ((now - last) * perSecond) / 1000);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

function guestName() {
  return `guest-${1000 + Math.floor(Math.random() * 9000)}`;
}

function splitUrl(rawUrl) {
  const url = typeof rawUrl === 'string' ? rawUrl : '/';
  const q = url.indexOf('?');
  return { pathname: q === -1 ? url : url.slice(0, q), search: q === -1 ? '' : url.slice(q) };
}

function isInside(dir, file) {
  return file === dir || file.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
}

function sendJson(res, status, obj, extra = {}) {
  const body = Buffer.from(JSON.stringify(obj) + '\n');
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** The client id in a query string (`?client=...`), or null when absent or malformed. */
function clientIdOf(search) {
  try {
    const id = new URLSearchParams(search).get('client');
    return id && CLIENT_ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** True when the request carries an Origin header naming another host (cross-site). */
function crossOrigin(req) {
  const origin = req.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function sendText(res, status, text, extra = {}) {
  const body = Buffer.from(text + '\n');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Resolves a request path to a file, or returns an HTTP status (400/404). */
async function resolveFile(pathname, root, pkgDir) {
  if (!pathname.startsWith('/')) return 400;
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return 400;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return 400;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return 400;

  let base = root;
  let rel = decoded;
  if (decoded === '/pkg' || decoded.startsWith('/pkg/')) {
    base = pkgDir;
    rel = decoded.slice('/pkg'.length) || '/';
  }
  let file = path.resolve(base, '.' + path.posix.normalize(rel));
  if (!isInside(base, file)) return 400;

  let st;
  try {
    st = await fs.stat(file);
    if (st.isDirectory()) {
      file = path.join(file, 'index.html');
      st = await fs.stat(file);
    }
  } catch {
    return 404;
  }
  if (!st.isFile()) return 404;
  // Symlinks must not lead out of the served directory either.
  try {
    const [realBase, realFile] = await Promise.all([fs.realpath(base), fs.realpath(file)]);
    if (!isInside(realBase, realFile)) return 404;
  } catch {
    return 404;
  }
  return { file, size: st.size };
}

/**
 * Starts the demo server. Resolves once listening.
 *
 * `maxConnectionsPerIp` bounds open WebSockets per remote address (over it: close 1013).
 * `maxBufferedBytes` bounds what is queued for one client (over it: close 1013, see the
 * top of this file); `messagesPerSecond` / `messageBurst` rate-limit each connection
 * (over it: close 1008; 0 or Infinity = off); `closeGraceMs` is how long a socket the
 * server closes may take to finish the close handshake before it is terminated.
 * `onMessage({ endpoint, client, isBinary, data, text })` is called for every WebSocket
 * message the server handles (heartbeat pings included; not one past the rate limit nor
 * one that arrives after the server began closing the socket); tests use it to count
 * deliveries.
 * @returns {Promise<{port:number, url:string, wsUrl:string, server:http.Server, close():Promise<void>}>}
 */
export async function startServer({
  port = 8080,
  host = '127.0.0.1',
  root = HERE,
  pkgDir = path.join(HERE, '..', 'pkg'),
  log = console.log,
  heartbeatIntervalMs = 30_000,
  maxConnectionsPerIp = MAX_CONNECTIONS_PER_IP,
  maxBufferedBytes = MAX_BUFFERED_BYTES,
  messagesPerSecond = MESSAGES_PER_SECOND,
  messageBurst = MESSAGE_BURST,
  closeGraceMs = CLOSE_GRACE_MS,
  onMessage = null,
} = {}) {
  root = path.resolve(root);
  pkgDir = path.resolve(pkgDir);
  const say = typeof log === 'function' ? log : noop;

  // ---- HTTP -------------------------------------------------------------------------
  const server = http.createServer(async (req, res) => {
    try {
      res.on('error', noop);
      const { pathname, search } = splitUrl(req.url);
      if (pathname === '/api/drop') return handleDrop(req, res, search);
      if (pathname === '/api/connections') {
        // How many sockets are open (the chat page shows it: with "one connection
        // for all tabs", several tabs are one connection).
        return sendJson(res, 200, { chat: chatWss.clients.size, echo: echoWss.clients.size });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendText(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      }
      if (WS_PATHS.has(pathname)) {
        return sendText(res, 426, 'Upgrade Required: this is a WebSocket endpoint', {
          Upgrade: 'websocket',
          Connection: 'Upgrade',
        });
      }
      const found = await resolveFile(pathname === '/' ? '/index.html' : pathname, root, pkgDir);
      if (typeof found === 'number') {
        return sendText(res, found, found === 404 ? 'Not Found' : 'Bad Request');
      }
      const headers = {
        'Content-Type': mimeType(found.file),
        'Content-Length': found.size,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      };
      if (/\.html?$/i.test(found.file)) {
        headers['Content-Security-Policy'] = CSP;
      }
      if (req.method === 'HEAD') {
        res.writeHead(200, headers);
        return res.end();
      }
      const body = await fs.readFile(found.file);
      headers['Content-Length'] = body.length;
      res.writeHead(200, headers);
      res.end(body);
    } catch (err) {
      say(`http error: ${logSafe(err && err.message)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    }
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable && !socket.destroyed) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  });

  // ---- WebSockets -------------------------------------------------------------------
  // closeTimeout: a socket the server closes is destroyed if the close handshake is not
  // done by then (a peer that does not read never even sees the close frame).
  const wsOptions = {
    noServer: true,
    maxPayload: MAX_PAYLOAD,
    perMessageDeflate: false,
    closeTimeout: closeGraceMs,
  };
  const echoWss = new WebSocketServer(wsOptions);
  const chatWss = new WebSocketServer(wsOptions);
  echoWss.on('error', noop);
  chatWss.on('error', noop);
  let seq = 0;
  const byClient = new Map(); // client id -> Set<ws>
  const perIp = new Map(); // remote address -> open socket count

  function handleDrop(req, res, search) {
    if (req.method !== 'POST') {
      return sendJson(res, 405, { error: 'use POST' }, { Allow: 'POST' });
    }
    if (crossOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request' });
    const client = clientIdOf(search);
    if (!client) return sendJson(res, 400, { error: 'missing or malformed ?client=' });
    const sockets = [...(byClient.get(client) || [])];
    for (const ws of sockets) ws.terminate();
    if (sockets.length) say(`dropped client ${client} (${sockets.length} socket(s))`);
    req.resume();
    return sendJson(res, sockets.length ? 200 : 404, { dropped: sockets.length });
  }

  /**
   * Queues `data` for `ws` unless that would take its send buffer past maxBufferedBytes:
   * then the client is closed (1013) instead, and nothing more is sent to it.
   * `size` is the byte length of `data` (a broadcast computes it once for everyone).
   */
  function sendTo(ws, data, size, options) {
    if (ws.readyState !== WebSocket.OPEN) return false;
    const buffered = ws.bufferedAmount;
    if (buffered > 0 && buffered + size > maxBufferedBytes) {
      say(`${ws.who} too slow: ${buffered} bytes buffered (limit ${maxBufferedBytes}): closing`);
      ws.close(1013, 'too slow: send buffer full');
      return false;
    }
    ws.send(data, options);
    return true;
  }

  /** Counts the socket against its IP; false (and a 1013 close) when over the limit. */
  function admit(ws, req, kind) {
    const ip = req.socket.remoteAddress || '?';
    const n = perIp.get(ip) || 0;
    if (n >= maxConnectionsPerIp) {
      say(`${kind} ${ip} refused: ${n} connections from this address`);
      ws.on('error', noop);
      ws.close(1013, 'try again later');
      return false;
    }
    perIp.set(ip, n + 1);
    ws.once('close', () => {
      const left = (perIp.get(ip) || 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
    return true;
  }

  function track(ws, req, kind) {
    const id = ++seq;
    const client = clientIdOf(splitUrl(req.url).search);
    const who =
      `${kind}#${id} ${req.socket.remoteAddress}:${req.socket.remotePort}` +
      (client ? ` client=${client.slice(0, 8)}` : '');
    if (client) {
      if (!byClient.has(client)) byClient.set(client, new Set());
      byClient.get(client).add(ws);
      ws.once('close', () => {
        const set = byClient.get(client);
        set?.delete(ws);
        if (set && set.size === 0) byClient.delete(client);
      });
    }
    ws.client = client;
    ws.who = who;
    ws.limiter = rateLimiter(messagesPerSecond, messageBurst);
    // The payload of the ping awaiting its pong (null: none outstanding). Only a pong
    // that echoes it counts: an unsolicited or replayed pong keeps nothing alive.
    ws.pingPayload = null;
    ws.on('pong', (data) => {
      if (ws.pingPayload && Buffer.isBuffer(data) && data.equals(ws.pingPayload)) ws.pingPayload = null;
    });
    ws.on('error', (err) => say(`${who} error: ${logSafe(err.message)}`));
    say(`${who} connected`);
    ws.once('close', (code, reason) =>
      say(`${who} disconnected (${code}${reason.length ? ' ' + logSafe(reason) : ''})`),
    );
  }

  /**
   * True when a message just received from `ws` is to be handled: the socket is open and
   * within its rate limit. Over the limit it is closed with 1008.
   */
  function accept(ws) {
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.limiter.take()) return true;
    say(`${ws.who} rate limit: over ${messagesPerSecond} messages/s (burst ${messageBurst}): closing`);
    ws.close(1008, 'rate limit exceeded');
    return false;
  }

  const isPing = (data, isBinary) => !isBinary && data.length === 4 && data.toString() === 'ping';

  const observe = typeof onMessage === 'function' ? onMessage : null;
  function observed(endpoint, ws, data, isBinary) {
    if (!observe) return;
    try {
      observe({ endpoint, client: ws.client, isBinary, data, text: isBinary ? null : data.toString() });
    } catch {
      // a failing observer must not break the server
    }
  }

  echoWss.on('connection', (ws, req) => {
    if (!admit(ws, req, 'echo')) return;
    track(ws, req, 'echo');
    ws.on('message', (data, isBinary) => {
      if (!accept(ws)) return;
      observed('echo', ws, data, isBinary);
      if (isPing(data, isBinary)) sendTo(ws, 'pong', 4);
      else sendTo(ws, data, data.length, { binary: isBinary });
    });
  });

  const chatNames = new Map(); // ws -> name
  function broadcast(obj) {
    // One Buffer for the whole room (ws sends it to each client without a copy).
    const data = Buffer.from(JSON.stringify(obj));
    for (const client of chatWss.clients) sendTo(client, data, data.length, { binary: false });
  }
  chatWss.on('connection', (ws, req) => {
    if (!admit(ws, req, 'chat')) return;
    track(ws, req, 'chat');
    let name = '';
    try {
      name = sanitizeName(new URLSearchParams(splitUrl(req.url).search).get('name') || '');
    } catch {
      name = '';
    }
    if (!name) name = guestName();
    chatNames.set(ws, name);
    const welcome = JSON.stringify({ type: 'welcome', name, users: [...chatNames.values()] });
    sendTo(ws, welcome, Buffer.byteLength(welcome));
    broadcast({ type: 'join', name });
    ws.on('message', (data, isBinary) => {
      if (!accept(ws)) return;
      observed('chat', ws, data, isBinary);
      if (isPing(data, isBinary)) return sendTo(ws, 'pong', 4);
      if (isBinary) return ws.close(1003, 'text messages only');
      broadcast({ type: 'message', from: name, text: data.toString(), time: Date.now() });
    });
    ws.once('close', () => {
      chatNames.delete(ws);
      broadcast({ type: 'leave', name });
    });
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', noop);
    try {
      const { pathname } = splitUrl(req.url);
      const wss = pathname === '/echo' ? echoWss : pathname === '/chat' ? chatWss : null;
      if (!wss) {
        const body = 'Not Found\n';
        socket.once('finish', () => socket.destroy());
        socket.end(
          'HTTP/1.1 404 Not Found\r\nConnection: close\r\n' +
            'Content-Type: text/plain; charset=utf-8\r\n' +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (err) {
      say(`upgrade error: ${logSafe(err && err.message)}`);
      socket.destroy();
    }
  });

  // Liveness: a protocol ping with a fresh random payload every interval; a client whose
  // last ping is still unanswered (no pong echoing its payload) is terminated. A socket
  // that is already closing gets no ping, so it is terminated on the next round.
  const liveness = setInterval(() => {
    for (const wss of [echoWss, chatWss]) {
      for (const ws of wss.clients) {
        if (ws.pingPayload) {
          ws.terminate();
          continue;
        }
        ws.pingPayload = randomBytes(8);
        if (ws.readyState !== WebSocket.OPEN) continue;
        try {
          ws.ping(ws.pingPayload);
        } catch {
          ws.terminate();
        }
      }
    }
  }, heartbeatIntervalMs);
  liveness.unref();

  await new Promise((resolve, reject) => {
    const onError = (err) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => say(`server error: ${err.message}`));

  const actualPort = server.address().port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${actualPort}/`;

  let closing = null;
  function close() {
    if (closing) return closing;
    closing = (async () => {
      clearInterval(liveness);
      server.close();
      server.closeAllConnections?.();
      const clients = [...echoWss.clients, ...chatWss.clients];
      const done = clients.map((ws) =>
        ws.readyState === WebSocket.CLOSED ? null : new Promise((r) => ws.once('close', r)),
      );
      for (const ws of clients) {
        try {
          ws.close(1001, 'server shutting down');
        } catch {
          ws.terminate();
        }
      }
      // Give peers a moment to answer the close frame, then cut the rest.
      let timer;
      await Promise.race([
        Promise.all(done),
        new Promise((r) => {
          timer = setTimeout(r, 1000);
        }),
      ]);
      clearTimeout(timer);
      for (const ws of clients) ws.terminate();
      echoWss.close();
      chatWss.close();
      await new Promise((r) => (server.listening ? server.close(() => r()) : r()));
    })();
    return closing;
  }

  return {
    port: actualPort,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    server,
    close,
  };
}

// ---- CLI ----------------------------------------------------------------------------
const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const port = Number(process.env.PORT || 8080);
  const host = process.env.HOST || '127.0.0.1';
  startServer({ port, host }).then(
    (srv) => {
      console.log(`steadysocket demo: ${srv.url}`);
      let stopping = false;
      const stop = (sig) => {
        if (stopping) return;
        stopping = true;
        console.log(`${sig}: shutting down`);
        const force = setTimeout(() => process.exit(0), 3000);
        force.unref();
        srv.close().then(() => process.exit(0), () => process.exit(0));
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    },
    (err) => {
      console.error(`steadysocket demo: cannot listen on ${host}:${port}: ${err.message}`);
      process.exit(1);
    },
  );
}
