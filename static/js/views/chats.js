// Chat: the thread list (previews, unread badges, live order) and one thread with its events,
// pending messages, typing line, read markers and the composer.
import { del, get, patch, post } from '../api.js';
import {
  CHANGES, describe, ensureLoaded, lastActivity, loadOlder, logOf, markRead, nameOf,
  otherMembers, remember, rememberPeople, search, sortedThreads, threadTitle, typingNames,
} from '../chat.js';
import { Attachments, humanSize, uploadFile } from '../files.js';
import { navigate } from '../router.js';
import { html, useEffect, useLayoutEffect, useRef, useState } from '../lib.js';
import * as outbox from '../outbox.js';
import { retryMessage, sendMessage, sendTyping } from '../realtime.js';
import { emit, isAdmin, isStaff, state, useStore } from '../store.js';
import { FORM_KINDS, FormEventItem, formOutcomes } from './form-cards.js';
import {
  ROLE_LABELS, clockTime, codePoints, dayKey, dayLabel, fullTime, shortWhen,
} from '../util.js';

const MAX_MESSAGE = 16000;

function preview(thread) {
  const m = thread.last_message;
  if (!m) return 'No messages yet';
  const mine = state.me && m.actor_id === state.me.id;
  const who = mine ? 'You: ' : (thread.members || []).length > 2 ? `${nameOf(m.actor_id)}: ` : '';
  if (m.deleted_at) return who + 'Message deleted';
  const files = (m.data && m.data.attachments) || [];
  return who + (m.body || (files.length ? `📎 ${files.map((f) => f.name).join(', ')}` : ''));
}

