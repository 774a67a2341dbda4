// Reaching people away from the app: sending later, broadcasts, notification settings, the
// push prompt, webhooks. Each piece is used by the screen it belongs to.
import { del, get, patch, post, put } from '../api.js';
import { html, useEffect, useState } from '../lib.js';
import {
  currentPushSubscription, dismissPushOffer, enablePush, pushPermission, shouldOfferPush,
} from '../push.js';
import { isAdmin, state, useStore } from '../store.js';
import { ErrorText } from './forms.js';

const SCHEDULED_CHANGED = 'carethread:scheduled';

function newClientId() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2)).slice(0, 64);
}

/** A datetime-local value (the user's own time zone) an hour from now, rounded. */
function inAnHour() {
  const d = new Date(Date.now() + 3600_000);
  d.setMinutes(0, 0, 0);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:00`;
}

function when(iso) {
  return new Date(iso).toLocaleString([], {
    weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

// --- send later -----------------------------------------------------------------------------

/** The "send later" picker under the composer; schedules the composer's text. */
export function SendLater({ threadId, text, onScheduled, onClose }) {
  const [at, setAt] = useState(inAnHour());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function schedule() {
    const body = text.trim();
    if (!body) {
      setError('Write the message first, then pick when it goes.');
      return;
    }
    const moment = new Date(at);
    if (Number.isNaN(moment.getTime())) {
      setError('Pick a date and time.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      await post(`/threads/${encodeURIComponent(threadId)}/messages`,
        { body, client_id: newClientId(), send_at: moment.toISOString() });
      window.dispatchEvent(new CustomEvent(SCHEDULED_CHANGED));
      onScheduled();
    } catch (err) {
      setError(err.code === 'send_at_in_past' ? 'That time has passed. Pick a later one.'
        : err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <div class="send-later" role="group" aria-label="Send later">
      <label for="send-later-at">Send at</label>
      <input id="send-later-at" type="datetime-local" value=${at}
        onInput=${(e) => setAt(e.currentTarget.value)} />
      <button type="button" class="primary" disabled=${busy} onClick=${schedule}>Schedule</button>
      <button type="button" class="quiet" onClick=${onClose}>Cancel</button>
      <${ErrorText} error=${error} />
    </div>`;
}

/** The caller's messages waiting to go in this thread (and those that could not). */
export function ScheduledList({ threadId }) {
  const [items, setItems] = useState([]);
  const [error, setError] = useState('');
  async function load() {
    try {
      const r = await get('/scheduled?thread_id=' + encodeURIComponent(threadId));
      setItems(r.scheduled.filter((s) => s.status === 'scheduled' || s.status === 'failed'));
    } catch (err) {
      setError(err.detail);
    }
  }
  useEffect(() => {
    load();
    const again = () => load();
    window.addEventListener(SCHEDULED_CHANGED, again);
    return () => window.removeEventListener(SCHEDULED_CHANGED, again);
  }, [threadId]);
  if (!items.length && !error) return null;
  return html`
    <section class="scheduled" aria-label="Scheduled messages">
      <${ErrorText} error=${error} />
      <ul>
        ${items.map((s) => html`
          <li key=${s.id} class=${'scheduled-item ' + s.status}>
            <span class="scheduled-when">${s.status === 'failed'
              ? 'Not sent: you were no longer in this conversation'
              : 'Scheduled for ' + when(s.send_at)}</span>
            <span class="scheduled-body">${s.body}</span>
            ${s.status === 'scheduled' && html`<button type="button" class="small"
              onClick=${async () => {
                try {
                  await del('/scheduled/' + encodeURIComponent(s.id));
                } catch (err) {
                  setError(err.detail);
                }
                load();
              }}>Cancel<span class="visually-hidden"> scheduled message</span></button>`}
          </li>`)}
      </ul>
    </section>`;
}

export function scheduledSignal(frame) {
  window.dispatchEvent(new CustomEvent(SCHEDULED_CHANGED, { detail: frame }));
}

// --- the push prompt ------------------------------------------------------------------------

