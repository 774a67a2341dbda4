// Chat: the thread list (previews, unread badges, live order, search) and one thread with its
// events, pending messages, typing line, read markers and the composer (with files).
import { del, get, patch, post } from '../api.js';
import {
  CHANGES, applyAnswer, describe, ensureLoaded, lastActivity, loadBackTo, loadOlder, logOf,
  markRead, nameOf, otherMembers, reactionsByMessage, remember, rememberPeople, search,
  sortedThreads, threadTitle, typingNames,
} from '../chat.js';
import { Attachments, humanSize, uploadFile, uploadProblem } from '../files.js';
import { linkify } from '../linkify.js';
import { navigate } from '../router.js';
import { html, useEffect, useLayoutEffect, useRef, useState } from '../lib.js';
import * as outbox from '../outbox.js';
import { retryMessage, sendMessage, sendTyping } from '../realtime.js';
import { emit, isAdmin, isStaff, state, useStore } from '../store.js';
import {
  APPOINTMENT_KINDS, AppointmentEventItem, appointmentStates,
} from './appointments.js';
import { FORM_KINDS, FormEventItem, formOutcomes } from './form-cards.js';
import { Checklist } from './checklist.js';
import { RequestFormsForm } from './form-requests.js';
import { Avatar } from './people.js';
import { PushOffer, ScheduledList, SendLater } from './reach.js';
import {
  ROLE_LABELS, clockTime, codePoints, dayKey, dayLabel, fullTime, shortWhen, uuid,
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
  if (m.deleted_at) return who + 'Message deleted';
  return who + (m.body || filesLine(m));
}

/** "File: labs.pdf" or "2 files: plate.jpg, labs.pdf": a message of files only, in a preview
 * or a quote. */
function filesLine(ev) {
  const files = (ev && ev.data && ev.data.attachments) || [];
  if (!files.length) return '';
  const names = files.map((f) => f.name).join(', ');
  return files.length === 1 ? `File: ${names}` : `${files.length} files: ${names}`;
}

const Paperclip = () => html`<svg aria-hidden="true" focusable="false" width="22" height="22"
  viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
  stroke-linejoin="round"><path d="M21.4 11.1l-8.5 8.5a5.5 5.5 0 0 1-7.8-7.8l8.5-8.5a3.7 3.7 0 0 1
  5.2 5.2l-8.5 8.5a1.8 1.8 0 0 1-2.6-2.6l7.8-7.8" /></svg>`;

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

// Titles of threads a search found that are not in our list (an admin's care threads).
const outsideTitles = new Map();

function resultTitle(threadId) {
  const thread = state.threads.get(threadId);
  if (thread) return threadTitle(thread);
  if (!outsideTitles.has(threadId)) {
    outsideTitles.set(threadId, 'Conversation');
    get('/threads/' + encodeURIComponent(threadId))
      .then((r) => {
        outsideTitles.set(threadId, threadTitle(r.thread));
        emit();
      })
      .catch(() => {});
  }
  return outsideTitles.get(threadId);
}

export function threadAt(threadId, seq) {
  return `#/threads/${encodeURIComponent(threadId)}?at=${seq}`;
}

/** The search box: searches as you type (after a pause) or on Enter; Escape clears. */
function SearchBox({ found, onFound, focus }) {
  const [q, setQ] = useState(found ? found.q : '');
  const timer = useRef(null);
  const asked = useRef(0);
  const box = useRef(null);

  useEffect(() => {
    if (focus && box.current) box.current.focus();
    return () => {
      clearTimeout(timer.current);
      asked.current += 1; // an answer still on its way is for nobody now
    };
  }, []);

  function clear() {
    clearTimeout(timer.current);
    asked.current += 1;
    setQ('');
    onFound(null);
  }

  async function run(text) {
    clearTimeout(timer.current);
    const query = text.trim();
    if (!query) {
      clear();
      return;
    }
    const n = ++asked.current;
    onFound((f) => ({ q: query, results: f ? f.results : null, busy: true, error: '' }));
    try {
      const results = await search(query);
      if (n === asked.current) onFound({ q: query, results, busy: false, error: '' });
    } catch (err) {
      if (n === asked.current) onFound({ q: query, results: null, busy: false, error: err.detail });
    }
  }

  return html`
    <form class="search" role="search"
      onSubmit=${(e) => { e.preventDefault(); run(q); }}>
      <label for="search-input" class="visually-hidden">Find in chats</label>
      <input id="search-input" ref=${box} type="search" placeholder="Search messages" value=${q}
        maxlength="200" autocomplete="off" enterkeyhint="search"
        aria-controls="search-results"
        onInput=${(e) => {
          const value = e.currentTarget.value;
          setQ(value);
          clearTimeout(timer.current);
          if (!value.trim()) clear();
          else timer.current = setTimeout(() => run(value), 400);
        }}
        onKeyDown=${(e) => {
          if (e.key === 'Escape' && q) {
            e.preventDefault();
            clear();
          }
        }} />
    </form>`;
}

