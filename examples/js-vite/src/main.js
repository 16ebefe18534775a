// The smallest steadysocket echo app: type, send, see it come back; stop the server
// and watch it reconnect (what you send meanwhile is queued and delivered once).
import { SteadySocket } from 'steadysocket';

// The echo server: ?ws=URL, or the steadysocket demo's (`npm start` in its repo).
const url = new URLSearchParams(location.search).get('ws') ?? 'ws://127.0.0.1:8080/echo';
const socket = new SteadySocket(url, [], { minReconnectionDelay: 250, maxReconnectionDelay: 5000 });

const status = document.getElementById('status');
const log = document.getElementById('log');
const form = document.getElementById('form');
const text = document.getElementById('text');

socket.addEventListener('open', () => (status.textContent = 'open'));
socket.addEventListener('reconnecting', (e) => (status.textContent = `reconnecting (attempt ${e.detail.attempt})`));
socket.addEventListener('stop', () => (status.textContent = 'stopped'));
socket.addEventListener('message', (e) => {
  const line = document.createElement('li');
  line.textContent = String(e.data);
  log.append(line);
});
form.addEventListener('submit', (e) => {
  e.preventDefault();
  socket.send(text.value); // sent now if open, else queued and sent once on open
  text.value = '';
});
