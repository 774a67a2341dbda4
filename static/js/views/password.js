// Forgot password (ask for a link by email) and reset password (the emailed link).
import { post } from '../api.js';
import { html, useState } from '../lib.js';
import { EntryPage, SubmitButton } from './entry.js';
import { ErrorText, Field } from './forms.js';

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [sent, setSent] = useState('');

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const answer = await post('/password/forgot', { email });
      setSent(answer.detail || 'If this email has a Carethread login, a reset link is on its way.');
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <${EntryPage} title="Forgot your password?"
      intro="Enter your email and we will send you a link to choose a new password.">
      ${sent
        ? html`<p class="success" role="status">${sent}</p>`
        : html`<form onSubmit=${submit}>
            <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
              autocomplete="username" />
            <${ErrorText} error=${error} />
            <${SubmitButton} busy=${busy} label="Send reset link" busyLabel="Sending…" />
          </form>`}
      <p class="alt"><a href="/#/login">Back to log in</a></p>
    <//>`;
}

const RESET_ERRORS = {
  reset_invalid: 'This reset link is not valid. Check that you opened the whole link.',
  reset_used: 'This reset link was already used or replaced by a newer one.',
  reset_expired: 'This reset link has expired.',
};

export function ResetPassword({ token }) {
  const [password, setPassword] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/password/reset', { token, password });
      history.replaceState(null, '', '/reset-password'); // the token is spent
      setDone(true);
    } catch (err) {
      setError({ code: err.code, detail: RESET_ERRORS[err.code] || err.detail });
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return html`
      <${EntryPage} title="Password changed">
        <p class="success" role="status">Your new password is set. Your other sessions have
          ended: log in again with the new password.</p>
        <p class="alt"><a class="button primary" href="/#/login">Log in</a></p>
      <//>`;
  }
  const dead = !token || (error && RESET_ERRORS[error.code]);
  return html`
    <${EntryPage} title="Choose a new password">
      ${dead
        ? html`<p class="error" role="alert">${error ? error.detail : RESET_ERRORS.reset_invalid}</p>
            <p class="alt"><a href="/#/forgot">Ask for a new link</a></p>`
        : html`<form onSubmit=${submit}>
            <${Field} label="New password" name="password" type=${show ? 'text' : 'password'}
              value=${password} onInput=${setPassword} autocomplete="new-password"
              minLength=${8} hint="At least 8 characters." />
            <div class="check">
              <input id="show-new-password" type="checkbox" checked=${show}
                onChange=${(e) => setShow(e.currentTarget.checked)} />
              <label for="show-new-password">Show password</label>
            </div>
            <${ErrorText} error=${error && error.detail} />
            <${SubmitButton} busy=${busy} label="Set new password" busyLabel="Saving…" />
          </form>`}
    <//>`;
}
