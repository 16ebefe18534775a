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

/**
 * Receive-only: the server sends `n` messages of `size` bytes; returns ms. With
 * `second`, another socket of the same kind, with its own `message` listener, gets a
 * flood of a quarter as many at the same time (the page is not ours alone).
 */
export async function flood(make, url, n, size, second = false) {
  const ws = make(url);
  await opened(ws);
  let other;
  if (second) {
    other = make(url);
    await opened(other);
    let got = 0;
    other.addEventListener('message', () => got++);
  }
  const done = receive(ws, n);
  other?.send(`flood ${Math.round(n / 4)} ${size}`);
  const t0 = performance.now();
  ws.send(`flood ${n} ${size}`);
  await done;
  const elapsed = performance.now() - t0;
  ws.close();
  other?.close();
  return elapsed;
}

/** The contenders that run as JS in the page. */
export async function jsContenders({ heartbeat = false } = {}) {
  const { SteadySocket } = await import('/pkg/steadysocket.js');
  const { default: ReconnectingWebSocket } = await import('/rws/reconnecting-websocket-mjs.js');
  // 1 s of silence: never due while messages flow, so only the per-message cost shows.
  const options = heartbeat ? { heartbeatInterval: 1000 } : {};
  return {
    'raw WebSocket': (url) => new WebSocket(url),
    'SteadySocket (JS)': (url) => new SteadySocket(url, [], options),
    'reconnecting-websocket': (url) => new ReconnectingWebSocket(url),
    'EventTarget floor': (url) => new Redispatch(url),
  };
}

/**
 * The floor of any wrapper that is the event target of its `message` events, as
 * SteadySocket is (and as reconnecting-websocket, which hands on the native event,
 * is not): a native socket whose messages are dispatched again on an EventTarget as
 * new MessageEvents (built as SteadySocket builds them), and nothing else.
 */
class Redispatch extends EventTarget {
  #ws;
  onmessage = null;
  constructor(url) {
    super();
    this.#ws = new WebSocket(url);
    this.#ws.addEventListener('message', (native) => {
      const event = new FloorMessageEvent(native.data);
      this.dispatchEvent(event);
      this.onmessage?.(event);
    });
  }
  set onopen(f) {
    this.#ws.onopen = f;
  }
  set onerror(f) {
    this.#ws.onerror = f;
  }
  set binaryType(v) {
    this.#ws.binaryType = v;
  }
  send(data) {
    this.#ws.send(data);
  }
  close() {
    this.#ws.close();
  }
}

/** The floor's message event, as SteadySocket builds its own (also used by `--only dispatch`). */
export class FloorMessageEvent extends MessageEvent {
  #data;
  constructor(data) {
    super('message');
    this.#data = data;
  }
  get data() {
    return this.#data;
  }
}
