// The client's "Today" (#/today): tasks due (and overdue) to check off with a note, program
// modules that have arrived to mark done, goals with their progress and a check-in, and the
// care plans shared with them. Built for a phone first. Also the care plan page
// (#/care-plans/{id}) for both sides, which prints cleanly (the print stylesheet in app.css).
import { get, post } from '../api.js';
import { Attachments } from '../files.js';
import { unitLabel } from '../metrics.js';
import { html, useEffect, useState } from '../lib.js';
import { useStore } from '../store.js';
import { dateOnly } from '../util.js';
import { GoalProgress, MODULE_LABELS, PlanBody, RichText, repeatLabel, useLoad } from './care-tasks.js';
import { ErrorText } from './forms.js';

const enc = encodeURIComponent;

function TaskRow({ task, onDone }) {
  const [note, setNote] = useState('');
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function complete(e) {
    if (e) e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await post(`/tasks/${enc(task.id)}/complete`, note.trim() ? { note: note.trim() } : {});
      onDone(`Done: ${task.title}`);
    } catch (err) {
      setError(err.detail);
      setBusy(false);
    }
  }

  return html`<li class=${'today-item' + (task.overdue ? ' overdue' : '')}>
    <div class="today-main">
      <span class="care-title">${task.title}</span>
      <span class="muted">${task.overdue ? 'Overdue · ' : ''}${task.due_at ? 'due ' + dateOnly(task.due_at) : ''}
        ${task.repeat ? ' · ' + repeatLabel(task.repeat) : ''}</span>
    </div>
    ${open ? html`<form class="today-note" onSubmit=${complete}>
        <label for=${'note-' + task.id}>Note for your team (optional)</label>
        <textarea id=${'note-' + task.id} rows="2" maxLength="2000" value=${note}
          onInput=${(e) => setNote(e.currentTarget.value)}></textarea>
        <div class="actions"><button type="submit" class="primary" disabled=${busy}>Mark done</button>
          <button type="button" onClick=${() => setOpen(false)}>Back</button></div>
      </form>`
      : html`<div class="actions">
          <button type="button" class="primary" disabled=${busy} onClick=${() => complete()}
            aria-label=${'Done: ' + task.title}>Done</button>
          <button type="button" onClick=${() => setOpen(true)}
            aria-label=${'Done with a note: ' + task.title}>With a note</button></div>`}
    <${ErrorText} error=${error} />
  </li>`;
}

