// Provider screens for clients: the list (search, group and tag filters), adding a client and
// the client's profile (details, invitation, care team, group, tags, care thread).
import { get, patch, post } from '../api.js';
import { loadTeam } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { navigate } from '../router.js';
import { isAdmin, useStore } from '../store.js';
import {
  ClientTabs, GoalsTab, PlansTab, ProgramsTab, TasksTab,
} from './care-tasks.js';
import { ClientForms } from './form-requests.js';
import { Documents } from '../files.js';
import { BroadcastPanel } from './reach.js';
import { ErrorText, Field, errorField } from './forms.js';
import { Avatar } from './people.js';

const PROVIDER_ROLES = new Set(['owner', 'admin', 'provider']);
const TEAM_ROLES = new Set(['owner', 'admin', 'provider', 'staff']);

export const INVITATION_LABELS = {
  none: 'No email',
  not_sent: 'Not invited',
  sent: 'Invitation sent',
  accepted: 'Active',
};

/** Groups and tags of the practice, for filters and pickers. */
function useGroupsAndTags() {
  const [groups, setGroups] = useState([]);
  const [tags, setTags] = useState([]);
  useEffect(() => {
    get('/groups').then((r) => setGroups(r.groups)).catch(() => {});
    get('/tags').then((r) => setTags(r.tags)).catch(() => {});
  }, []);
  return [groups, tags];
}

function team(s) {
  return [...s.team.values()].filter((u) => TEAM_ROLES.has(u.role) && u.status !== 'removed');
}

