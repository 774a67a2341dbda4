// Screens before the app: log in, create a practice, accept an invitation, choose a practice.
import { get, post } from '../api.js';
import { html, useEffect, useRef, useState } from '../lib.js';
import { navigate } from '../router.js';
import { restore, switchProfile } from '../session.js';
import { state } from '../store.js';
import { ErrorText, Field, errorField } from './forms.js';

export function EntryPage({ title, children, intro }) {
  const heading = useRef(null);
  useEffect(() => {
    document.title = `${title} · Carethread`;
  }, [title]);
  return html`
    <main id="main" class="entry">
      <div class="entry-card">
        <p class="brand-mark" aria-hidden="true">Carethread</p>
        <h1 ref=${heading} tabindex="-1">${title}</h1>
        ${intro && html`<p class="intro">${intro}</p>`}
        ${children}
      </div>
    </main>`;
}

export function SubmitButton({ busy, label, busyLabel }) {
  return html`<button type="submit" class="primary" disabled=${busy} aria-busy=${busy}>
    ${busy ? busyLabel : label}</button>`;
}

export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [choice, setChoice] = useState(null); // {profiles, current} when the login has several
  const notice = state.notice;

  async function finish() {
    await restore();
    navigate(location.hash && location.hash !== '#/login' ? location.hash : '#/',
      { replace: true });
  }

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const answer = await post('/sessions', { email, password });
      if (answer.profiles.length > 1) {
        setChoice({ profiles: answer.profiles, current: answer.user.id });
        setBusy(false);
        return;
      }
      await finish();
    } catch (err) {
      setError(err.code === 'invalid_credentials'
        ? 'That email and password do not match an account.'
        : err.detail);
      setBusy(false);
    }
  }

  async function choose(profile) {
    setBusy(true);
    setError('');
    try {
      if (profile.id !== choice.current) await switchProfile(profile.id);
      await finish();
    } catch (err) {
      setError(err.detail);
      setBusy(false);
    }
  }

  if (choice) {
    return html`
      <${EntryPage} title="Choose a practice"
        intro="Your login belongs to more than one practice. Which one do you want to open?">
        <ul class="choices">
          ${choice.profiles.map((p) => html`
            <li key=${p.id}>
              <button type="button" class="choice" disabled=${busy}
                onClick=${() => choose(p)}>
                <span class="choice-name">${p.organization_name}</span>
                <span class="choice-meta">${p.name}</span>
              </button>
            </li>`)}
        </ul>
        <${ErrorText} error=${error} />
      <//>`;
  }

  return html`
    <${EntryPage} title="Log in" intro="Secure messaging with your practice.">
      ${notice && html`<p class="notice" role="status">${notice}</p>`}
      <form onSubmit=${submit} novalidate=${false}>
        <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
          autocomplete="username" />
        <${Field} label="Password" name="password" type="password" value=${password}
          onInput=${setPassword} autocomplete="current-password" />
        <${ErrorText} error=${error} />
        <${SubmitButton} busy=${busy} label="Log in" busyLabel="Logging in…" />
      </form>
      <p class="alt"><a href="#/forgot">Forgot your password?</a></p>
      <p class="alt">New practice? <a href="#/signup">Create a practice</a></p>
    <//>`;
}

export function SignUp() {
  const [practice, setPractice] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/organizations', {
        name: practice, owner: { name, email, password },
      });
      await restore();
      navigate('#/', { replace: true });
    } catch (err) {
      setError(err.code === 'email_taken'
        ? { detail: 'That email already has a Carethread login. Log in instead.', field: 'email' }
        : err);
      setBusy(false);
    }
  }

  const bad = errorField(error);
  return html`
    <${EntryPage} title="Create your practice"
      intro="Set up Carethread for your practice. You will be its first owner.">
      <form onSubmit=${submit}>
        <${Field} label="Practice name" name="practice" value=${practice} onInput=${setPractice}
          autocomplete="organization" maxLength=${200} invalid=${bad === 'name'} />
        <${Field} label="Your name" name="name" value=${name} onInput=${setName}
          autocomplete="name" maxLength=${200} />
        <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
          autocomplete="email" invalid=${bad === 'email'} />
        <${Field} label="Password" name="password" type="password" value=${password}
          onInput=${setPassword} autocomplete="new-password" minLength=${8}
          hint="At least 8 characters." invalid=${bad === 'password'} />
        <${ErrorText} error=${error && error.detail} />
        <${SubmitButton} busy=${busy} label="Create practice" busyLabel="Creating…" />
      </form>
      <p class="alt">Already have a login? <a href="#/login">Log in</a></p>
    <//>`;
}

