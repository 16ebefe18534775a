// Chat demo: a room on /chat. The server sends JSON:
//   { type: 'welcome', name, users }   to you, once per connection (your name as used)
//   { type: 'join' | 'leave', name }   to everyone
//   { type: 'message', from, text, time }
// What you type while the connection is down is queued by SteadySocket and sent, in
// order and exactly once, when it is back; the log marks it "pending" until the room's
// copy of it comes back.
//
// Socket options can be tuned from the query string (see demoOptions in panel.js);
// `?name=` presets the name.
import { SteadySocket } from '/pkg/steadysocket.js';
import { ConnectionPanel, demoOptions, describeClose, newClientId } from './panel.js';
import { MessageLog } from './log.js';

const $ = (id) => document.getElementById(id);
const log = new MessageLog($('log'));
const nameInput = $('name');
const input = $('text');
const onlineLabel = $('online');

// ----- the name: from ?name=, else this tab's earlier choice, else a generated one ------

const ADJECTIVES = ['calm', 'brave', 'swift', 'quiet', 'bright', 'lucky', 'gentle', 'clever', 'sunny', 'steady'];
const ANIMALS = ['otter', 'falcon', 'lynx', 'heron', 'panda', 'fox', 'koala', 'orca', 'badger', 'wren'];
const pick = (list) => list[crypto.getRandomValues(new Uint32Array(1))[0] % list.length];

// "One connection for all tabs" (the `share` option): every tab of this browser with
// the box ticked uses the one connection the leading tab holds, so they share one
// name (kept in localStorage: the leading tab's URL function reads it) and one
// client id. The choice is kept per browser; ?shared=1 turns it on for this page.
const SHARED_KEY = 'steadysocket-chat-shared';
const shared =
  new URLSearchParams(location.search).get('shared') === '1' || localStorage.getItem(SHARED_KEY) === '1';

let wantedName =
  new URLSearchParams(location.search).get('name') ||
  (shared && localStorage.getItem(`${SHARED_KEY}-name`)) ||
  sessionStorage.getItem('steadysocket-chat-name') ||
  `${pick(ADJECTIVES)}-${pick(ANIMALS)}`;
if (shared) localStorage.setItem(`${SHARED_KEY}-name`, wantedName);
/** The name to connect with: a shared connection's is the one all its tabs share. */
const currentName = () => (shared && localStorage.getItem(`${SHARED_KEY}-name`)) || wantedName;
nameInput.value = wantedName;
let myName = null; // as the server knows us (it cleans names up), from `welcome`

// ----- the socket ---------------------------------------------------------------------

const clientId = shared ? sharedClientId() : newClientId();
const options = demoOptions();
if (shared) options.share = 'chat';
$('shared').checked = shared;
$('shared').addEventListener('change', (e) => {
  localStorage.setItem(SHARED_KEY, e.target.checked ? '1' : '0');
  location.reload();
});

function sharedClientId() {
  let id = localStorage.getItem(`${SHARED_KEY}-client`);
  if (!id) {
    id = newClientId();
    localStorage.setItem(`${SHARED_KEY}-client`, id);
  }
  return id;
}

// What the server counts: with the box ticked in two tabs, one chat connection.
async function showServerCount() {
  try {
    const res = await fetch('/api/connections');
    const { chat } = await res.json();
    $('server-count').textContent = `server: ${chat} chat connection${chat === 1 ? '' : 's'}`;
  } catch {
    $('server-count').textContent = '';
  }
}
showServerCount();
setInterval(showServerCount, 2000);
let socket;
try {
  // A function: called before every attempt, so a new name applies on the next connection.
  socket = new SteadySocket(
    () => `/chat?client=${clientId}&name=${encodeURIComponent(currentName())}`,
    undefined,
    options,
  );
} catch (err) {
  $('boot').textContent = `Cannot create the socket: ${err.name}: ${err.message}`;
  $('boot').classList.add('error');
  throw err;
}
const panel = new ConnectionPanel($('panel'), socket, { clientId, options });
$('boot').hidden = true;
document.body.classList.add('ready');

// ----- who is online -------------------------------------------------------------------

let online = [];
let ownJoinPending = false;
let joinedBefore = false;

function renderOnline() {
  onlineLabel.replaceChildren();
  if (socket.readyState !== socket.OPEN || myName === null) {
    onlineLabel.textContent = 'offline';
    return;
  }
  if (online === null) {
    // A tab that joined a shared connection after it opened: the room's welcome
    // (with who is online) went to the tab that opened it.
    onlineLabel.textContent = 'Online (shared connection)';
    return;
  }
  const others = online.filter((n, i) => !(n === myName && i === online.indexOf(myName)));
  onlineLabel.append(`Online (${online.length}): `);
  onlineLabel.append(Object.assign(document.createElement('strong'), { textContent: 'you' }));
  if (others.length) onlineLabel.append(`, ${others.join(', ')}`);
  onlineLabel.title = online.join(', ');
}
renderOnline();

