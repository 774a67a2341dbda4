// Chat: the thread list (previews, unread badges, live order) and one thread with its events,
// pending messages, typing line, read markers and the composer.
import { del, get, post } from '../api.js';
import {
  describe, ensureLoaded, lastActivity, loadOlder, logOf, markRead, nameOf, otherMembers,
  reactionsByMessage, remember, rememberPeople, sortedThreads, threadTitle, typingNames,
} from '../chat.js';
import { Attachments } from '../files.js';
import { linkify } from '../linkify.js';
import { navigate } from '../router.js';
import { html, useEffect, useLayoutEffect, useRef, useState } from '../lib.js';
import * as outbox from '../outbox.js';
import { retryMessage, sendMessage, sendTyping } from '../realtime.js';
import { emit, isStaff, state, useStore } from '../store.js';
import {
  APPOINTMENT_KINDS, AppointmentEventItem, appointmentStates,
} from './appointments.js';
import { FORM_KINDS, FormEventItem, formOutcomes } from './form-cards.js';
import { Checklist } from './checklist.js';
import { RequestFormsForm } from './form-requests.js';
import { Avatar } from './people.js';
import { PushOffer, ScheduledList, SendLater } from './reach.js';
import {
  ROLE_LABELS, clockTime, codePoints, dayKey, dayLabel, fullTime, shortWhen,
} from '../util.js';

const MAX_MESSAGE = 16000;

function preview(thread) {
  // The latest thing a member sees in the chat: a message, or a card (a form request…).
  const candidates = [thread.last_event, thread.last_message].filter(Boolean)
    .sort((a, b) => b.seq - a.seq);
  const m = candidates[0];
  if (!m) return 'No messages yet';
  if (m.kind !== 'message') return describe(m);
  const mine = state.me && m.actor_id === state.me.id;
  const who = mine ? 'You: ' : (thread.members || []).length > 2 ? `${nameOf(m.actor_id)}: ` : '';
  return who + (m.body || '');
}

/** The client whose care chat this is (their profile id is their client id). */
function careClient(thread) {
  if (!thread || thread.kind !== 'care') return null;
  return (thread.members || []).find((m) => m.role === 'client') || null;
}

function threadAvatar(thread) {
  const others = otherMembers(thread);
  const client = careClient(thread);
  if (thread.kind === 'care' && !isStaff()) return { name: state.organization.name, id: thread.id };
  if (client) return client;
  if (others.length === 1) return others[0];
  return { name: threadTitle(thread), id: thread.id };
}

function ThreadItem({ thread, active }) {
  const unread = thread.unread || 0;
  return html`
    <li>
      <a href=${'#/threads/' + encodeURIComponent(thread.id)} data-thread-id=${thread.id}
        class=${'thread-item' + (active ? ' active' : '') + (unread ? ' has-unread' : '')}
        aria-current=${active ? 'page' : undefined}>
        <${Avatar} ...${threadAvatar(thread)} />
        <span class="ti-text">
        <span class="ti-top">
          <span class="ti-title" title=${threadTitle(thread)}>${threadTitle(thread)}</span>
          <time class="ti-when" datetime=${lastActivity(thread)}>
            ${shortWhen(lastActivity(thread))}</time>
        </span>
        <span class="ti-bottom">
          <span class="ti-preview">${preview(thread)}</span>
          ${unread > 0 && html`<span class="badge" data-unread=${unread}
            aria-label=${`${unread} unread`}>${unread}</span>`}
        </span>
        </span>
      </a>
    </li>`;
}

function ThreadList({ activeId }) {
  const s = useStore();
  const threads = sortedThreads();
  return html`
    <aside class="thread-list" aria-labelledby="threads-heading">
      <div class="list-head">
        <h1 id="threads-heading">Chats</h1>
        ${isStaff() && html`<a class="button small" href="#/new">New chat</a>`}
      </div>
      <${Checklist} />
      ${!s.threadsLoaded
        ? html`<p class="muted pad">Loading conversations…</p>`
        : threads.length === 0
          ? html`<p class="muted pad">${isStaff()
            ? 'No conversations yet. Start one with “New chat”.'
            : 'No conversations yet. Your care team will message you here.'}</p>`
          : html`<ul class="threads" aria-label="Conversations">
              ${threads.map((t) => html`<${ThreadItem} key=${t.id} thread=${t}
                active=${t.id === activeId} />`)}
            </ul>`}
    </aside>`;
}

