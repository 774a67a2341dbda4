// Threads and their event logs: loading pages, applying live events exactly once (by seq),
// unread counts, read positions, typing signals and the names shown for user ids.
import { get, post } from './api.js';
import * as outbox from './outbox.js';
import { readingText } from './metrics.js';
import { announceEvent, emit, isStaff, state } from './store.js';
import { dateOnly, fullTime, humanize } from './util.js';

// What counts as unread (docs/api.md, "Unread"; the server's server/threads/chat.py): messages
// and the cards meant for the person reading, never bookkeeping, reactions or system lines.
const UNREAD_KINDS = new Set(['message']);
const UNREAD_KINDS_CLIENT = new Set([
  'form.requested', 'form.reminded', 'task.assigned', 'document.shared', 'care_plan.shared',
  'program.module', 'appointment.booked', 'appointment.cancelled', 'appointment.rescheduled',
]);
const UNREAD_KINDS_TEAM = new Set([
  'form.completed', 'task.completed', 'journal.entry', 'appointment.booked',
  'appointment.cancelled', 'appointment.rescheduled',
]);
// What a chat list previews: a message or a card, never bookkeeping or system lines.
const PREVIEWED = new Set([...UNREAD_KINDS, ...UNREAD_KINDS_CLIENT, ...UNREAD_KINDS_TEAM,
  'form.cancelled']);

export function countsAsUnread(kind) {
  return UNREAD_KINDS.has(kind) || (isStaff() ? UNREAD_KINDS_TEAM : UNREAD_KINDS_CLIENT).has(kind);
}

export function previewable(kind) {
  return PREVIEWED.has(kind);
}
// Events that change an earlier message rather than show as a line of their own.
export const CHANGES = new Set(['message.edited', 'message.deleted']);
const PAGE = 50;
const TYPING_SHOWN_MS = 6000;

// The realtime module registers how to send frames (read, sync); kept here as a hook so this
// module does not import the socket.
const transport = { read: null, sync: null };
export function setTransport(t) {
  Object.assign(transport, t);
}

function log(threadId) {
  let l = state.logs.get(threadId);
  if (!l) {
    l = {
      bySeq: new Map(), minSeq: 0, maxSeq: 0, loaded: false, loading: null, more: false,
      loadingOlder: false, error: '', gone: false,
    };
    state.logs.set(threadId, l);
  }
  return l;
}
export { log as logOf };

/** A person's photo, as the latest answer naming them has it (null: back to initials). */
export function rememberAvatar(id, url) {
  if (url) state.avatars.set(id, url);
  else state.avatars.delete(id);
}

export function remember(users) {
  for (const u of users || []) {
    if (u && u.id && u.name) state.names.set(u.id, u.name);
    if (u && u.id && 'avatar_url' in u) rememberAvatar(u.id, u.avatar_url);
  }
}

/** `people` of GET /threads/{id}: everyone who was ever a member, to name past authors. */
export function rememberPeople(people) {
  for (const [id, p] of Object.entries(people || {})) {
    if (p && p.name && !state.names.has(id)) state.names.set(id, p.name);
    if (p && 'avatar_url' in p && !state.avatars.has(id)) rememberAvatar(id, p.avatar_url);
  }
}

export function nameOf(userId) {
  if (!userId) return 'Carethread';
  if (state.me && userId === state.me.id) return 'You';
  return state.names.get(userId) || 'Former member';
}

export function threadTitle(thread) {
  if (!thread) return 'Conversation';
  // A client's care thread is titled with the client's name: to the client it is their team.
  if (thread.kind === 'care' && state.role === 'client') return 'Your care team';
  if (thread.title) return thread.title;
  const others = otherMembers(thread);
  if (!others.length) return 'Just you';
  return others.map((m) => m.name).join(', ');
}

