// The one WebSocket (/api/v1/ws): connect, reconnect with backoff, sync after every (re)connect,
// and the outbox: every message is sent with its client_id until an ack (or its event) arrives.
import { scheduledSignal } from './views/reach.js';
import * as chat from './chat.js';
import * as outbox from './outbox.js';
import { emit, state } from './store.js';

const RESEND_AFTER_MS = 10000; // no ack this long on an open socket: send again, same client_id
const PING_EVERY_MS = 25000;
const PONG_WITHIN_MS = 10000;
const TYPING_EVERY_MS = 3000;

let ws = null;
let attempt = 0;
let retryTimer = null;
let pingTimer = null;
let pongTimer = null;
let resendTimer = null;
let synced = false;
let running = false;
let onSessionEnded = () => {};
const lastTyping = new Map();

function setConn(conn) {
  if (state.conn !== conn) {
    state.conn = conn;
    emit();
  }
}

function socketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws';
}

function send(frame) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame)); // raw UTF-8: JSON.stringify does not \u-escape text
  return true;
}

export function start({ sessionEnded }) {
  if (running) return;
  running = true;
  onSessionEnded = sessionEnded;
  attempt = 0;
  chat.setTransport({
    read: (threadId, seq) => {
      if (!send({ type: 'read', thread_id: threadId, seq })) return false;
      return true;
    },
    sync: (cursors) => send({ type: 'sync', cursors }),
  });
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  resendTimer = setInterval(resendStale, 2000);
  connect();
}

export function stop() {
  running = false;
  clearTimeout(retryTimer);
  retryTimer = null;
  clearInterval(resendTimer);
  abandon();
  window.removeEventListener('online', onOnline);
  window.removeEventListener('offline', onOffline);
  chat.setTransport({ read: null, sync: null });
  setConn('idle');
}

function connect() {
  clearTimeout(retryTimer);
  retryTimer = null;
  if (!running || ws) return;
  if (navigator.onLine === false) {
    setConn('offline');
    scheduleRetry();
    return;
  }
  if (state.conn !== 'offline') setConn('connecting');
  let sock;
  try {
    sock = new WebSocket(socketUrl());
  } catch {
    scheduleRetry();
    return;
  }
  ws = sock;
  sock.onmessage = (m) => {
    if (ws === sock) onFrame(m.data);
  };
  sock.onclose = (e) => {
    if (ws === sock) closed(e.code);
  };
}

/** Forget the current socket at once (its late callbacks are ignored). */
function abandon() {
  const sock = ws;
  ws = null;
  synced = false;
  clearInterval(pingTimer);
  clearTimeout(pongTimer);
  if (sock) {
    sock.onmessage = null;
    sock.onclose = null;
    try {
      sock.close(1000);
    } catch {
      // already closed
    }
  }
}

function closed(code) {
  abandon();
  if (code === 4401) {
    onSessionEnded();
    return;
  }
  if (code === 4403) {
    setConn('blocked'); // this page's origin may not open a socket: retrying cannot help
    return;
  }
  if (code === 4429) attempt = Math.max(attempt, 6);
  setConn('offline');
  scheduleRetry();
}

function scheduleRetry() {
  if (!running || retryTimer) return;
  const ceiling = Math.min(30000, 500 * 2 ** attempt);
  attempt += 1;
  const delay = ceiling / 2 + Math.random() * (ceiling / 2);
  retryTimer = setTimeout(() => {
    retryTimer = null;
    connect();
  }, delay);
}

function onOnline() {
  attempt = 0;
  clearTimeout(retryTimer);
  retryTimer = null;
  if (!ws) connect();
}

function onOffline() {
  // The browser knows the network is gone: do not wait for the socket to notice.
  abandon();
  setConn('offline');
  scheduleRetry();
}