function seenMarkers(thread, threadId, events) {
  // Other members' read positions (from GET /threads, moved on by live read signals), placed
  // under the newest message at or below each position.
  const positions = new Map();
  for (const m of (thread && thread.members) || []) {
    if (m.last_read_seq && (!state.me || m.id !== state.me.id)) positions.set(m.id, m.last_read_seq);
  }
  for (const [userId, seq] of state.reads.get(threadId) || []) {
    const members = thread && thread.members;
    if (members && !members.some((m) => m.id === userId)) continue; // no longer here
    positions.set(userId, Math.max(seq, positions.get(userId) || 0));
  }
  const bySeq = new Map();
  if (!positions.size) return bySeq;
  const messages = events.filter((e) => e.kind === 'message');
  for (const [userId, seq] of positions) {
    let at = null;
    // Under the newest message the reader has seen, not counting their own.
    for (const m of messages) if (m.seq <= seq && m.actor_id !== userId) at = m.seq;
    if (at === null) continue;
    if (!bySeq.has(at)) bySeq.set(at, []);
    bySeq.get(at).push(nameOf(userId));
  }
  return bySeq;
}

const EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏', '✅'];

function excerpt(text, n = 120) {
  const t = String(text || '').replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}

/** The message a reply quotes, from the events held (an older one may not be loaded). */
function Quote({ original, onJump }) {
  if (!original) {
    return html`<p class="quote quote-missing">Reply to an earlier message</p>`;
  }
  return html`<button type="button" class="quote" onClick=${() => onJump(original.seq)}
    aria-label=${`Reply to ${nameOf(original.actor_id)}: ${excerpt(original.body, 60)}`}>
    <span class="quote-author">${nameOf(original.actor_id)}</span>
    <span class="quote-text">${original.body == null ? 'Message deleted' : excerpt(original.body)}</span>
  </button>`;
}

async function toggleReaction(ev, emoji, mineAlready) {
  const path = `/threads/${encodeURIComponent(ev.thread_id)}/messages/`
    + `${encodeURIComponent(ev.id)}/reactions`;
  try {
    if (mineAlready) await del(`${path}/${encodeURIComponent(emoji)}`);
    else await post(path, { emoji });
  } catch {
    // offline or gone: the chip stays as the server has it
  }
}

function Reactions({ ev, reactions }) {
  if (!reactions || !reactions.length) return null;
  const me = state.me && state.me.id;
  return html`<ul class="reactions" aria-label="Reactions">${reactions.map(([emoji, who]) => {
    const mine = who.includes(me);
    const names = who.map(nameOf).join(', ');
    return html`<li key=${emoji}><button type="button"
      class=${'reaction' + (mine ? ' mine' : '')} aria-pressed=${mine ? 'true' : 'false'}
      title=${names} aria-label=${`${emoji} ${who.length}: ${names}`}
      onClick=${() => toggleReaction(ev, emoji, mine)}>
      <span aria-hidden="true">${emoji}</span> <span class="count">${who.length}</span>
    </button></li>`;
  })}</ul>`;
}

function MessageItem({ ev, seen, original, reactions, canAct, onReply, onJump }) {
  const mine = state.me && ev.actor_id === state.me.id;
  const staffOnly = ev.audience === 'staff';
  const [picking, setPicking] = useState(false);
  const author = nameOf(ev.actor_id);
  const mineReacted = new Set((reactions || []).filter(([, who]) => who.includes(state.me.id))
    .map(([e]) => e));
  return html`
    <li class=${'msg' + (mine ? ' mine' : '') + (staffOnly ? ' staff-only' : '')}
      data-seq=${ev.seq} data-kind="message" data-event-id=${ev.id}>
      ${!mine && html`<${Avatar} name=${state.names.get(ev.actor_id) || author}
        id=${ev.actor_id} size="sm" />`}
      <div class="msg-main">
        <div class="bubble">
          <p class="meta"><span class="author" title=${author}>${author}</span>
            ${ev.data && ev.data.automated && html`<span class="automated">Automated</span>`}
            ${staffOnly && html`<span class="team-only">Team only</span>`}
            <time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
              ${clockTime(ev.created_at)}</time></p>
          ${ev.data && ev.data.reply_to && html`<${Quote} original=${original} onJump=${onJump} />`}
          <p class="body">${linkify(ev.body)}</p>
        </div>
        <${Reactions} ev=${ev} reactions=${reactions} />
        ${canAct && html`<div class="msg-actions">
          <button type="button" class="link small" onClick=${() => onReply(ev)}
            aria-label=${`Reply to ${author}`}>Reply</button>
          <button type="button" class="link small" aria-expanded=${picking}
            onClick=${() => setPicking(!picking)}
            aria-label=${`React to ${author}’s message`}>React</button>
          ${picking && html`<span class="emoji-picker" role="group" aria-label="Choose a reaction">
            ${EMOJI.map((e) => html`<button type="button" key=${e} class="emoji"
              aria-pressed=${mineReacted.has(e) ? 'true' : 'false'}
              onClick=${() => { setPicking(false); toggleReaction(ev, e, mineReacted.has(e)); }}>
              ${e}</button>`)}</span>`}
        </div>`}
      </div>
      ${seen && html`<p class="seen">Seen by ${seen.join(', ')}</p>`}
    </li>`;
}

