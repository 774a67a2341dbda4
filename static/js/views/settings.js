// Practice settings: the welcome message, groups with their sign-up links, tags, and who new
// sign-ups are assigned to. Team members and bots live on the Team screen.
import { del, get, patch, post } from '../api.js';
import { loadTeam } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { isAdmin, useStore } from '../store.js';
import { IntakeFlowEditor, RequestFormsForm, loadIntakeFlows } from './form-requests.js';
import { ErrorText, Field } from './forms.js';
import { Webhooks } from './reach.js';

function useSaver() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  async function run(work, message) {
    setBusy(true);
    setError('');
    setDone('');
    try {
      await work();
      if (message) setDone(message);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, done, run };
}

function WelcomeForm({ settings, onSaved, admin }) {
  const [enabled, setEnabled] = useState(settings.welcome_enabled);
  const [text, setText] = useState(settings.welcome_text || '');
  const save = useSaver();
  return html`
    <form class="card" aria-labelledby="welcome-heading" onSubmit=${(e) => {
      e.preventDefault();
      save.run(async () => {
        const r = await patch('/practice/settings', { welcome_enabled: enabled, welcome_text: text });
        onSaved(r.settings);
      }, 'Welcome message saved.');
    }}>
      <h2 id="welcome-heading">Welcome message</h2>
      <p class="muted">Sent in a new client’s care chat, from their primary provider, when the
        client is added.</p>
      <div class="check">
        <input id="welcome-enabled" type="checkbox" checked=${enabled} disabled=${!admin}
          onChange=${(e) => setEnabled(e.currentTarget.checked)} />
        <label for="welcome-enabled">Send a welcome message to new clients</label>
      </div>
      <div class="field">
        <label for="welcome-text">Welcome text</label>
        <textarea id="welcome-text" rows="4" maxLength="4000" value=${text} readOnly=${!admin}
          aria-describedby="welcome-help"
          onInput=${(e) => setText(e.currentTarget.value)}></textarea>
        <p class="hint" id="welcome-help">You can use {client_first_name}, {client_name},
          {practice_name}, {provider_name} and {provider_first_name}.</p>
      </div>
      <${ErrorText} error=${save.error} />
      ${save.done && html`<p class="success" role="status">${save.done}</p>`}
      ${admin && html`<button type="submit" class="primary" disabled=${save.busy}>
        Save welcome message</button>`}
    </form>`;
}

function CopyField({ id, label, value }) {
  const [copied, setCopied] = useState(false);
  return html`
    <div class="token-row">
      <label for=${id} class="visually-hidden">${label}</label>
      <input id=${id} readOnly value=${value} onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" onClick=${async () => {
        try {
          await navigator.clipboard.writeText(value);
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}>${copied ? 'Copied' : 'Copy'}</button>
    </div>`;
}

