// The connection panel shared by the demo pages: shows what a SteadySocket is doing
// (state, reconnect countdown, retries, queued messages, heartbeat round trip, recent
// events) and offers Close, Reconnect and "Drop me (server)".
//
// Everything shown comes from the socket's public API: readyState, retryCount,
// bufferedAmount and the open / close / reconnecting / stop / heartbeat events.
// All text is set with textContent (never innerHTML), as the page's CSP expects.

/**
 * Socket options for the demo, read from the page's query string so that tests (and the
 * curious) can tune them without editing code, e.g. `/?minDelay=50&maxDelay=500`:
 *
 *   minDelay=ms          minReconnectionDelay         (demo default 1000)
 *   maxDelay=ms          maxReconnectionDelay         (demo default 10000)
 *   grow=x               reconnectionDelayGrowFactor  (library default 1.5)
 *   jitter=0..1          reconnectionJitter           (library default 0.5)
 *   timeout=ms           connectionTimeout            (library default 4000)
 *   minUptime=ms         minUptime                    (library default 5000)
 *   maxRetries=n         maxRetries                   (library default: unlimited)
 *   heartbeat=ms         heartbeatInterval            (demo default 5000; 0 = off)
 *   heartbeatTimeout=ms  heartbeatTimeout             (library default 10000)
 *   debug=1              log every event with console.debug
 *
 * Values that are not numbers are ignored; out-of-range numbers are passed on, so the
 * library's RangeError shows up on the page.
 */
export function demoOptions(search = location.search) {
  const q = new URLSearchParams(search);
  const options = {
    minReconnectionDelay: 1000,
    maxReconnectionDelay: 10000,
    heartbeatInterval: 5000,
  };
  const names = {
    minDelay: 'minReconnectionDelay',
    maxDelay: 'maxReconnectionDelay',
    grow: 'reconnectionDelayGrowFactor',
    jitter: 'reconnectionJitter',
    timeout: 'connectionTimeout',
    minUptime: 'minUptime',
    maxRetries: 'maxRetries',
    heartbeat: 'heartbeatInterval',
    heartbeatTimeout: 'heartbeatTimeout',
  };
  for (const [param, option] of Object.entries(names)) {
    const raw = q.get(param);
    if (raw === null || raw.trim() === '') continue;
    const value = Number(raw);
    if (Number.isNaN(value)) continue;
    options[option] = value;
  }
  if (options.heartbeatInterval === 0) delete options.heartbeatInterval;
  if (options.minReconnectionDelay > options.maxReconnectionDelay && !q.has('maxDelay')) {
    options.maxReconnectionDelay = options.minReconnectionDelay;
  }
  if (q.get('debug') === '1') options.debug = true;
  return options;
}

/** A random id for `?client=`, so the demo server can find this page's socket to drop. */
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** "14:03:07" in the visitor's locale, 24-hour clock. */
export function clock(date = new Date()) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** `el('span', 'badge', 'text')`: an element with a class and text content. */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

const CLOSE_NAMES = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1005: 'no status',
  1006: 'abnormal closure, no close frame',
  1007: 'invalid payload',
  1008: 'policy violation',
  1009: 'message too big',
  1011: 'server error',
  1012: 'service restart',
  1013: 'try again later',
};

/** "1006 (abnormal closure, no close frame)" or "1001 "server shutting down"". */
export function describeClose(code, reason) {
  if (reason) return `${code} “${reason}”`;
  const name = CLOSE_NAMES[code];
  return name ? `${code} (${name})` : String(code);
}

const STOP_REASONS = {
  close: 'closed by you',
  'max-retries': 'gave up after maxRetries',
  'close-code': 'server sent a stop code',
};

/** The URL without its query (the client id is noise here). */
function shortUrl(url) {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return String(url).split('?')[0];
  }
}

