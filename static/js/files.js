// Files: uploads with progress (XMLHttpRequest, for its upload events), links that go through
// the session cookie (never a public URL), attachment cards and image previews, a viewer, and
// a client's documents.
import { ApiError, get, post, readCookie } from './api.js';
import { html, useEffect, useRef, useState } from './lib.js';

export const fileUrl = (id) => '/api/v1/files/' + encodeURIComponent(id);
export const thumbUrl = (id) => fileUrl(id) + '/thumbnail';

export function humanSize(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** POST /files with progress: onProgress(fraction); resolves to the `file`. An AbortSignal
 * (`signal`) stops the upload: the promise then rejects with code `aborted`. */
export function uploadFile(file, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files');
    xhr.setRequestHeader('Accept', 'application/json');
    const token = readCookie('carethread_csrf');
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body) resolve(body.file);
      else reject(new ApiError(xhr.status, body || { detail: messageFor(xhr.status) }));
    };
    xhr.onerror = () => reject(new ApiError(0, {
      code: 'network_error', detail: 'The upload was interrupted. Try again.' }));
    xhr.onabort = () => reject(new ApiError(0, { code: 'aborted', detail: 'Upload stopped.' }));
    if (signal) {
      if (signal.aborted) {
        reject(new ApiError(0, { code: 'aborted', detail: 'Upload stopped.' }));
        return;
      }
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    const form = new FormData();
    form.append('file', file, file.name || 'pasted-image.png');
    xhr.send(form);
  });
}

function messageFor(status) {
  if (status === 413) return 'This file is too large.';
  if (status === 415) return 'This type of file cannot be sent.';
  return `The upload failed (${status}).`;
}

/** What to tell a person whose upload of `file` (a File) was refused, in one sentence. */
export function uploadProblem(error, file) {
  const name = `“${file.name || 'Pasted image'}”`;
  if (error.code === 'quota_exceeded') {
    return `${name} was not uploaded: the practice has used all of its file storage.`;
  }
  if (error.status === 413 || error.code === 'payload_too_large') {
    return `${name} is too large to send (${humanSize(file.size)}).`;
  }
  if (error.status === 415 || error.code === 'unsupported_media_type') {
    return `${name} cannot be sent: only images (JPEG, PNG, GIF, WebP), PDF, office documents `
      + 'and plain text can.';
  }
  return `${name} was not uploaded. ${error.detail}`;
}

let viewerSet = null;
/** A full-size image over the page, closed by Escape, the button or a click outside. */
export function openViewer(file) {
  if (viewerSet) viewerSet(file);
}

export function Viewer() {
  const [file, setFile] = useState(null);
  const close = useRef(null);
  const opener = useRef(null);
  useEffect(() => {
    viewerSet = (f) => {
      opener.current = document.activeElement;
      setFile(f);
    };
    return () => { viewerSet = null; };
  }, []);
  useEffect(() => {
    if (!file) return undefined;
    if (close.current) close.current.focus();
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        setFile(null);
      } else if (e.key === 'Tab') {
        // Keep the focus inside the dialog: its two controls.
        const dialog = document.querySelector('.viewer');
        const controls = dialog ? [...dialog.querySelectorAll('a, button')] : [];
        if (!controls.length) return;
        const i = controls.indexOf(document.activeElement);
        const next = e.shiftKey ? (i <= 0 ? controls.length - 1 : i - 1)
          : (i + 1) % controls.length;
        e.preventDefault();
        controls[next].focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      const back = opener.current;
      if (back && back.isConnected) back.focus();
    };
  }, [file]);
  if (!file) return null;
  return html`
    <div class="viewer" role="dialog" aria-modal="true" aria-label=${file.name}
      onClick=${(e) => { if (e.target === e.currentTarget) setFile(null); }}>
      <figure>
        <img src=${fileUrl(file.id)} alt=${file.name} />
        <figcaption>${file.name} · ${humanSize(file.size)}
          <a class="button small" href=${fileUrl(file.id)} download=${file.name}>Download</a>
          <button type="button" class="small" ref=${close} onClick=${() => setFile(null)}>
            Close</button>
        </figcaption>
      </figure>
    </div>`;
}