function ModuleRow({ item, onDone }) {
  const m = item.module;
  const [error, setError] = useState('');
  async function done() {
    setError('');
    try {
      await post(`/enrollments/${enc(item.enrollment_id)}/modules/${enc(m.module_id)}/done`);
      onDone(`Done: ${m.title}`);
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<li class=${'today-item module' + (m.status === 'late' ? ' overdue' : '')}>
    <div class="today-main">
      <span class="muted">${item.program_title} · day ${m.day}
        ${m.status === 'late' ? html` · <span class="pill state-late">${MODULE_LABELS.late}</span>` : ''}</span>
      <span class="care-title">${m.title}</span>
    </div>
    <${RichText} markup=${m.html} />
    <${Attachments} files=${m.files} />
    <div class="actions">
      ${m.form_request_id && html`<a class="button" href=${'#/form-requests/' + enc(m.form_request_id)}>Fill in the form</a>`}
      <button type="button" class="primary" onClick=${done} aria-label=${'Mark done: ' + m.title}>Mark done</button>
    </div>
    <${ErrorText} error=${error} />
  </li>`;
}

// A goal on a measured metric takes its progress from what the client logs: its row logs the
// metric (POST /clients/{id}/metrics), which counts towards the goal on the server. A goal on
// journal entries points at the journal; any other goal takes check-ins.
const loggable = (goal) => goal.metric && goal.unit && goal.metric !== 'blood_pressure';

function GoalRow({ goal, clientId, onDone }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  async function checkIn(e) {
    e.preventDefault();
    setError('');
    try {
      const answer = await post(`/goals/${enc(goal.id)}/check-ins`,
        value === '' ? {} : { value: Number(value) });
      setValue('');
      onDone(answer.goal.progress && answer.goal.progress.met
        ? `Goal met: ${goal.title}` : `Checked in: ${goal.title}`);
    } catch (err) {
      setError(err.detail);
    }
  }
  async function logMetric(e) {
    e.preventDefault();
    setError('');
    try {
      await post(`/clients/${enc(clientId)}/metrics`,
        { type: goal.metric, value: Number(value), unit: goal.unit });
      setValue('');
      const now = (await get(`/goals/${enc(goal.id)}`)).goal;
      onDone(now.progress && now.progress.met ? `Goal met: ${goal.title}`
        : `Logged for: ${goal.title}`);
    } catch (err) {
      setError(err.detail);
    }
  }
  const u = loggable(goal) ? unitLabel(goal.unit) : '';
  return html`<li class="today-item goal" data-goal=${goal.id}>
    <div class="today-main"><span class="care-title">${goal.title}</span>
      <${GoalProgress} goal=${goal} /></div>
    ${goal.metric && goal.metric.startsWith('journal_')
      ? html`<div class="actions"><a class="button" href="#/health">Write in your journal</a></div>`
      : loggable(goal) ? html`<form class="checkin" onSubmit=${logMetric}>
        <label for=${'log-goal-' + goal.id} class="visually-hidden">Log for ${goal.title}</label>
        <input id=${'log-goal-' + goal.id} type="number" min="0" step="any" inputmode="decimal"
          required placeholder=${u || goal.metric.replace('_', ' ')} value=${value}
          onInput=${(e) => setValue(e.currentTarget.value)} />
        <button type="submit" aria-label=${'Log: ' + goal.title}>Log${u ? ' ' + u : ''}</button>
      </form>`
      : html`<form class="checkin" onSubmit=${checkIn}>
        <label for=${'checkin-' + goal.id} class="visually-hidden">Amount for ${goal.title}</label>
        <input id=${'checkin-' + goal.id} type="number" min="0" step="any" inputmode="decimal"
          placeholder=${goal.metric ? goal.metric.replace('_', ' ') : 'amount (optional)'}
          value=${value} onInput=${(e) => setValue(e.currentTarget.value)} />
        <button type="submit" aria-label=${'Check in: ' + goal.title}>Check in</button>
      </form>`}
    <${ErrorText} error=${error} />
  </li>`;
}

export function TodayView() {
  const s = useStore();
  const me = s.me.id;
  const [data, error, reload] = useLoad(`/clients/${enc(me)}/today`);
  const [plans] = useLoad(`/clients/${enc(me)}/care-plans`);
  const [note, setNote] = useState('');
  useEffect(() => {
    document.title = 'Today · Carethread';
  }, []);
  const done = (text) => {
    setNote(text);
    reload();
  };
  return html`
    <section class="page narrow today" aria-labelledby="today-heading">
      <h1 id="today-heading">Today</h1>
      ${note && html`<p class="success" role="status">${note}</p>`}
      <${ErrorText} error=${error} />
      ${!data ? html`<p class="muted">Loading…</p>` : html`
        <h2>Tasks</h2>
        ${data.tasks.length === 0 ? html`<p class="muted">Nothing due today.</p>`
          : html`<ul class="today-list" aria-label="Tasks">${data.tasks.map((t) => html`
              <${TaskRow} key=${t.id} task=${t} onDone=${done} />`)}</ul>`}
        ${data.modules.length > 0 && html`<h2>Your programs</h2>
          <ul class="today-list" aria-label="Program modules">${data.modules.map((m) => html`
            <${ModuleRow} key=${m.enrollment_id + m.module.module_id} item=${m} onDone=${done} />`)}</ul>`}
        ${data.goals.length > 0 && html`<h2>Goals</h2>
          <ul class="today-list" aria-label="Goals">${data.goals.map((g) => html`
            <${GoalRow} key=${g.id} goal=${g} clientId=${me} onDone=${done} />`)}</ul>`}`}
      ${plans && plans.care_plans.length > 0 && html`<h2>Your care plans</h2>
        <ul class="today-list" aria-label="Care plans">${plans.care_plans.map((p) => html`
          <li key=${p.id} class="today-item"><a href=${'#/care-plans/' + enc(p.id)}>${p.title}</a>
            <span class="muted">shared ${dateOnly(p.shared_at)}</span></li>`)}</ul>`}
    </section>`;
}

/** A care plan to read and print: the team sees the latest version, the client the shared. */
export function CarePlanView({ planId, version }) {
  const [data, error] = useLoad(`/care-plans/${enc(planId)}`
    + (version ? `?version=${enc(version)}` : ''));
  const plan = data && data.care_plan;
  useEffect(() => {
    if (plan) document.title = `${plan.title} · Carethread`;
  }, [plan]);
  if (!plan) {
    return html`<section class="page narrow">${error
      ? html`<p class="error" role="alert">${error}</p>` : html`<p class="muted">Loading…</p>`}</section>`;
  }
  return html`
    <article class="page narrow printable care-plan-page" aria-labelledby="plan-heading">
      <div class="page-head no-print">
        <a href=${'#/'} onClick=${(e) => { e.preventDefault(); history.back(); }}>Back</a>
        <button type="button" class="primary" onClick=${() => window.print()}>Print</button>
      </div>
      <h1 id="plan-heading">${plan.title}</h1>
      <p class="muted">Version ${plan.version}${plan.shared_at ? ' · shared ' + dateOnly(plan.shared_at) : ' · draft'}</p>
      <${PlanBody} plan=${plan} />
    </article>`;
}
