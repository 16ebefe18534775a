// The message log used by the demo pages. Every piece of text goes in through
// textContent, so whatever a user or the server sends shows literally
// (`<img src=x onerror=alert(1)>` stays text).
import { clock, el } from './panel.js';

const BADGES = {
  sending: 'sending…',
  pending: 'pending',
  delivered: 'delivered',
  lost: 'no echo',
  discarded: 'discarded',
  failed: 'not sent',
  info: '',
};

export class MessageLog {
  #list;

  /** `list` is an <ol>; its data-empty attribute is shown (by CSS) while it is empty. */
  constructor(list) {
    this.#list = list;
  }

  /**
   * Appends an entry and returns it. kind: "out" (you sent), "in" (received), "sys"
   * (notice). `who` is an optional sender name; `status` an optional badge.
   */
  add({ kind, text, who = null, status = null, note = null, time = new Date() }) {
    const stick = this.#atBottom();
    const li = el('li', `entry entry-${kind}`);
    const stamp = el('time', 'when', clock(time));
    stamp.dateTime = time.toISOString();
    li.append(stamp);
    if (kind !== 'sys') li.append(el('span', 'dir', kind === 'out' ? '↑' : '↓'));
    const body = el('span', 'body');
    if (who !== null) body.append(el('span', 'who', who));
    body.append(el('span', 'text', text));
    li.append(body);
    const badge = el('span', 'badge');
    li.append(badge);
    const entry = {
      li,
      text,
      /** Sets the badge: a BADGES key, an optional tooltip and an optional label. */
      set(status, note = null, label = null) {
        li.dataset.status = status || '';
        badge.hidden = !status;
        badge.dataset.status = status || '';
        badge.textContent = status ? label ?? BADGES[status] ?? status : '';
        if (note) badge.title = note;
        else badge.removeAttribute('title');
      },
      /** Updates the time stamp (e.g. to the server's). */
      setTime(date) {
        stamp.textContent = clock(date);
        stamp.dateTime = date.toISOString();
      },
    };
    entry.set(status, note);
    this.#list.append(li);
    if (stick) this.#list.scrollTop = this.#list.scrollHeight;
    return entry;
  }

  clear() {
    this.#list.replaceChildren();
  }

  #atBottom() {
    const l = this.#list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 40;
  }
}
