// steadysocket demo server: static files (www/ and the built npm package in pkg/) plus
// WebSocket endpoints on the same port:
//   /echo  echoes every message with the same type; text "ping" is answered with "pong"
//   /chat  tiny broadcast chat (JSON messages), text "ping" is answered with "pong"
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
 * @returns {Promise<{port:number, url:string, wsUrl:string, server:http.Server, close():Promise<void>}>}
 */
export async function startServer({
  port = 8080,
  host = '127.0.0.1',
  root = HERE,
  pkgDir = path.join(HERE, '..', 'pkg'),
  log = console.log,
  heartbeatIntervalMs = 30_000,
} = {}) {
  root = path.resolve(root);
  pkgDir = path.resolve(pkgDir);
  const say = typeof log === 'function' ? log : noop;

  // ---- HTTP -------------------------------------------------------------------------
  const server = http.createServer(async (req, res) => {
    try {
      res.on('error', noop);
      const { pathname } = splitUrl(req.url);
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

  function track(ws, req, kind) {
    const id = ++seq;
    const who = `${kind}#${id} ${req.socket.remoteAddress}:${req.socket.remotePort}`;
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

  echoWss.on('connection', (ws, req) => {
    track(ws, req, 'echo');
    ws.on('message', (data, isBinary) => {
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
