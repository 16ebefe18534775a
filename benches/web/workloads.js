// The JS workloads, the same for every JS contender: `make(url)` returns an object
// with the WebSocket surface (onopen, onmessage, send, close, binaryType).

const opened = (ws) =>
  new Promise((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('connection failed'));
  });

function receive(ws, n) {
  return new Promise((resolve) => {
    let got = 0;
    ws.onmessage = () => {
      if (++got === n) resolve();
    };
  });
}

/** `n` messages sent back to back, then all echoes received; returns ms. */
export async function pipelined(make, url, n, size, binary) {
  const ws = make(url);
  ws.binaryType = 'arraybuffer';
  await opened(ws);
  const message = binary ? new Uint8Array(size).fill(7) : 'x'.repeat(size);
  const done = receive(ws, n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(message);
  await done;
  const elapsed = performance.now() - t0;
  ws.close();
  return elapsed;
}

/** `n` sequential round trips; returns each round-trip time in ms. */
export async function pingpong(make, url, n, size) {
  const ws = make(url);
  await opened(ws);
  const message = 'x'.repeat(size);
  const rtts = [];
  for (let i = 0; i < n; i++) {
    const back = receive(ws, 1);
    const t0 = performance.now();
    ws.send(message);
    await back;
    rtts.push(performance.now() - t0);
  }
  ws.close();
  return rtts;
}

/** Receive-only: the server sends `n` messages of `size` bytes; returns ms. */
export async function flood(make, url, n, size) {
  const ws = make(url);
  await opened(ws);
  const done = receive(ws, n);
  const t0 = performance.now();
  ws.send(`flood ${n} ${size}`);
  await done;
  const elapsed = performance.now() - t0;
  ws.close();
  return elapsed;
}

/** The contenders that run as JS in the page. */
export async function jsContenders() {
  const { SteadySocket } = await import('/pkg/steadysocket.js');
  const { default: ReconnectingWebSocket } = await import('/rws/reconnecting-websocket-mjs.js');
  return {
    'raw WebSocket': (url) => new WebSocket(url),
    'SteadySocket (JS)': (url) => new SteadySocket(url),
    'reconnecting-websocket': (url) => new ReconnectingWebSocket(url),
  };
}
