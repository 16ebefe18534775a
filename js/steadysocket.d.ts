// Types for the steadysocket npm package.

/** The `options` object: reconnecting-websocket's names plus steadysocket's. */
export interface SteadySocketOptions {
  /** Delay before the first retry, ms (default 1000). */
  minReconnectionDelay?: number;
  /** Upper bound of a retry delay, and the wait after a 1013 close, ms (default 30000). */
  maxReconnectionDelay?: number;
  /** Growth of the delay per retry, >= 1 (default 1.5). */
  reconnectionDelayGrowFactor?: number;
  /** Fraction in [0, 1] by which each delay is randomly shortened (default 0.5). */
  reconnectionJitter?: number;
  /** Time an attempt may take before it is abandoned, ms (default 4000). */
  connectionTimeout?: number;
  /** Time a connection must stay open before the retry count resets, ms (default 5000). */
  minUptime?: number;
  /** Retries after the first attempt before stopping (default Infinity). */
  maxRetries?: number;
  /** Most messages queued while not open (default 1024). */
  maxEnqueuedMessages?: number;
  /** Most bytes queued while not open (default 16 MiB). */
  maxEnqueuedBytes?: number;
  /** Longest wait for the close handshake after close(), ms (default 1000). */
  closeTimeout?: number;
  /** Server close codes that stop reconnecting for good (default []). */
  stopOnCloseCodes?: number[];
  /** Called on every close not asked for; return false to stop for good. */
  shouldReconnect?: (event: { code: number; reason: string; wasClean: boolean }) => boolean;
  /** Inbound silence after which a heartbeat is sent, ms (default off). */
  heartbeatInterval?: number;
  /** Time after a heartbeat within which something must arrive, ms (default 10000). */
  heartbeatTimeout?: number;
  /** The heartbeat text (default "ping"). */
  heartbeatMessage?: string;
  /** The answer text, not delivered to message listeners (default "pong"). */
  heartbeatResponse?: string;
  /** Do not connect until reconnect() (default false). */
  startClosed?: boolean;
  /**
   * Runs after every native open, before the queue flushes and `open` fires (e.g. to
   * authenticate and resubscribe). Meanwhile readyState stays CONNECTING and send()
   * queues. Throwing, rejecting or not settling within connectionTimeout fails the
   * attempt (closed with 1000 "onConnect failed"; the backoff goes on).
   */
  onConnect?: (conn: Connection) => void | Promise<void>;
  /**
   * One connection for every socket of this origin with this share name, across tabs,
   * windows, iframes and workers (default: off). The instance holding the Web Lock
   * `steadysocket:<name>` owns the native socket; the others mirror its state and
   * events and relay their sends through a BroadcastChannel, holding each until the
   * leader has sent it. A leader change shows as close (1006, "leader left"),
   * reconnecting, open. close() stops this instance only. Options other than the URL
   * and protocols come from the leader. Without Web Locks or BroadcastChannel, each
   * instance connects by itself. A non-empty string.
   */
  share?: string;
  /** Discard a queued message once it has waited this long, ms (default: never). */
  messageTtl?: number;
  /** A full queue: refuse the new message ("reject", default) or drop the oldest ("drop-oldest"). */
  queueOverflow?: 'reject' | 'drop-oldest';
  /** Log every event with console.debug, and warn on a send() after a stop (default false). */
  debug?: boolean;
  /**
   * The WebSocket class to construct sockets with (default: the browser's): a polyfill,
   * or a test double such as mock-socket's, to unit-test your code without a server.
   */
  WebSocket?: new (url: string, protocols?: string | string[]) => unknown;
}

/** A URL, or a function (sync or async) called with the retry number before each attempt. */
export type UrlProvider = string | URL | ((attempt: number) => string | Promise<string>);

/**
 * Subprotocols, or a function (sync or async) called with the retry number before
 * each attempt (e.g. a fresh token in `Sec-WebSocket-Protocol`). A list the browser
 * would refuse, a throw or a rejection counts as a failed attempt.
 */
export type ProtocolsProvider =
  | string
  | string[]
  | ((attempt: number) => string | string[] | Promise<string | string[]>);

export interface ReconnectingDetail {
  /** The retry number (1 for the first retry). */
  attempt: number;
  /** The wait before it, ms. */
  delay: number;
  /** The close code that caused it. */
  code: number;
  /** The close reason that caused it. */
  reason: string;
}

export interface StopDetail {
  reason: 'close' | 'max-retries' | 'close-code';
}

export interface ConnectingDetail {
  /** The retry number: 0 for a first attempt (or after reconnect()), n for retry n. */
  attempt: number;
}

export interface HeartbeatDetail {
  /** Round-trip time of the heartbeat, ms. */
  rtt: number;
}