function SearchBox() {
  const [q, setQ] = useState('');
  const [results, setResults] = useState(null);
  const [error, setError] = useState('');
  async function run(e) {
    e.preventDefault();
    if (!q.trim()) { setResults(null); return; }
    setError('');
    try {
      setResults(await search(q.trim()));
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`
    <form class="search" role="search" onSubmit=${run}>
      <label for="search-input" class="visually-hidden">Find in chats</label>
      <input id="search-input" type="search" placeholder="Search messages" value=${q}
        maxlength="200" onInput=${(e) => {
          setQ(e.currentTarget.value);
          if (!e.currentTarget.value) setResults(null);
        }} />
      ${error && html`<p class="error small" role="alert">${error}</p>`}
      ${results && html`<div class="search-results" aria-live="polite">
        ${results.length === 0 ? html`<p class="muted small pad">No messages found.</p>`
          : html`<ul aria-label="Search results">${results.map((r) => html`
            <li key=${r.event.id}><a class="search-hit" data-event-id=${r.event.id}
              href=${`#/threads/${encodeURIComponent(r.thread_id)}?at=${r.event.seq}`}
              onClick=${(e) => {
                e.preventDefault();
                setResults(null);
                navigate(`#/threads/${encodeURIComponent(r.thread_id)}?at=${r.event.seq}`);
              }}>
              <span class="hit-top"><span class="hit-thread">${threadTitle(
                state.threads.get(r.thread_id))}</span>
                <time class="muted small">${shortWhen(r.event.created_at)}</time></span>
              <span class="hit-text">${nameOf(r.event.actor_id)}: ${r.snippet.map((s) => (
                s.match ? html`<mark>${s.text}</mark>` : s.text))}</span>
            </a></li>`)}</ul>`}
      </div>`}
    </form>`;
}

function ThreadItem({ thread, active }) {
  const unread = thread.unread || 0;
  return html`
    <li>
      <a href=${'#/threads/' + encodeURIComponent(thread.id)} data-thread-id=${thread.id}
        class=${'thread-item' + (active ? ' active' : '') + (unread ? ' has-unread' : '')}
        aria-current=${active ? 'page' : undefined}>
        <span class="ti-top">
          <span class="ti-title">${threadTitle(thread)}</span>
          <time class="ti-when" datetime=${lastActivity(thread)}>
            ${shortWhen(lastActivity(thread))}</time>
        </span>
        <span class="ti-bottom">
          <span class="ti-preview">${preview(thread)}</span>
          ${unread > 0 && html`<span class="badge" data-unread=${unread}
            aria-label=${`${unread} unread`}>${unread}</span>`}
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
      <${SearchBox} />
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

function MessageMenu({ ev, mine, onEdit }) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState('');
  const may = mine || isAdmin();
  if (!may || ev.deleted_at || !state.threads.has(ev.thread_id)) return null;
  async function remove() {
    setOpen(false);
    setConfirming(false);
    try {
      await del(`/threads/${encodeURIComponent(ev.thread_id)}/messages/${encodeURIComponent(ev.id)}`);
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<span class="msg-menu">
    <button type="button" class="link small menu-toggle" aria-haspopup="true"
      aria-expanded=${open} aria-label="Message actions" onClick=${() => setOpen(!open)}>⋯</button>
    ${open && html`<span class="menu" role="menu">
      ${mine && html`<button type="button" role="menuitem" onClick=${() => {
        setOpen(false);
        onEdit();
      }}>Edit</button>`}
      ${confirming
        ? html`<button type="button" role="menuitem" class="danger" onClick=${remove}>
            Delete for everyone</button>`
        : html`<button type="button" role="menuitem" class="danger"
            onClick=${() => setConfirming(true)}>Delete…</button>`}
    </span>`}
    ${error && html`<span class="error small" role="alert">${error}</span>`}
  </span>`;
}

function EditForm({ ev, onDone }) {
  const [text, setText] = useState(ev.body || '');
  const [error, setError] = useState('');
  async function save(e) {
    e.preventDefault();
    if (text === ev.body) { onDone(); return; }
    try {
      await patch(`/threads/${encodeURIComponent(ev.thread_id)}/messages/${encodeURIComponent(ev.id)}`,
        { body: text });
      onDone();
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<form class="edit-form" onSubmit=${save}>
    <label for=${'edit-' + ev.id} class="visually-hidden">Edit message</label>
    <textarea id=${'edit-' + ev.id} rows="2" value=${text}
      onInput=${(e) => setText(e.currentTarget.value)}
      onKeyDown=${(e) => { if (e.key === 'Escape') onDone(); }}></textarea>
    <span class="edit-actions"><button type="submit" class="small primary">Save</button>
      <button type="button" class="small" onClick=${onDone}>Cancel</button></span>
    ${error && html`<p class="error small" role="alert">${error}</p>`}
  </form>`;
}

function MessageItem({ ev, seen, focused }) {
  const [editing, setEditing] = useState(false);
  const mine = state.me && ev.actor_id === state.me.id;
  const staffOnly = ev.audience === 'staff';
  const files = (ev.data && ev.data.attachments) || [];
  return html`
    <li class=${'msg' + (mine ? ' mine' : '') + (staffOnly ? ' staff-only' : '')
      + (ev.deleted_at ? ' deleted' : '') + (focused ? ' focused' : '')}
      data-seq=${ev.seq} data-kind="message" data-event-id=${ev.id}>
      <div class="bubble">
        <p class="meta"><span class="author">${nameOf(ev.actor_id)}</span>
          ${ev.data && ev.data.automated && html`<span class="automated">Automated</span>`}
          ${staffOnly && html`<span class="team-only">Team only</span>`}
          <time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
            ${clockTime(ev.created_at)}</time>
          ${ev.edited_at && !ev.deleted_at && html`<span class="edited"
            title=${'Edited ' + fullTime(ev.edited_at)}>edited</span>`}
          <${MessageMenu} ev=${ev} mine=${mine} onEdit=${() => setEditing(true)} /></p>
        ${ev.deleted_at ? html`<p class="body deleted-note">This message was deleted.</p>`
          : editing ? html`<${EditForm} ev=${ev} onDone=${() => setEditing(false)} />`
            : ev.body && html`<p class="body">${ev.body}</p>`}
        ${!ev.deleted_at && html`<${Attachments} files=${files} />`}
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

function EventList({ threadId, thread, stick, at }) {
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
  useEffect(() => {
    // Opened from a search result: scroll the message into view once it is here.
    if (!at || !scroller.current) return;
    const el = scroller.current.querySelector(`[data-seq="${at}"]`);
    if (el) {
      stick.current = false;
      el.scrollIntoView({ block: 'center' });
    } else if (l.loaded && l.more && !l.loadingOlder && l.minSeq > at) {
      loadOlder(threadId);
    }
  }, [at, l.loaded, l.minSeq, events.length]);

  for (const ev of events) {
    if (CHANGES.has(ev.kind)) continue; // shown on the message they change
    separator(ev.created_at);
    if (ev.kind === 'message') {
      items.push(html`<${MessageItem} key=${'e' + ev.seq} ev=${ev} seen=${seen.get(ev.seq)}
        focused=${String(ev.seq) === String(at)} />`);
    } else if (FORM_KINDS.has(ev.kind)) {
      items.push(html`<${FormEventItem} key=${'e' + ev.seq} ev=${ev}
        outcome=${outcomes.get(ev.data && ev.data.request_id)} />`);
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

const IMAGE_TYPES = /^image\/(jpeg|png|gif|webp)$/;

function Composer({ threadId, onSent }) {
  const [text, setText] = useState(() => drafts.get(threadId) || '');
  const [error, setError] = useState('');
  // Files chosen for the next message: {key, name, size, progress, file?, preview?, error?}
  const [uploads, setUploads] = useState([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef(null);
  const picker = useRef(null);

  function update(key, change) {
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...change } : u)));
  }

  function addFiles(fileList) {
    for (const file of fileList) {
      const key = Math.random().toString(36).slice(2);
      const preview = IMAGE_TYPES.test(file.type) ? URL.createObjectURL(file) : null;
      setUploads((list) => [...list, { key, name: file.name || 'pasted-image.png',
        size: file.size, progress: 0, preview }]);
      uploadFile(file, (p) => update(key, { progress: p }))
        .then((uploaded) => update(key, { file: uploaded, progress: 1 }))
        .catch((err) => update(key, { error: err.detail }));
    }
  }

  function removeUpload(key) {
    setUploads((list) => list.filter((u) => u.key !== key));
  }

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
    const busy = uploads.some((u) => !u.file && !u.error);
    const files = uploads.filter((u) => u.file).map((u) => u.file);
    if (busy) {
      setError('Wait for the files to finish uploading.');
      return;
    }
    if (!body && !files.length) return;
    if (codePoints(body) > MAX_MESSAGE) {
      setError(`A message can be at most ${MAX_MESSAGE} characters. Shorten it or split it.`);
      return;
    }
    setError('');
    sendMessage(threadId, body, files);
    setUploads([]);
    setText('');
    drafts.delete(threadId);
    onSent();
    requestAnimationFrame(resize);
  }

  return html`
    <form class=${'composer' + (dragging ? ' dragging' : '')}
      onSubmit=${(e) => { e.preventDefault(); submit(); }}
      onDragOver=${(e) => { e.preventDefault(); setDragging(true); }}
      onDragLeave=${() => setDragging(false)}
      onDrop=${(e) => {
        e.preventDefault();
        setDragging(false);
        if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
      }}>
      ${uploads.length > 0 && html`<ul class="uploads" aria-label="Files to send">
        ${uploads.map((u) => html`<li key=${u.key} class=${'upload' + (u.error ? ' failed'
          : u.file ? ' done' : '')} data-name=${u.name}>
          ${u.preview ? html`<img src=${u.preview} alt="" />`
            : html`<span class="file-kind" aria-hidden="true">FILE</span>`}
          <span class="upload-text"><span class="file-name">${u.name}</span>
            <span class="muted small">${u.error || (u.file ? humanSize(u.size) : 'Uploading…')}</span>
            ${!u.file && !u.error && html`<progress max="1" value=${u.progress}
              aria-label=${'Uploading ' + u.name}></progress>`}</span>
          <button type="button" class="link small" aria-label=${'Remove ' + u.name}
            onClick=${() => removeUpload(u.key)}>✕</button>
        </li>`)}</ul>`}
      <button type="button" class="attach" aria-label="Attach files"
        onClick=${() => picker.current && picker.current.click()}>📎</button>
      <input type="file" multiple ref=${picker} class="visually-hidden" tabindex="-1"
        aria-label="Choose files to attach" data-role="attach-input"
        onChange=${(e) => { addFiles(e.currentTarget.files); e.currentTarget.value = ''; }} />
      <label for="composer-input" class="visually-hidden">Message</label>
      <textarea id="composer-input" ref=${input} rows="1" value=${text}
        placeholder="Write a message…" aria-describedby="composer-help"
        onPaste=${(e) => {
          const files = e.clipboardData && e.clipboardData.files;
          if (files && files.length) {
            e.preventDefault();
            addFiles(files);
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
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            submit();
          }
        }}></textarea>
      <button type="submit" class="primary">Send</button>
      <p id="composer-help" class="visually-hidden">Enter sends. Shift+Enter starts a new line.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
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
  return html`
    <section class="thread-view" aria-labelledby="thread-title">
      <div class="thread-head">
        <a class="back" href="#/">Chats</a>
        <div class="thread-head-text">
          <h2 id="thread-title">${threadTitle(thread)}</h2>
          ${thread && html`<p class="thread-members">${others.length
            ? 'With ' + others.map((m) => m.name).join(', ') : 'Only you'}</p>`}
        </div>
        ${member && html`<button type="button" class="small members-toggle"
          aria-expanded=${showMembers} aria-controls=${'members-' + threadId}
          onClick=${() => setShowMembers(!showMembers)}>Members</button>`}
      </div>
      ${member && showMembers && html`<${MembersPanel} thread=${member} />`}
      ${l.error && l.error !== 'not_found' && html`<p class="error pad" role="alert">${l.error}</p>`}
      <${EventList} threadId=${threadId} thread=${thread} stick=${stick} at=${at} />
      ${member ? html`
        <${TypingLine} threadId=${threadId} />
        <${Composer} key=${threadId} threadId=${threadId}
          onSent=${() => { stick.current = true; }} />`
        : thread && html`<p class="outside-note" role="note">You are not in this conversation:
          you can read it, but not write in it or see new messages live.</p>`}
    </section>`;
}

export function ChatsView({ threadId, at }) {
  return html`
    <div class=${'chats' + (threadId ? ' has-thread' : '')}>
      <${ThreadList} activeId=${threadId} />
      <div class="thread-pane">
        ${threadId
          ? html`<${ThreadView} key=${threadId} threadId=${threadId} at=${at} />`
          : html`<p class="muted pad pick">Choose a conversation to read it.</p>`}
      </div>
    </div>`;
}