/** A snippet's segments, the matched words marked (as text, never HTML). */
function Snippet({ segments }) {
  return (segments || []).map((seg, i) => (seg.match
    ? html`<mark key=${i}>${seg.text}</mark>` : seg.text));
}

function SearchResults({ found, activeId, activeAt, onClear }) {
  const { q, results, busy, error } = found;
  const n = results ? results.length : 0;
  const summary = busy && !results ? 'Searching…'
    : error ? ''
      : n === 0 ? `No messages match “${q}”.`
        : `${n === 1 ? '1 message matches' : `${n} messages match`} “${q}”${n >= 20
          ? ' (the newest 20)' : ''}.`;
  return html`
    <section class="search-results" id="search-results" aria-labelledby="search-heading">
      <div class="results-head">
        <h2 id="search-heading">Search results</h2>
        <button type="button" class="link small" onClick=${onClear}>Clear search</button>
      </div>
      <p class="muted small results-summary" role="status">${summary}</p>
      ${error && html`<p class="error small" role="alert">${error}</p>`}
      ${n > 0 && html`<ul aria-label="Search results">${results.map((r) => {
        const active = r.thread_id === activeId && String(r.event.seq) === String(activeAt);
        return html`<li key=${r.event.id}>
          <a class=${'search-hit' + (active ? ' active' : '')} data-event-id=${r.event.id}
            href=${threadAt(r.thread_id, r.event.seq)} aria-current=${active ? 'true' : undefined}>
            <span class="hit-top"><span class="hit-thread">${resultTitle(r.thread_id)}</span>
              <time class="muted small" datetime=${r.event.created_at}
                title=${fullTime(r.event.created_at)}>${shortWhen(r.event.created_at)}</time></span>
            <span class="hit-text"><span class="hit-author">${nameOf(r.event.actor_id)}:</span>
              ${' '}<${Snippet} segments=${r.snippet} /></span>
          </a></li>`;
      })}</ul>`}
    </section>`;
}