/** The connection being set up, as onConnect sees it. */
export interface Connection {
  /** The attempt number (0 for the first, n for retry n). */
  readonly attempt: number;
  /** The subprotocol the server chose. */
  readonly protocol: string;
  /** Sends on this connection now, never queued. Throws InvalidStateError once it is gone. */
  send(data: string | ArrayBuffer | Blob | ArrayBufferView): void;
  /** The next inbound message's data, in order; rejects when the connection closes. */
  next(): Promise<string | Blob | ArrayBuffer>;
  /** Discards what is queued (e.g. the user changed); returns how many. */
  clearQueue(): number;
}

export interface SendOptions {
  /** Discard the message if it waits longer than this in the queue, ms (0: only now). */
  ttl?: number;
}

export interface DiscardDetail {
  /** "ttl": expired; "overflow": dropped by "drop-oldest"; "cleared": drainQueuedMessages(). */
  reason: 'ttl' | 'overflow' | 'cleared';
  /** Messages discarded by this step. */
  count: number;
}

export interface SteadySocketEventMap {
  open: Event;
  message: MessageEvent;
  error: Event;
  close: CloseEvent;
  reconnecting: CustomEvent<ReconnectingDetail>;
  stop: CustomEvent<StopDetail>;
  heartbeat: CustomEvent<HeartbeatDetail>;
  connecting: CustomEvent<ConnectingDetail>;
  discard: CustomEvent<DiscardDetail>;
}

/** A WebSocket that stays connected: a drop-in superset of the browser `WebSocket`. */
export declare class SteadySocket extends EventTarget {
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: SteadySocketOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** CONNECTING also while waiting to retry; CLOSED only once stopped for good. */
  readonly readyState: 0 | 1 | 2 | 3;
  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  /** Queued bytes plus the native socket's bufferedAmount. */
  readonly bufferedAmount: number;
  /** Kept across reconnects. */
  binaryType: BinaryType;
  /** Retries since the last connection that stayed up minUptime. */
  readonly retryCount: number;

  onopen: ((this: SteadySocket, ev: Event) => unknown) | null;
  onmessage: ((this: SteadySocket, ev: MessageEvent) => unknown) | null;
  onerror: ((this: SteadySocket, ev: Event) => unknown) | null;
  onclose: ((this: SteadySocket, ev: CloseEvent) => unknown) | null;
  onreconnecting: ((this: SteadySocket, ev: CustomEvent<ReconnectingDetail>) => unknown) | null;
  onstop: ((this: SteadySocket, ev: CustomEvent<StopDetail>) => unknown) | null;
  onheartbeat: ((this: SteadySocket, ev: CustomEvent<HeartbeatDetail>) => unknown) | null;
  onconnecting: ((this: SteadySocket, ev: CustomEvent<ConnectingDetail>) => unknown) | null;
  ondiscard: ((this: SteadySocket, ev: CustomEvent<DiscardDetail>) => unknown) | null;

  /**
   * Sends now while open, else queues (also after close(): a later reconnect() delivers
   * it). Returns true when the message was handed to the open connection, false when it
   * was queued. Throws QueueFullError, and TypeError for anything but a string, ArrayBuffer, view or Blob (also for a
   * detached buffer and a view of shared memory).
   */
  send(data: string | ArrayBuffer | Blob | ArrayBufferView, options?: SendOptions): boolean;
  /**
   * As send(), resolving once the message was handed to an open native socket (not a
   * server acknowledgement). Rejects with QueueFullError, TimeoutError (ttl passed),
   * AbortError (dropped or drained) or InvalidStateError (stopped).
   */
  sendWithResult(data: string | ArrayBuffer | Blob | ArrayBufferView, options?: SendOptions): Promise<void>;
  /** Closes for good. Throws InvalidAccessError (code) or SyntaxError (reason). */
  close(code?: number, reason?: string): void;
  /** Closes the current connection (if any, with `code`, default 1000), resets the retry count, connects now. */
  reconnect(code?: number, reason?: string): void;
  /** Removes and returns everything queued, in order (views come back as Uint8Array copies). */
  drainQueuedMessages(): Array<string | ArrayBuffer | Uint8Array | Blob>;

  addEventListener<K extends keyof SteadySocketEventMap>(
    type: K,
    listener: (this: SteadySocket, ev: SteadySocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof SteadySocketEventMap>(
    type: K,
    listener: (this: SteadySocket, ev: SteadySocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;

  /** Message data (string, Blob or ArrayBuffer) until the socket stops for good. */
  [Symbol.asyncIterator](): AsyncIterableIterator<string | Blob | ArrayBuffer>;
}

export default SteadySocket;
