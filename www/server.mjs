// steadysocket demo server: static files (www/ and the built npm package in pkg/) plus
// WebSocket endpoints on the same port:
//   /echo  echoes every message with the same type; text "ping" is answered with "pong"
//   /chat  tiny broadcast chat (JSON messages), text "ping" is answered with "pong"
//   POST /api/drop?client=ID   cuts (terminates, no close frame: the browser sees 1006)
//          every socket that connected with `?client=ID`, so a visitor can watch a
//          reconnect. Answers JSON { dropped: n } (404 when none matched).
//
// Limits: 1 MiB per message (1009), MAX_CONNECTIONS_PER_IP sockets per IP address
// (the next one is accepted and closed at once with 1013 "try again later").
//
//   node www/server.mjs            # PORT (default 8080), HOST (default 127.0.0.1)
//
// Only dependency: the `ws` package.
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, WebSocket } from 'ws';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export const MAX_PAYLOAD = 1024 * 1024; // 1 MiB
export const MAX_CONNECTIONS_PER_IP = 50;
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
 * `onMessage({ endpoint, client, isBinary, data, text })` is called for every WebSocket
 * message received (heartbeat pings included); tests use it to count deliveries.
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
      say(`http error: ${err && err.message}`);
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
  const wsOptions = { noServer: true, maxPayload: MAX_PAYLOAD, perMessageDeflate: false };
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
    ws.isAlive = true;
    ws.on('pong', () => {
      ws.isAlive = true;
    });
    ws.on('error', (err) => say(`${who} error: ${err.message}`));
    say(`${who} connected`);
    ws.once('close', (code, reason) =>
      say(`${who} disconnected (${code}${reason.length ? ' ' + reason : ''})`),
    );
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
      observed('echo', ws, data, isBinary);
      if (isPing(data, isBinary)) ws.send('pong');
      else ws.send(data, { binary: isBinary });
    });
  });

  const chatNames = new Map(); // ws -> name
  function broadcast(obj) {
    const text = JSON.stringify(obj);
    for (const client of chatWss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    }
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
    ws.send(JSON.stringify({ type: 'welcome', name, users: [...chatNames.values()] }));
    broadcast({ type: 'join', name });
    ws.on('message', (data, isBinary) => {
      observed('chat', ws, data, isBinary);
      if (isPing(data, isBinary)) return ws.send('pong');
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
      say(`upgrade error: ${err && err.message}`);
      socket.destroy();
    }
  });

  // Liveness: protocol ping every interval; terminate clients that missed the last pong.
  const liveness = setInterval(() => {
    for (const wss of [echoWss, chatWss]) {
      for (const ws of wss.clients) {
        if (ws.isAlive === false) {
          ws.terminate();
          continue;
        }
        ws.isAlive = false;
        try {
          ws.ping();
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