function ThreadList({ activeId, activeAt }) {
  const s = useStore();
  const threads = sortedThreads();
  const [found, setFound] = useState(null);
  const [cleared, setCleared] = useState(0); // a new, empty search box after "Clear search"
  return html`
    <aside class="thread-list" aria-labelledby="threads-heading">
      <div class="list-head">
        <h1 id="threads-heading">Chats</h1>
        ${isStaff() && html`<a class="button small" href="#/new">New chat</a>`}
      </div>
      <${SearchBox} key=${cleared} found=${found} onFound=${setFound} focus=${cleared > 0} />
      ${found
        ? html`<${SearchResults} found=${found} activeId=${activeId} activeAt=${activeAt}
            onClear=${() => {
              setFound(null);
              setCleared(cleared + 1);
            }} />`
        : html`
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
            </ul>`}`}
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
  const text = original.body == null ? 'Message deleted'
    : original.body || filesLine(original);
  return html`<button type="button" class="quote" onClick=${() => onJump(original.seq)}
    aria-label=${`Reply to ${nameOf(original.actor_id)}: ${excerpt(text, 60)}`}>
    <span class="quote-author">${nameOf(original.actor_id)}</span>
    <span class="quote-text">${excerpt(text)}</span>
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

const messagePath = (ev) => `/threads/${encodeURIComponent(ev.thread_id)}/messages/`
  + encodeURIComponent(ev.id);

/** "your message" or "Casey Client’s message", for labels. */
function whose(ev) {
  return state.me && ev.actor_id === state.me.id ? 'your message' : `${nameOf(ev.actor_id)}’s message`;
}

/** A menu button (More) with its items: arrows move, Escape closes and returns to the button. */
function MessageMenu({ ev, items }) {
  const [open, setOpen] = useState(false);
  const toggle = useRef(null);
  const menu = useRef(null);
  const id = 'menu-' + ev.id;

  useEffect(() => {
    if (!open) return undefined;
    const first = menu.current && menu.current.querySelector('[role="menuitem"]');
    if (first) first.focus();
    const away = (e) => {
      if (menu.current && !menu.current.contains(e.target) && !toggle.current.contains(e.target)) {
        setOpen(false);
      }
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);

  function onKeyDown(e) {
    const all = [...menu.current.querySelectorAll('[role="menuitem"]')];
    const i = all.indexOf(document.activeElement);
    const go = (j) => {
      e.preventDefault();
      all[(j + all.length) % all.length].focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(all.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      toggle.current.focus();
    } else if (e.key === 'Tab') setOpen(false);
  }

  const label = `More actions on ${whose(ev)}`;
  return html`<span class="msg-menu">
    <button type="button" class="link small menu-toggle" ref=${toggle} aria-haspopup="menu"
      aria-expanded=${open} aria-controls=${open ? id : undefined} aria-label=${label}
      onClick=${() => setOpen(!open)}>More</button>
    ${open && html`<span class="menu" role="menu" id=${id} ref=${menu} aria-label=${label}
      onKeyDown=${onKeyDown}>
      ${items.map(([name, action, danger]) => html`<button type="button" role="menuitem"
        key=${name} tabindex="-1" class=${danger ? 'danger' : ''}
        onClick=${() => { setOpen(false); action(); }}>${name}</button>`)}
    </span>`}
  </span>`;
}

/** The message's text in place, with Save and Cancel: Enter saves, Escape cancels. */
function EditForm({ ev, onDone }) {
  const [text, setText] = useState(ev.body || '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const box = useRef(null);
  const files = (ev.data && ev.data.attachments) || [];

  // Focus and the caret at the end in the same pass as the render: a passive effect ran a frame
  // later, after typing had begun, and put the caret after the old text (CI saw "old" + "new"
  // saved as the edit).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    el.style.height = Math.min(el.scrollHeight + 2, 240) + 'px';
    el.focus({ preventScroll: true });
    el.setSelectionRange(el.value.length, el.value.length);
    el.closest('.edit-form').scrollIntoView({ block: 'nearest' });
  }, []);

  async function save() {
    const body = text.trim();
    if (body === (ev.body || '').trim()) {
      onDone();
      return;
    }
    if (!body && !files.length) {
      setError('A message needs some text. To take it back, delete it instead.');
      return;
    }
    if (codePoints(body) > MAX_MESSAGE) {
      setError(`A message can be at most ${MAX_MESSAGE} characters.`);
      return;
    }
    setBusy(true);
    setError('');
    try {
      const { event } = await patch(messagePath(ev), { body });
      applyAnswer(event);
      onDone();
    } catch (err) {
      if (err.code === 'unchanged') onDone();
      else setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`<form class="edit-form" onSubmit=${(e) => { e.preventDefault(); save(); }}>
    <label for=${'edit-' + ev.id} class="visually-hidden">Edit message</label>
    <textarea id=${'edit-' + ev.id} ref=${box} rows="2" value=${text}
      aria-describedby=${'edit-help-' + ev.id}
      onInput=${(e) => {
        setText(e.currentTarget.value);
        e.currentTarget.style.height = 'auto';
        e.currentTarget.style.height = Math.min(e.currentTarget.scrollHeight + 2, 240) + 'px';
      }}
      onKeyDown=${(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onDone();
        } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
          e.preventDefault();
          save();
        }
      }}></textarea>
    <p id=${'edit-help-' + ev.id} class="visually-hidden">Enter saves, Escape cancels.</p>
    <span class="edit-actions">
      <button type="submit" class="small primary" disabled=${busy}>Save</button>
      <button type="button" class="small" onClick=${onDone}>Cancel</button></span>
    ${error && html`<p class="error small" role="alert">${error}</p>`}
  </form>`;
}

/** "Delete this message for everyone?", in the message itself. */
function DeleteConfirm({ ev, onDone }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const cancel = useRef(null);
  useLayoutEffect(() => { // focus before the next key press, as in EditForm
    if (!cancel.current) return;
    cancel.current.focus({ preventScroll: true });
    cancel.current.closest('.msg-confirm').scrollIntoView({ block: 'nearest' });
  }, []);
  const mine = state.me && ev.actor_id === state.me.id;
  async function remove() {
    setBusy(true);
    setError('');
    try {
      const { event } = await del(messagePath(ev));
      applyAnswer(event);
      onDone(true);
    } catch (err) {
      setError(err.detail);
      setBusy(false);
    }
  }
  const question = mine ? 'Delete this message for everyone?'
    : `Delete ${nameOf(ev.actor_id)}’s message for everyone?`;
  return html`<div class="confirm msg-confirm" role="alertdialog"
    aria-labelledby=${'confirm-' + ev.id} aria-describedby=${'confirm-note-' + ev.id}
    onKeyDown=${(e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        onDone(false);
      }
    }}>
    <span id=${'confirm-' + ev.id}>${question}</span>
    <span id=${'confirm-note-' + ev.id} class="muted small">It cannot be undone${
      (ev.data && ev.data.attachments && ev.data.attachments.length) ? '; its files go too' : ''}.</span>
    <span class="edit-actions">
      <button type="button" class="small danger" disabled=${busy} onClick=${remove}>Delete</button>
      <button type="button" class="small" ref=${cancel} onClick=${() => onDone(false)}>
        Cancel</button></span>
    ${error && html`<p class="error small" role="alert">${error}</p>`}
  </div>`;
}

function MessageItem({ ev, seen, original, reactions, canAct, focused, onReply, onJump }) {
  const mine = state.me && ev.actor_id === state.me.id;
  const staffOnly = ev.audience === 'staff';
  const deleted = Boolean(ev.deleted_at) || ev.body === null;
  const [picking, setPicking] = useState(false);
  const [mode, setMode] = useState(''); // '' | 'editing' | 'deleting'
  const item = useRef(null);
  const author = nameOf(ev.actor_id);
  const files = (!deleted && ev.data && ev.data.attachments) || [];
  const mineReacted = new Set((reactions || []).filter(([, who]) => who.includes(state.me.id))
    .map(([e]) => e));
  // Edit: the author, in a thread they are in. Delete: the author, or an owner/admin (also in a
  // care thread they only read).
  const menu = [];
  if (!deleted && mine && canAct) menu.push(['Edit', () => setMode('editing')]);
  if (!deleted && ((mine && canAct) || isAdmin())) {
    menu.push(['Delete', () => setMode('deleting'), true]);
  }
  const done = (gone) => {
    setMode('');
    // Back to where the person was: the message's menu (or the list, once it is deleted).
    requestAnimationFrame(() => {
      const el = item.current;
      const back = el && !gone && el.querySelector('.menu-toggle');
      if (back) back.focus();
      else if (el) el.focus();
    });
  };
  return html`
    <li ref=${item} class=${'msg' + (mine ? ' mine' : '') + (staffOnly ? ' staff-only' : '')
      + (deleted ? ' deleted' : '') + (focused ? ' focused' : '')}
      data-seq=${ev.seq} data-kind="message" data-event-id=${ev.id}
      tabindex="-1">
      ${!mine && html`<${Avatar} name=${state.names.get(ev.actor_id) || author}
        id=${ev.actor_id} size="sm" />`}
      <div class="msg-main">
        <div class="bubble">
          <p class="meta"><span class="author" title=${author}>${author}</span>
            ${ev.data && ev.data.automated && html`<span class="automated">Automated</span>`}
            ${staffOnly && html`<span class="team-only">Team only</span>`}
            <time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
              ${clockTime(ev.created_at)}</time>
            ${ev.edited_at && !deleted && html`<span class="edited"
              title=${'Edited ' + fullTime(ev.edited_at)}>(edited)</span>`}</p>
          ${!deleted && ev.data && ev.data.reply_to
            && html`<${Quote} original=${original} onJump=${onJump} />`}
          ${deleted
            ? html`<p class="body deleted-note">This message was deleted</p>`
            : mode === 'editing'
              ? html`<${EditForm} key="edit" ev=${ev} onDone=${() => done(false)} />`
              // Keyed by the version of the text: an edit renders a new paragraph. (The old and
              // new text seen together once were saved so: see EditForm's layout effect.)
              : ev.body && html`<p class="body" key=${'body-' + (ev.edited_at || ev.seq)}>${
                linkify(ev.body)}</p>`}
          <${Attachments} files=${files} />
        </div>
        ${mode === 'deleting' && html`<${DeleteConfirm} ev=${ev} onDone=${done} />`}
        ${!deleted && html`<${Reactions} ev=${ev} reactions=${reactions} />`}
        ${!deleted && (canAct || menu.length > 0) && mode === '' && html`<div class="msg-actions">
          ${canAct && html`<button type="button" class="link small" onClick=${() => onReply(ev)}
            aria-label=${`Reply to ${whose(ev)}`}>Reply</button>
          <button type="button" class="link small" aria-expanded=${picking}
            onClick=${() => setPicking(!picking)}
            aria-label=${`React to ${whose(ev)}`}>React</button>`}
          ${menu.length > 0 && html`<${MessageMenu} ev=${ev} items=${menu} />`}
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
        ${item.body && html`<p class="body">${item.body}</p>`}
        <${Attachments} files=${item.attachments} />
      </div>
      ${failed && html`
        <p class="failed-actions"><span>${item.error}</span>
          <button type="button" class="link" onClick=${() => retryMessage(item.client_id)}>
            Try again</button>
          <button type="button" class="link" onClick=${() => outbox.discard(item.client_id)}>
            Delete</button></p>`}
    </li>`;
}

