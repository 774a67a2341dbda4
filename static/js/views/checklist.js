// The first-run guide: what an owner sets up before a practice runs by itself. Each step is
// read from the practice as it is (not ticked by hand), and the list goes away once all are
// done (or when the owner hides it).
import { get } from '../api.js';
import { html, useEffect, useState } from '../lib.js';
import { state, useStore } from '../store.js';

const STEPS = [
  ['welcome', 'Check your welcome message', '#/settings'],
  ['provider', 'Invite your first provider', '#/team'],
  ['client', 'Add your first client', '#/clients/new'],
  ['form', 'Build your first form', '#/forms/new'],
];

function hiddenKey() {
  return 'carethread:checklist-hidden:' + (state.organization && state.organization.id);
}

async function progress(meId) {
  const [settings, team, clients, forms] = await Promise.all([
    get('/practice/settings').then((r) => r.settings),
    get('/team').then((r) => r.users),
    get('/clients?limit=1').then((r) => r.clients),
    get('/forms').then((r) => r.forms),
  ]);
  return {
    welcome: Boolean(settings.welcome_enabled && settings.welcome_text.trim()),
    provider: team.some((u) => u.id !== meId && u.role !== 'bot'),
    client: clients.length > 0,
    form: forms.length > 0,
  };
}

export function Checklist() {
  const s = useStore();
  const [done, setDone] = useState(null);
  const [hidden, setHidden] = useState(() => localStorage.getItem(hiddenKey()) === '1');
  const owner = s.role === 'owner';
  useEffect(() => {
    if (!owner || hidden) return;
    progress(s.me.id).then(setDone).catch(() => setDone(null));
  }, [owner, hidden, s.me.id]);
  if (!owner || hidden || !done) return null;
  const count = STEPS.filter(([key]) => done[key]).length;
  if (count === STEPS.length) return null;
  return html`
    <section class="checklist" aria-labelledby="checklist-heading">
      <div class="checklist-head">
        <h2 id="checklist-heading">Set up your practice</h2>
        <span class="muted small">${count} of ${STEPS.length} done</span>
      </div>
      <ol>${STEPS.map(([key, text, href]) => html`
        <li key=${key} class=${done[key] ? 'done' : ''} data-step=${key}>
          <span class="tick" aria-hidden="true">${done[key] ? '✓' : ''}</span>
          ${done[key] ? html`<span>${text}<span class="visually-hidden"> (done)</span></span>`
            : html`<a href=${href}>${text}</a>`}
        </li>`)}</ol>
      <button type="button" class="link small" onClick=${() => {
        localStorage.setItem(hiddenKey(), '1');
        setHidden(true);
      }}>Hide this list</button>
    </section>`;
}
