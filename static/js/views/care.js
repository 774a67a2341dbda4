// Care between visits: metrics with charts, journals with comments, and the team's newsfeed.
// The client logs weight and mood and writes their journal (#/health); the team sees one
// client's (#/clients/{id}/health, with eating-disorder mode) and the feed of all their
// clients (#/feed), which refreshes when a metric, journal or form event arrives on the socket.
import { del, get, post, put } from '../api.js';
import { nameOf } from '../chat.js';
import { html, useEffect, useRef, useState } from '../lib.js';
import { isStaff, onLiveEvent, useStore } from '../store.js';
import { MOODS, readingText, round, unitLabel } from '../metrics.js';
import { dateOnly, fullTime, shortWhen } from '../util.js';
import { Attachments, uploadFile } from '../files.js';

const JOURNAL_KINDS = [['food', 'Food'], ['mood', 'Mood'], ['activity', 'Activity'],
  ['note', 'Note']];
const FEED_KINDS = [['', 'Everything'], ['metric', 'Metrics'], ['journal', 'Journal'],
  ['form', 'Forms'], ['task', 'Tasks'], ['program', 'Programs']];
// The kinds the feed lists (docs/api.md §12 "GET /feed"): a new one refreshes the page.
const LIVE_KINDS = new Set(['metric.logged', 'journal.entry', 'form.completed',
  'task.completed', 'program.module_done']);

// --- charts ---------------------------------------------------------------------------------

