// Start a chat with several people of the practice (staff): team members from GET /team and
// clients from GET /clients.
import { get, post } from '../api.js';
import { addThread, loadTeam } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { navigate } from '../router.js';
import { useStore } from '../store.js';
import { ROLE_LABELS } from '../util.js';
import { ErrorText, Field } from './forms.js';

export function NewThreadView({ clientId }) {
  const s = useStore();
  const [query, setQuery] = useState('');
  const [title, setTitle] = useState('');
  const [chosen, setChosen] = useState(() => new Set(clientId ? [clientId] : []));
  const [clients, setClients] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    document.title = 'New chat · Carethread';
    loadTeam().catch((err) => setError(err.detail));
    get('/clients?limit=500').then((r) => setClients(r.clients)).catch(() => setClients([]));
  }, []);

  const q = query.trim().toLowerCase();
  const matches = (u) => !q || u.name.toLowerCase().includes(q)
    || (u.email || '').toLowerCase().includes(q) || chosen.has(u.id);
  const people = [...s.team.values()]
    .filter((u) => u.id !== s.me.id && u.status !== 'removed')
    .filter(matches);
  const clientMatches = (clients || []).filter(matches);

  function toggle(id, on) {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    setChosen(next);
  }

  async function submit(e) {
    e.preventDefault();
    if (!chosen.size) {
      setError('Choose at least one person to chat with.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const { thread } = await post('/threads', { member_ids: [...chosen], title: title || null });
      addThread(thread);
      navigate('#/threads/' + encodeURIComponent(thread.id));
    } catch (err) {
      setError(err.detail);
      setBusy(false);
    }
  }

  return html`
    <section class="page narrow" aria-labelledby="new-heading">
      <h1 id="new-heading">New chat</h1>
      <form onSubmit=${submit}>
        <${Field} label="Title (optional)" name="title" value=${title} onInput=${setTitle}
          required=${false} maxLength=${200} autocomplete="off" />
        <${Field} label="Search people" name="search" type="search" value=${query}
          onInput=${setQuery} required=${false} autocomplete="off" />
        <fieldset class="people">
          <legend>Team</legend>
          ${!s.teamLoaded ? html`<p class="muted">Loading…</p>`
            : people.length === 0 ? html`<p class="muted">${q
              ? 'Nobody matches that search.'
              : 'Nobody else is in the practice yet. Invite your team from “Team”.'}</p>`
              : html`<ul class="pick-list">${people.map((u) => html`
                <li key=${u.id} class="check">
                  <input type="checkbox" id=${'pick-' + u.id} checked=${chosen.has(u.id)}
                    onChange=${(e) => toggle(u.id, e.currentTarget.checked)} />
                  <label for=${'pick-' + u.id}>${u.name}
                    <span class="muted"> · ${ROLE_LABELS[u.role] || u.role}${
                      u.status === 'invited' ? ' (invited)' : ''}</span></label>
                </li>`)}</ul>`}
        </fieldset>
        <fieldset class="people">
          <legend>Clients</legend>
          ${clients === null ? html`<p class="muted">Loading…</p>`
            : clientMatches.length === 0 ? html`<p class="muted">${q ? 'No client matches.'
              : 'No clients yet.'}</p>`
              : html`<ul class="pick-list">${clientMatches.map((c) => html`
                <li key=${c.id} class="check">
                  <input type="checkbox" id=${'pick-' + c.id} checked=${chosen.has(c.id)}
                    onChange=${(e) => toggle(c.id, e.currentTarget.checked)} />
                  <label for=${'pick-' + c.id}>${c.name}
                    <span class="muted"> · Client</span></label>
                </li>`)}</ul>`}
        </fieldset>
        <p class="muted">${chosen.size} selected</p>
        <${ErrorText} error=${error} />
        <button type="submit" class="primary" disabled=${busy}>Start chat</button>
      </form>
    </section>`;
}
