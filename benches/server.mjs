// The benchmark server: static files for the bench page and the contenders, and one
// WebSocket endpoint (Node `ws`, perMessageDeflate off, 127.0.0.1 only):
//   /echo   echoes every message with its type; the text "flood N SIZE" instead
//           makes the server send N text messages of SIZE bytes;
//   /drop   closes every connection (1001) right after it opens (reconnect cycles).
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MOUNTS = {
  '/bench/': path.join(ROOT, 'benches/web'),
  '/pkg/': path.join(ROOT, 'pkg'),
  '/rust/': path.join(ROOT, 'target/bench-web'),
  '/rws/': path.join(ROOT, 'node_modules/reconnecting-websocket/dist'),
};
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

export async function startBenchServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    for (const [prefix, dir] of Object.entries(MOUNTS)) {
      if (!url.pathname.startsWith(prefix)) continue;
      const file = path.normalize(path.join(dir, url.pathname.slice(prefix.length) || 'index.html'));
      if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) break;
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
        'cache-control': 'no-store',
      });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404).end('not found');
  });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 24 });
  server.on('upgrade', (req, socket, head) => {
    const { pathname } = new URL(req.url, 'http://x');
    if (pathname !== '/echo' && pathname !== '/drop') {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => {});
      if (pathname === '/drop') {
        ws.close(1001, 'drop');
        return;
      }
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.length < 40) {
          const m = /^flood (\d+) (\d+)$/.exec(data.toString());
          if (m) {
            const text = 'x'.repeat(Number(m[2]));
            for (let i = 0; i < Number(m[1]); i++) ws.send(text);
            return;
          }
        }
        ws.send(data, { binary: isBinary });
      });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.close(resolve);
      }),
  };
}
