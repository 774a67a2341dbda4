// Form requests, for the team: asking clients (one client, or a whole group) to fill in forms,
// the tracking list (open, completed, overdue) with cancel and remind, a completed response
// with its score and exports, and intake flows. The client's side is in form-fill.js.
import { get, post, put } from '../api.js';
import { html, useEffect, useRef, useState } from '../lib.js';
import { isStaff } from '../store.js';
import { dateOnly, endOfDay, fullTime } from '../util.js';
import { AnswerList, FillFormView, MyFormsView } from './form-fill.js';
import { FormsTabs } from './form-builder.js';
import { ErrorText } from './forms.js';

export const STATUS_LABELS = {
  open: 'Open', completed: 'Completed', cancelled: 'Cancelled', overdue: 'Overdue',
};

export function requestState(r) {
  return r.status === 'open' && r.overdue ? 'overdue' : r.status;
}

function useForms() {
  const [forms, setForms] = useState(null);
  useEffect(() => {
    get('/forms').then((r) => setForms(r.forms)).catch(() => setForms([]));
  }, []);
  return forms;
}

/** Remind and cancel (with a confirmation), for an open request. */
function OpenActions({ request, onChanged, label }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const path = '/form-requests/' + encodeURIComponent(request.id);

  async function run(action) {
    setBusy(true);
    setError('');
    setNote('');
    try {
      await post(`${path}/${action}`);
      if (action === 'remind') setNote('Reminder sent.');
      setConfirming(false);
      onChanged(action);
    } catch (err) {
      setError(err.status === 404 || err.status === 403
        ? 'Only the client’s care team can do this.' : err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <div class="req-actions">
      ${confirming
        ? html`<div class="confirm" role="group" aria-label=${'Cancel ' + label}>
            <span>Cancel this request?</span>
            <button type="button" class="danger small" disabled=${busy}
              onClick=${() => run('cancel')}>Yes, cancel it</button>
            <button type="button" class="small" onClick=${() => setConfirming(false)}>
              Keep it</button>
          </div>`
        : html`
          <button type="button" class="small" disabled=${busy}
            aria-label=${'Remind about ' + label} onClick=${() => run('remind')}>Remind</button>
          <button type="button" class="small quiet" disabled=${busy}
            aria-label=${'Cancel ' + label} onClick=${() => setConfirming(true)}>Cancel</button>`}
      ${note && html`<span class="success small" role="status">${note}</span>`}
      ${error && html`<span class="error small" role="alert">${error}</span>`}
    </div>`;
}

/** One request in a list: what, for whom, its state and what can be done with it. */
export function RequestRow({ request, clientName, onChanged }) {
  const state = requestState(request);
  const label = `${request.form_title}${clientName ? ' for ' + clientName : ''}`;
  const meta = [`Requested ${dateOnly(request.created_at)}`];
  if (request.due_at) meta.push(`due ${dateOnly(request.due_at)}`);
  if (request.completed_at) meta.push(`completed ${dateOnly(request.completed_at)}`);
  if (request.cancelled_at) meta.push(`cancelled ${dateOnly(request.cancelled_at)}`);
  if (request.from_intake_flow) meta.push('intake flow');
  if (request.reminders_sent) {
    meta.push(`${request.reminders_sent} ${request.reminders_sent === 1 ? 'reminder' : 'reminders'}`);
  }
  return html`
    <li class="req-row" data-request-id=${request.id} data-status=${state}>
      <div class="req-main">
        <span class="req-title">${request.form_title}</span>
        ${clientName !== undefined && html`<a class="req-client"
          href=${'#/clients/' + encodeURIComponent(request.client_id)}>${clientName || 'Client'}</a>`}
        <span class="muted small">${meta.join(' · ')}</span>
      </div>
      <div class="req-side">
        <span class=${'pill status-' + state}>${STATUS_LABELS[state] || state}</span>
        ${request.status === 'completed' && html`<a class="button small"
          href=${'#/form-requests/' + encodeURIComponent(request.id)}
          aria-label=${'View answers: ' + label}>View answers</a>`}
        ${request.status === 'open' && html`<${OpenActions} request=${request} label=${label}
          onChanged=${onChanged} />`}
      </div>
    </li>`;
}

/** Ask one or more clients, or a whole group, to fill in forms. */
export function RequestFormsForm({ clientIds = [], groupId = null, idPrefix, who, onDone }) {
  const forms = useForms();
  const [chosen, setChosen] = useState([]);
  const [due, setDue] = useState('');
  const [notify, setNotify] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const live = (forms || []).filter((f) => !f.archived);

  async function submit(e) {
    e.preventDefault();
    setError('');
    setDone('');
    if (!chosen.length) {
      setError('Choose at least one form.');
      return;
    }
    setBusy(true);
    try {
      const body = { form_ids: chosen, client_ids: clientIds, notify };
      if (groupId) body.group_id = groupId;
      if (due) body.due_at = endOfDay(due);
      const { requests } = await post('/form-requests', body);
      const titles = live.filter((f) => chosen.includes(f.id)).map((f) => `“${f.title}”`);
      const clients = new Set(requests.map((r) => r.client_id)).size;
      setDone(`Requested ${titles.join(', ')} from ${groupId
        ? `${clients} ${clients === 1 ? 'client' : 'clients'} in ${who}` : who}.`);
      setChosen([]);
      setDue('');
      if (onDone) onDone(requests);
    } catch (err) {
      if (err.code === 'validation_error' && err.field === 'client_ids') {
        setError(`There is nobody to ask: ${who} has no clients.`);
      } else if (err.status === 403) {
        setError(groupId ? 'Only owners and admins can request forms from a whole group.'
          : 'Only the client’s care team (or an owner or admin) can request forms from them.');
      } else {
        setError(err.detail);
      }
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="request-forms" onSubmit=${submit} novalidate
      aria-label=${'Request forms from ' + who}>
      ${forms === null ? html`<p class="muted">Loading forms…</p>`
        : live.length === 0 ? html`<p class="muted">No forms to request yet: <a
            href="#/forms/new">build one</a> or import one.</p>`
          : html`
            <fieldset>
              <legend>Forms to request</legend>
              <ul class="pick-list">${live.map((f) => html`
                <li key=${f.id} class="check">
                  <input type="checkbox" id=${`${idPrefix}-form-${f.id}`}
                    checked=${chosen.includes(f.id)}
                    onChange=${(e) => setChosen(e.currentTarget.checked
                      ? [...chosen, f.id] : chosen.filter((x) => x !== f.id))} />
                  <label for=${`${idPrefix}-form-${f.id}`}>${f.title}</label>
                </li>`)}</ul>
            </fieldset>
            <div class="field">
              <label for=${`${idPrefix}-due`}>Due date (optional)</label>
              <input id=${`${idPrefix}-due`} type="date" value=${due}
                onInput=${(e) => setDue(e.currentTarget.value)} />
            </div>
            <div class="check">
              <input type="checkbox" id=${`${idPrefix}-notify`} checked=${notify}
                onChange=${(e) => setNotify(e.currentTarget.checked)} />
              <label for=${`${idPrefix}-notify`}>${groupId ? 'Email each client'
                : 'Email the client'} (when there is an email)</label>
            </div>
            <${ErrorText} error=${error} />
            ${done && html`<p class="success" role="status">${done}</p>`}
            <button type="submit" class="primary" disabled=${busy}>
              ${groupId ? 'Request from group' : 'Request forms'}</button>`}
    </form>`;
}

/** Every intake flow of the practice (owners and admins): group id, or '' for the practice
 * default, to its form ids. Settings loads it once and hands each editor its own flow. */
export function loadIntakeFlows() {
  return get('/intake-flows')
    .then((r) => new Map(r.flows.map((f) => [f.group_id || '', f.form_ids])));
}

/** The forms a flow requests, in order, starting from the saved flow. `saved` is that flow's
 * form ids (`[]`: none saved), `null` while it loads; `loadError` says why it could not load. */
export function IntakeFlowEditor({
  groupId = null, idPrefix, who, saved, loadError = '', onSaved,
}) {
  const forms = useForms();
  const [flow, setFlow] = useState(saved || []);
  const [adding, setAdding] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const loaded = Array.isArray(saved);
  const byId = new Map((forms || []).map((f) => [f.id, f]));
  const candidates = (forms || []).filter((f) => !f.archived && !flow.includes(f.id));

  // The saved flow arrives after the first render (or is read again): show it.
  useEffect(() => {
    if (loaded) setFlow(saved);
  }, [loaded ? saved.join(',') : null]);

  function move(index, dir) {
    const next = [...flow];
    const to = index + dir;
    [next[index], next[to]] = [next[to], next[index]];
    setFlow(next);
    setDone('');
  }

  async function save(e) {
    e.preventDefault();
    if (!loaded) return;
    setBusy(true);
    setError('');
    setDone('');
    try {
      const answer = await put('/intake-flows', { group_id: groupId, form_ids: flow });
      const n = answer.flow.form_ids.length;
      setFlow(answer.flow.form_ids);
      if (onSaved) onSaved(groupId, answer.flow.form_ids);
      setDone(n ? `Intake flow saved: ${n} ${n === 1 ? 'form' : 'forms'} for ${who}.`
        : `Intake flow turned off for ${who}.`);
    } catch (err) {
      setError(err.status === 403 ? 'Only owners and admins can set intake flows.' : err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="intake-flow" onSubmit=${save} aria-label=${'Intake flow for ' + who}>
      <p class="hint">${groupId
        ? 'Requested by themselves when a client joins this group (added, signed up with its link, or moved in), once per client.'
        : 'Requested by themselves from every new client who joins without a group (or in a group without a flow of its own).'}</p>
      ${loadError ? html`<p class="error" role="alert">The saved intake flow could not be
          loaded (${loadError}), so it cannot be changed here now. Reload the page to try again.</p>`
        : !loaded ? html`<p class="muted">Loading the intake flow…</p>`
          : flow.length === 0 ? html`<p class="muted">No forms in this flow.</p>`
            : html`<ol class="flow-list" aria-label=${'Forms in the intake flow for ' + who}>
            ${flow.map((id, i) => {
              const form = byId.get(id);
              const title = form ? form.title : 'A form';
              return html`<li key=${id}>
                <span class="flow-title">${i + 1}. ${title}${form && form.archived
                  && html` <span class="muted small">(archived: skipped when the flow runs)</span>`}
                </span>
                <span class="row-actions">
                  <button type="button" class="small" disabled=${i === 0}
                    aria-label=${`Move ${title} up`} onClick=${() => move(i, -1)}>Up</button>
                  <button type="button" class="small" disabled=${i === flow.length - 1}
                    aria-label=${`Move ${title} down`} onClick=${() => move(i, 1)}>Down</button>
                  <button type="button" class="small quiet" aria-label=${`Remove ${title}`}
                    onClick=${() => { setFlow(flow.filter((x) => x !== id)); setDone(''); }}>
                    Remove</button>
                </span>
              </li>`;
            })}
          </ol>`}
      <div class="inline-form">
        <div class="field">
          <label for=${`${idPrefix}-flow-add`}>Add a form to the flow</label>
          <select id=${`${idPrefix}-flow-add`} value=${adding} disabled=${!loaded}
            onChange=${(e) => setAdding(e.currentTarget.value)}>
            <option value="">Choose…</option>
            ${candidates.map((f) => html`<option key=${f.id} value=${f.id}>${f.title}</option>`)}
          </select>
        </div>
        <button type="button" disabled=${!adding || !loaded} onClick=${() => {
          setFlow([...flow, adding]);
          setAdding('');
          setDone('');
        }}>Add</button>
      </div>
      <${ErrorText} error=${error} />
      ${done && html`<p class="success" role="status">${done}</p>`}
      <button type="submit" class="primary" disabled=${busy || !loaded}>Save intake flow</button>
    </form>`;
}

/** The client profile's forms: what was asked of them, and asking for more. */
export function ClientForms({ client }) {
  const [requests, setRequests] = useState(null);
  const [error, setError] = useState('');
  const load = () => get('/form-requests?client_id=' + encodeURIComponent(client.id))
    .then((r) => setRequests(r.requests))
    .catch((err) => setError(err.detail));
  useEffect(() => {
    load();
  }, [client.id]);
  return html`
    <section class="card client-forms" aria-labelledby="client-forms-heading">
      <h2 id="client-forms-heading">Forms</h2>
      <div class="client-forms-grid">
        <div>
          <${ErrorText} error=${error} />
          ${requests === null ? html`<p class="muted">Loading…</p>`
            : requests.length === 0 ? html`<p class="muted">No forms requested yet.</p>`
              : html`<ul class="req-list" aria-label=${'Forms requested from ' + client.name}>
                  ${requests.map((r) => html`<${RequestRow} key=${r.id} request=${r}
                    onChanged=${load} />`)}</ul>`}
        </div>
        <div>
          <h3>Request forms</h3>
          <${RequestFormsForm} clientIds=${[client.id]} idPrefix="client-req"
            who=${client.name} onDone=${load} />
        </div>
      </div>
    </section>`;
}

/** The team's tracking list, or the client's own forms. */
export function FormRequestsView({ form = '' }) {
  return isStaff() ? html`<${TrackingView} form=${form} />` : html`<${MyFormsView} />`;
}

/** The tracking list: every request of the practice, filtered (by the server) by state,
 * client and form. Rows name their client (`client_name`); the client filter offers every
 * client seen in a list on this screen, so choosing one does not shrink its own choices. */
function TrackingView({ form: formFilter = '' }) {
  const [show, setShow] = useState('');
  const [clientId, setClientId] = useState('');
  const [formId, setFormId] = useState(formFilter);
  const [requests, setRequests] = useState(null);
  const [clients, setClients] = useState(() => new Map()); // client id -> name
  const [error, setError] = useState('');
  const latest = useRef(0);
  const forms = useForms();

  useEffect(() => {
    document.title = 'Form requests · Carethread';
  }, []);
  // A link to `#/form-requests?form=…` (or the tab, without it) while this screen is open.
  useEffect(() => {
    setFormId(formFilter);
  }, [formFilter]);

  function load() {
    const query = new URLSearchParams({ limit: '500' });
    if (show === 'overdue') query.set('overdue', 'true');
    else if (show) query.set('status', show);
    if (clientId) query.set('client_id', clientId);
    if (formId) query.set('form_id', formId);
    const mine = ++latest.current;
    return get('/form-requests?' + query)
      .then((r) => {
        if (mine !== latest.current) return; // a newer filter was chosen meanwhile
        setRequests(r.requests);
        setClients((old) => {
          const next = new Map(old);
          for (const q of r.requests) next.set(q.client_id, q.client_name || 'Client');
          return next;
        });
        setError('');
      })
      .catch((err) => {
        if (mine === latest.current) setError(err.detail);
      });
  }
  useEffect(() => {
    load();
  }, [show, clientId, formId]);

  const clientOptions = [...clients].sort((x, y) => x[1].localeCompare(y[1]));
  const shown = requests || [];
  const counts = { open: 0, overdue: 0, completed: 0 };
  for (const r of shown) {
    if (r.status === 'open') counts.open += 1;
    if (requestState(r) === 'overdue') counts.overdue += 1;
    if (r.status === 'completed') counts.completed += 1;
  }

  return html`
    <section class="page" aria-labelledby="requests-heading">
      <div class="page-head">
        <h1 id="requests-heading">Forms</h1>
        <a class="button primary" href="#/forms/new">New form</a>
      </div>
      <${FormsTabs} current="requests" />
      <div class="filters" role="search" aria-label="Filter requests">
        <div class="field">
          <label for="req-show">Show</label>
          <select id="req-show" value=${show} onChange=${(e) => setShow(e.currentTarget.value)}>
            <option value="">All requests</option>
            <option value="open">Open</option>
            <option value="overdue">Overdue</option>
            <option value="completed">Completed</option>
            <option value="cancelled">Cancelled</option>
          </select>
        </div>
        <div class="field">
          <label for="req-client">Client</label>
          <select id="req-client" value=${clientId}
            onChange=${(e) => setClientId(e.currentTarget.value)}>
            <option value="">All clients</option>
            ${clientOptions.map(([id, name]) => html`<option key=${id} value=${id}>
              ${name}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="req-form">Form</label>
          <select id="req-form" value=${formId} onChange=${(e) => setFormId(e.currentTarget.value)}>
            <option value="">All forms</option>
            ${(forms || []).map((f) => html`<option key=${f.id} value=${f.id}>${f.title}</option>`)}
          </select>
        </div>
      </div>
      <${ErrorText} error=${error} />
      ${requests === null ? html`<p class="muted">Loading requests…</p>`
        : html`
          ${!show && html`<p class="muted" role="status">${counts.open} open
            (${counts.overdue} overdue) · ${counts.completed} completed</p>`}
          ${shown.length === 0 ? html`<p class="muted">No request matches.</p>`
            : html`<ul class="req-list" aria-label="Form requests">
                ${shown.map((r) => html`<${RequestRow} key=${r.id} request=${r}
                  clientName=${r.client_name || ''} onChanged=${load} />`)}
              </ul>`}`}
    </section>`;
}

/** Where the answers page leads back to: the chat it was opened from, or the request list. */
function BackLink({ thread }) {
  return thread
    ? html`<p><a class="back-link" href=${'#/threads/' + encodeURIComponent(thread)}>Back to the chat</a></p>`
    : html`<p><a class="back-link" href="#/form-requests">Form requests</a></p>`;
}

function StaffResponseView({ requestId, thread }) {
  const [request, setRequest] = useState(null);
  const [client, setClient] = useState(null);
  const [error, setError] = useState('');

  const load = () => get('/form-requests/' + encodeURIComponent(requestId))
    .then((r) => {
      setRequest(r.request);
      document.title = `${r.request.form_title} · Carethread`;
      return get('/clients/' + encodeURIComponent(r.request.client_id))
        .then((c) => setClient(c.client)).catch(() => {});
    })
    .catch((err) => setError(err.status === 404
      ? 'This request does not exist, or you are not on this client’s care team.' : err.detail));
  useEffect(() => {
    load();
  }, [requestId]);

  if (!request) {
    return html`<section class="page"><${BackLink} thread=${thread} />
      ${error ? html`<p class="error" role="alert">${error}</p>`
        : html`<p class="muted">Loading…</p>`}</section>`;
  }
  const state = requestState(request);
  const exportPath = `/api/v1/form-requests/${encodeURIComponent(request.id)}/export`;
  return html`
    <section class="page narrow response" aria-labelledby="response-heading">
      <${BackLink} thread=${thread} />
      <div class="page-head">
        <div>
          <h1 id="response-heading">${request.form_title}</h1>
          <p class="muted">
            ${client ? html`<a href=${'#/clients/' + encodeURIComponent(client.id)}>
              ${client.name}</a>` : 'Client'} ·
            <span class=${'pill status-' + state}>${STATUS_LABELS[state]}</span>
            · version ${request.version}</p>
          <p class="muted small">Requested ${fullTime(request.created_at)}${request.due_at
            ? ` · due ${dateOnly(request.due_at)}` : ''}${request.completed_at
            ? ` · completed ${fullTime(request.completed_at)}` : ''}</p>
        </div>
        ${request.status === 'completed' && html`<div class="actions">
          <a class="button small" href=${exportPath + '?format=json'}
            download=${`response-${request.id}.json`}>Export JSON</a>
          <a class="button small" href=${exportPath + '?format=fhir'}
            download=${`questionnaire-response-${request.id}.json`}>Export FHIR</a>
        </div>`}
      </div>
      ${request.status === 'completed' && request.score !== null && request.score !== undefined
        && html`<p class="score" data-score=${request.score}>Score: <strong>${request.score}</strong></p>`}
      ${request.status === 'open' && html`
        <p class="notice">Not completed yet${request.draft ? ': the client has started it.' : '.'}</p>
        <${OpenActions} request=${request} label=${request.form_title} onChanged=${load} />`}
      ${request.status === 'cancelled' && html`<p class="notice">This request was cancelled
        ${dateOnly(request.cancelled_at)}.</p>`}
      ${request.status === 'completed' && html`
        <h2>Answers</h2>
        <${AnswerList} items=${request.items} answers=${request.answers} showScores=${true} />`}
    </section>`;
}

/** A request by id: the team reads the response; the client fills the form in. */
export function FormRequestView({ requestId, thread = '' }) {
  return isStaff()
    ? html`<${StaffResponseView} requestId=${requestId} thread=${thread} />`
    : html`<${FillFormView} requestId=${requestId} thread=${thread} />`;
}
