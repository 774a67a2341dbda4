// Messages composed here and not yet acknowledged by the server. Each keeps the client_id it was
// first sent with, so a retry after a timeout or reconnect can never store it twice. Kept in
// sessionStorage so a reload of the tab does not lose them (and closing the tab forgets them).
import { emit, state } from './store.js';
import { uuid } from './util.js';

function key() {
  return state.me ? 'carethread.outbox.' + state.me.id : null;
}

function save() {
  const k = key();
  if (!k) return;
  try {
    const items = state.outbox.map(({ sentAt, ...rest }) => rest);
    if (items.length) sessionStorage.setItem(k, JSON.stringify(items));
    else sessionStorage.removeItem(k);
  } catch {
    // Storage full or disabled: the outbox still lives in memory.
  }
}

export function load() {
  const k = key();
  let items = [];
  try {
    items = JSON.parse(sessionStorage.getItem(k) || '[]');
  } catch {
    items = [];
  }
  state.outbox = Array.isArray(items) ? items : [];
  emit();
}

export function forget() {
  const k = key();
  state.outbox = [];
  try {
    if (k) sessionStorage.removeItem(k);
  } catch {
    // nothing to forget
  }
}

export function add(threadId, body, replyTo = null, attachments = []) {
  const item = {
    client_id: uuid(), thread_id: threadId, body, attachments,
    created_at: new Date().toISOString(), state: 'pending', sentAt: 0,
  };
  if (replyTo) item.reply_to = replyTo;
  state.outbox.push(item);
  save();
  emit();
  return item;
}

/** The server stored it: the event replaces the pending copy. */
export function acked(clientId, threadId) {
  const before = state.outbox.length;
  state.outbox = state.outbox.filter(
    (i) => !(i.client_id === clientId && i.thread_id === threadId),
  );
  if (state.outbox.length !== before) {
    save();
    emit();
  }
}

export function failed(clientId, detail) {
  const item = state.outbox.find((i) => i.client_id === clientId);
  if (!item) return;
  item.state = 'failed';
  item.error = detail;
  save();
  emit();
}

export function retry(clientId) {
  const item = state.outbox.find((i) => i.client_id === clientId);
  if (!item) return null;
  item.state = 'pending';
  item.sentAt = 0;
  delete item.error;
  save();
  emit();
  return item;
}

export function discard(clientId) {
  state.outbox = state.outbox.filter((i) => i.client_id !== clientId);
  save();
  emit();
}

export function dropThread(threadId, detail) {
  for (const item of state.outbox) {
    if (item.thread_id === threadId && item.state === 'pending') {
      item.state = 'failed';
      item.error = detail;
    }
  }
  save();
  emit();
}

export function pending() {
  return state.outbox.filter((i) => i.state === 'pending');
}

export function forThread(threadId) {
  return state.outbox.filter((i) => i.thread_id === threadId);
}