function EventList({ threadId, thread, stick, canAct, onReply, at }) {
  const s = useStore();
  const l = logOf(threadId);
  const scroller = useRef(null);
  const jumped = useRef('');
  const [missing, setMissing] = useState(false);
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

  useEffect(() => setMissing(false), [at]);
  // The log as this render drew it (a page may land between the render and its effect).
  const drawn = { loaded: l.loaded, more: l.more, minSeq: l.minSeq, loading: l.loadingOlder };
  useEffect(() => {
    // Opened at a message (a search result): page back until it is loaded, then bring it into
    // view, highlighted and focused; once per `at`, so new messages do not pull us back.
    if (!at || jumped.current === at || !drawn.loaded || !scroller.current) return;
    const seq = Number(at);
    const el = scroller.current.querySelector(`li[data-seq="${seq}"]`);
    if (el) {
      jumped.current = at;
      stick.current = false;
      el.scrollIntoView({ block: 'center' });
      el.focus({ preventScroll: true });
    } else if (drawn.more && drawn.minSeq > seq) {
      if (!l.loadingOlder) loadBackTo(threadId, seq);
    } else if (!drawn.loading) {
      jumped.current = at; // all of it is drawn, and the message is not there
      setMissing(true);
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
    // Reactions show on the message they react to; edits and deletions change it in place.
    if (ev.kind === 'reaction' || CHANGES.has(ev.kind)) continue;
    separator(ev.created_at);
    if (ev.kind === 'message') {
      items.push(html`<${MessageItem} key=${'e' + ev.seq} ev=${ev} seen=${seen.get(ev.seq)}
        original=${ev.data && ev.data.reply_to ? byId.get(ev.data.reply_to) : null}
        reactions=${reactions.get(ev.id)} canAct=${canAct} onReply=${onReply}
        focused=${Boolean(at) && String(ev.seq) === String(at)} onJump=${jump} />`);
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
      ${missing && html`<p class="notice pad" role="status">That message is no longer in this
        conversation.</p>`}
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

// Files chosen for the next message of each thread (uploading, uploaded or refused), kept when
// switching threads like drafts: {key, name, size, progress, file?, error?, preview?, stop}.
const staged = new Map();
const stageNotes = new Map(); // thread id -> why some files were not taken
const MAX_FILES = 10; // docs/api.md: at most 10 attachments a message
const WAIT_FOR_UPLOADS = 'Wait until the files have uploaded, or remove them.';
const PREVIEWABLE = /^image\/(jpeg|png|gif|webp)$/;
const ACCEPT = 'image/jpeg,image/png,image/gif,image/webp,application/pdf,.pdf,.docx,.xlsx,'
  + '.pptx,.odt,.ods,.txt,.csv,text/plain,text/csv';

function stagedFor(threadId) {
  return staged.get(threadId) || [];
}

function setStaged(threadId, list) {
  if (list.length) staged.set(threadId, list);
  else staged.delete(threadId);
  emit();
}

function changeStaged(threadId, key, change) {
  const list = stagedFor(threadId);
  if (list.some((u) => u.key === key)) {
    setStaged(threadId, list.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }
}

/** Start uploading files for the next message of a thread (button, drop or paste). */
export function stageFiles(threadId, fileList) {
  const files = [...(fileList || [])];
  if (!files.length) return;
  const room = MAX_FILES - stagedFor(threadId).filter((u) => !u.error).length;
  const taken = files.slice(0, Math.max(0, room));
  if (taken.length < files.length) {
    stageNotes.set(threadId, `A message can carry at most ${MAX_FILES} files: `
      + `${files.length - taken.length} ${files.length - taken.length === 1 ? 'was' : 'were'} `
      + 'left out.');
  } else stageNotes.delete(threadId);
  for (const file of taken) {
    const key = uuid();
    const stop = new AbortController();
    const preview = PREVIEWABLE.test(file.type) ? URL.createObjectURL(file) : null;
    setStaged(threadId, [...stagedFor(threadId), {
      key, name: file.name || 'Pasted image', size: file.size, progress: 0, preview, stop,
    }]);
    uploadFile(file, (progress) => changeStaged(threadId, key, { progress }), stop.signal)
      .then((uploaded) => changeStaged(threadId, key, { file: uploaded, progress: 1 }))
      .catch((err) => {
        if (err.code !== 'aborted') changeStaged(threadId, key, { error: uploadProblem(err, file) });
      });
  }
  emit();
}

function unstage(threadId, keys) {
  const list = stagedFor(threadId);
  for (const u of list) {
    if (!keys.has(u.key)) continue;
    if (!u.file && !u.error) u.stop.abort();
    if (u.preview) URL.revokeObjectURL(u.preview);
  }
  stageNotes.delete(threadId);
  setStaged(threadId, list.filter((u) => !keys.has(u.key)));
}

/** For screen readers, said as uploads go: "Uploading 2 files…", "1 file ready to send". */
function uploadSummary(uploads) {
  const busy = uploads.filter((u) => !u.file && !u.error).length;
  const ready = uploads.filter((u) => u.file).length;
  const files = (n) => (n === 1 ? '1 file' : `${n} files`);
  if (busy) return `Uploading ${files(busy)}…`;
  return ready ? `${files(ready)} ready to send.` : '';
}

function Upload({ threadId, u }) {
  const phase = u.error ? 'failed' : u.file ? 'done' : 'uploading';
  const percent = Math.round(u.progress * 100);
  return html`<li class=${'upload ' + phase} data-name=${u.name} data-state=${phase}>
    ${u.preview && !u.error ? html`<img src=${u.preview} alt="" />`
      : html`<span class="file-kind" aria-hidden="true">${(u.name.split('.').pop() || 'file')
        .toUpperCase().slice(0, 4)}</span>`}
    <span class="upload-text"><span class="file-name" title=${u.name}>${u.name}</span>
      ${u.error ? html`<span class="upload-error" role="alert">${u.error}</span>`
        : u.file ? html`<span class="muted small">${humanSize(u.file.size)} · ready</span>`
          : html`<span class="muted small">Uploading… ${percent}%</span>
            <progress max="100" value=${percent} aria-label=${'Uploading ' + u.name}></progress>`}
    </span>
    <button type="button" class="link small remove" aria-label=${'Remove ' + u.name}
      title="Remove" onClick=${() => unstage(threadId, new Set([u.key]))}>✕</button>
  </li>`;
}

function Composer({ threadId, onSent, replyTo, onCancelReply }) {
  useStore();
  const [text, setText] = useState(() => drafts.get(threadId) || '');
  const [error, setError] = useState('');
  const [later, setLater] = useState(false);
  const input = useRef(null);
  const picker = useRef(null);
  const uploads = stagedFor(threadId);
  const note = stageNotes.get(threadId);
  const uploading = uploads.some((u) => !u.file && !u.error);

  useEffect(() => {
    if (!uploading && error === WAIT_FOR_UPLOADS) setError('');
  }, [uploading]);

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
    if (uploading) {
      setError(WAIT_FOR_UPLOADS);
      return;
    }
    const ready = uploads.filter((u) => u.file);
    if (!body && !ready.length) return;
    if (codePoints(body) > MAX_MESSAGE) {
      setError(`A message can be at most ${MAX_MESSAGE} characters. Shorten it or split it.`);
      return;
    }
    setError('');
    sendMessage(threadId, body, replyTo ? replyTo.id : null, ready.map((u) => u.file));
    // Sent files leave the composer; refused ones stay, with why, until removed.
    unstage(threadId, new Set(ready.map((u) => u.key)));
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
        <span class="quote-text">${excerpt(replyTo.body || filesLine(replyTo), 80)}</span></span>
      <button type="button" class="link small" onClick=${onCancelReply}>Cancel reply</button>
    </div>`}
    <form class="composer" onSubmit=${(e) => { e.preventDefault(); submit(); }}>
      <p class="visually-hidden" aria-live="polite">${uploadSummary(uploads)}</p>
      ${uploads.length > 0 && html`<ul class="uploads" aria-label="Files to send">
        ${uploads.map((u) => html`<${Upload} key=${u.key} threadId=${threadId} u=${u} />`)}</ul>`}
      ${note && html`<p class="error" role="alert">${note}</p>`}
      <button type="button" class="attach quiet" aria-label="Attach files"
        title="Attach files (or drop them on the conversation, or paste)"
        onClick=${() => picker.current && picker.current.click()}><${Paperclip} /></button>
      <input type="file" multiple ref=${picker} class="visually-hidden" tabindex="-1"
        accept=${ACCEPT} aria-hidden="true" data-role="attach-input"
        onChange=${(e) => {
          stageFiles(threadId, e.currentTarget.files);
          e.currentTarget.value = '';
          if (input.current) input.current.focus();
        }} />
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea id="composer-input" ref=${input} rows="1" value=${text}
        placeholder="Write a message…" aria-describedby="composer-help"
        onPaste=${(e) => {
          const files = e.clipboardData && e.clipboardData.files;
          if (files && files.length) {
            e.preventDefault();
            stageFiles(threadId, files);
          }
        }}
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
      ${uploads.length === 0 && html`<button type="button" class="quiet send-later-toggle"
        aria-expanded=${later} onClick=${() => setLater(!later)}>Later…</button>`}
      <button type="submit" class="primary">Send</button>
      <p id="composer-help" class="visually-hidden">Enter sends. Shift+Enter starts a new line.
        Files can be attached with the button, dropped on the conversation or pasted here.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${later && uploads.length === 0 && html`<${SendLater} threadId=${threadId} text=${text}
        onClose=${() => setLater(false)}
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

/** A drag that carries files (not text or a link being dragged). */
function carriesFiles(e) {
  return Boolean(e.dataTransfer) && [...(e.dataTransfer.types || [])].includes('Files');
}

function ThreadView({ threadId, at }) {
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
  const [dropping, setDropping] = useState(false);

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
  // Files dropped anywhere on the conversation are attached to the next message.
  const dropTarget = member ? {
    onDragOver: (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
      if (!dropping) setDropping(true);
    },
    onDragLeave: (e) => {
      if (!e.currentTarget.contains(e.relatedTarget)) setDropping(false);
    },
    onDrop: (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      setDropping(false);
      stageFiles(threadId, e.dataTransfer.files);
      const box = document.getElementById('composer-input');
      if (box) box.focus({ preventScroll: true });
    },
  } : {};
  return html`
    <section class=${'thread-view' + (dropping ? ' dropping' : '')}
      aria-labelledby="thread-title" ...${dropTarget}>
      ${dropping && html`<div class="drop-hint" aria-hidden="true">
        <span>Drop files to attach them</span></div>`}
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
        onReply=${setReplyTo} at=${at} />
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

export function ChatsView({ threadId, at }) {
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
      <${ThreadList} activeId=${threadId} activeAt=${at} />
      <div class="thread-pane">
        ${threadId
          ? html`<${ThreadView} key=${threadId} threadId=${threadId} at=${at} />`
          : html`<p class="muted pad pick">Choose a conversation to read it.</p>`}
      </div>
    </div>`;
}