/** One attachment: an image preview (thumbnail, opens the viewer) or a file card. */
export function Attachment({ file }) {
  if (file.thumbnail) {
    const ratio = file.width && file.height ? `${file.width} / ${file.height}` : undefined;
    return html`
      <button type="button" class="att-image" data-file-id=${file.id}
        aria-label=${'View ' + file.name} onClick=${() => openViewer(file)}>
        <img src=${thumbUrl(file.id)} alt=${file.name} loading="lazy"
          style=${ratio ? `aspect-ratio: ${ratio}` : ''} />
      </button>`;
  }
  const kind = file.content_type === 'application/pdf' ? 'PDF'
    : (file.name.split('.').pop() || 'file').toUpperCase().slice(0, 4);
  return html`
    <a class="file-card" data-file-id=${file.id} href=${fileUrl(file.id)} download=${file.name}>
      <span class="file-kind" aria-hidden="true">${kind}</span>
      <span class="file-text"><span class="file-name">${file.name}</span>
        <span class="file-size muted small">${humanSize(file.size)}</span></span>
    </a>`;
}

export function Attachments({ files }) {
  if (!files || !files.length) return null;
  return html`<div class="attachments">${files.map((f) => html`<${Attachment} key=${f.id}
    file=${f} />`)}</div>`;
}

/** A client's documents: the list, and (for those who may) an upload. */
export function Documents({ clientId, team }) {
  const [docs, setDocs] = useState(null);
  const [error, setError] = useState('');
  const [progress, setProgress] = useState(null);
  const [shared, setShared] = useState(!team);
  const [title, setTitle] = useState('');
  const path = `/clients/${encodeURIComponent(clientId)}/documents`;

  const load = () => get(path).then((r) => setDocs(r.documents))
    .catch((err) => setError(err.detail));
  useEffect(() => { load(); }, [clientId]);

  async function add(file) {
    if (!file) return;
    setError('');
    setProgress(0);
    try {
      let uploaded;
      try {
        uploaded = await uploadFile(file, setProgress);
      } catch (err) {
        throw new Error(uploadProblem(err, file));
      }
      await post(path, { file_id: uploaded.id, title: title.trim() || null,
        shared_with_client: team ? shared : true });
      setTitle('');
      await load();
    } catch (err) {
      setError(err.detail || err.message);
    } finally {
      setProgress(null);
    }
  }

  return html`
    <section class="documents card" aria-labelledby="documents-heading">
      <h2 id="documents-heading">Documents</h2>
      ${docs === null && !error && html`<p class="muted">Loading…</p>`}
      ${docs && docs.length === 0 && html`<p class="muted">No documents yet.</p>`}
      ${docs && docs.length > 0 && html`<ul class="doc-list">${docs.map((d) => html`
        <li key=${d.id} data-document-id=${d.id}>
          <${Attachment} file=${{ ...d.file, thumbnail: false }} />
          <span class="doc-title">${d.title}</span>
          ${team && html`<span class=${'pill ' + (d.shared_with_client ? 'state-accepted'
            : 'state-none')}>${d.shared_with_client ? 'Shared with client' : 'Team only'}</span>`}
          <time class="muted small" datetime=${d.created_at}>
            ${new Date(d.created_at).toLocaleDateString()}</time>
        </li>`)}</ul>`}
      <form class="doc-upload" onSubmit=${(e) => e.preventDefault()}>
        <div class="field"><label for="doc-title">Title (optional)</label>
          <input id="doc-title" value=${title} maxlength="200"
            onInput=${(e) => setTitle(e.currentTarget.value)} /></div>
        ${team && html`<label class="check"><input type="checkbox" checked=${shared}
          onChange=${(e) => setShared(e.currentTarget.checked)} /> Share with the client</label>`}
        <label class="button">${team ? 'Upload a document' : 'Upload labs or a document'}
          <input type="file" class="visually-hidden" aria-label="Upload a document"
            onChange=${(e) => { add(e.currentTarget.files[0]); e.currentTarget.value = ''; }} />
        </label>
        ${progress !== null && html`<progress max="1" value=${progress}
          aria-label="Upload progress"></progress>`}
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </section>`;
}

export function MyDocumentsView({ me }) {
  return html`<section class="page narrow" aria-label="Your documents">
    <${Documents} clientId=${me.id} team=${false} /></section>`;
}
