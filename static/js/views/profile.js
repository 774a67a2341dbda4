// Your profile: your photo (docs/api.md "People's photos"), shown wherever your name is.
import { del, put } from '../api.js';
import { rememberAvatar } from '../chat.js';
import { uploadFile } from '../files.js';
import { html, useState } from '../lib.js';
import { emit, state, useStore } from '../store.js';
import { ROLE_LABELS } from '../util.js';
import { Avatar } from './people.js';

const PHOTO_TYPES = 'image/jpeg,image/png,image/gif,image/webp';

function showMe(user) {
  state.me = { ...state.me, avatar_url: user.avatar_url };
  rememberAvatar(user.id, user.avatar_url);
  emit();
}

export function ProfileView() {
  const s = useStore();
  const [busy, setBusy] = useState('');
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const photo = s.me.avatar_url || null;

  async function choose(e) {
    const input = e.currentTarget;
    const file = input.files && input.files[0];
    input.value = '';
    if (!file) return;
    setError('');
    setStatus('');
    setBusy('Uploading…');
    try {
      const uploaded = await uploadFile(file, (f) => setBusy(`Uploading… ${Math.round(f * 100)}%`));
      setBusy('Saving…');
      const r = await put('/me/avatar', { file_id: uploaded.id });
      showMe(r.user);
      setStatus('Your photo is saved. People see it next to your name.');
    } catch (err) {
      setError(err.status === 415 ? 'That is not a photo: choose a JPEG, PNG, GIF or WebP image.'
        : err.detail);
    } finally {
      setBusy('');
    }
  }

  async function remove() {
    setError('');
    setStatus('');
    setBusy('Removing…');
    try {
      await del('/me/avatar');
      showMe({ id: s.me.id, avatar_url: null });
      setStatus('Your photo is removed; your initials show instead.');
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy('');
    }
  }

  return html`<section class="page profile-page" aria-labelledby="profile-heading">
    <h1 id="profile-heading">Your profile</h1>
    <p><strong>${s.me.name}</strong> · ${ROLE_LABELS[s.role] || s.role} at ${s.organization.name}</p>
    <section aria-labelledby="photo-heading">
      <h2 id="photo-heading">Photo</h2>
      <div class="profile-photo">
        <${Avatar} name=${s.me.name} id=${s.me.id} src=${photo} size="lg" />
        <div>
          <p class="muted">${photo ? 'People of your practice who can see you see this photo.'
            : 'Without a photo, your initials show next to your name.'}</p>
          <div class="actions">
            <label class="button" for="photo-input">${photo ? 'Change photo' : 'Add a photo'}</label>
            <input id="photo-input" class="visually-hidden" type="file" accept=${PHOTO_TYPES}
              disabled=${Boolean(busy)} onChange=${choose} />
            ${photo && html`<button type="button" class="quiet" disabled=${Boolean(busy)}
              onClick=${remove}>Remove photo</button>`}
          </div>
          <p class="muted small">It is cut to a square from the middle; its location and camera
            details are removed.</p>
        </div>
      </div>
      ${busy && html`<p class="muted" role="status">${busy}</p>`}
      ${status && html`<p class="success" role="status">${status}</p>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>
  </section>`;
}