function Groups({ admin, flows }) {
  const [groups, setGroups] = useState(null);
  const [name, setName] = useState('');
  const [kind, setKind] = useState('care');
  const save = useSaver();
  const load = () => get('/groups').then((r) => setGroups(r.groups));
  useEffect(() => {
    load().catch(() => setGroups([]));
  }, []);
  return html`
    <section class="card groups-card" aria-labelledby="groups-heading">
      <h2 id="groups-heading">Groups and sign-up links</h2>
      <p class="muted">A client belongs to at most one group. Share a group’s link so clients
        can sign up into it themselves.</p>
      ${groups === null ? html`<p class="muted">Loading…</p>`
        : groups.length === 0 ? html`<p class="muted">No groups yet.</p>`
          : html`<ul class="group-list">${groups.map((g) => html`
            <li key=${g.id} class="group-item">
              <div class="group-title">
                <strong>${g.name}</strong>
                <span class="muted">${g.kind === 'prospective' ? 'Prospective clients' : 'Care'}${
                  ' · '}${g.client_count} ${g.client_count === 1 ? 'client' : 'clients'}</span>
              </div>
              <${CopyField} id=${'link-' + g.id} label=${`Sign-up link for ${g.name}`}
                value=${g.invite_link} />
              ${admin && html`<details class="group-forms">
                <summary>Forms for ${g.name}</summary>
                <div class="group-forms-body">
                  <div>
                    <h3>Intake flow</h3>
                    <${IntakeFlowEditor} groupId=${g.id} idPrefix=${'g-' + g.id} who=${g.name}
                      saved=${flows.saved && (flows.saved.get(g.id) || [])}
                      loadError=${flows.error} onSaved=${flows.onSaved} />
                  </div>
                  <div>
                    <h3>Request forms from everyone in ${g.name}</h3>
                    <${RequestFormsForm} groupId=${g.id} idPrefix=${'gr-' + g.id} who=${g.name}
                      onDone=${() => load().catch(() => {})} />
                  </div>
                </div>
              </details>`}
              ${admin && html`<div class="row-actions">
                <button type="button" class="small" disabled=${save.busy}
                  aria-label=${`New sign-up link for ${g.name}`}
                  onClick=${() => save.run(async () => {
                    await post(`/groups/${encodeURIComponent(g.id)}/invite-link`);
                    await load();
                  }, `${g.name} has a new link; the old one stopped working.`)}>New link</button>
                <button type="button" class="small quiet" disabled=${save.busy}
                  aria-label=${`Delete group ${g.name}`}
                  onClick=${() => save.run(async () => {
                    await del(`/groups/${encodeURIComponent(g.id)}`);
                    await load();
                  }, `${g.name} was deleted.`)}>Delete</button>
              </div>`}
            </li>`)}</ul>`}
      <${ErrorText} error=${save.error} />
      ${save.done && html`<p class="success" role="status">${save.done}</p>`}
      ${admin && html`
        <form class="inline-form" onSubmit=${(e) => {
          e.preventDefault();
          save.run(async () => {
            await post('/groups', { name, kind });
            setName('');
            await load();
          }, 'Group created.');
        }}>
          <${Field} label="New group name" name="group-name" value=${name} onInput=${setName}
            maxLength=${100} autocomplete="off" />
          <div class="field">
            <label for="group-kind">Kind</label>
            <select id="group-kind" value=${kind} onChange=${(e) => setKind(e.currentTarget.value)}>
              <option value="care">Care</option>
              <option value="prospective">Prospective clients</option>
            </select>
          </div>
          <button type="submit" disabled=${save.busy}>Create group</button>
        </form>`}
    </section>`;
}

function Tags({ admin }) {
  const [tags, setTags] = useState(null);
  const [name, setName] = useState('');
  const save = useSaver();
  const load = () => get('/tags').then((r) => setTags(r.tags));
  useEffect(() => {
    load().catch(() => setTags([]));
  }, []);
  return html`
    <section class="card" aria-labelledby="tags-heading">
      <h2 id="tags-heading">Tags</h2>
      ${tags === null ? html`<p class="muted">Loading…</p>`
        : tags.length === 0 ? html`<p class="muted">No tags yet.</p>`
          : html`<ul class="tag-list">${tags.map((t) => html`
            <li key=${t.id} class="pill tag">${t.name}
              ${admin && html`<button type="button" class="link" aria-label=${`Delete tag ${t.name}`}
                onClick=${() => save.run(async () => {
                  await del(`/tags/${encodeURIComponent(t.id)}`);
                  await load();
                })}>×</button>`}</li>`)}</ul>`}
      <${ErrorText} error=${save.error} />
      <form class="inline-form" onSubmit=${(e) => {
        e.preventDefault();
        save.run(async () => {
          await post('/tags', { name });
          setName('');
          await load();
        });
      }}>
        <${Field} label="New tag" name="tag-name" value=${name} onInput=${setName}
          maxLength=${60} autocomplete="off" />
        <button type="submit" disabled=${save.busy}>Add tag</button>
      </form>
    </section>`;
}