/** The members other than us, by name. */
export function otherMembers(thread) {
  return (thread.members || []).filter((m) => !state.me || m.id !== state.me.id)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function lastActivity(thread) {
  const latest = [thread.last_event, thread.last_message].filter(Boolean)
    .map((e) => e.created_at).sort().pop();
  return latest || thread.created_at || '';
}

export function sortedThreads() {
  return [...state.threads.values()].sort((a, b) => {
    const x = lastActivity(a);
    const y = lastActivity(b);
    return x < y ? 1 : x > y ? -1 : 0;
  });
}

export function totalUnread() {
  let n = 0;
  for (const t of state.threads.values()) n += t.unread || 0;
  return n;
}

function setThread(thread) {
  const known = state.threads.get(thread.id);
  remember(thread.members);
  if (known && (known.last_seq || 0) > (thread.last_seq || 0)) {
    // An answer older than events already applied live: keep what they brought.
    const { unread, last_seq: lastSeq, last_message: lastMessage, last_event: lastEvent,
      last_read_seq: lastRead } = known;
    Object.assign(known, thread, { unread, last_seq: lastSeq, last_message: lastMessage,
      last_event: lastEvent, last_read_seq: lastRead });
  } else if (known) Object.assign(known, thread);
  else state.threads.set(thread.id, { ...thread });
}

export async function loadThreads() {
  const { threads } = await get('/threads');
  const ids = new Set();
  for (const t of threads) {
    ids.add(t.id);
    setThread(t);
  }
  for (const id of [...state.threads.keys()]) if (!ids.has(id)) state.threads.delete(id);
  state.threadsLoaded = true;
  emit();
}

export async function loadTeam() {
  if (!isStaff()) return;
  const { users } = await get('/team');
  state.team = new Map(users.map((u) => [u.id, u]));
  remember(users);
  state.teamLoaded = true;
  emit();
}

export function addThread(thread) {
  setThread(thread);
  emit();
}

let threadsTimer = null;
function refreshThreadsSoon() {
  clearTimeout(threadsTimer);
  threadsTimer = setTimeout(() => loadThreads().catch(() => {}), 250);
}

const threadTimers = new Map();
function refreshThreadSoon(threadId) {
  clearTimeout(threadTimers.get(threadId));
  threadTimers.set(threadId, setTimeout(async () => {
    threadTimers.delete(threadId);
    try {
      const { thread } = await get('/threads/' + encodeURIComponent(threadId));
      setThread(thread);
      emit();
    } catch {
      // gone or offline: the next sync sorts it out
    }
  }, 250));
}

/** A live `message.edited` / `message.deleted`: change the message we hold, if we hold it. */
function applyChange(l, ev) {
  const targetId = ev.data && ev.data.event_id;
  for (const target of l.bySeq.values()) {
    if (target.id !== targetId) continue;
    if (ev.kind === 'message.edited') {
      if (!target.deleted_at) {
        target.body = ev.data.body;
        target.edited_at = ev.created_at;
      }
    } else {
      target.body = null;
      target.deleted_at = ev.created_at;
      if (target.data) delete target.data.attachments;
    }
    return;
  }
}

function merge(threadId, events) {
  const l = log(threadId);
  for (const ev of events) {
    if (l.bySeq.has(ev.seq)) continue;
    if (CHANGES.has(ev.kind)) applyChange(l, ev);
    l.bySeq.set(ev.seq, ev);
    if (ev.seq > l.maxSeq) l.maxSeq = ev.seq;
    if (!l.minSeq || ev.seq < l.minSeq) l.minSeq = ev.seq;
  }
}

/** The newest page of a thread, once. */
export function ensureLoaded(threadId) {
  const l = log(threadId);
  if (l.loaded || l.loading) return l.loading;
  l.error = '';
  l.loading = (async () => {
    try {
      const page = await get(`/threads/${encodeURIComponent(threadId)}/events?limit=${PAGE}`);
      merge(threadId, page.events);
      l.more = page.more;
      l.loaded = true;
    } catch (error) {
      l.error = error.status === 404 ? 'not_found' : error.detail;
    } finally {
      l.loading = null;
      emit();
    }
  })();
  emit();
  return l.loading;
}

/** The page before the oldest event loaded (scrolling back). */
export async function loadOlder(threadId) {
  const l = log(threadId);
  if (!l.loaded || !l.more || l.loadingOlder) return;
  l.loadingOlder = true;
  emit();
  try {
    const page = await get(
      `/threads/${encodeURIComponent(threadId)}/events?before=${l.minSeq}&limit=${PAGE}`,
    );
    merge(threadId, page.events);
    l.more = page.more;
  } catch (error) {
    l.error = error.detail;
  } finally {
    l.loadingOlder = false;
    emit();
  }
}

/** Page back until the event `seq` is loaded (a search result in older history), or the start
 * of what the caller may see. Bigger pages than scrolling's: one long jump, few requests. */
export async function loadBackTo(threadId, seq) {
  const l = log(threadId);
  if (!l.loaded || l.loadingOlder || !l.more || l.minSeq <= seq) return;
  l.loadingOlder = true;
  emit();
  try {
    while (l.more && l.minSeq > seq) {
      const page = await get(
        `/threads/${encodeURIComponent(threadId)}/events?before=${l.minSeq}&limit=200`,
      );
      merge(threadId, page.events);
      l.more = page.more;
      if (!page.events.length) break;
    }
  } catch (error) {
    l.error = error.detail;
  } finally {
    l.loadingOlder = false;
    emit();
  }
}

/** The event an edit or deletion answered with: applied at once, before (or without) the
 * socket bringing it; applying it again later changes nothing. */
export function applyAnswer(ev) {
  if (state.threads.has(ev.thread_id)) {
    applyEvent(ev);
    return;
  }
  // A thread read from outside (an admin in a client's care chat): only its log changes.
  const l = log(ev.thread_id);
  if (!l.bySeq.has(ev.seq)) merge(ev.thread_id, [ev]);
  emit();
}

/** The cursors a sync names: each loaded thread's highest seq. */
export function syncCursors() {
  const cursors = {};
  for (const [id, l] of state.logs) {
    // Only threads we are in: an admin merely reading a care thread has no socket cursor.
    if (l.loaded && !l.gone && state.threads.has(id)) cursors[id] = l.maxSeq;
  }
  return cursors;
}

function reading(threadId) {
  return state.openThreadId === threadId && document.visibilityState === 'visible';
}

function namesMe(ev) {
  return state.me && ev.data && ev.data.user_id === state.me.id;
}

/** Apply one event from the socket (or a sync replay): stored once per seq, whatever repeats. */
export function applyEvent(ev) {
  const l = log(ev.thread_id);
  if (l.bySeq.has(ev.seq)) return;
  const rejoined = ev.kind === 'member.added' && namesMe(ev);
  // Clients skip staff-only seqs by design, so only the team checks for holes.
  if (l.loaded && ev.seq > l.maxSeq + 1 && !rejoined && transport.sync && isStaff()) {
    // A hole before this event: ask the server to fill it (it should already have).
    transport.sync({ [ev.thread_id]: l.maxSeq });
  }
  if (rejoined) l.gone = false;
  merge(ev.thread_id, [ev]);
  announceEvent(ev);
  if (ev.actor_id) clearTyping(ev.thread_id, ev.actor_id);

  const thread = state.threads.get(ev.thread_id);
  if (ev.kind === 'member.removed' && namesMe(ev)) {
    l.gone = true;
    state.threads.delete(ev.thread_id);
    outbox.dropThread(ev.thread_id, 'You are no longer in this conversation.');
    emit();
    return;
  }
  if (!thread) {
    refreshThreadsSoon(); // a thread new to us
    emit();
    return;
  }
  const fresh = ev.seq > (thread.last_seq || 0);
  if (fresh) thread.last_seq = ev.seq;
  // The preview follows an edit or deletion of the newest message, held as the thread's last
  // message and, when no card came after it, as its last event too.
  for (const key of ['last_message', 'last_event']) {
    const last = thread[key];
    if (CHANGES.has(ev.kind) && last && ev.data && last.id === ev.data.event_id) {
      thread[key] = ev.kind === 'message.edited'
        ? { ...last, body: ev.data.body, edited_at: ev.created_at }
        : { ...last, body: null, deleted_at: ev.created_at, data: null };
    }
  }
  if (ev.kind === 'message' && (!thread.last_message || ev.seq > thread.last_message.seq)) {
    thread.last_message = ev;
  }
  if (previewable(ev.kind) && (!thread.last_event || ev.seq > thread.last_event.seq)) {
    thread.last_event = ev;
  }
  const mine = state.me && ev.actor_id === state.me.id;
  if (fresh && !mine && countsAsUnread(ev.kind)) {
    if (reading(ev.thread_id)) markRead(ev.thread_id);
    else thread.unread = (thread.unread || 0) + 1;
  }
  if (ev.kind === 'member.added' || ev.kind === 'member.removed') refreshThreadSoon(ev.thread_id);
  emit();
}

/** The server says this thread does not exist for us (any more). */
export function threadGone(threadId) {
  log(threadId).gone = true;
  state.threads.delete(threadId);
  outbox.dropThread(threadId, 'This conversation is no longer available.');
  emit();
}

/** Move our read position to the newest event we hold, if it is not there yet. */
export function markRead(threadId) {
  const thread = state.threads.get(threadId);
  const l = state.logs.get(threadId);
  if (!thread || !l || !l.loaded) return;
  // The log is live from here on, so we hold everything we may see: read up to the thread's
  // last_seq (a client's may count staff-only events it never sees; the server clamps).
  const seq = Math.max(l.maxSeq, thread.last_seq || 0);
  if (seq <= (thread.last_read_seq || 0) && !thread.unread) return;
  thread.last_read_seq = Math.max(seq, thread.last_read_seq || 0);
  thread.unread = 0;
  if (!(transport.read && transport.read(threadId, seq))) {
    post(`/threads/${encodeURIComponent(threadId)}/read`, { seq }).catch(() => {});
  }
  emit();
}

export function readFrom(threadId, userId, seq) {
  if (state.me && userId === state.me.id) {
    const thread = state.threads.get(threadId);
    if (!thread) return;
    thread.last_read_seq = Math.max(seq, thread.last_read_seq || 0);
    const l = state.logs.get(threadId);
    if (seq >= (thread.last_seq || 0) || (l && l.loaded && seq >= l.maxSeq)) thread.unread = 0;
    else refreshThreadSoon(threadId);
  } else {
    let reads = state.reads.get(threadId);
    if (!reads) state.reads.set(threadId, (reads = new Map()));
    reads.set(userId, Math.max(seq, reads.get(userId) || 0));
  }
  emit();
}

export function typingFrom(threadId, userId) {
  let typing = state.typing.get(threadId);
  if (!typing) state.typing.set(threadId, (typing = new Map()));
  typing.set(userId, Date.now() + TYPING_SHOWN_MS);
  emit();
}

function clearTyping(threadId, userId) {
  const typing = state.typing.get(threadId);
  if (typing && typing.delete(userId)) emit();
}

export function typingNames(threadId) {
  const typing = state.typing.get(threadId);
  if (!typing) return [];
  const now = Date.now();
  return [...typing].filter(([, until]) => until > now).map(([id]) => nameOf(id));
}

setInterval(() => {
  const now = Date.now();
  let changed = false;
  for (const typing of state.typing.values()) {
    for (const [id, until] of typing) {
      if (until <= now) {
        typing.delete(id);
        changed = true;
      }
    }
  }
  if (changed) emit();
}, 1000);

/** Reactions on each message: event id -> [[emoji, [user ids]]], in the order first used. */
export function reactionsByMessage(events) {
  const byMessage = new Map();
  for (const ev of events) {
    if (ev.kind !== 'reaction' || !ev.data || !ev.data.event_id) continue;
    let emojis = byMessage.get(ev.data.event_id);
    if (!emojis) byMessage.set(ev.data.event_id, (emojis = new Map()));
    let who = emojis.get(ev.data.emoji);
    if (!who) emojis.set(ev.data.emoji, (who = new Set()));
    if (ev.data.removed) who.delete(ev.actor_id);
    else who.add(ev.actor_id);
  }
  const out = new Map();
  for (const [id, emojis] of byMessage) {
    const list = [...emojis].filter(([, who]) => who.size > 0).map(([e, who]) => [e, [...who]]);
    if (list.length) out.set(id, list);
  }
  return out;
}

function names(ids) {
  return (ids || []).map(nameOf).join(', ');
}

/** Words for an event that is not a message: thread changes, system and domain events. */
export function describe(ev) {
  const actor = nameOf(ev.actor_id);
  const data = ev.data || {};
  switch (ev.kind) {
    case 'thread.created':
      return data.title
        ? `${actor} started the conversation “${data.title}”`
        : `${actor} started the conversation`;
    case 'member.added':
      return data.user_id === ev.actor_id
        ? `${nameOf(data.user_id)} joined`
        : `${actor} added ${nameOf(data.user_id)}`;
    case 'member.removed':
      return data.user_id === ev.actor_id
        ? `${nameOf(data.user_id)} left the conversation`
        : `${actor} removed ${nameOf(data.user_id)}`;
    case 'invite.sent':
      return `${actor} sent ${data.resend ? 'a new invitation' : 'an invitation'}`
        + (data.email ? ` to ${data.email}` : '');
    case 'invite.accepted':
      return `${nameOf(data.user_id || ev.actor_id)} accepted the invitation and joined`;
    case 'care_team.updated': {
      const parts = [];
      if (data.added && data.added.length) parts.push(`added ${names(data.added)}`);
      if (data.removed && data.removed.length) parts.push(`removed ${names(data.removed)}`);
      return `${actor} updated the care team` + (parts.length ? `: ${parts.join('; ')}` : '');
    }
    case 'group.changed':
      return data.to_name ? `${actor} moved the client to the group “${data.to_name}”`
        : `${actor} took the client out of their group`;
    case 'tags.changed':
      return `${actor} changed the client’s tags`;
    case 'client.email_changed':
      return `${actor} changed the client’s email` + (data.to ? ` to ${data.to}` : '');
    case 'password_reset.sent':
      return `${actor} sent a password-reset email` + (data.email ? ` to ${data.email}` : '');
    case 'metric.logged':
      return `${actor} logged ${(data.name || data.type || 'a metric').toLowerCase()}: `
        + readingText(data);
    case 'metric.settings_changed':
      return data.eating_disorder_mode
        ? `${actor} turned on eating-disorder mode (weight and BMI hidden from the client)`
        : `${actor} turned off eating-disorder mode`;
    case 'journal.entry':
      return `${actor} wrote in their journal (${data.kind})`
        + (data.text ? `: ${data.text}` : data.files && data.files.length ? ': a photo' : '');
    case 'journal.comment':
      return `${actor} commented on a journal entry: ${data.text}`;
    case 'form.requested':
      return `${ev.actor_id ? actor : 'The intake flow'} requested “${data.form_title}”`;
    case 'form.completed':
      return `${actor} completed “${data.form_title}”`;
    case 'form.scored':
      return `Score for “${data.form_title}”: ${data.score}`;
    case 'form.cancelled':
      return `${actor} cancelled the request for “${data.form_title}”`;
    case 'document.shared':
      return `${actor} shared the document “${data.title}”`;
    case 'document.added':
      return `${actor} added the document “${data.title}” (team only)`;
    case 'form.reminded':
      return data.manual ? `${actor} sent a reminder about “${data.form_title}”`
        : `Automatic reminder sent about “${data.form_title}”`;
    case 'appointment.booked':
      return `${ev.actor_id ? actor : 'Online booking'}: appointment booked`
        + (data.start ? ` for ${fullTime(data.start)}` : '');
    case 'appointment.rescheduled':
      return `${actor} moved an appointment` + (data.start ? ` to ${fullTime(data.start)}` : '');
    case 'appointment.cancelled':
      return `${actor} cancelled an appointment`;
    case 'appointment.reminded':
      return 'Appointment reminder sent';
    case 'task.assigned':
      return `${ev.actor_id ? actor : 'A program'} assigned the task “${data.title}”`
        + (data.due_at ? `, due ${dateOnly(data.due_at)}` : '');
    case 'task.completed':
      return `${actor} completed “${data.title}”` + (data.note ? `: “${data.note}”` : '');
    case 'task.reminded':
      return `Reminder: “${data.title}” is due` + (data.due_at ? ` ${dateOnly(data.due_at)}` : '');
    case 'task.cancelled':
      return `${actor} cancelled the task “${data.title}”`;
    case 'goal.created':
      return `${actor} set a goal: “${data.title}”`;
    case 'goal.met':
      return `Goal met: “${data.title}”`;
    case 'goal.missed':
      return `Goal not met ${data.period === 'week' ? 'last week' : data.period ? 'that day' : ''}: “${data.title}”`;
    case 'care_plan.shared':
      return `${actor} shared the care plan “${data.title}”`;
    case 'program.enrolled':
      return `${actor} enrolled the client in “${data.title}”`;
    case 'program.module':
      return `${data.program_title}, day ${data.day}: “${data.title}”`;
    case 'program.module_done':
      return `${actor} finished “${data.title}”`;
    case 'program.paused':
      return `${actor} paused “${data.title}”`;
    case 'program.resumed':
      return `${actor} resumed “${data.title}”`;
    case 'program.ended':
      return `${actor} ended “${data.title}”`;
    default:
      // `system` and kinds added later carry their own words in `body`.
      return ev.body || humanize(ev.kind);
  }
}

export function resetChat() {
  state.team = new Map();
  state.teamLoaded = false;
  state.names = new Map();
  state.threads = new Map();
  state.threadsLoaded = false;
  state.logs = new Map();
  state.typing = new Map();
  state.reads = new Map();
  state.openThreadId = null;
}

/** GET /search: messages the caller may see, newest first, with `snippet` segments. */
export async function search(q, threadId) {
  const params = new URLSearchParams({ q });
  if (threadId) params.set('thread_id', threadId);
  const { results } = await get('/search?' + params.toString());
  return results;
}