// ----- sending --------------------------------------------------------------------------

/** Your messages waiting for the room's copy, oldest first. */
let awaiting = [];

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value;
  if (text.trim() === '') return;
  const entry = log.add({ kind: 'out', who: myName ?? wantedName, text });
  entry.li.classList.add('entry-mine');
  let how;
  try {
    how = panel.send(text);
  } catch (err) {
    entry.set('failed', err.message, err.name === 'InvalidStateError' ? 'not sent: closed' : 'not sent');
    return;
  }
  input.value = '';
  entry.queued = how === 'queued';
  if (text === (options.heartbeatMessage ?? 'ping')) {
    entry.set('info', 'the server answers the heartbeat word itself; the room never sees it', 'heartbeat word');
    return;
  }
  entry.set(
    entry.queued ? 'pending' : 'sending',
    entry.queued ? 'queued in SteadySocket until the connection is open (after Close: until Reconnect)' : 'waiting for the room',
  );
  awaiting.push(entry);
});

$('identity').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = nameInput.value.trim();
  if (!name || name === wantedName) return;
  wantedName = name;
  sessionStorage.setItem('steadysocket-chat-name', name);
  if (shared) localStorage.setItem(`${SHARED_KEY}-name`, name);
  panel.note(`renaming to ${name}: reconnecting`);
  socket.reconnect(); // the URL function picks up the new name
  input.focus();
});

$('clear').addEventListener('click', () => {
  log.clear();
  awaiting = [];
  input.focus();
});

// ----- receiving ------------------------------------------------------------------------

socket.addEventListener('message', (event) => {
  if (typeof event.data !== 'string') return;
  let msg;
  try {
    msg = JSON.parse(event.data);
  } catch {
    return; // e.g. a "pong" when the heartbeat is off
  }
  if (!msg || typeof msg !== 'object') return;
  switch (msg.type) {
    case 'welcome':
      myName = String(msg.name);
      online = Array.isArray(msg.users) ? msg.users.map(String) : [myName];
      ownJoinPending = true;
      if (nameInput !== document.activeElement) nameInput.value = myName;
      log.add({ kind: 'sys', text: `You ${joinedBefore ? 'rejoined' : 'joined'} as ${myName}` });
      joinedBefore = true;
      break;
    case 'join':
      if (ownJoinPending && msg.name === myName) {
        ownJoinPending = false; // already listed by the welcome
      } else {
        online?.push(String(msg.name));
        log.add({ kind: 'sys', text: `${msg.name} joined` });
      }
      break;
    case 'leave': {
      const i = online ? online.indexOf(String(msg.name)) : -1;
      if (i !== -1) online.splice(i, 1);
      log.add({ kind: 'sys', text: `${msg.name} left` });
      break;
    }
    case 'message': {
      const time = Number.isFinite(msg.time) ? new Date(msg.time) : new Date();
      const head = awaiting[0];
      if (head && msg.from === myName && msg.text === head.text) {
        awaiting.shift();
        head.setTime(time);
        head.set('delivered', 'the room has it', head.queued ? 'delivered after reconnect' : 'delivered');
      } else {
        const entry = log.add({ kind: msg.from === myName ? 'out' : 'in', who: String(msg.from), text: String(msg.text), time });
        if (msg.from === myName) entry.li.classList.add('entry-mine');
      }
      break;
    }
    default:
      break;
  }
  renderOnline();
});

let wasOpen = false;
socket.addEventListener('open', () => {
  wasOpen = true;
  // A follower of a shared connection gets no welcome of its own: the leading tab
  // connected with the shared name, so that is the name the room knows.
  setTimeout(() => {
    if (shared && myName === null && socket.readyState === socket.OPEN) {
      myName = currentName();
      online = null;
      renderOnline();
    }
  }, 500);
});

socket.addEventListener('close', (event) => {
  if (wasOpen && !panel.closeRequested) {
    log.add({
      kind: 'sys',
      text: `Connection lost: ${describeClose(event.code, event.reason)}. Reconnecting; what you type now is queued.`,
    });
  }
  wasOpen = false;
  for (const entry of awaiting) {
    if (!entry.queued) entry.set('lost', 'the connection closed before the room confirmed it', 'unconfirmed');
  }
  awaiting = awaiting.filter((entry) => entry.queued);
  online = [];
  myName = shared ? null : myName;
  renderOnline();
});

socket.addEventListener('stop', (event) => {
  if (event.detail.reason === 'close') log.add({ kind: 'sys', text: 'You closed the connection. Press Reconnect to come back.' });
  else log.add({ kind: 'sys', text: `Stopped (${event.detail.reason}). Press Reconnect to try again.` });
  for (const entry of awaiting) entry.set('discarded', 'the socket was closed before it could be sent');
  awaiting = [];
});

input.focus();