function SystemItem({ ev }) {
  return html`
    <li class=${'sys sys-' + ev.kind.replace(/[^a-z0-9]+/gi, '-')} data-seq=${ev.seq}
      data-kind=${ev.kind}>
      <p>${ev.audience === 'staff' && html`<span class="team-only">Team only</span> `}
        <span class="sys-text">${describe(ev)}</span>
        <time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
          ${clockTime(ev.created_at)}</time></p>
      ${ev.data && ev.data.files && html`<${Attachments} files=${ev.data.files} />`}
    </li>`;
}

function PendingItem({ item }) {
  const failed = item.state === 'failed';
  return html`
    <li class=${'msg mine ' + (failed ? 'failed' : 'pending')} data-state=${item.state}
      data-client-id=${item.client_id}>
      <div class="bubble">
        <p class="meta"><span class="author">You</span>
          <span class="status">${failed ? 'Not sent' : 'Sending…'}</span></p>
        <p class="body">${item.body}</p>
      </div>
      ${failed && html`
        <p class="failed-actions"><span>${item.error}</span>
          <button type="button" class="link" onClick=${() => retryMessage(item.client_id)}>
            Try again</button>
          <button type="button" class="link" onClick=${() => outbox.discard(item.client_id)}>
            Delete</button></p>`}
    </li>`;
}

function EventList({ threadId, thread, stick, canAct, onReply }) {
  const s = useStore();
  const l = logOf(threadId);
  const scroller = useRef(null);
  const prevMin = useRef(0);
  const fromBottom = useRef(0);
  const events = [...l.bySeq.values()].sort((a, b) => a.seq - b.seq);
  const meId = s.me.id;
  const stored = new Set(events.filter((e) => e.actor_id === meId && e.client_id)
    .map((e) => e.client_id));
  const pending = outbox.forThread(threadId).filter((i) => !stored.has(i.client_id));
  const seen = seenMarkers(thread, threadId, events);
  const outcomes = formOutcomes(events);
  const reactions = reactionsByMessage(events);
  const byId = new Map(events.map((e) => [e.id, e]));
  const jump = (seq) => {
    const el = scroller.current && scroller.current.querySelector(`[data-seq="${seq}"]`);
    if (el) {
      el.scrollIntoView({ block: 'center' });
      el.classList.add('flash');
      setTimeout(() => el.classList.remove('flash'), 1200);
    }
  };
  const appointments = appointmentStates(events);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    if (prevMin.current && l.minSeq < prevMin.current) {
      el.scrollTop = el.scrollHeight - fromBottom.current; // older page above: keep our place
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    prevMin.current = l.minSeq;
    fromBottom.current = el.scrollHeight - el.scrollTop;
    if (l.loaded && l.more && !l.loadingOlder && el.scrollHeight <= el.clientHeight + 40) {
      loadOlder(threadId); // not enough history to scroll yet
    }
  });

  function onScroll() {
    const el = scroller.current;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
    fromBottom.current = el.scrollHeight - el.scrollTop;
    if (el.scrollTop < 150 && l.more && !l.loadingOlder) loadOlder(threadId);
  }

  const items = [];
  let day = null;
  const separator = (iso) => {
    const key = dayKey(iso);
    if (key !== day) {
      day = key;
      items.push(html`<li key=${'day-' + key} class="day" role="separator"
        aria-label=${dayLabel(iso)}><span>${dayLabel(iso)}</span></li>`);
    }
  };
  for (const ev of events) {
    if (ev.kind === 'reaction') continue; // shown on the message it reacts to
    separator(ev.created_at);
    if (ev.kind === 'message') {
      items.push(html`<${MessageItem} key=${'e' + ev.seq} ev=${ev} seen=${seen.get(ev.seq)}
        original=${ev.data && ev.data.reply_to ? byId.get(ev.data.reply_to) : null}
        reactions=${reactions.get(ev.id)} canAct=${canAct} onReply=${onReply}
        onJump=${jump} />`);
    } else if (FORM_KINDS.has(ev.kind)) {
      items.push(html`<${FormEventItem} key=${'e' + ev.seq} ev=${ev}
        outcome=${outcomes.get(ev.data && ev.data.request_id)} />`);
    } else if (APPOINTMENT_KINDS.has(ev.kind)) {
      items.push(html`<${AppointmentEventItem} key=${'e' + ev.seq} ev=${ev}
        current=${appointments.get(ev.data && ev.data.appointment_id)} />`);
    } else {
      items.push(html`<${SystemItem} key=${'e' + ev.seq} ev=${ev} />`);
    }
  }
  for (const item of pending) {
    separator(item.created_at);
    items.push(html`<${PendingItem} key=${'p' + item.client_id} item=${item} />`);
  }

  return html`
    <div class="events-scroll" ref=${scroller} onScroll=${onScroll} tabindex="0"
      aria-label="Messages">
      ${l.loaded && (l.more
        ? html`<p class="older"><button type="button" class="link" disabled=${l.loadingOlder}
            onClick=${() => loadOlder(threadId)}>
            ${l.loadingOlder ? 'Loading earlier messages…' : 'Load earlier messages'}</button></p>`
        : events.length > 0 && html`<p class="older muted">Start of the conversation</p>`)}
      ${!l.loaded && !l.error && html`<p class="muted pad">Loading messages…</p>`}
      <ol class="events" role="log" aria-live="polite" aria-relevant="additions">${items}</ol>
    </div>`;
}

