// The JS face of steadysocket: `SteadySocket`, a drop-in superset of the browser
// `WebSocket`. All behaviour lives in the Rust `Core` (compiled to wasm); this shell
// only makes it a real EventTarget with the native event semantics.

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// Arguments converted as the browser's WebIDL bindings convert them for WebSocket:
// a close code is a number truncated toward zero (measured: close('4000') sends
// 4000, close(3000.7) sends 3000), a reason is a string, and protocols are a string
// or any iterable of strings.
const toCode = (code) => {
  if (code === undefined) return undefined;
  const n = Math.trunc(Number(code));
  return Number.isFinite(n) ? Math.min(Math.max(n, 0), 65535) : 0;
};
const toReason = (reason) => (reason === undefined ? undefined : String(reason));
const toProtocols = (protocols) => {
  if (protocols === undefined || typeof protocols === 'function') return protocols;
  if (protocols !== null && typeof protocols === 'object' && Symbol.iterator in protocols) {
    return Array.from(protocols, String);
  }
  return [String(protocols)];
};

// What `send` accepts, checked here with the built-ins' own brand checks (getters
// called on the value), so no user code (an own `byteLength` getter, a Proxy trap)
// runs once the wasm side holds the payload. Kinds as `Core.send` numbers them.
const TEXT = 0;
const BUFFER = 1;
const BYTES = 2;
const BLOB = 3;
const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name)?.get;
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const bufferDetached = getter(ArrayBuffer.prototype, 'detached');
const typedBuffer = getter(Object.getPrototypeOf(Uint8Array.prototype), 'buffer');
const typedOffset = getter(Object.getPrototypeOf(Uint8Array.prototype), 'byteOffset');
const typedLength = getter(Object.getPrototypeOf(Uint8Array.prototype), 'byteLength');
const viewBuffer = getter(DataView.prototype, 'buffer');
const viewOffset = getter(DataView.prototype, 'byteOffset');
const viewLength = getter(DataView.prototype, 'byteLength');
const blobSize = typeof Blob === 'function' ? getter(Blob.prototype, 'size') : undefined;
const sendError = (what) =>
  new TypeError(`Failed to execute 'send' on 'SteadySocket': ${what}`);

/** The byte length of a (non-shared) ArrayBuffer, or -1 for anything else. */
function arrayBufferLength(value) {
  try {
    return bufferLength.call(value);
  } catch {
    return -1; // not an ArrayBuffer (a SharedArrayBuffer fails this brand check too)
  }
}