function seconds(ms) {
  const s = Math.max(0, ms) / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Renders the panel into `container` and keeps it up to date.
 *
 * The page sends through `panel.send(data)`, which returns "sent" (handed to the open
 * socket) or "queued" (kept by SteadySocket until the next open) and counts the queue.
 * `panel.state` is one of connecting, open, reconnecting, closing, stopped; the panel
 * element carries it as `data-state` too.
 */
export class ConnectionPanel {
  #socket;
  #clientId;
  #options;
  #dom = {};
  #state = 'connecting';
  #stopReason = '';
  #retryAt = 0; // performance.now() when the pending retry starts
  #retry = 0; // the retry number of the pending / running retry
  #openedAt = 0;
  #queued = 0;
  #rtt = null;
  #rttAt = 0;
  #lastClose = null;
  #timer = 0;
  #requested = false; // the next close was asked for (Reconnect while open)

  /** True while handling a `close` that this page asked for (Close, or Reconnect). */
  closeRequested = false;

  constructor(container, socket, { clientId, options = {}, title = 'Connection' } = {}) {
    this.#socket = socket;
    this.#clientId = clientId;
    this.#options = options;
    this.#build(container, title);

    socket.addEventListener('open', () => {
      this.#queued = 0; // the queue is flushed before `open` is dispatched
      this.#openedAt = performance.now();
      this.#retry = 0;
      this.#setState('open');
      this.#event('open', `open: ${shortUrl(socket.url)}`);
    });
    socket.addEventListener('close', (e) => {
      this.closeRequested = this.#requested || this.#state === 'closing' || this.#state === 'stopped';
      this.#requested = false;
      const wasOpen = this.#openedAt !== 0;
      this.#openedAt = 0;
      this.#lastClose = { code: e.code, reason: e.reason, at: new Date() };
      this.#event(
        'close',
        wasOpen ? `closed: ${describeClose(e.code, e.reason)}` : `attempt failed (${e.code}${e.reason ? ` “${e.reason}”` : ''})`,
      );
      if (this.#state !== 'closing' && this.#state !== 'stopped') this.#setState('connecting');
    });
    socket.addEventListener('reconnecting', (e) => {
      const { attempt, delay } = e.detail;
      this.#retry = attempt;
      this.#retryAt = performance.now() + delay;
      this.#setState('reconnecting');
      this.#event('reconnecting', `retry #${attempt} in ${seconds(delay)}`);
    });
    socket.addEventListener('stop', (e) => {
      this.#queued = 0; // stopping for good discards the queue
      this.#stopReason = e.detail.reason;
      this.#setState('stopped');
      this.#event('stop', `stopped: ${STOP_REASONS[e.detail.reason] || e.detail.reason}`);
    });
    socket.addEventListener('heartbeat', (e) => {
      this.#rtt = e.detail.rtt;
      this.#rttAt = performance.now();
      this.#render();
    });

    if (socket.readyState === socket.OPEN) this.#setState('open');
    else if (socket.readyState === socket.CLOSED) this.#setState('stopped');
    else this.#setState('connecting');
    this.#timer = setInterval(() => this.#render(), 100);
  }

  get state() {
    return this.#state;
  }

  /** Sends through the socket; "sent" or "queued". Throws what `send` throws. */
  send(data) {
    // true: handed to the open connection; false: queued until the next open (also
    // after Close, until Reconnect).
    const handed = this.#socket.send(data);
    if (!handed) this.#queued++;
    this.#render();
    return handed ? 'sent' : 'queued';
  }

  /** Adds a line to the panel's event list (pages use it for their own notes). */
  note(text) {
    this.#event('note', text);
  }

  // ----- actions -----------------------------------------------------------------

  #close() {
    if (this.#state === 'stopped' || this.#state === 'closing') return;
    this.#setState('closing');
    this.#socket.close(1000, 'closed from the demo page');
  }

  #reconnect() {
    this.#stopReason = '';
    this.#retry = 0;
    this.#setState('connecting');
    this.#event('note', 'reconnect() called');
    this.#requested = this.#socket.readyState === this.#socket.OPEN;
    this.#socket.reconnect(1000, 'reconnect requested');
  }

  async #drop() {
    try {
      const res = await fetch(`/api/drop?client=${encodeURIComponent(this.#clientId)}`, {
        method: 'POST',
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        this.#event('note', `server cut ${plural(body.dropped, 'socket')} (no close frame)`);
      } else if (res.status === 404) {
        this.#event('note', 'server: no open socket of this page to drop');
      } else {
        this.#event('note', `drop failed: HTTP ${res.status}`);
      }
    } catch (err) {
      this.#event('note', `drop failed: ${err.message}`);
    } finally {
      this.#render();
    }
  }

  // ----- rendering ---------------------------------------------------------------

  #build(container, title) {
    const d = this.#dom;
    container.replaceChildren();
    container.classList.add('panel');
    const head = el('div', 'panel-head');
    head.append(el('h2', null, title));
    d.pill = el('span', 'pill');
    d.dot = el('span', 'dot');
    d.label = el('span', 'pill-label');
    d.pill.append(d.dot, d.label);
    d.pill.setAttribute('role', 'status');
    d.pill.id = 'conn-state';
    head.append(d.pill);
    container.append(head);

    d.detail = el('p', 'state-detail');
    d.detail.id = 'conn-detail';
    container.append(d.detail);

    const dl = el('dl', 'facts');
    const row = (name, id) => {
      const dd = el('dd');
      dd.id = id;
      dl.append(el('dt', null, name), dd);
      return dd;
    };
    d.retries = row('Retries', 'conn-retries');
    d.retries.previousElementSibling.title =
      'retryCount: failed attempts since the last connection that stayed up minUptime';
    d.queue = row('Queued', 'conn-queued');
    d.uptime = row('Uptime', 'conn-uptime');
    d.rtt = row('Heartbeat', 'conn-rtt');
    d.last = row('Last close', 'conn-last-close');
    container.append(dl);

    const actions = el('div', 'actions');
    d.close = el('button', 'btn', 'Close');
    d.close.type = 'button';
    d.close.id = 'btn-close';
    d.close.title = 'socket.close(): stop for good (queued messages are discarded)';
    d.reconnect = el('button', 'btn', 'Reconnect');
    d.reconnect.type = 'button';
    d.reconnect.id = 'btn-reconnect';
    d.reconnect.title = 'socket.reconnect(): connect again now, retry count reset';
    d.drop = el('button', 'btn btn-warn', 'Drop me (server)');
    d.drop.type = 'button';
    d.drop.id = 'btn-drop';
    d.drop.title = 'Ask the demo server to cut this connection abruptly (1006)';
    d.close.addEventListener('click', () => this.#close());
    d.reconnect.addEventListener('click', () => this.#reconnect());
    d.drop.addEventListener('click', () => this.#drop());
    actions.append(d.close, d.reconnect, d.drop);
    container.append(actions);

    container.append(el('h3', null, 'Events'));
    d.events = el('ol', 'events');
    d.events.id = 'conn-events';
    container.append(d.events);
    this.#root = container;
  }

  #root = null;

  #setState(state) {
    this.#state = state;
    this.#root.dataset.state = state;
    this.#render();
  }

  #event(kind, text) {
    const li = el('li', `ev ev-${kind}`);
    li.dataset.kind = kind;
    li.append(el('time', null, clock()), el('span', null, text));
    this.#dom.events.prepend(li);
    while (this.#dom.events.children.length > 7) this.#dom.events.lastElementChild.remove();
  }

  #render() {
    const d = this.#dom;
    const s = this.#socket;
    const now = performance.now();
    let label;
    let detail;
    switch (this.#state) {
      case 'open':
        label = 'Open';
        detail = 'Connected. Messages go straight out.';
        break;
      case 'reconnecting': {
        const left = this.#retryAt - now;
        if (left > 0) {
          label = `Reconnecting in ${seconds(left)}`;
          detail = `Waiting before retry #${this.#retry}; messages you send now are queued.`;
        } else {
          label = 'Connecting…';
          detail = `Retry #${this.#retry} under way; messages you send now are queued.`;
        }
        break;
      }
      case 'closing':
        label = 'Closing…';
        detail = 'Closing handshake in progress.';
        break;
      case 'stopped': {
        label = 'Stopped';
        const why = STOP_REASONS[this.#stopReason] || 'stopped';
        detail = `${why[0].toUpperCase()}${why.slice(1)}. Press Reconnect to start again.`;
        break;
      }
      default:
        label = 'Connecting…';
        detail = this.#retry
          ? `Retry #${this.#retry} under way; messages you send now are queued.`
          : 'Opening the connection; messages you send now are queued.';
    }
    const shownState = this.#state === 'reconnecting' && this.#retryAt <= now ? 'connecting' : this.#state;
    d.pill.dataset.state = shownState;
    d.label.textContent = label;
    d.detail.textContent = detail;

    const max = this.#options.maxRetries;
    d.retries.textContent = `${s.retryCount}` + (Number.isFinite(max) ? ` of ${max}` : '');

    const buffered = s.bufferedAmount;
    d.queue.textContent =
      this.#state === 'open'
        ? buffered
          ? `${bytes(buffered)} buffered`
          : 'nothing waiting'
        : this.#queued || buffered
          ? `${plural(this.#queued, 'message')}, ${bytes(buffered)}`
          : 'nothing queued';
    d.queue.classList.toggle('hot', this.#state !== 'open' && this.#queued > 0);

    d.uptime.textContent = this.#openedAt ? seconds(now - this.#openedAt) : '—';

    const every = this.#options.heartbeatInterval;
    if (!every) d.rtt.textContent = 'off';
    else if (this.#rtt === null) d.rtt.textContent = `ping after ${every / 1000} s of silence`;
    else {
      const rtt = this.#rtt < 10 ? this.#rtt.toFixed(1) : Math.round(this.#rtt);
      d.rtt.textContent = `${rtt} ms round trip, ${seconds(now - this.#rttAt)} ago`;
    }

    d.last.textContent = this.#lastClose
      ? `${describeClose(this.#lastClose.code, this.#lastClose.reason)} at ${clock(this.#lastClose.at)}`
      : '—';

    d.close.disabled = this.#state === 'stopped' || this.#state === 'closing';
    d.drop.disabled = this.#state !== 'open';
    d.reconnect.disabled = this.#state === 'closing';
  }
}