/** Offered after the person has sent a message (they now expect a reply), never on load. */
export function PushOffer() {
  const s = useStore();
  const [hidden, setHidden] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  if (hidden || !s.sentThisSession || (!done && !shouldOfferPush())) return null;
  if (done) {
    return html`<p class="push-offer success" role="status">Notifications are on for this
      browser.</p>`;
  }
  return html`
    <div class="push-offer" role="region" aria-label="Notifications">
      <p>Get a notification on this device when someone replies? It never shows the message
        itself.</p>
      <button type="button" class="primary" onClick=${async () => {
        setError('');
        try {
          await enablePush();
          setDone(true);
        } catch (err) {
          setError(err.detail || err.message);
        }
      }}>Turn on notifications</button>
      <button type="button" class="quiet" onClick=${() => {
        dismissPushOffer();
        setHidden(true);
      }}>Not now</button>
      <${ErrorText} error=${error} />
    </div>`;
}

// --- notification settings ------------------------------------------------------------------

export function NotificationsView() {
  const [email, setEmail] = useState(null);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const [push, setPush] = useState(pushPermission());
  const [pushError, setPushError] = useState('');
  const [subscribed, setSubscribed] = useState(false);
  useEffect(() => {
    document.title = 'Notifications · Carethread';
    get('/me/notifications').then((r) => setEmail(r.notifications.email))
      .catch((err) => setError(err.detail));
    currentPushSubscription().then((sub) => setSubscribed(Boolean(sub))).catch(() => {});
  }, []);
  async function choose(value) {
    setError('');
    setSaved('');
    try {
      const r = await put('/me/notifications', { email: value });
      setEmail(r.notifications.email);
      setSaved('Saved.');
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`
    <section class="page" aria-labelledby="notifications-heading">
      <h1 id="notifications-heading">Notifications</h1>
      <form class="card" aria-labelledby="email-heading" onSubmit=${(e) => e.preventDefault()}>
        <h2 id="email-heading">Email</h2>
        <p class="muted">An email tells you that you have unread messages at
          ${state.organization ? ' ' + state.organization.name : ' your practice'}. It never
          contains the messages.</p>
        ${email && html`<fieldset>
          <legend class="visually-hidden">Unread-message emails</legend>
          <div class="check"><input type="radio" id="email-unread" name="email"
            checked=${email === 'unread'} onChange=${() => choose('unread')} />
            <label for="email-unread">Email me when messages wait unread</label></div>
          <div class="check"><input type="radio" id="email-off" name="email"
            checked=${email === 'off'} onChange=${() => choose('off')} />
            <label for="email-off">No emails about messages</label></div>
        </fieldset>`}
        <${ErrorText} error=${error} />
        ${saved && html`<p class="success" role="status">${saved}</p>`}
      </form>
      <section class="card" aria-labelledby="push-heading">
        <h2 id="push-heading">This device</h2>
        ${push === 'unsupported' && html`<p class="muted">This browser cannot show
          notifications.</p>`}
        ${push === 'denied' && html`<p class="muted">Notifications are blocked for this site;
          allow them in the browser’s site settings.</p>`}
        ${push !== 'unsupported' && push !== 'denied' && (subscribed
          ? html`<p role="status">Notifications are on for this browser.</p>`
          : html`<button type="button" class="primary" onClick=${async () => {
              setPushError('');
              try {
                await enablePush();
                setSubscribed(true);
              } catch (err) {
                setPushError(err.detail || err.message);
              }
              setPush(pushPermission());
            }}>Turn on notifications</button>`)}
        <${ErrorText} error=${pushError} />
      </section>
    </section>`;
}

// --- broadcasts -----------------------------------------------------------------------------

export function BroadcastPanel({ selected, groups, onClose }) {
  const [chosenTarget, setTarget] = useState(null); // null: follow the selection
  const target = chosenTarget || (selected.length ? 'selected' : 'group');
  const [groupId, setGroupId] = useState(groups.length ? groups[0].id : '');
  const [body, setBody] = useState('');
  const [later, setLater] = useState(false);
  const [at, setAt] = useState(inAnHour());
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [broadcast, setBroadcast] = useState(null);

  useEffect(() => {
    if (!broadcast || ['done', 'cancelled'].includes(broadcast.status)
        || broadcast.status === 'scheduled') return undefined;
    const timer = setTimeout(async () => {
      try {
        setBroadcast((await get('/broadcasts/' + broadcast.id)).broadcast);
      } catch (err) {
        setError(err.detail);
      }
    }, 700);
    return () => clearTimeout(timer);
  }, [broadcast]);

  async function send(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    const payload = { body };
    if (target === 'selected') payload.client_ids = selected.map((c) => c.id);
    else payload.group_id = groupId;
    if (later) payload.send_at = new Date(at).toISOString();
    try {
      setBroadcast((await post('/broadcasts', payload)).broadcast);
    } catch (err) {
      setError(err.code === 'no_recipients' ? 'Nobody to send to: choose clients or a group.'
        : err.detail);
    } finally {
      setBusy(false);
    }
  }

  if (broadcast) {
    const total = broadcast.recipients;
    const doneCount = broadcast.sent + broadcast.failed;
    return html`
      <section class="card broadcast-panel" aria-labelledby="broadcast-heading">
        <h2 id="broadcast-heading">Broadcast</h2>
        ${broadcast.status === 'scheduled'
          ? html`<p role="status">${`Scheduled for ${when(broadcast.send_at)} to ${total} ${
              total === 1 ? 'client' : 'clients'}.`}</p>`
          : html`<p role="status" class="broadcast-progress">${`Sent to ${broadcast.sent} of ${
              total}${broadcast.failed ? ` (${broadcast.failed} could not be sent)` : ''}.${
              broadcast.status === 'done' ? ' Done.' : ''}`}</p>
            <progress max=${total} value=${doneCount} aria-label="Broadcast progress"></progress>`}
        <button type="button" onClick=${onClose}>Close</button>
      </section>`;
  }
  return html`
    <form class="card broadcast-panel" aria-labelledby="broadcast-heading" onSubmit=${send}>
      <h2 id="broadcast-heading">Message several clients</h2>
      <p class="muted">Each client gets it in their own care chat, from you.</p>
      <fieldset>
        <legend>Send to</legend>
        <div class="check"><input type="radio" id="bc-selected" name="bc-target"
          checked=${target === 'selected'} disabled=${!selected.length}
          onChange=${() => setTarget('selected')} />
          <label for="bc-selected">${`The ${selected.length} selected ${
            selected.length === 1 ? 'client' : 'clients'}`}</label></div>
        <div class="check"><input type="radio" id="bc-group" name="bc-target"
          checked=${target === 'group'} disabled=${!groups.length}
          onChange=${() => setTarget('group')} />
          <label for="bc-group">Everyone in a group</label></div>
        ${target === 'group' && html`<div class="field">
          <label for="bc-group-id">Group</label>
          <select id="bc-group-id" value=${groupId}
            onChange=${(e) => setGroupId(e.currentTarget.value)}>
            ${groups.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
          </select></div>`}
      </fieldset>
      <div class="field">
        <label for="bc-body">Message</label>
        <textarea id="bc-body" rows="4" maxLength="16000" value=${body} required
          aria-describedby="bc-help" onInput=${(e) => setBody(e.currentTarget.value)}></textarea>
        <p class="hint" id="bc-help">You can use {client_first_name}, {client_name},
          {practice_name} and {provider_name}.</p>
      </div>
      <div class="check"><input type="checkbox" id="bc-later" checked=${later}
        onChange=${(e) => setLater(e.currentTarget.checked)} />
        <label for="bc-later">Send later</label></div>
      ${later && html`<div class="field"><label for="bc-at">Send at</label>
        <input id="bc-at" type="datetime-local" value=${at}
          onInput=${(e) => setAt(e.currentTarget.value)} /></div>`}
      <${ErrorText} error=${error} />
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>${later ? 'Schedule' : 'Send'}</button>
        <button type="button" class="quiet" onClick=${onClose}>Cancel</button>
      </div>
    </form>`;
}

// --- webhooks (practice settings) -----------------------------------------------------------

const WEBHOOK_KINDS = [
  ['message', 'Messages'], ['member.*', 'Members joining and leaving'],
  ['form.*', 'Forms (requested, completed)'], ['thread.created', 'New conversations'],
  ['*', 'Everything'],
];

function Deliveries({ hook }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    get(`/webhooks/${hook.id}/deliveries?limit=20`).then((r) => setItems(r.deliveries))
      .catch((err) => setError(err.detail));
  }, [hook.id]);
  return html`<div class="deliveries">
    <${ErrorText} error=${error} />
    ${items && (items.length === 0 ? html`<p class="muted">No deliveries yet.</p>` : html`
      <table class="deliveries-table">
        <caption class="visually-hidden">Recent deliveries</caption>
        <thead><tr><th scope="col">Event</th><th scope="col">Status</th>
          <th scope="col">Attempts</th><th scope="col">Last answer</th></tr></thead>
        <tbody>${items.map((d) => html`<tr key=${d.id}>
          <td>${d.kind}</td><td class=${'delivery-' + d.status}>${d.status}</td>
          <td>${d.attempts}</td><td>${d.last_status_code || d.last_error || '–'}</td></tr>`)}
        </tbody></table>`)}
  </div>`;
}

export function Webhooks() {
  const [hooks, setHooks] = useState(null);
  const [url, setUrl] = useState('');
  const [kinds, setKinds] = useState(['message']);
  const [trusted, setTrusted] = useState(false);
  const [secret, setSecret] = useState(null);
  const [error, setError] = useState('');
  const [open, setOpen] = useState(null);
  const owner = state.role === 'owner';
  const load = () => get('/webhooks').then((r) => setHooks(r.webhooks))
    .catch((err) => setError(err.detail));
  useEffect(() => {
    if (isAdmin()) load();
  }, []);
  if (!isAdmin()) return null;
  async function add(e) {
    e.preventDefault();
    setError('');
    try {
      const r = await post('/webhooks', { url, events: kinds, trusted });
      setSecret({ id: r.webhook.id, value: r.secret });
      setUrl('');
      load();
    } catch (err) {
      setError(err.detail);
    }
  }
  async function act(work) {
    setError('');
    try {
      await work();
      load();
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`
    <section class="card webhooks" aria-labelledby="webhooks-heading">
      <h2 id="webhooks-heading">Webhooks</h2>
      <p class="muted">Your own tools get what happens here, signed (Standard Webhooks).</p>
      ${secret && html`<div class="secret-once" role="status">
        <p>Signing secret (shown only now; keep it in your tool’s settings):</p>
        <code class="webhook-secret">${secret.value}</code>
        <button type="button" class="small" onClick=${() => setSecret(null)}>Done</button></div>`}
      ${hooks && html`<ul class="webhook-list" aria-label="Webhooks">
        ${hooks.map((h) => html`<li key=${h.id}>
          <span class="webhook-url">${h.url}</span>
          <span class="muted small">${h.events.join(', ')}${h.trusted ? ' · trusted' : ''}
            ${h.active ? '' : ' · paused'}</span>
          <span class="row-actions">
            <button type="button" class="small" onClick=${() => setOpen(open === h.id ? null
              : h.id)}>Deliveries</button>
            <button type="button" class="small" onClick=${() => act(async () => {
              const r = await post(`/webhooks/${h.id}/rotate-secret`);
              setSecret({ id: h.id, value: r.secret });
            })}>New secret</button>
            <button type="button" class="small" onClick=${() => act(() => patch(
              `/webhooks/${h.id}`, { active: !h.active }))}>${h.active ? 'Pause' : 'Resume'}</button>
            <button type="button" class="small danger" onClick=${() => act(() => del(
              `/webhooks/${h.id}`))}>Remove</button>
          </span>
          ${open === h.id && html`<${Deliveries} hook=${h} />`}
        </li>`)}</ul>`}
      <form class="inline-form" onSubmit=${add} aria-label="Add a webhook">
        <div class="field"><label for="webhook-url">URL</label>
          <input id="webhook-url" type="url" required placeholder="https://" value=${url}
            onInput=${(e) => setUrl(e.currentTarget.value)} /></div>
        <fieldset><legend>Events</legend>
          ${WEBHOOK_KINDS.map(([kind, label]) => html`<div class="check" key=${kind}>
            <input type="checkbox" id=${'wh-' + kind} checked=${kinds.includes(kind)}
              onChange=${(e) => setKinds(e.currentTarget.checked ? [...kinds, kind]
                : kinds.filter((k) => k !== kind))} />
            <label for=${'wh-' + kind}>${label}</label></div>`)}
        </fieldset>
        ${owner && html`<div class="check"><input type="checkbox" id="wh-trusted"
          checked=${trusted} onChange=${(e) => setTrusted(e.currentTarget.checked)} />
          <label for="wh-trusted">Trusted: also send team-only events</label></div>`}
        <${ErrorText} error=${error} />
        <button type="submit" class="primary">Add webhook</button>
      </form>
    </section>`;
}