function TypingLine({ threadId }) {
  useStore();
  const names = typingNames(threadId);
  const text = names.length === 0 ? ''
    : names.length === 1 ? `${names[0]} is typing…`
      : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} are typing…`;
  return html`<p class="typing" aria-live="polite">${text}</p>`;
}

const drafts = new Map();

function Composer({ threadId, onSent, replyTo, onCancelReply }) {
  const [text, setText] = useState(() => drafts.get(threadId) || '');
  const [error, setError] = useState('');
  const [later, setLater] = useState(false);
  const input = useRef(null);

  useEffect(() => {
    if (input.current && window.matchMedia('(min-width: 721px)').matches) input.current.focus();
  }, [threadId]);

  function resize() {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = Math.min(el.scrollHeight, 200) + 'px';
  }

  function submit() {
    const body = text.trim();
    if (!body) return;
    if (codePoints(body) > MAX_MESSAGE) {
      setError(`A message can be at most ${MAX_MESSAGE} characters. Shorten it or split it.`);
      return;
    }
    setError('');
    sendMessage(threadId, body, replyTo ? replyTo.id : null);
    if (onCancelReply) onCancelReply();
    state.sentThisSession = true;
    setText('');
    drafts.delete(threadId);
    onSent();
    requestAnimationFrame(resize);
  }

  useEffect(() => {
    if (replyTo && input.current) input.current.focus();
  }, [replyTo]);

  return html`
    ${replyTo && html`<div class="replying" role="status">
      <span>Replying to <strong>${nameOf(replyTo.actor_id)}</strong>:
        <span class="quote-text">${excerpt(replyTo.body, 80)}</span></span>
      <button type="button" class="link small" onClick=${onCancelReply}>Cancel reply</button>
    </div>`}
    <form class="composer" onSubmit=${(e) => { e.preventDefault(); submit(); }}>
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea id="composer-input" ref=${input} rows="1" value=${text}
        placeholder="Write a message…" aria-describedby="composer-help"
        onInput=${(e) => {
          const value = e.currentTarget.value;
          setText(value);
          drafts.set(threadId, value);
          if (value.trim()) sendTyping(threadId);
          resize();
        }}
        onKeyDown=${(e) => {
          if (e.key === 'Escape' && replyTo && onCancelReply) onCancelReply();
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            submit();
          }
        }}></textarea>
      <button type="button" class="quiet send-later-toggle" aria-expanded=${later}
        onClick=${() => setLater(!later)}>Later…</button>
      <button type="submit" class="primary">Send</button>
      <p id="composer-help" class="visually-hidden">Enter sends. Shift+Enter starts a new line.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${later && html`<${SendLater} threadId=${threadId} text=${text} onClose=${() => setLater(false)}
        onScheduled=${() => {
          setLater(false);
          setText('');
          drafts.delete(threadId);
          requestAnimationFrame(resize);
        }} />`}
    </form>`;
}

function MembersPanel({ thread }) {
  const s = useStore();
  const [adding, setAdding] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [clients, setClients] = useState([]);
  const staff = isStaff();
  const care = thread.kind === 'care';
  const inThread = new Set(thread.members.map((m) => m.id));

  useEffect(() => {
    if (staff && !care) get('/clients?limit=500').then((r) => setClients(r.clients)).catch(() => {});
  }, [staff, care]);

  const candidates = [
    ...[...s.team.values()].filter((u) => u.status !== 'removed'),
    ...clients.map((c) => ({ ...c, role: 'client' })),
  ].filter((u) => !inThread.has(u.id)).sort((a, b) => a.name.localeCompare(b.name));

  async function run(work) {
    setBusy(true);
    setError('');
    try {
      await work();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  const path = '/threads/' + encodeURIComponent(thread.id) + '/members';
  const members = [...thread.members].sort((a, b) => a.name.localeCompare(b.name));
  return html`
    <div class="members-panel" id=${'members-' + thread.id}>
      <h3>Members</h3>
      ${care && html`<p class="muted small">${staff
        ? 'This care chat follows the client’s care team: change it on the client’s profile.'
        : 'Your care team.'}</p>`}
      <ul>${members.map((m) => html`
        <li key=${m.id}>
          <span>${m.id === s.me.id ? `${m.name} (you)` : m.name}
            <span class="muted small"> · ${ROLE_LABELS[m.role] || m.role}</span></span>
          ${!care && m.id === s.me.id && html`<button type="button" class="small quiet"
            disabled=${busy} onClick=${() => run(() => del(`${path}/${encodeURIComponent(m.id)}`))}>
            Leave</button>`}
          ${!care && staff && m.id !== s.me.id && html`<button type="button" class="small quiet"
            disabled=${busy} aria-label=${'Remove ' + m.name}
            onClick=${() => run(() => del(`${path}/${encodeURIComponent(m.id)}`))}>Remove</button>`}
        </li>`)}</ul>
      ${!care && staff && html`
        <form class="inline-form" onSubmit=${(e) => {
          e.preventDefault();
          if (!adding) return;
          run(async () => {
            await post(path, { user_id: adding });
            setAdding('');
          });
        }}>
          <div class="field">
            <label for=${'add-member-' + thread.id}>Add someone</label>
            <select id=${'add-member-' + thread.id} value=${adding}
              onChange=${(e) => setAdding(e.currentTarget.value)}>
              <option value="">Choose…</option>
              ${candidates.map((u) => html`<option key=${u.id} value=${u.id}>
                ${u.name} (${ROLE_LABELS[u.role] || u.role})</option>`)}
            </select>
          </div>
          <button type="submit" disabled=${busy || !adding}>Add</button>
        </form>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </div>`;
}