/** A line chart of one metric over time, in plain SVG. */
export function Chart({ type, entries }) {
  const W = 320;
  const H = 140;
  const pad = { l: 40, r: 10, t: 10, b: 24 };
  if (!entries.length) {
    return html`<p class="muted chart-empty">No ${type.name.toLowerCase()} logged yet.</p>`;
  }
  const series = type.components
    ? type.components.map((c) => ({ key: c.key, points: entries.map((e) =>
      [Date.parse(e.measured_at), e.components ? e.components[c.key] : e.value]) }))
    : [{ key: 'value', points: entries.map((e) => [Date.parse(e.measured_at), e.value]) }];
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) { x0 -= 43200000; x1 += 43200000; }
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const spread = (y1 - y0) * 0.1;
  y0 -= spread; y1 += spread;
  const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const sy = (y) => pad.t + (1 - (y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const label = `${type.name} over time: ${entries.length} readings, latest `
    + readingText({ ...entries[entries.length - 1], type: type.key });
  return html`
    <svg class="chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label}
      data-type=${type.key} data-points=${entries.length}>
      <line class="axis" x1=${pad.l} y1=${H - pad.b} x2=${W - pad.r} y2=${H - pad.b} />
      <line class="axis" x1=${pad.l} y1=${pad.t} x2=${pad.l} y2=${H - pad.b} />
      <text class="tick" x=${pad.l - 4} y=${sy(y1 - spread) + 4} text-anchor="end">
        ${round(y1 - spread, type.decimals ?? 1)}</text>
      <text class="tick" x=${pad.l - 4} y=${sy(y0 + spread) + 4} text-anchor="end">
        ${round(y0 + spread, type.decimals ?? 1)}</text>
      <text class="tick" x=${pad.l} y=${H - 6}>${dateOnly(new Date(Math.min(...xs)).toISOString())}</text>
      <text class="tick" x=${W - pad.r} y=${H - 6} text-anchor="end">
        ${dateOnly(new Date(Math.max(...xs)).toISOString())}</text>
      ${series.map((s, i) => html`
        <g class=${'series s' + i} key=${s.key}>
          <polyline points=${s.points.map(([x, y]) => `${sx(x)},${sy(y)}`).join(' ')} />
          ${s.points.map(([x, y], j) => html`<circle key=${j} cx=${sx(x)} cy=${sy(y)} r="3" />`)}
        </g>`)}
    </svg>`;
}

// --- logging ------------------------------------------------------------------------------

function WeightForm({ clientId, type, onLogged }) {
  const [value, setValue] = useState('');
  const [unit, setUnit] = useState('kg');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await post(`/clients/${encodeURIComponent(clientId)}/metrics`,
        { type: type.key, value: Number(value), unit });
      setValue('');
      onLogged();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <form class="log-form" onSubmit=${submit} aria-label=${'Log ' + type.name.toLowerCase()}>
      <label for=${'log-' + type.key}>${type.name}</label>
      <div class="log-row">
        <input id=${'log-' + type.key} type="number" inputmode="decimal" step="any" required
          value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />
        <select aria-label="Unit" value=${unit} onChange=${(e) => setUnit(e.currentTarget.value)}>
          ${type.units.map((u) => html`<option key=${u} value=${u}>${unitLabel(u) || u}</option>`)}
        </select>
        <button type="submit" class="primary" disabled=${busy}>Log</button>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`;
}

function MoodForm({ clientId, onLogged }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function log(value) {
    setBusy(true);
    setError('');
    try {
      await post(`/clients/${encodeURIComponent(clientId)}/metrics`,
        { type: 'mood', value, unit: '{score}' });
      onLogged();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <div class="log-form" role="group" aria-labelledby="mood-label">
      <span id="mood-label" class="label">How are you feeling?</span>
      <div class="moods">
        ${MOODS.map(([v, face, words]) => html`
          <button key=${v} type="button" class="mood" disabled=${busy} aria-label=${words}
            onClick=${() => log(v)}>${face}</button>`)}
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </div>`;
}

// --- journal --------------------------------------------------------------------------------

function JournalForm({ clientId, onWritten }) {
  const [kind, setKind] = useState('food');
  const [text, setText] = useState('');
  const [photos, setPhotos] = useState([]); // uploaded files, sent with the entry
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function addPhotos(files) {
    setError('');
    for (const file of files) {
      setProgress(0);
      try {
        const uploaded = await uploadFile(file, setProgress);
        setPhotos((list) => [...list, uploaded]);
      } catch (err) {
        setError(err.detail);
      }
    }
    setProgress(null);
  }
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await post(`/clients/${encodeURIComponent(clientId)}/journal`,
        { kind, text, file_ids: photos.map((f) => f.id) });
      setText('');
      setPhotos([]);
      onWritten();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <form class="journal-form" onSubmit=${submit} aria-label="New journal entry">
      <div class="log-row">
        <label for="journal-kind" class="visually-hidden">Kind</label>
        <select id="journal-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
          ${JOURNAL_KINDS.map(([k, label]) => html`<option key=${k} value=${k}>${label}</option>`)}
        </select>
        <label class="button small photo-pick">Add a photo
          <input type="file" class="visually-hidden" accept="image/*" multiple
            aria-label="Add a photo to the entry"
            onChange=${(e) => { addPhotos([...e.currentTarget.files]); e.currentTarget.value = ''; }} />
        </label>
      </div>
      <label for="journal-text" class="visually-hidden">Entry</label>
      <textarea id="journal-text" rows="3" placeholder="What did you eat, do, feel?"
        value=${text} onInput=${(e) => setText(e.currentTarget.value)}></textarea>
      ${photos.length > 0 && html`<ul class="pending-photos" aria-label="Photos to add">
        ${photos.map((f) => html`<li key=${f.id}><${Attachments} files=${[f]} />
          <button type="button" class="quiet small" aria-label=${'Remove ' + f.name}
            onClick=${() => setPhotos(photos.filter((x) => x.id !== f.id))}>Remove</button>
        </li>`)}</ul>`}
      ${progress !== null && html`<progress max="1" value=${progress}
        aria-label="Upload progress"></progress>`}
      <button type="submit" class="primary"
        disabled=${busy || progress !== null || (!text.trim() && !photos.length)}>Add to journal</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`;
}

function CommentBox({ entryId, onDone }) {
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await post(`/journal/${encodeURIComponent(entryId)}/comments`, { text });
      setText('');
      onDone();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`
    <form class="comment-form" onSubmit=${submit}>
      <label for=${'comment-' + entryId} class="visually-hidden">Comment</label>
      <input id=${'comment-' + entryId} placeholder="Write a comment…" required value=${text}
        onInput=${(e) => setText(e.currentTarget.value)} />
      <button type="submit" class="small" disabled=${busy || !text.trim()}>Comment</button>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>`;
}

/** A journal entry with its comments and reactions; the team can star it. */
export function JournalEntry({ entry, onChanged, showKind = true }) {
  const path = '/journal/' + encodeURIComponent(entry.id);
  async function toggleStar() {
    await (entry.starred ? del(path + '/star') : put(path + '/star'));
    onChanged();
  }
  async function react(emoji) {
    const mine = entry.reactions.find((r) => r.emoji === emoji && r.mine);
    await (mine ? del(`${path}/reactions/${encodeURIComponent(emoji)}`)
      : post(path + '/reactions', { emoji }));
    onChanged();
  }
  return html`
    <article class="journal-entry" data-entry=${entry.id}>
      <header>
        ${showKind && html`<span class=${'pill kind-' + entry.kind}>${entry.kind}</span>`}
        <time datetime=${entry.occurred_at} title=${fullTime(entry.occurred_at)}>
          ${shortWhen(entry.occurred_at)}</time>
        ${entry.starred !== undefined && entry.starred !== null && html`
          <button type="button" class="quiet small star" aria-pressed=${entry.starred}
            onClick=${toggleStar}>${entry.starred ? '★ Starred' : '☆ Star'}</button>`}
      </header>
      ${entry.text && html`<p class="journal-text">${entry.text}</p>`}
      <${Attachments} files=${entry.files} />
      <div class="reactions">
        ${['👍', '❤️', '👏'].map((emoji) => {
          const r = entry.reactions.find((x) => x.emoji === emoji);
          return html`<button key=${emoji} type="button" class="quiet small reaction"
            aria-pressed=${Boolean(r && r.mine)} onClick=${() => react(emoji)}>
            ${emoji}${r ? ' ' + r.count : ''}</button>`;
        })}
      </div>
      ${entry.comments.length > 0 && html`<ul class="comments">
        ${entry.comments.map((c) => html`<li key=${c.id}><strong>${c.author_name}</strong>
          ${' '}${c.text}</li>`)}</ul>`}
      <${CommentBox} entryId=${entry.id} onDone=${onChanged} />
    </article>`;
}

// --- one client's health: charts, logging, journal --------------------------------------

function useLiveReload(reload, kinds = LIVE_KINDS, filter = () => true) {
  const timer = useRef(null);
  useEffect(() => onLiveEvent((ev) => {
    if (!kinds.has(ev.kind) && ev.kind !== 'journal.comment') return;
    if (!filter(ev)) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(reload, 250);
  }), [reload]);
}

export function HealthView({ clientId }) {
  const s = useStore();
  const team = isStaff();
  const id = clientId || (s.me && s.me.id);
  const [types, setTypes] = useState(null);
  const [entries, setEntries] = useState([]);
  const [journal, setJournal] = useState([]);
  const [settings, setSettings] = useState(null);
  const [error, setError] = useState('');
  const [client, setClient] = useState(null);
  const toggles = useRef(0); // a reload that began before a toggle must not undo it
  const base = '/clients/' + encodeURIComponent(id);

  async function load() {
    const seen = toggles.current;
    try {
      const [t, m, j] = await Promise.all([get(base + '/metric-types'),
        get(base + '/metrics'), get(base + '/journal')]);
      setTypes(t.types);
      setEntries(m.entries);
      setJournal(j.entries);
      if (team) {
        const read = (await get(base + '/metric-settings')).settings;
        if (toggles.current === seen) setSettings(read);
        setClient((await get(base)).client);
      }
    } catch (err) {
      setError(err.status === 404 ? 'This client is not one of yours.' : err.detail);
    }
  }
  useEffect(() => { load(); }, [id]);
  useLiveReload(load, LIVE_KINDS, (ev) => !ev.data || !ev.data.client_id
    || ev.data.client_id === id);

  async function toggleMode(e) {
    // Shown at once: a reload still on its way must not flip the box back while it saves.
    const on = e.currentTarget.checked;
    toggles.current += 1;
    setSettings((s) => ({ ...s, eating_disorder_mode: on }));
    try {
      setSettings((await put(base + '/metric-settings', { eating_disorder_mode: on })).settings);
    } catch (err) {
      setSettings((s) => ({ ...s, eating_disorder_mode: !on }));
      setError(err.detail);
      return;
    }
    load();
  }

  if (error) return html`<section class="page"><p class="error" role="alert">${error}</p></section>`;
  if (!types) return html`<section class="page"><p class="muted" role="status">Loading…</p></section>`;
  const byType = (key) => entries.filter((e) => e.type === key);
  const weight = types.find((t) => t.key === 'body_weight');
  const shown = types.filter((t) => byType(t.key).length > 0 || ['body_weight', 'mood']
    .includes(t.key));
  return html`
    <section class="page narrow health" aria-labelledby="health-heading">
      ${team && html`<p><a href=${'#/clients/' + encodeURIComponent(id)}>
        ${client ? client.name : 'Client'}</a></p>`}
      <h1 id="health-heading">${team ? 'Health' : 'My health'}</h1>
      ${team && settings && html`<label class="check">
        <input type="checkbox" checked=${settings.eating_disorder_mode} onChange=${toggleMode} />
        Eating-disorder mode: hide weight and BMI from the client</label>`}
      ${!team && html`<div class="card">
        ${weight && html`<${WeightForm} clientId=${id} type=${weight} onLogged=${load} />`}
        <${MoodForm} clientId=${id} onLogged=${load} />
      </div>`}
      <h2>Over time</h2>
      <div class="charts">
        ${shown.map((t) => html`<figure key=${t.key} class="chart-card">
          <figcaption>${t.name}${byType(t.key).length
            ? html` <span class="muted">· latest ${readingText({ ...byType(t.key).at(-1),
              type: t.key })}</span>` : ''}</figcaption>
          <${Chart} type=${t} entries=${byType(t.key)} />
        </figure>`)}
      </div>
      <h2>Journal</h2>
      ${!team && html`<${JournalForm} clientId=${id} onWritten=${load} />`}
      ${journal.length === 0 && html`<p class="muted">No journal entries yet.</p>`}
      <div class="journal">
        ${journal.map((e) => html`<${JournalEntry} key=${e.id} entry=${e} onChanged=${load} />`)}
      </div>
    </section>`;
}

// --- the team's newsfeed ----------------------------------------------------------------

function feedText(item) {
  const ev = item.event;
  const d = ev.data || {};
  const who = ev.actor_id && ev.actor_id !== item.client_id ? ` (by ${nameOf(ev.actor_id)})` : '';
  switch (ev.kind) {
    case 'metric.logged':
      return `${d.name || d.type}: ${readingText(d)}${who}`;
    case 'journal.entry': {
      const photos = d.files && d.files.length
        ? (d.files.length === 1 ? ' (a photo)' : ` (${d.files.length} photos)`) : '';
      return `${d.kind ? d.kind[0].toUpperCase() + d.kind.slice(1) : 'Journal'}: `
        + `${d.text || ''}${photos}`;
    }
    case 'form.completed':
      return `Completed “${d.form_title}”`;
    case 'task.completed':
      return `Completed the task “${d.title || ''}”` + (d.note ? `: “${d.note}”` : '');
    case 'program.module_done':
      return `Finished “${d.title || ''}”`
        + (d.program_title ? ` (${d.program_title}${d.day !== undefined ? ', day ' + d.day : ''})` : '');
    default:
      return ev.body || ev.kind;
  }
}

function FeedItem({ item }) {
  const [open, setOpen] = useState(false);
  const [entry, setEntry] = useState(null);
  const ev = item.event;
  const entryId = ev.kind === 'journal.entry' && ev.data ? ev.data.entry_id : null;
  async function loadEntry() {
    setEntry((await get('/journal/' + encodeURIComponent(entryId))).entry);
  }
  useEffect(() => { if (open && entryId) loadEntry(); }, [open]);
  return html`
    <li class=${'feed-item' + (item.unread ? ' unread' : '')} data-kind=${ev.kind}
      data-item=${item.id}>
      <div class="feed-head">
        ${item.unread && html`<span class="dot" aria-label="New"></span>`}
        <a class="feed-client" href=${'#/clients/' + encodeURIComponent(item.client_id)
          + '/health'}>${item.client_name}</a>
        <span class=${'pill cat-' + item.category}>${item.category}</span>
        <time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
          ${shortWhen(ev.created_at)}</time>
      </div>
      <p class="feed-text">${feedText(item)}</p>
      ${ev.data && ev.data.files && html`<${Attachments} files=${ev.data.files} />`}
      ${entryId && html`<button type="button" class="quiet small" aria-expanded=${open}
        onClick=${() => setOpen(!open)}>${open ? 'Hide' : 'Comment'}</button>`}
      ${open && entry && html`<${JournalEntry} entry=${entry} onChanged=${loadEntry}
        showKind=${false} />`}
    </li>`;
}

/** The team's watch list: open tasks past their due date, of every client in their care. */
function OverdueTasks() {
  const [tasks, setTasks] = useState(null);
  const load = () => get('/tasks?overdue=true&limit=50').then((r) => setTasks(r.tasks))
    .catch(() => setTasks([]));
  useEffect(() => { load(); }, []);
  useLiveReload(load, new Set(['task.completed', 'task.cancelled', 'task.assigned']));
  if (!tasks || tasks.length === 0) return null;
  return html`
    <section class="card overdue-tasks" aria-labelledby="overdue-heading">
      <h2 id="overdue-heading">Overdue tasks <span class="badge">${tasks.length}</span></h2>
      <ul class="care-list" aria-label="Overdue tasks">
        ${tasks.map((t) => html`<li key=${t.id} class="care-item">
          <a href=${'#/clients/' + encodeURIComponent(t.client_id) + '?tab=tasks'}>
            ${t.client_name}</a>
          <span class="care-title">${t.title}</span>
          <span class="muted">due ${dateOnly(t.due_at)}</span>
        </li>`)}
      </ul>
    </section>`;
}

export function FeedView() {
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [unread, setUnread] = useState(0);
  const [filter, setFilter] = useState({ kind: '', client: '', group: '' });
  const [clients, setClients] = useState([]);
  const [groups, setGroups] = useState([]);
  const [error, setError] = useState('');
  const filterRef = useRef(filter);
  filterRef.current = filter;

  /** The feed's query for the chosen kind, client and group (the API narrows by each). */
  function query(extra) {
    const f = filterRef.current;
    const params = new URLSearchParams({ limit: '30', ...extra });
    if (f.kind) params.set('kind', f.kind);
    if (f.client) params.set('client_id', f.client);
    if (f.group) params.set('group_id', f.group);
    return '/feed?' + params.toString();
  }
  // Answers can come back out of order when the filters change quickly: only the latest
  // request's answer is shown.
  const latest = useRef(0);
  async function load() {
    const mine = ++latest.current;
    try {
      const page = await get(query({}));
      if (mine !== latest.current) return;
      setItems(page.items);
      setCursor(page.next_cursor);
      setUnread(page.unread || 0);
      setError('');
    } catch (err) {
      if (mine === latest.current) setError(err.detail);
    }
  }
  async function more() {
    const mine = latest.current;
    const page = await get(query({ cursor }));
    if (mine !== latest.current) return;
    setItems([...items, ...page.items]);
    setCursor(page.next_cursor);
  }
  async function markRead() {
    await post('/feed/read', {});
    load();
  }
  useEffect(() => {
    get('/clients?limit=500').then((r) => setClients(r.clients)).catch(() => setClients([]));
    get('/groups').then((r) => setGroups(r.groups)).catch(() => setGroups([]));
  }, []);
  useEffect(() => { load(); }, [filter]);
  useLiveReload(load);
  const choose = (key) => (e) => setFilter({ ...filter, [key]: e.currentTarget.value });

  return html`
    <section class="page narrow feed" aria-labelledby="feed-heading">
      <div class="page-head">
        <h1 id="feed-heading">Feed ${unread > 0 && html`<span class="badge"
          aria-label=${unread + ' new'}>${unread}</span>`}</h1>
        <div class="actions feed-filters">
          <label for="feed-kind" class="visually-hidden">Show</label>
          <select id="feed-kind" value=${filter.kind} onChange=${choose('kind')}>
            ${FEED_KINDS.map(([k, label]) => html`<option key=${k} value=${k}>${label}</option>`)}
          </select>
          <label for="feed-client" class="visually-hidden">Client</label>
          <select id="feed-client" value=${filter.client} onChange=${choose('client')}>
            <option value="">All clients</option>
            ${clients.map((c) => html`<option key=${c.id} value=${c.id}>${c.name}</option>`)}
          </select>
          ${groups.length > 0 && html`
            <label for="feed-group" class="visually-hidden">Group</label>
            <select id="feed-group" value=${filter.group} onChange=${choose('group')}>
              <option value="">All groups</option>
              ${groups.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
            </select>`}
          <button type="button" class="small" disabled=${!unread} onClick=${markRead}>
            Mark all read</button>
        </div>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <${OverdueTasks} />
      ${items === null && !error && html`<p class="muted" role="status">Loading…</p>`}
      ${items && items.length === 0 && html`<p class="muted">${filter.kind || filter.client
        || filter.group ? 'Nothing here for this choice.' : 'Nothing from your clients yet.'}</p>`}
      <ul class="feed-list" aria-live="polite">
        ${(items || []).map((item) => html`<${FeedItem} key=${item.id} item=${item} />`)}
      </ul>
      ${cursor && html`<button type="button" onClick=${more}>Load more</button>`}
    </section>`;
}
