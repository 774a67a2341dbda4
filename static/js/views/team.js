// The practice's team: everyone but clients. Owners and admins invite team members, remove
// people and add bots (whose token is shown once).
import { del, post } from '../api.js';
import { loadTeam } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { isAdmin, useStore } from '../store.js';
import { ROLE_LABELS } from '../util.js';
import { ErrorText, Field } from './forms.js';
import { Avatar } from './people.js';

function InviteForm() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('provider');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setDone('');
    try {
      const { user } = await post('/providers', { name, email, role });
      setDone(`Invitation sent to ${user.email}.`);
      setName('');
      setEmail('');
      await loadTeam();
    } catch (err) {
      setError(err.code === 'email_taken' ? 'Someone with that email is already in the practice.'
        : err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite a team member</h2>
      <p class="muted">They get an email with a link to set their password.</p>
      <${Field} label="Name" name="name" value=${name} onInput=${setName} maxLength=${200}
        autocomplete="off" />
      <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
        autocomplete="off" />
      <div class="field">
        <label for="invite-role">Role</label>
        <select id="invite-role" value=${role} onChange=${(e) => setRole(e.currentTarget.value)}>
          <option value="provider">Provider</option>
          <option value="staff">Staff</option>
          <option value="admin">Admin</option>
        </select>
      </div>
      <${ErrorText} error=${error} />
      ${done && html`<p class="success" role="status">${done}</p>`}
      <button type="submit" class="primary" disabled=${busy}>Send invitation</button>
    </form>`;
}

function BotForm() {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [created, setCreated] = useState(null);
  const [copied, setCopied] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setCreated(null);
    setCopied(false);
    try {
      const answer = await post('/bots', { name });
      setCreated(answer);
      setName('');
      await loadTeam();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }

  return html`
    <form class="card" onSubmit=${submit} aria-labelledby="bot-heading">
      <h2 id="bot-heading">Add a bot</h2>
      <p class="muted">A bot posts automated messages through the API with its own token.</p>
      <${Field} label="Bot name" name="bot-name" value=${name} onInput=${setName}
        maxLength=${200} autocomplete="off" />
      <${ErrorText} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>Add bot</button>
      ${created && html`
        <div class="token-box" role="status">
          <p><strong>${created.user.name}</strong> was added. Copy its token now: it is shown
            only once.</p>
          <label for="bot-token">Token</label>
          <div class="token-row">
            <input id="bot-token" readonly value=${created.token}
              onFocus=${(e) => e.currentTarget.select()} />
            <button type="button" onClick=${copy}>${copied ? 'Copied' : 'Copy'}</button>
          </div>
        </div>`}
    </form>`;
}

function Member({ user, me, admin }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState('');
  const [resent, setResent] = useState('');
  const [resending, setResending] = useState(false);
  async function resend() {
    setError('');
    setResent('');
    setResending(true);
    try {
      await post('/team/' + encodeURIComponent(user.id) + '/invitations', {});
      setResent(`New invitation sent to ${user.email}. Earlier links no longer work.`);
    } catch (err) {
      setError(err.code === 'already_joined' ? `${user.name} has already joined.` : err.detail);
      if (err.code === 'already_joined') await loadTeam();
    } finally {
      setResending(false);
    }
  }
  async function remove() {
    setError('');
    try {
      await del('/team/' + encodeURIComponent(user.id));
      await loadTeam();
    } catch (err) {
      setError(err.detail);
      setConfirming(false);
    }
  }
  const canRemove = admin && user.id !== me.id;
  return html`
    <li class="member">
      <${Avatar} name=${user.name} id=${user.id} src=${user.avatar_url || null} />
      <div class="member-text">
        <span class="member-name" title=${user.name}>${user.name}${user.id === me.id ? ' (you)' : ''}</span>
        <span class="muted">${ROLE_LABELS[user.role] || user.role}${
          user.status === 'invited' ? ' · invitation sent' : ''}${
          user.email ? ' · ' + user.email : ''}</span>
        ${error && html`<span class="error" role="alert">${error}</span>`}
        ${resent && html`<span class="success" role="status">${resent}</span>`}
      </div>
      ${admin && user.status === 'invited' && !confirming && html`<button type="button"
        class="quiet" disabled=${resending} aria-label=${'Resend invitation to ' + user.name}
        onClick=${resend}>Resend invitation</button>`}
      ${canRemove && (confirming
        ? html`<div class="confirm" role="group" aria-label=${'Remove ' + user.name}>
            <span>Remove ${user.name}?</span>
            <button type="button" class="danger" onClick=${remove}>Remove</button>
            <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
          </div>`
        : html`<button type="button" class="quiet"
            aria-label=${'Remove ' + user.name} onClick=${() => setConfirming(true)}>
            Remove</button>`)}
    </li>`;
}

export function TeamView() {
  const s = useStore();
  const [error, setError] = useState('');
  useEffect(() => {
    document.title = 'Team · Carethread';
    loadTeam().catch((err) => setError(err.detail));
  }, []);
  const admin = isAdmin();
  const people = [...s.team.values()];
  const humans = people.filter((u) => u.role !== 'bot');
  const bots = people.filter((u) => u.role === 'bot');
  return html`
    <section class="page" aria-labelledby="team-heading">
      <h1 id="team-heading">Team</h1>
      <${ErrorText} error=${error} />
      <div class="columns">
        <div>
          <h2>People</h2>
          <ul class="members">${humans.map((u) => html`
            <${Member} key=${u.id} user=${u} me=${s.me} admin=${admin} />`)}</ul>
          ${bots.length > 0 && html`
            <h2>Bots</h2>
            <ul class="members">${bots.map((u) => html`
              <${Member} key=${u.id} user=${u} me=${s.me} admin=${admin} />`)}</ul>`}
        </div>
        ${admin && html`<div class="side"><${InviteForm} /><${BotForm} /></div>`}
      </div>
    </section>`;
}