function Assignment({ settings, onSaved, admin }) {
  const s = useStore();
  const [mode, setMode] = useState(settings.assignment_mode);
  const [provider, setProvider] = useState(settings.default_provider_id || '');
  const save = useSaver();
  const providers = [...s.team.values()].filter(
    (u) => ['owner', 'admin', 'provider'].includes(u.role) && u.status === 'active');
  return html`
    <form class="card" aria-labelledby="assign-heading" onSubmit=${(e) => {
      e.preventDefault();
      save.run(async () => {
        const body = { assignment_mode: mode };
        if (mode === 'named') body.default_provider_id = provider || null;
        const r = await patch('/practice/settings', body);
        onSaved(r.settings);
      }, 'Saved.');
    }}>
      <h2 id="assign-heading">Clients who sign up by link</h2>
      <div class="field">
        <label for="assign-mode">Primary provider</label>
        <select id="assign-mode" value=${mode} disabled=${!admin}
          onChange=${(e) => setMode(e.currentTarget.value)}>
          <option value="round_robin">Take turns among providers</option>
          <option value="named">Always the same provider</option>
        </select>
      </div>
      ${mode === 'named' && html`<div class="field">
        <label for="assign-provider">Provider</label>
        <select id="assign-provider" value=${provider} disabled=${!admin}
          onChange=${(e) => setProvider(e.currentTarget.value)}>
          <option value="">Choose…</option>
          ${providers.map((u) => html`<option key=${u.id} value=${u.id}>${u.name}</option>`)}
        </select>
      </div>`}
      <${ErrorText} error=${save.error} />
      ${save.done && html`<p class="success" role="status">${save.done}</p>`}
      ${admin && html`<button type="submit" class="primary" disabled=${save.busy}>Save</button>`}
    </form>`;
}

/** The practice's intake flows, read once for every editor on the screen (owners, admins). */
function useIntakeFlows(admin) {
  const [saved, setSaved] = useState(null); // group id ('' = default) -> form ids
  const [error, setError] = useState('');
  useEffect(() => {
    if (!admin) return;
    loadIntakeFlows().then(setSaved).catch((err) => setError(err.detail));
  }, [admin]);
  const onSaved = (groupId, formIds) => setSaved((old) => new Map(old).set(groupId || '', formIds));
  return { saved, error, onSaved };
}

export function SettingsView() {
  const [settings, setSettings] = useState(null);
  const [error, setError] = useState('');
  const admin = isAdmin();
  const flows = useIntakeFlows(admin);
  useEffect(() => {
    document.title = 'Settings · Carethread';
    loadTeam().catch(() => {});
    get('/practice/settings').then((r) => setSettings(r.settings))
      .catch((err) => setError(err.detail));
  }, []);
  return html`
    <section class="page" aria-labelledby="settings-heading">
      <h1 id="settings-heading">Practice settings</h1>
      ${!admin && html`<p class="muted">Only owners and admins can change these settings.</p>`}
      <${ErrorText} error=${error} />
      ${settings && html`
        <div class="settings-grid">
          <${WelcomeForm} settings=${settings} onSaved=${setSettings} admin=${admin} />
          <${Groups} admin=${admin} flows=${flows} />
          <${Tags} admin=${admin} />
          <${Assignment} settings=${settings} onSaved=${setSettings} admin=${admin} />
          ${admin && html`<section class="card" aria-labelledby="default-flow-heading">
            <h2 id="default-flow-heading">Default intake flow</h2>
            <${IntakeFlowEditor} groupId=${null} idPrefix="default" who="new clients"
              saved=${flows.saved && (flows.saved.get('') || [])} loadError=${flows.error}
              onSaved=${flows.onSaved} />
          </section>`}
          <${Webhooks} />
        </div>`}
      <p class="muted">Team members and bots: see <a href="#/team">Team</a>.</p>
    </section>`;
}