function isDetached(buffer, length) {
  if (bufferDetached) return bufferDetached.call(buffer);
  if (length !== 0) return false;
  try {
    ArrayBuffer.prototype.slice.call(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** The `ttl` of send()'s options in ms, or -1 for none; throws for a bad one. */
function ttlOf(options) {
  const ttl = options?.ttl;
  if (ttl === undefined || ttl === null) return -1;
  const n = Number(ttl);
  if (!Number.isFinite(n) || n < 0) {
    throw new RangeError(`Failed to execute 'send' on 'SteadySocket': ttl must be a number >= 0, got ${ttl}`);
  }
  return n;
}

/** `[kind, value, bytes]` for what `send(data)` may take; throws TypeError else. */
function payload(data) {
  if (typeof data === 'string') return [TEXT, data, 0];
  const length = arrayBufferLength(data);
  if (length >= 0) {
    if (isDetached(data, length)) throw sendError('the ArrayBuffer is detached');
    return [BUFFER, data, length];
  }
  if (ArrayBuffer.isView(data)) {
    let buffer, offset, bytes;
    try {
      [buffer, offset, bytes] = [typedBuffer.call(data), typedOffset.call(data), typedLength.call(data)];
    } catch {
      [buffer, offset, bytes] = [viewBuffer.call(data), viewOffset.call(data), viewLength.call(data)];
    }
    const total = arrayBufferLength(buffer);
    if (total < 0) throw sendError('a view of a SharedArrayBuffer cannot be sent');
    if (isDetached(buffer, total)) throw sendError("the view's ArrayBuffer is detached");
    return [BYTES, new Uint8Array(buffer, offset, bytes), bytes];
  }
  if (blobSize) {
    try {
      return [BLOB, data, blobSize.call(data)];
    } catch {
      // not a Blob
    }
  }
  throw sendError('the data must be a string, ArrayBuffer, ArrayBufferView or Blob');
}

// Sockets that have not stopped for good are kept alive, as the browser keeps an
// open WebSocket alive while it has listeners; a stopped, unreferenced one can be
// collected (and its wasm side freed with it).
const active = new Set();

// The events that have an onX handler property.
const HANDLERS = ['open', 'message', 'error', 'close', 'reconnecting', 'stop', 'connecting', 'discard', 'heartbeat'];

/**
 * `cls` with `name` as its name whatever a bundler did: esbuild, Rollup and webpack
 * rename a class whose name collides with another binding of the bundle (the
 * app's `SteadySocket` import, the global `CloseEvent`), to `SteadySocket2`. Users
 * see the name in `constructor.name`, logs and the console.
 */
export function named(cls, name) {
  return Object.defineProperty(cls, 'name', { value: name });
}

// Node.js before 23 has no global CloseEvent (server-side rendering, tests): the
// same fields on a plain Event there.
const CloseEventClass =
  typeof CloseEvent === 'function'
    ? CloseEvent
    : named(class CloseEvent extends Event {
        #init;
        constructor(type, init = {}) {
          super(type, init);
          this.#init = { code: init.code ?? 0, reason: init.reason ?? '', wasClean: Boolean(init.wasClean) };
        }
        get code() { return this.#init.code; }
        get reason() { return this.#init.reason; }
        get wasClean() { return this.#init.wasClean; }
      }, 'CloseEvent');

// The `message` events: a MessageEvent whose data and origin are fields read by
// getters. Filling them through MessageEvent's init dictionary costs several times
// more per message (the dictionary conversion); this is the hot path.
class SteadyMessageEvent extends MessageEvent {
  #data;
  #origin;
  constructor(data, origin) {
    super('message');
    this.#data = data;
    this.#origin = origin;
  }
  get data() {
    return this.#data;
  }
  get origin() {
    return this.#origin;
  }
}

/** Builds the `SteadySocket` class around the wasm-bindgen `Core` class. */
export function define(Core) {
  class SteadySocket extends EventTarget {
    #core;
    #user;
    // The running onConnect: its inbox and waiting next() calls; and the messages it
    // left unread, delivered right after the open event.
    #hook = null;
    #unread = [];
    // sendWithResult(): its promises by tracking number, settled by `receipt`.
    #tracks = 0;
    #pending = new Map();
    #handlers = new Map();
    #depth = 0;
    #deferred = [];
    #stopped = false;
    #debug = false;
    // The origin of the current connection, for its message events.
    #origin = '';

    constructor(url, protocols, options) {
      super();
      if (arguments.length === 0) {
        throw new TypeError(
          "Failed to construct 'SteadySocket': 1 argument required, but only 0 present.",
        );
      }
      this.#debug = Boolean(options && typeof options === 'object' && options.debug === true);
      // Like the native constructor, anything but a provider function is a string.
      const target = typeof url === 'function' ? url : String(url);
      protocols = toProtocols(protocols);
      const predicate = options?.shouldReconnect;
      const onConnect = options?.onConnect;
      this.#user = { url: target, protocols, shouldReconnect: predicate, onConnect };
      const calls = SteadySocket.#callbacks(new WeakRef(this));
      // Everything else the user set is read through the prototype chain.
      const own = {};
      if (typeof predicate === 'function') own.shouldReconnect = { value: calls.shouldReconnect };
      if (typeof onConnect === 'function') own.onConnect = { value: calls.onConnect };
      if (Object.keys(own).length > 0) options = Object.create(options, own);
      this.#depth++;
      try {
        this.#core = new Core(
          typeof target === 'function' ? calls.url : target,
          typeof protocols === 'function' ? calls.protocols : protocols,
          options,
          calls.message,
          calls.event,
        );
      } finally {
        this.#settle();
      }
      if (this.#core.readyState !== CLOSED) active.add(this);
    }

    // The functions the wasm side holds. Its table of JS values is a GC root, so
    // they are made here, where no closure can see `this` (V8 gives the closures
    // of one scope one shared context), and reach the socket and the user's own
    // functions (which may well refer to the socket) only through a WeakRef. So a
    // stopped socket that nothing references is collected, and its wasm side with it.
    static #callbacks(ref) {
      // Calls the user's function `name` as a plain function; once the socket is
      // gone, gives `fallback`.
      const user = (name, fallback) => (arg) => {
        const socket = ref.deref();
        return socket ? Reflect.apply(socket.#user[name], undefined, [arg]) : fallback;
      };
      return {
        onConnect: (attempt, protocol) => {
          const socket = ref.deref();
          if (!socket) throw new DOMException('the socket is gone', 'InvalidStateError');
          return socket.#startHook(attempt, protocol);
        },
        message: (data) => ref.deref()?.#message(data),
        event: (kind, detail) => ref.deref()?.#event(kind, detail),
        url: user('url', undefined),
        protocols: user('protocols', undefined),
        shouldReconnect: user('shouldReconnect', true),
      };
    }

    // ----- the native surface ----------------------------------------------------

    get readyState() {
      return this.#core.readyState;
    }
    get url() {
      return this.#core.url;
    }
    get protocol() {
      return this.#core.protocol;
    }
    get extensions() {
      return this.#core.extensions;
    }
    get bufferedAmount() {
      return this.#core.bufferedAmount;
    }
    get binaryType() {
      return this.#core.binaryType;
    }
    set binaryType(value) {
      this.#core.binaryType = String(value);
    }

    /**
     * Sends now while open; queues (in order, delivered once) while not. Returns
     * `true` when handed to the open connection, `false` when queued. `options.ttl`
     * (ms) limits how long it may wait in the queue (0: only now).
     */
    send(data, options) {
      if (arguments.length === 0) {
        throw new TypeError(
          "Failed to execute 'send' on 'SteadySocket': 1 argument required, but only 0 present.",
        );
      }
      return this.#send(data, options, 0);
    }

    /**
     * Sends like send(), and resolves once the message was handed to an open native
     * socket (not a server acknowledgement). Rejects with QueueFullError (at once),
     * TimeoutError (its TTL passed), AbortError (discarded by "drop-oldest" or
     * drainQueuedMessages()) or InvalidStateError (the socket had stopped, or
     * stopped before handing it over).
     */
    sendWithResult(data, options) {
      const id = ++this.#tracks;
      return new Promise((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        try {
          this.#send(data, options, id);
        } catch (e) {
          this.#pending.delete(id);
          reject(e);
        }
      });
    }

    #send(data, options, track) {
      const [kind, value, bytes] = payload(data);
      const ttl = ttlOf(options);
      if (this.#debug && this.#stopped) {
        console.warn('[steadysocket] send() on a stopped socket: queued until reconnect()');
      }
      this.#depth++;
      try {
        return this.#core.send(value, kind, bytes, ttl, track);
      } finally {
        this.#settle();
      }
    }

    /** Closes for good; `reconnect()` starts again. */
    close(code, reason) {
      this.#call(() => this.#core.close(toCode(code), toReason(reason)));
    }

    // ----- the extras --------------------------------------------------------------

    /** Closes the current connection (if any), resets the retry count, connects now. */
    reconnect(code, reason) {
      // The replaced connection is closed with 1000 unless told otherwise (a
      // code-less close would reach the server as 1005 "no status").
      this.#call(() => this.#core.reconnect(toCode(code) ?? 1000, toReason(reason)));
      this.#stopped = false;
      active.add(this);
    }

    /**
     * Removes and returns everything queued, in order (a queued view comes back as
     * a Uint8Array copy of its bytes). A `discard` event (reason "cleared") follows
     * when anything was queued.
     */
    drainQueuedMessages() {
      return this.#call(() => this.#core.drainQueued());
    }

    /** Retries since the last connection that stayed up `minUptime`. */
    get retryCount() {
      return this.#core.retryCount;
    }

    /** `for await (const data of socket)`: message data until the socket stops. */
    [Symbol.asyncIterator]() {
      const queue = [];
      // Every next() not yet answered, oldest first (callers may call next() again
      // before the previous promise settles, as with async generators).
      const waiting = [];
      let done = this.#stopped;
      const finish = () => {
        done = true;
        this.removeEventListener('message', onMessage);
        this.removeEventListener('stop', finish);
        for (const wake of waiting.splice(0)) wake({ value: undefined, done: true });
      };
      const onMessage = (event) => {
        if (waiting.length > 0) waiting.shift()({ value: event.data, done: false });
        else queue.push(event.data);
      };
      if (!done) {
        this.addEventListener('message', onMessage);
        this.addEventListener('stop', finish);
      }
      return {
        next() {
          if (queue.length > 0) return Promise.resolve({ value: queue.shift(), done: false });
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise((resolve) => {
            waiting.push(resolve);
          });
        },
        return() {
          queue.length = 0;
          finish();
          return Promise.resolve({ value: undefined, done: true });
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    }

    get [Symbol.toStringTag]() {
      return 'SteadySocket';
    }

    // ----- internals ---------------------------------------------------------------

    // Events caused by a call (close() during a backoff wait, a URL provider that
    // fails in the constructor) are dispatched after the call returns, never inside
    // it, as the browser never fires WebSocket events synchronously.
    #call(f) {
      this.#depth++;
      try {
        return f();
      } finally {
        this.#settle();
      }
    }

    #settle() {
      this.#depth--;
      if (this.#depth === 0 && this.#deferred.length > 0) {
        const batch = this.#deferred;
        this.#deferred = [];
        queueMicrotask(() => batch.forEach((e) => this.#dispatch(e)));
      }
    }

    #fire(event) {
      if (this.#depth > 0) this.#deferred.push(event);
      else this.#dispatch(event);
    }

    #dispatch(event) {
      if (this.#debug) console.debug('[steadysocket]', event.type, event.detail ?? '');
      this.dispatchEvent(event);
    }

    // The hot path: no call into wasm here (the origin is read once per open).
    #message(data) {
      this.#fire(new SteadyMessageEvent(data, this.#origin));
    }

    // onConnect(conn): runs after each native open, before the queue flushes and
    // `open` fires. `conn` talks to this connection only.
    #startHook(attempt, protocol) {
      const run = { queue: [], waiters: [], done: false };
      this.#hook = run;
      const core = this.#core;
      const gone = (what) =>
        new DOMException(`onConnect: ${what}: the connection is gone or onConnect has settled`, 'InvalidStateError');
      const conn = {
        attempt,
        protocol,
        send(data) {
          if (run.done) throw gone('send');
          const [kind, value, bytes] = payload(data);
          core.hookSend(value, kind, bytes);
        },
        next() {
          if (run.queue.length > 0) return Promise.resolve(run.queue.shift());
          if (run.done) return Promise.reject(gone('next'));
          return new Promise((resolve, reject) => run.waiters.push({ resolve, reject }));
        },
        clearQueue() {
          return core.drainQueued().length;
        },
      };
      return Reflect.apply(this.#user.onConnect, undefined, [conn]);
    }

    #hookMessage(data) {
      const run = this.#hook;
      if (!run) return;
      if (run.waiters.length > 0) run.waiters.shift().resolve(data);
      else run.queue.push(data);
    }

    #hookEnd(ok) {
      const run = this.#hook;
      this.#hook = null;
      if (!run) return;
      run.done = true;
      // Read by the hook: never delivered. Unread: delivered after `open` (if ok).
      this.#unread = ok ? run.queue.splice(0) : [];
      run.queue.length = 0;
      for (const w of run.waiters.splice(0)) {
        w.reject(new DOMException('onConnect: next: the connection closed', 'InvalidStateError'));
      }
    }

    #receipt([id, fate]) {
      const p = this.#pending.get(id);
      if (!p) return;
      this.#pending.delete(id);
      if (fate === 'sent') return p.resolve();
      const [name, text] = {
        expired: ['TimeoutError', 'its ttl passed while it waited in the queue'],
        overflow: ['AbortError', 'it was dropped to make room ("drop-oldest")'],
        cleared: ['AbortError', 'it was taken out of the queue'],
        stopped: ['InvalidStateError', 'the socket stopped before it could be sent'],
      }[fate] ?? ['InvalidStateError', 'it was not sent'];
      p.reject(new DOMException(`The message was not sent: ${text}`, name));
    }

    #event(kind, detail) {
      switch (kind) {
        case 'receipt':
          this.#receipt(detail);
          return;
        case 'hook-message':
          this.#hookMessage(detail);
          return;
        case 'hook-end':
          this.#hookEnd(detail);
          return;
        case 'connecting':
          this.#stopped = false;
          active.add(this);
          this.#fire(new CustomEvent('connecting', { detail }));
          return;
        case 'open':
          try {
            this.#origin = new URL(this.#core.url).origin;
          } catch {
            this.#origin = '';
          }
          this.#fire(new Event('open'));
          for (const data of this.#unread.splice(0)) this.#message(data);
          return;
        case 'error':
          this.#fire(new Event('error'));
          return;
        case 'close':
          this.#fire(
            new CloseEventClass('close', {
              code: detail.code,
              reason: detail.reason,
              wasClean: detail.wasClean,
            }),
          );
          return;
        case 'stop':
          this.#stopped = true;
          active.delete(this);
          this.#fire(new CustomEvent('stop', { detail }));
          return;
        default: // reconnecting, heartbeat, discard
          this.#fire(new CustomEvent(kind, { detail }));
      }
    }

    // `onX` handlers take their place among the listeners when first set, and keep
    // it when replaced, as native event handler attributes do.
    #getHandler(type) {
      return this.#handlers.get(type)?.fn ?? null;
    }

    #setHandler(type, fn) {
      const entry = this.#handlers.get(type);
      if (typeof fn !== 'function' && (typeof fn !== 'object' || fn === null)) {
        if (entry) {
          this.removeEventListener(type, entry.listener);
          this.#handlers.delete(type);
        }
        return;
      }
      if (entry) {
        entry.fn = fn;
        return;
      }
      const created = {
        fn,
        listener: (event) => {
          const handler = created.fn;
          if (typeof handler === 'function' && handler.call(this, event) === false) {
            event.preventDefault();
          }
        },
      };
      this.#handlers.set(type, created);
      this.addEventListener(type, created.listener);
    }

    // The onX handler properties, as accessors on the prototype like WebSocket's
    // (written once, in a loop: nine get/set pairs were 0.1 KB of gzipped JS).
    static {
      for (const type of HANDLERS) {
        Object.defineProperty(this.prototype, `on${type}`, {
          get() {
            return this.#getHandler(type);
          },
          set(fn) {
            this.#setHandler(type, fn);
          },
          enumerable: false,
          configurable: true,
        });
      }
    }
  }

  const states = { CONNECTING, OPEN, CLOSING, CLOSED };
  for (const [name, value] of Object.entries(states)) {
    const descriptor = { value, enumerable: true, writable: false, configurable: false };
    Object.defineProperty(SteadySocket, name, descriptor);
    Object.defineProperty(SteadySocket.prototype, name, descriptor);
  }
  return named(SteadySocket, 'SteadySocket');
}