function Select({ label, id, value, onChange, children }) {
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
        ${children}
      </select>
    </div>`;
}

function Checks({ legend, items, chosen, onChange, idPrefix, empty }) {
  return html`
    <fieldset>
      <legend>${legend}</legend>
      ${items.length === 0 && html`<p class="muted">${empty}</p>`}
      <ul class="pick-list">${items.map((item) => html`
        <li key=${item.id} class="check">
          <input type="checkbox" id=${idPrefix + item.id} checked=${chosen.includes(item.id)}
            onChange=${(e) => onChange(e.currentTarget.checked
              ? [...chosen, item.id] : chosen.filter((x) => x !== item.id))} />
          <label for=${idPrefix + item.id}>${item.name}</label>
        </li>`)}</ul>
    </fieldset>`;
}

export function ClientsView() {
  const [search, setSearch] = useState('');
  const [groupId, setGroupId] = useState('');
  const [tagId, setTagId] = useState('');
  const [intake, setIntake] = useState(false);
  const [clients, setClients] = useState(null);
  const [error, setError] = useState('');
  const [groups, tags] = useGroupsAndTags();
  const [picking, setPicking] = useState(false);
  const [picked, setPicked] = useState(new Map());
  const togglePick = (c, on) => {
    const next = new Map(picked);
    if (on) next.set(c.id, c);
    else next.delete(c.id);
    setPicked(next);
  };

  useEffect(() => {
    document.title = 'Clients · Carethread';
  }, []);

  useEffect(() => {
    let cancelled = false;
    const timer = setTimeout(async () => {
      const query = new URLSearchParams();
      if (search.trim()) query.set('search', search.trim());
      if (groupId) query.set('group_id', groupId);
      if (tagId) query.set('tag_id', tagId);
      if (intake) query.set('incomplete_intake', 'true');
      try {
        const answer = await get('/clients?' + query);
        if (!cancelled) {
          setClients(answer.clients);
          setError('');
        }
      } catch (err) {
        if (!cancelled) setError(err.detail);
      }
    }, 200);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [search, groupId, tagId, intake]);

  return html`
    <section class="page" aria-labelledby="clients-heading">
      <div class="page-head">
        <h1 id="clients-heading">Clients</h1>
        <span class="page-actions">
          <button type="button" aria-expanded=${picking}
            onClick=${() => setPicking(!picking)}>Message several</button>
          <a class="button primary" href="#/clients/new">Add client</a>
        </span>
      </div>
      ${picking && html`<${BroadcastPanel} selected=${[...picked.values()]} groups=${groups}
        onClose=${() => { setPicking(false); setPicked(new Map()); }} />`}
      <div class="filters" role="search" aria-label="Find clients">
        <${Field} label="Search clients" name="client-search" type="search" value=${search}
          onInput=${setSearch} required=${false} autocomplete="off" />
        <${Select} label="Group" id="filter-group" value=${groupId} onChange=${setGroupId}>
          <option value="">All groups</option>
          ${groups.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
        <//>
        <${Select} label="Tag" id="filter-tag" value=${tagId} onChange=${setTagId}>
          <option value="">All tags</option>
          ${tags.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        <//>
        <div class="check filter-check">
          <input id="filter-intake" type="checkbox" checked=${intake}
            onChange=${(e) => setIntake(e.currentTarget.checked)} />
          <label for="filter-intake">Has incomplete intake</label>
        </div>
      </div>
      <${ErrorText} error=${error} />
      ${clients === null ? html`<p class="muted">Loading clients…</p>`
        : clients.length === 0
          ? html`<p class="muted">${search || groupId || tagId || intake ? 'No client matches.'
            : 'No clients yet. Add your first client.'}</p>`
          : html`
            <p class="muted" role="status">${clients.length} ${clients.length === 1
              ? 'client' : 'clients'}</p>
            <ul class="client-list" aria-label="Clients">
              ${clients.map((c) => html`
                <li key=${c.id} class=${picking ? 'picking' : ''}>
                  ${picking && html`<span class="check pick">
                    <input type="checkbox" id=${'pick-' + c.id} checked=${picked.has(c.id)}
                      onChange=${(e) => togglePick(c, e.currentTarget.checked)} />
                    <label for=${'pick-' + c.id} class="visually-hidden">Select ${c.name}</label>
                  </span>`}
                  <a class="client-row" href=${'#/clients/' + encodeURIComponent(c.id)}>
                    <${Avatar} name=${c.name} id=${c.id} src=${c.avatar_url || null} />
                    <span class="client-main">
                      <span class="client-name">${c.name}</span>
                      <span class="muted">${c.email || 'No email'}</span>
                    </span>
                    <span class="client-side">
                      <span class=${'pill state-' + c.invitation}>
                        ${INVITATION_LABELS[c.invitation] || c.invitation}</span>
                      ${c.group && html`<span class="pill">${c.group.name}</span>`}
                      ${c.tags.map((t) => html`<span key=${t.id} class="pill tag">${t.name}</span>`)}
                      <span class="muted small">Primary: ${c.primary_provider.name}</span>
                    </span>
                  </a>
                </li>`)}
            </ul>`}
    </section>`;
}

/** Today as YYYY-MM-DD here: the latest date of birth there can be. */
function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-`
    + String(d.getDate()).padStart(2, '0');
}

/** What is wrong with a typed phone number before the server (which keeps it as E.164, e.g.
 * +14155550132) reads it; '' when it may be one. */
export function phoneProblem(text) {
  const t = String(text || '').trim();
  if (!t) return '';
  const digits = t.replace(/\D/g, '');
  if (!/^\+?[\d\s().\-/]+$/.test(t) || digits.length < 7 || digits.length > 15) {
    return 'Write the phone number in digits, with its country code, like +1 415 555 0132.';
  }
  return '';
}

function birthProblem(value) {
  if (!value) return '';
  if (value > today()) return 'A date of birth cannot be in the future.';
  if (value < '1900-01-01') return 'That date of birth is not plausible.';
  return '';
}

export function AddClientView() {
  const s = useStore();
  const [groups, tags] = useGroupsAndTags();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [birth, setBirth] = useState('');
  const [primary, setPrimary] = useState(PROVIDER_ROLES.has(s.role) ? s.me.id : '');
  const [careTeam, setCareTeam] = useState([]);
  const [groupId, setGroupId] = useState('');
  const [tagIds, setTagIds] = useState([]);
  const [invite, setInvite] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    document.title = 'Add client · Carethread';
    loadTeam().catch(() => {});
  }, []);

  const people = team(s);
  const providers = people.filter((u) => PROVIDER_ROLES.has(u.role));
  const chosenPrimary = primary || (providers[0] && providers[0].id) || '';

  async function submit(e) {
    e.preventDefault();
    const local = phoneProblem(phone) ? { detail: phoneProblem(phone), field: 'phone' }
      : birthProblem(birth) ? { detail: birthProblem(birth), field: 'date_of_birth' } : null;
    if (local) {
      setError(local);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { client } = await post('/clients', {
        name,
        email: email.trim() || null,
        phone: phone.trim() || null,
        date_of_birth: birth || null,
        primary_provider_id: chosenPrimary || null,
        care_team_ids: careTeam.filter((id) => id !== chosenPrimary),
        group_id: groupId || null,
        tag_ids: tagIds,
        send_invite: Boolean(email.trim()) && invite,
      });
      navigate('#/clients/' + encodeURIComponent(client.id), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const bad = errorField(error);
  return html`
    <section class="page narrow" aria-labelledby="add-client-heading">
      <p><a href="#/clients">Clients</a></p>
      <h1 id="add-client-heading">Add client</h1>
      <form onSubmit=${submit} novalidate>
        <${Field} label="Name" name="client-name" value=${name} onInput=${setName}
          maxLength=${200} autocomplete="off" invalid=${bad === 'name'} />
        <${Field} label="Email (optional)" name="client-email" type="email" value=${email}
          onInput=${setEmail} required=${false} autocomplete="off" invalid=${bad === 'email'}
          hint="Without an email the client cannot log in; you can add one later." />
        <${Field} label="Phone (optional)" name="client-phone" type="tel" value=${phone}
          onInput=${setPhone} required=${false} autocomplete="off" maxLength=${40}
          invalid=${bad === 'phone'} hint="With the country code, like +1 415 555 0132." />
        <${Field} label="Date of birth (optional)" name="client-birth" type="date" value=${birth}
          onInput=${setBirth} required=${false} max=${today()} min="1900-01-01"
          invalid=${bad === 'date_of_birth'} />
        <${Select} label="Primary provider" id="client-primary" value=${chosenPrimary}
          onChange=${setPrimary}>
          ${providers.map((u) => html`<option key=${u.id} value=${u.id}>${u.name}</option>`)}
        <//>
        <${Checks} legend="Other care team members" idPrefix="care-"
          items=${people.filter((u) => u.id !== chosenPrimary)} chosen=${careTeam}
          onChange=${setCareTeam} empty="Nobody else is on the team yet." />
        <${Select} label="Group" id="client-group" value=${groupId} onChange=${setGroupId}>
          <option value="">No group</option>
          ${groups.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
        <//>
        <${Checks} legend="Tags" idPrefix="tag-" items=${tags} chosen=${tagIds}
          onChange=${setTagIds} empty="No tags yet: create them in Settings." />
        <div class="check">
          <input id="client-invite" type="checkbox" checked=${invite && Boolean(email.trim())}
            disabled=${!email.trim()} onChange=${(e) => setInvite(e.currentTarget.checked)} />
          <label for="client-invite">Email an invitation to set a password</label>
        </div>
        <${ErrorText} error=${error && error.detail} />
        <button type="submit" class="primary" disabled=${busy}>Add client</button>
      </form>
    </section>`;
}

function DetailsForm({ client, onSaved }) {
  const [name, setName] = useState(client.name);
  const [email, setEmail] = useState(client.email || '');
  const [phone, setPhone] = useState(client.phone || '');
  const [birth, setBirth] = useState(client.date_of_birth || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  async function submit(e) {
    e.preventDefault();
    const local = phoneProblem(phone) || birthProblem(birth);
    if (local) {
      setDone('');
      setError(local);
      return;
    }
    setBusy(true);
    setError('');
    setDone('');
    const changes = {};
    if (name !== client.name) changes.name = name;
    if (email.trim() && email.trim() !== (client.email || '')) changes.email = email.trim();
    if (phone.trim() !== (client.phone || '')) changes.phone = phone.trim() || null;
    if (birth !== (client.date_of_birth || '')) changes.date_of_birth = birth || null;
    try {
      const { client: saved } = await patch('/clients/' + encodeURIComponent(client.id), changes);
      setPhone(saved.phone || ''); // as the server keeps it: +14155550132
      setDone(changes.email ? 'Saved. A new invitation went to the new email.' : 'Saved.');
      onSaved(saved);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="details-heading" novalidate>
      <h2 id="details-heading">Details</h2>
      <${Field} label="Name" name="edit-name" value=${name} onInput=${setName}
        maxLength=${200} autocomplete="off" />
      <${Field} label="Email" name="edit-email" type="email" value=${email} onInput=${setEmail}
        required=${false} autocomplete="off"
        hint="Changing the email sends a new invitation there; earlier links stop working." />
      <${Field} label="Phone" name="edit-phone" type="tel" value=${phone} onInput=${setPhone}
        required=${false} autocomplete="off" maxLength=${40}
        hint="With the country code, like +1 415 555 0132." />
      <${Field} label="Date of birth" name="edit-birth" type="date" value=${birth}
        onInput=${setBirth} required=${false} max=${today()} min="1900-01-01" />
      <${ErrorText} error=${error} />
      ${done && html`<p class="success" role="status">${done}</p>`}
      <button type="submit" class="primary" disabled=${busy}>Save details</button>
    </form>`;
}

function CareTeamForm({ client, onSaved }) {
  const s = useStore();
  const people = team(s);
  const providers = people.filter((u) => PROVIDER_ROLES.has(u.role));
  const [primary, setPrimary] = useState(client.primary_provider.id);
  const [others, setOthers] = useState(client.care_team.map((p) => p.id));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setDone('');
    try {
      const { client: saved } = await patch('/clients/' + encodeURIComponent(client.id), {
        primary_provider_id: primary, care_team_ids: others.filter((id) => id !== primary),
      });
      setDone('Care team saved.');
      onSaved(saved);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="care-heading">
      <h2 id="care-heading">Care team</h2>
      <${Select} label="Primary provider" id="edit-primary" value=${primary} onChange=${setPrimary}>
        ${providers.map((u) => html`<option key=${u.id} value=${u.id}>${u.name}</option>`)}
      <//>
      <${Checks} legend="Other care team members" idPrefix="edit-care-"
        items=${people.filter((u) => u.id !== primary)} chosen=${others} onChange=${setOthers}
        empty="Nobody else is on the team yet." />
      <${ErrorText} error=${error} />
      ${done && html`<p class="success" role="status">${done}</p>`}
      <button type="submit" class="primary" disabled=${busy}>Save care team</button>
    </form>`;
}

function GroupTagsForm({ client, onSaved }) {
  const [groups, tags] = useGroupsAndTags();
  const [groupId, setGroupId] = useState(client.group ? client.group.id : '');
  const [tagIds, setTagIds] = useState(client.tags.map((t) => t.id));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setDone('');
    try {
      const { client: saved } = await patch('/clients/' + encodeURIComponent(client.id), {
        group_id: groupId || null, tag_ids: tagIds,
      });
      setDone('Group and tags saved.');
      onSaved(saved);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="group-heading">
      <h2 id="group-heading">Group and tags</h2>
      <${Select} label="Group" id="edit-group" value=${groupId} onChange=${setGroupId}>
        <option value="">No group</option>
        ${groups.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
      <//>
      <${Checks} legend="Tags" idPrefix="edit-tag-" items=${tags} chosen=${tagIds}
        onChange=${setTagIds} empty="No tags yet: create them in Settings." />
      <${ErrorText} error=${error} />
      ${done && html`<p class="success" role="status">${done}</p>`}
      <button type="submit" class="primary" disabled=${busy}>Save group and tags</button>
    </form>`;
}

const CARE_TABS = { tasks: TasksTab, goals: GoalsTab, plans: PlansTab, programs: ProgramsTab };

export function ClientView({ clientId, tab = 'profile' }) {
  const [client, setClient] = useState(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loadTeam().catch(() => {});
    get('/clients/' + encodeURIComponent(clientId))
      .then((r) => {
        setClient(r.client);
        document.title = `${r.client.name} · Carethread`;
      })
      .catch((err) => setError(err.status === 404 ? 'This client does not exist.' : err.detail));
  }, [clientId]);

  function saved(next) {
    setClient(next);
  }

  async function action(path, done) {
    setBusy(true);
    setNote('');
    setError('');
    try {
      const answer = await post(`/clients/${encodeURIComponent(clientId)}/${path}`);
      if (answer && answer.client) setClient(answer.client);
      setNote(done);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  if (!client) {
    return html`<section class="page"><p><a href="#/clients">Clients</a></p>
      ${error ? html`<p class="error" role="alert">${error}</p>`
        : html`<p class="muted">Loading…</p>`}</section>`;
  }
  return html`
    <section class="page" aria-labelledby="client-heading">
      <p><a href="#/clients">Clients</a></p>
      <div class="page-head">
        <div class="client-head">
          <${Avatar} name=${client.name} id=${client.id} src=${client.avatar_url || null}
            size="lg" />
          <div>
          <h1 id="client-heading" title=${client.name}>${client.name}</h1>
          <p class="muted">${client.email || 'No email'} ·
            <span class=${'pill state-' + client.invitation}>
              ${INVITATION_LABELS[client.invitation] || client.invitation}</span>
            ${client.group && html` · ${client.group.name}`}</p>
          </div>
        </div>
        <div class="actions">
          ${client.care_thread_id && html`<a class="button primary"
            href=${'#/threads/' + encodeURIComponent(client.care_thread_id)}>Open care chat</a>`}
          <a class="button" href=${'#/clients/' + encodeURIComponent(client.id) + '/health'}>
            Health and journal</a>
          <a class="button" href=${'#/new?client=' + encodeURIComponent(client.id)}>
            New chat with client</a>
          <a class="button" href=${'#/book?client=' + encodeURIComponent(client.id)}>
            Book appointment</a>
          ${client.email && client.invitation !== 'accepted' && html`
            <button type="button" disabled=${busy}
              onClick=${() => action('invitations', 'A new invitation is on its way; earlier links stopped working.')}>
              ${client.invitation === 'sent' ? 'Resend invitation' : 'Send invitation'}</button>`}
          ${client.invitation === 'accepted' && html`
            <button type="button" disabled=${busy}
              onClick=${() => action('password-reset', 'A password-reset email is on its way.')}>
              Send password reset</button>`}
        </div>
      </div>
      ${note && html`<p class="success" role="status">${note}</p>`}
      <${ErrorText} error=${error} />
      <${ClientTabs} clientId=${client.id} current=${CARE_TABS[tab] ? tab : 'profile'} />
      ${CARE_TABS[tab] ? html`<${CARE_TABS[tab]} key=${tab} client=${client} />` : html`
      <div class="profile-grid">
        <${DetailsForm} client=${client} onSaved=${saved} />
        <${CareTeamForm} client=${client} onSaved=${saved} />
        <${GroupTagsForm} client=${client} onSaved=${saved} />
      </div>
      <${ClientForms} client=${client} />
      <${Documents} clientId=${client.id} team=${true} />
      ${!isAdmin() && html`<p class="muted">Admins and the client’s care team can change these.</p>`}`}
    </section>`;
}
