// Type-checks the package's public types (js/steadysocket.d.ts) the way users write
// code: `npm test` runs `tsc -p tests/types`. Lines marked @ts-expect-error must
// fail to type-check: they prove the types are real, not `any`.
import { SteadySocket, type SteadySocketOptions } from 'steadysocket';

const options: SteadySocketOptions = {
  minReconnectionDelay: 1000,
  maxReconnectionDelay: 30000,
  reconnectionDelayGrowFactor: 1.5,
  reconnectionJitter: 0.5,
  connectionTimeout: 4000,
  minUptime: 5000,
  maxRetries: Infinity,
  maxEnqueuedMessages: 1024,
  maxEnqueuedBytes: 16 * 1024 * 1024,
  closeTimeout: 1000,
  stopOnCloseCodes: [4001],
  shouldReconnect: (event) => event.code !== 4401 && event.wasClean !== undefined,
  heartbeatInterval: 15000,
  heartbeatTimeout: 10000,
  heartbeatMessage: 'ping',
  heartbeatResponse: 'pong',
  startClosed: false,
  debug: false,
  messageTtl: 30_000,
  queueOverflow: 'drop-oldest',
};

const socket = new SteadySocket('wss://example.com/live', ['v1'], options);
const withProvider = new SteadySocket(async (attempt: number) => `wss://example.com/?n=${attempt}`);
const sync = new SteadySocket((attempt) => `wss://example.com/?n=${attempt}`, 'v1');
const tokens = new SteadySocket('wss://example.com/', async (attempt) => [`token.${attempt}`, 'v1']);
const sharedSocket = new SteadySocket('wss://example.com/live', [], { share: 'live' });
void sharedSocket;

socket.binaryType = 'arraybuffer';
const state: 0 | 1 | 2 | 3 = socket.readyState;
const open: boolean = state === SteadySocket.OPEN && socket.OPEN === 1;
const counts: number = socket.retryCount + socket.bufferedAmount;
const names: string = socket.url + socket.protocol + socket.extensions;

const handedOver: boolean = socket.send('text', { ttl: 5000 });
const result: Promise<void> = socket.sendWithResult('tracked', { ttl: 0 });
void result;
socket.send(new Uint8Array([1, 2, 3]));
socket.send(new ArrayBuffer(8));
socket.send(new Blob(['x']));
socket.close(1000, 'bye');
socket.reconnect();

socket.onmessage = (event) => console.log(event.data, open, counts, names);
socket.onclose = (event) => console.log(event.code, event.reason, event.wasClean);
socket.addEventListener('reconnecting', (event) => {
  const { attempt, delay, code, reason } = event.detail;
  console.log(attempt + delay + code, reason.length);
});
socket.addEventListener('stop', (event) => {
  const reason: 'close' | 'max-retries' | 'close-code' = event.detail.reason;
  console.log(reason);
});
socket.addEventListener('heartbeat', (event) => console.log(event.detail.rtt.toFixed(1)));
socket.addEventListener('connecting', (event) => console.log(event.detail.attempt));
socket.addEventListener('message', () => {}, { once: true });

async function read(): Promise<void> {
  for await (const data of socket) {
    if (typeof data === 'string') console.log(data.toUpperCase());
  }
}
void read;
void withProvider;
void sync;
void tokens;
void handedOver;

// @ts-expect-error options are typed: a number, not a string
new SteadySocket('ws://x', [], { minReconnectionDelay: '1000' });
// @ts-expect-error unknown event details are not `any`
socket.addEventListener('stop', (event) => event.detail.nope);
// @ts-expect-error queueOverflow is one of two words
new SteadySocket('ws://x', [], { queueOverflow: 'drop-newest' });
// @ts-expect-error send takes data, not a number
socket.send(42);
// @ts-expect-error readyState is read-only
socket.readyState = 1;