function ThreadView({ threadId }) {
  const s = useStore();
  const member = s.threads.get(threadId);
  // Owners and admins may read a client's care thread without being in it (no live updates,
  // no posting): fetched on its own, kept out of the list.
  const [outside, setOutside] = useState(null);
  const [outsideError, setOutsideError] = useState(false);
  const thread = member || outside;
  const l = logOf(threadId);
  const stick = useRef(true);
  const [showMembers, setShowMembers] = useState(false);
  const [showRequest, setShowRequest] = useState(false);
  const [replyTo, setReplyTo] = useState(null);

  useEffect(() => {
    if (!s.threadsLoaded || outside || outsideError) return;
    // Once per thread opened: `people` names authors who have left; a thread we are not in
    // (an admin reading a care chat) is shown from this answer.
    get('/threads/' + encodeURIComponent(threadId))
      .then((r) => {
        remember(r.thread.members);
        rememberPeople(r.thread.people);
        if (!state.threads.has(threadId)) setOutside(r.thread);
        else emit();
      })
      .catch(() => {
        if (!state.threads.has(threadId)) setOutsideError(true);
      });
  }, [threadId, s.threadsLoaded]);

  useEffect(() => {
    state.openThreadId = threadId;
    ensureLoaded(threadId);
    emit();
    const onVisible = () => {
      if (document.visibilityState === 'visible') markRead(threadId);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      if (state.openThreadId === threadId) state.openThreadId = null;
    };
  }, [threadId]);

  useEffect(() => {
    if (l.loaded && document.visibilityState === 'visible') markRead(threadId);
  }, [threadId, l.loaded, l.maxSeq, thread && thread.unread]);

  if (l.gone || l.error === 'not_found' || (!member && outsideError)) {
    return html`<section class="thread-view"><div class="thread-head">
        <a class="back" href="#/">Chats</a><h2>Conversation</h2></div>
      <p class="muted pad">${l.gone ? 'You are no longer in this conversation.'
        : 'This conversation does not exist, or you are not in it.'}</p></section>`;
  }
  const others = thread ? otherMembers(thread) : [];
  const client = isStaff() ? careClient(thread) : null;
  const title = threadTitle(thread);
  const withText = others.length ? 'With ' + others.map((m) => m.name).join(', ') : 'Only you';
  return html`
    <section class="thread-view" aria-labelledby="thread-title">
      <div class="thread-head">
        <a class="back" href="#/">Chats</a>
        ${thread && html`<${Avatar} ...${threadAvatar(thread)} />`}
        <div class="thread-head-text">
          <h2 id="thread-title" title=${title}>${client
            ? html`<a href=${'#/clients/' + encodeURIComponent(client.id)}
                title=${`${client.name}: open the client’s profile`}>${title}</a>`
            : title}</h2>
          ${thread && html`<p class="thread-members" title=${withText}>${withText}</p>`}
        </div>
        ${member && client && html`<button type="button" class="small request-toggle"
          aria-expanded=${showRequest} aria-controls=${'request-' + threadId}
          onClick=${() => setShowRequest(!showRequest)}>Request a form</button>`}
        ${member && html`<button type="button" class="small members-toggle"
          aria-expanded=${showMembers} aria-controls=${'members-' + threadId}
          onClick=${() => setShowMembers(!showMembers)}>Members</button>`}
      </div>
      ${member && client && showRequest && html`<div class="request-panel" id=${'request-' + threadId}>
        <${RequestFormsForm} clientIds=${[client.id]} idPrefix=${'chat-' + threadId}
          who=${client.name} onDone=${() => { stick.current = true; }} />
      </div>`}
      ${member && showMembers && html`<${MembersPanel} thread=${member} />`}
      ${l.error && l.error !== 'not_found' && html`<p class="error pad" role="alert">${l.error}</p>`}
      <${EventList} threadId=${threadId} thread=${thread} stick=${stick} canAct=${Boolean(member)}
        onReply=${setReplyTo} />
      ${member ? html`
        <${TypingLine} threadId=${threadId} />
        <${ScheduledList} threadId=${threadId} />
        <${PushOffer} />
        <${Composer} key=${threadId} threadId=${threadId} replyTo=${replyTo}
          onCancelReply=${() => setReplyTo(null)}
          onSent=${() => { stick.current = true; }} />`
        : thread && html`<p class="outside-note" role="note">You are not in this conversation:
          you can read it, but not write in it or see new messages live.</p>`}
    </section>`;
}

// A client with one conversation has nothing to choose: it opens on arrival (once, so "Chats"
// still goes back to the list on a phone).
let openedOnArrival = false;

export function ChatsView({ threadId }) {
  const s = useStore();
  const only = !threadId && !openedOnArrival && !isStaff() && s.threadsLoaded
    && s.threads.size === 1 ? [...s.threads.keys()][0] : null;
  useEffect(() => {
    if (threadId) openedOnArrival = true;
    if (!only) return;
    openedOnArrival = true;
    navigate('#/threads/' + encodeURIComponent(only), { replace: true });
  }, [only, threadId]);
  return html`
    <div class=${'chats' + (threadId ? ' has-thread' : '')}>
      <${ThreadList} activeId=${threadId} />
      <div class="thread-pane">
        ${threadId
          ? html`<${ThreadView} key=${threadId} threadId=${threadId} />`
          : html`<p class="muted pad pick">Choose a conversation to read it.</p>`}
      </div>
    </div>`;
}
