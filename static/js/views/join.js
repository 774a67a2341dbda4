// Sign up as a client through a group's shareable link (/join/{code}).
import { get, post } from '../api.js';
import { html, useEffect, useState } from '../lib.js';
import { navigate } from '../router.js';
import { restore } from '../session.js';
import { EntryPage, SubmitButton } from './entry.js';
import { ErrorText, Field, errorField } from './forms.js';

export function JoinView({ code }) {
  const [info, setInfo] = useState(null);
  const [infoError, setInfoError] = useState('');
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  useEffect(() => {
    get('/join/' + encodeURIComponent(code))
      .then(setInfo)
      .catch((err) => setInfoError(err.detail));
  }, [code]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('/join/' + encodeURIComponent(code), { name, email, password });
      history.replaceState(null, '', '/#/');
      await restore();
      navigate('#/', { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  if (infoError) {
    return html`
      <${EntryPage} title="Sign-up link not valid">
        <p class="error" role="alert">${infoError}</p>
        <p class="alt"><a href="/#/login">Go to log in</a></p>
      <//>`;
  }
  if (!info) return html`<${EntryPage} title="Join"><p class="muted">Loading…</p><//>`;
  const bad = errorField(error);
  return html`
    <${EntryPage} title=${`Join ${info.organization.name}`}
      intro="Create your login to message your care team securely.">
      <form onSubmit=${submit}>
        <${Field} label="Your name" name="name" value=${name} onInput=${setName}
          autocomplete="name" maxLength=${200} invalid=${bad === 'name'} />
        <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
          autocomplete="email" invalid=${bad === 'email' || (error && error.code === 'email_taken')} />
        <${Field} label="Password" name="password" type="password" value=${password}
          onInput=${setPassword} autocomplete="new-password" minLength=${8}
          hint="At least 8 characters." invalid=${bad === 'password'} />
        <${ErrorText} error=${error && error.detail} />
        <${SubmitButton} busy=${busy} label="Create my login" busyLabel="Creating…" />
      </form>
      <p class="alt">Already have a login? <a href="/#/login">Log in</a></p>
    <//>`;
}