const INVITATION_ERRORS = {
  invitation_invalid: 'This invitation link is not valid. Check that you opened the whole link '
    + 'from your email.',
  invitation_used: 'This invitation has already been used. Log in with your email and password.',
  invitation_superseded: 'A newer invitation replaced this link. Use the link in your most '
    + 'recent invitation email.',
  invitation_expired: 'This invitation has expired. Ask your practice to send you a new one.',
  invalid_credentials: 'This email already has a Carethread login: enter that login\'s '
    + 'password to join this practice too.',
};

const DEAD_INVITATION = ['invitation_invalid', 'invitation_used', 'invitation_superseded',
  'invitation_expired'];

export function AcceptInvite({ token }) {
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  // What the link leads to (GET /invitations/{token}): the practice, and whether this email
  // already has a login (then its existing password confirms it). null while asking.
  const [invite, setInvite] = useState(token ? null : {});
  const dead = error && DEAD_INVITATION.includes(error.code);

  useEffect(() => {
    if (!token) return;
    get('/invitations/' + encodeURIComponent(token))
      .then((answer) => setInvite(answer.invitation))
      .catch((err) => {
        if (DEAD_INVITATION.includes(err.code)) {
          setError({ code: err.code, detail: INVITATION_ERRORS[err.code] });
        }
        setInvite({}); // unknown: the form below still works, the accept call explains
      });
  }, [token]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/invitations/accept', { token, password });
      // Leave the invitation URL (its token is spent) before opening the app.
      history.replaceState(null, '', '/#/');
      await restore();
      navigate('#/', { replace: true });
    } catch (err) {
      setError({ code: err.code, detail: INVITATION_ERRORS[err.code] || err.detail });
      setBusy(false);
    }
  }

  if (!token) {
    return html`
      <${EntryPage} title="Invitation link incomplete">
        <p>${INVITATION_ERRORS.invitation_invalid}</p>
        <p class="alt"><a href="/#/login">Go to log in</a></p>
      <//>`;
  }
  if (invite === null) {
    return html`<${EntryPage} title="Invitation"><p class="muted" role="status">Opening your
      invitation…</p><//>`;
  }
  const practice = invite.organization_name;
  const existing = Boolean(invite.existing_login);
  const title = dead ? 'This invitation link does not work'
    : existing ? `Join ${practice || 'a practice'}` : 'Set your password';
  let intro;
  if (!dead && existing) {
    intro = `${invite.email} already has a Carethread login. Enter your existing Carethread `
      + `password to add ${practice || 'this practice'} to it.`;
  } else if (!dead && practice) {
    intro = `${practice} invited you to Carethread. Choose a password`
      + `${invite.email ? ` for ${invite.email}` : ''} to finish setting up your account.`;
  } else if (!dead) {
    intro = 'You have been invited to Carethread. Choose a password to finish setting up your '
      + 'account.';
  }
  return html`
    <${EntryPage} title=${title} intro=${intro}>
      ${dead
        ? html`<p class="error" role="alert">${error.detail}</p>
               <p class="alt"><a href="/#/login">Go to log in</a></p>`
        : html`
          <form onSubmit=${submit}>
            <${Field} label="Password" name="password" type=${show ? 'text' : 'password'}
              value=${password} onInput=${setPassword}
              autocomplete=${existing ? 'current-password' : 'new-password'}
              minLength=${existing ? undefined : 8}
              hint=${existing ? 'The password you already use to log in to Carethread.'
                : invite.organization_name ? 'At least 8 characters.'
                  : 'At least 8 characters. If you already use Carethread with this email, enter that password instead.'} />
            <div class="check">
              <input id="show-password" type="checkbox" checked=${show}
                onChange=${(e) => setShow(e.currentTarget.checked)} />
              <label for="show-password">Show password</label>
            </div>
            <${ErrorText} error=${error && error.detail} />
            <${SubmitButton} busy=${busy}
              label=${existing ? 'Confirm password and continue' : 'Set password and continue'}
              busyLabel="Setting up…" />
          </form>`}
    <//>`;
}

export function NotFound() {
  return html`
    <${EntryPage} title="Page not found">
      <p>There is nothing at this address.</p>
      <p class="alt"><a href="/#/">Go to Carethread</a></p>
    <//>`;
}
