// Form events in a chat (docs/api.md §5): a request is a card the client opens; completion,
// score (the team only), cancellation and reminders are lines of their own.
import { nameOf } from '../chat.js';
import { html } from '../lib.js';
import { isStaff } from '../store.js';
import { clockTime, dateOnly, fullTime } from '../util.js';

export const FORM_KINDS = new Set([
  'form.requested', 'form.completed', 'form.scored', 'form.cancelled', 'form.reminded',
]);

/** request id -> 'completed' | 'cancelled', from the events held for a thread. */
export function formOutcomes(events) {
  const outcomes = new Map();
  for (const ev of events) {
    const id = ev.data && ev.data.request_id;
    if (!id) continue;
    if (ev.kind === 'form.completed') outcomes.set(id, 'completed');
    else if (ev.kind === 'form.cancelled' && outcomes.get(id) !== 'completed') {
      outcomes.set(id, 'cancelled');
    }
  }
  return outcomes;
}

/** The request's screen; it leads back to this chat. */
function requestLink(id, threadId) {
  return '#/form-requests/' + encodeURIComponent(id)
    + (threadId ? '?thread=' + encodeURIComponent(threadId) : '');
}

function When({ ev }) {
  return html`<time datetime=${ev.created_at} title=${fullTime(ev.created_at)}>
    ${clockTime(ev.created_at)}</time>`;
}

function Title({ data }) {
  return html`<span class="form-name">“${data.form_title || 'a form'}”</span>`;
}

function RequestCard({ ev, outcome }) {
  const data = ev.data || {};
  const staff = isStaff();
  const asker = ev.actor_id ? nameOf(ev.actor_id) : null;
  const due = data.due_at ? `Due ${dateOnly(data.due_at)}` : '';
  if (staff) {
    return html`
      <li class="sys form-line form-requested" data-seq=${ev.seq} data-kind=${ev.kind}
        data-request-id=${data.request_id}>
        <p><span class="sys-text">${asker || 'The intake flow'} requested <${Title} data=${data} /></span>
          ${due && html`<span class="muted"> · ${due}</span>`}
          ${outcome === 'completed'
            ? html` · <a href=${requestLink(data.request_id, ev.thread_id)}>View answers</a>`
            : outcome === 'cancelled' ? html` · <span>Cancelled</span>`
              : html` · <span>Waiting for the client</span>`}
          <${When} ev=${ev} /></p>
      </li>`;
  }
  return html`
    <li class="form-card-item" data-seq=${ev.seq} data-kind=${ev.kind}
      data-request-id=${data.request_id}>
      <article class="form-card" aria-label=${'Form: ' + (data.form_title || 'a form')}>
        <p class="form-card-kind">Form to fill in</p>
        <h3 class="form-card-title">${data.form_title || 'A form'}</h3>
        <p class="muted small">${asker ? `${asker} asked you to fill this in`
          : 'Your care team asks you to fill this in'}${due ? ` · ${due}` : ''}${' · '}<${When}
          ev=${ev} /></p>
        ${outcome === 'completed'
          ? html`<p class="form-card-done">Done — thank you!</p>`
          : outcome === 'cancelled'
            ? html`<p class="muted">Cancelled by your care team.</p>`
            : html`<a class="button primary" href=${requestLink(data.request_id, ev.thread_id)}>Open form</a>`}
      </article>
    </li>`;
}

/** One form.* event in a thread. */
export function FormEventItem({ ev, outcome }) {
  const data = ev.data || {};
  const staff = isStaff();
  if (ev.kind === 'form.requested') return html`<${RequestCard} ev=${ev} outcome=${outcome} />`;
  let body;
  switch (ev.kind) {
    case 'form.completed':
      body = staff
        ? html`${nameOf(ev.actor_id)} completed <${Title} data=${data} />${' — '}<a
            href=${requestLink(data.request_id, ev.thread_id)}>view answers</a>`
        : html`Thank you for filling in <${Title} data=${data} />. Your care team has your answers.`;
      break;
    case 'form.scored':
      body = html`Score for <${Title} data=${data} />: <strong class="form-score">${data.score}</strong>`;
      break;
    case 'form.cancelled':
      body = html`${nameOf(ev.actor_id)} cancelled the request for <${Title} data=${data} />`;
      break;
    case 'form.reminded':
      if (!staff) {
        body = html`Reminder: please fill in <${Title} data=${data} />${outcome ? ''
          : html` — <a href=${requestLink(data.request_id, ev.thread_id)}>open form</a>`}`;
      } else if (data.manual) {
        body = html`${nameOf(ev.actor_id)} sent a reminder about <${Title} data=${data} />`;
      } else {
        body = html`Automatic reminder${data.step ? ` ${data.step}` : ''} sent about${' '}<${Title}
          data=${data} />`;
      }
      break;
    default:
      body = ev.body || ev.kind;
  }
  return html`
    <li class=${'sys form-line ' + ev.kind.replace('.', '-')} data-seq=${ev.seq}
      data-kind=${ev.kind} data-request-id=${data.request_id}>
      <p>${ev.audience === 'staff' && html`<span class="team-only">Team only</span> `}
        <span class="sys-text">${body}</span>
        <${When} ev=${ev} /></p>
    </li>`;
}