function onFrame(data) {
  let frame;
  try {
    frame = JSON.parse(data);
  } catch {
    return;
  }
  clearTimeout(pongTimer); // any frame shows the connection is alive
  switch (frame.type) {
    case 'ready':
      attempt = 0;
      // "Catching up" only after an outage; a first connection syncs quietly.
      setConn(state.conn === 'offline' ? 'syncing' : 'connecting');
      afterReady(ws);
      break;
    case 'ack':
      chat.applyEvent(frame.event);
      outbox.acked(frame.client_id, frame.event.thread_id);
      break;
    case 'event':
      chat.applyEvent(frame.event);
      if (frame.event.client_id && state.me && frame.event.actor_id === state.me.id) {
        outbox.acked(frame.event.client_id, frame.event.thread_id);
      }
      break;
    case 'synced':
      synced = true;
      setConn('online');
      flush();
      break;
    case 'typing':
      chat.typingFrom(frame.thread_id, frame.user_id);
      break;
    case 'read':
      chat.readFrom(frame.thread_id, frame.user_id, frame.seq);
      break;
    case 'scheduled':
      scheduledSignal(frame);
      break;
    case 'error':
      onError(frame);
      break;
    default:
      break; // pong, and frame types added later
  }
}

async function afterReady(sock) {
  // `sync` is the first frame: the server holds live events until it, so the replay comes
  // first and in order (a later sync below what was sent would close the socket with 4009).
  send({ type: 'sync', cursors: chat.syncCursors() });
  try {
    await chat.loadThreads(); // threads joined while we were away, fresh unread counts
  } catch (error) {
    if (error.status === 401) return; // the session-lost handler takes over
  }
  if (ws !== sock) return;
  clearInterval(pingTimer);
  pingTimer = setInterval(() => {
    if (!send({ type: 'ping' })) return;
    clearTimeout(pongTimer);
    pongTimer = setTimeout(() => {
      // No answer: the connection is dead even if the browser has not noticed.
      abandon();
      setConn('offline');
      scheduleRetry();
    }, PONG_WITHIN_MS);
  }, PING_EVERY_MS);
}

function onError(frame) {
  if (frame.code === 'rate_limited' && !frame.client_id && !synced) {
    // The sync itself was refused: ask again shortly (nothing is sent before `synced`).
    const sock = ws;
    setTimeout(() => {
      if (ws === sock && !synced) send({ type: 'sync', cursors: chat.syncCursors() });
    }, 1000);
    return;
  }
  if (frame.client_id) {
    if (frame.code === 'rate_limited') {
      const item = state.outbox.find((i) => i.client_id === frame.client_id);
      if (item) item.sentAt = Date.now() - RESEND_AFTER_MS + 2000; // retry in ~2 s
    } else if (frame.code !== 'not_found') {
      outbox.failed(frame.client_id, frame.detail || 'This message could not be sent.');
    }
  }
  if (frame.code === 'not_found' && frame.thread_id) chat.threadGone(frame.thread_id);
}

function sendItem(item) {
  const frame = { type: 'send', thread_id: item.thread_id, client_id: item.client_id,
    body: item.body };
  if (item.reply_to) frame.reply_to = item.reply_to;
  if (item.attachments && item.attachments.length) {
    frame.attachments = item.attachments.map((f) => f.id);
  }
  if (send(frame)) {
    item.sentAt = Date.now();
  }
}

/** Send every pending message (after synced: anything already stored has been replayed). */
function flush() {
  if (!synced) return;
  for (const item of outbox.pending()) sendItem(item);
}

function resendStale() {
  if (!synced) return;
  const now = Date.now();
  for (const item of outbox.pending()) {
    if (!item.sentAt || now - item.sentAt > RESEND_AFTER_MS) sendItem(item);
  }
}

export function sendMessage(threadId, body, replyTo = null, attachments = []) {
  const item = outbox.add(threadId, body, replyTo, attachments);
  if (synced) sendItem(item);
}

export function retryMessage(clientId) {
  const item = outbox.retry(clientId);
  if (item && synced) sendItem(item);
}

export function sendTyping(threadId) {
  const now = Date.now();
  if (!synced || now - (lastTyping.get(threadId) || 0) < TYPING_EVERY_MS) return;
  if (send({ type: 'typing', thread_id: threadId })) lastTyping.set(threadId, now);
}
