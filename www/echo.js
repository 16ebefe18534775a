// Echo demo: everything sent to /echo comes back. Messages sent while the connection is
// down are queued by SteadySocket and delivered, in order and exactly once, when it is
// back; the log marks them "pending" until their echo arrives.
//
// Socket options can be tuned from the query string (see demoOptions in panel.js),
// e.g. /?minDelay=50&maxDelay=500&heartbeat=2000.
import { SteadySocket } from '/pkg/steadysocket.js';
import { ConnectionPanel, demoOptions, describeClose, newClientId } from './panel.js';
import { MessageLog } from './log.js';

const $ = (id) => document.getElementById(id);
const log = new MessageLog($('log'));
const form = $('composer');
const input = $('text');

// `?client=` lets the demo server find this page's socket for "Drop me (server)".
// A relative URL is fine: SteadySocket resolves it against the page (http → ws).
const clientId = newClientId();
const options = demoOptions();
let socket;
try {
  socket = new SteadySocket(`/echo?client=${clientId}`, undefined, options);
} catch (err) {
  $('boot').textContent = `Cannot create the socket: ${err.name}: ${err.message}`;
  $('boot').classList.add('error');
  throw err;
}
const panel = new ConnectionPanel($('panel'), socket, { clientId, options });
$('boot').hidden = true;
document.body.classList.add('ready');

// The heartbeat is the text "ping", answered by "pong" which SteadySocket keeps to itself,
// so those two words never come back as an echo.
const heartbeatWords = new Set(
  options.heartbeatInterval ? [options.heartbeatMessage ?? 'ping', options.heartbeatResponse ?? 'pong'] : ['ping'],
);

/** Sent entries waiting for their echo, oldest first (the echo keeps the order). */
let awaiting = [];

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value;
  if (text === '') return;
  const entry = log.add({ kind: 'out', text });
  let how;
  try {
    how = panel.send(text);
  } catch (err) {
    entry.set('failed', err.message, err.name === 'InvalidStateError' ? 'not sent: closed' : 'not sent');
    return;
  }
  input.value = '';
  entry.sentAt = performance.now();
  entry.queued = how === 'queued';
  if (heartbeatWords.has(text)) {
    entry.set('info', 'the heartbeat uses this word; its answer is not delivered to the page', 'heartbeat word');
    return;
  }
  entry.set(
    entry.queued ? 'pending' : 'sending',
    entry.queued ? 'queued in SteadySocket until the connection is open (after Close: until Reconnect)' : 'waiting for the echo',
  );
  awaiting.push(entry);
});

socket.addEventListener('message', async (event) => {
  let text;
  if (typeof event.data === 'string') text = event.data;
  else {
    const size = event.data.size ?? event.data.byteLength;
    log.add({ kind: 'in', text: `[binary, ${size} bytes]` });
    return;
  }
  const head = awaiting[0];
  if (head && head.text === text) {
    awaiting.shift();
    const ms = Math.round(performance.now() - head.sentAt);
    head.set(
      'delivered',
      `echoed after ${ms} ms`,
      head.queued ? 'delivered after reconnect' : `delivered · ${ms} ms`,
    );
  }
  log.add({ kind: 'in', text });
});

// A connection that dies takes what it was carrying with it (at-most-once); what was
// queued stays queued for the next connection.
let wasOpen = false;
let lost = false;
socket.addEventListener('open', () => {
  if (lost) log.add({ kind: 'sys', text: 'Reconnected.' });
  wasOpen = true;
  lost = false;
});

socket.addEventListener('close', (event) => {
  if (wasOpen && !panel.closeRequested) {
    lost = true;
    log.add({
      kind: 'sys',
      text: `Connection lost: ${describeClose(event.code, event.reason)}. Reconnecting; what you send now is queued.`,
    });
  }
  wasOpen = false;
  for (const entry of awaiting) {
    if (!entry.queued) entry.set('lost', 'the connection closed before the echo came back');
  }
  awaiting = awaiting.filter((entry) => entry.queued);
});

// Stopping for good (Close, or giving up) discards the queue.
socket.addEventListener('stop', (event) => {
  lost = false;
  if (event.detail.reason === 'close') log.add({ kind: 'sys', text: 'You closed the connection. Press Reconnect to open it again.' });
  else log.add({ kind: 'sys', text: `Stopped (${event.detail.reason}). Press Reconnect to try again.` });
  for (const entry of awaiting) entry.set('discarded', 'the socket was closed before it could be sent');
  awaiting = [];
});

$('clear').addEventListener('click', () => {
  log.clear();
  awaiting = [];
  input.focus();
});

input.focus();
