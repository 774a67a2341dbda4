// Care between visits, for the team, on a client's profile: the Tasks, Goals, Care plan and
// Programs tabs (#/clients/{id}?tab=tasks|goals|plans|programs). Everything goes through the
// public API (docs/api.md §12). Rich text (care plan sections, program modules) is shown from
// the server's sanitised `html` only; what people type is always rendered as text.
import { get, patch, post } from '../api.js';
import { Attachments, uploadFile } from '../files.js';
import { html, useEffect, useState } from '../lib.js';
import { round, unitLabel } from '../metrics.js';
import { dateOnly, endOfDay, fullTime } from '../util.js';
import { ErrorText } from './forms.js';

export const CLIENT_TABS = [
  ['profile', 'Profile'], ['tasks', 'Tasks'], ['goals', 'Goals'], ['plans', 'Care plan'],
  ['programs', 'Programs'],
];

// What a goal can be measured by: a metric (progress from what the client logs), a count of
// journal entries of a kind, or nothing (check-ins). The unit is the metric's own.
export const METRICS = [
  ['', 'No metric (check-ins)', ''], ['steps', 'Steps', '{steps}'],
  ['sleep_duration', 'Sleep (h)', 'h'], ['body_weight', 'Body weight (kg)', 'kg'],
  ['heart_rate', 'Heart rate', '/min'], ['mood', 'Mood (1-5)', '{score}'],
  ['blood_pressure', 'Blood pressure (systolic)', 'mm[Hg]'], ['bmi', 'BMI', 'kg/m2'],
  ['journal_food', 'Food journal entries', ''], ['journal_mood', 'Mood journal entries', ''],
  ['journal_activity', 'Activity journal entries', ''], ['journal_note', 'Journal notes', ''],
];

const enc = encodeURIComponent;

export function ClientTabs({ clientId, current }) {
  return html`
    <nav class="tabs client-tabs" aria-label="Client sections">
      ${CLIENT_TABS.map(([key, label]) => html`
        <a key=${key} href=${`#/clients/${enc(clientId)}${key === 'profile' ? '' : '?tab=' + key}`}
          aria-current=${current === key ? 'page' : undefined}>${label}</a>`)}
    </nav>`;
}

/** GET `path` now and whenever `reload()` is called: [data, error, reload]. */
export function useLoad(path) {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    if (!path) return undefined;
    get(path).then((r) => live && setData(r)).catch((err) => live && setError(err.detail));
    return () => { live = false; };
  }, [path, tick]);
  return [data, error, () => setTick((t) => t + 1)];
}

/** Server-sanitised HTML (nh3 allowlist): the one place markup from the API is inserted. */
export function RichText({ markup, className = 'rich' }) {
  return html`<div class=${className} dangerouslySetInnerHTML=${{ __html: markup || '' }}></div>`;
}

export function TaskState({ task }) {
  if (task.status === 'open' && task.overdue) return html`<span class="pill state-overdue">Overdue</span>`;
  const labels = { open: 'Open', done: 'Done', cancelled: 'Cancelled' };
  return html`<span class=${'pill state-' + task.status}>${labels[task.status] || task.status}</span>`;
}

export function repeatLabel(repeat) {
  return repeat === 'daily' ? 'Every day' : repeat === 'weekly' ? 'Every week' : '';
}

// --- tasks -----------------------------------------------------------------------------------

export function TasksTab({ client }) {
  const [data, error, reload] = useLoad(`/clients/${enc(client.id)}/tasks`);
  const [templates] = useLoad('/task-templates');
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const [repeat, setRepeat] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState('');

  async function assign(e) {
    e.preventDefault();
    setBusy(true);
    setFormError('');
    const body = {};
    if (title.trim()) body.title = title.trim();
    if (due) body.due_at = endOfDay(due);
    if (repeat) body.repeat = repeat;
    if (templateId) body.template_id = templateId;
    try {
      await post(`/clients/${enc(client.id)}/tasks`, body);
      setTitle(''); setDue(''); setRepeat(''); setTemplateId('');
      reload();
    } catch (err) {
      setFormError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  async function cancel(task) {
    try {
      await post(`/tasks/${enc(task.id)}/cancel`);
      reload();
    } catch (err) {
      setFormError(err.detail);
    }
  }

  const tasks = data ? data.tasks : null;
  return html`
    <div class="columns care-tab">
      <section aria-labelledby="tasks-heading">
        <h2 id="tasks-heading">Tasks</h2>
        <${ErrorText} error=${error} />
        ${tasks === null ? html`<p class="muted">Loading…</p>`
          : tasks.length === 0 ? html`<p class="muted">No tasks yet.</p>`
            : html`<ul class="care-list" aria-label=${'Tasks of ' + client.name}>
                ${tasks.map((t) => html`<li key=${t.id} class="care-item">
                  <div class="care-item-main">
                    <span class="care-title">${t.title}</span>
                    <span class="muted">
                      ${t.due_at ? 'Due ' + dateOnly(t.due_at) : 'No due date'}
                      ${t.repeat ? ' · ' + repeatLabel(t.repeat) : ''}
                      ${t.completed_at ? ' · done ' + dateOnly(t.completed_at) : ''}</span>
                    ${t.note && html`<span class="care-note">“${t.note}”</span>`}
                  </div>
                  <${TaskState} task=${t} />
                  ${t.status === 'open' && html`<button type="button" class="small"
                    onClick=${() => cancel(t)} aria-label=${'Cancel ' + t.title}>Cancel</button>`}
                </li>`)}</ul>`}
      </section>
      <form class="card" onSubmit=${assign} aria-labelledby="assign-heading">
        <h3 id="assign-heading">Assign a task</h3>
        ${templates && templates.templates.length > 0 && html`
          <div class="field">
            <label for="task-template">From the library</label>
            <select id="task-template" value=${templateId}
              onChange=${(e) => setTemplateId(e.currentTarget.value)}>
              <option value="">None</option>
              ${templates.templates.map((t) => html`<option key=${t.id} value=${t.id}>${t.title}</option>`)}
            </select>
          </div>`}
        <div class="field">
          <label for="task-title">Title</label>
          <input id="task-title" value=${title} maxLength="200" required=${!templateId}
            onInput=${(e) => setTitle(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="task-due">Due</label>
          <input id="task-due" type="date" value=${due} onInput=${(e) => setDue(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="task-repeat">Repeat</label>
          <select id="task-repeat" value=${repeat} onChange=${(e) => setRepeat(e.currentTarget.value)}>
            <option value="">Does not repeat</option>
            <option value="daily">Every day</option>
            <option value="weekly">Every week</option>
          </select>
        </div>
        <${ErrorText} error=${formError} />
        <button type="submit" class="primary" disabled=${busy}>Assign task</button>
      </form>
    </div>`;
}

// --- goals -----------------------------------------------------------------------------------

export function GoalProgress({ goal }) {
  const p = goal.progress;
  if (!p) return html`<span class="muted">No target: check-ins only</span>`;
  const atMost = goal.direction === 'at_most';
  const ratio = atMost ? (p.met ? 1 : 0) : goal.target ? Math.min(1, p.value / goal.target) : 0;
  const per = goal.period ? ` this ${goal.period}` : '';
  const u = goal.unit ? unitLabel(goal.unit) : '';
  const unit = u ? ' ' + u : '';
  const digits = goal.metric === 'steps' ? 0 : 1;
  // An at-most goal with nothing logged has no value yet (0 kg would be no reading at all).
  const nothing = atMost && !p.met && p.value === 0;
  const words = atMost ? `${nothing ? 'Nothing logged yet' : round(p.value, digits) + unit}, `
    + `target at most ${goal.target}${unit}`
    : `${round(p.value, digits)} of ${goal.target}${unit}${per}`;
  return html`
    <div class="goal-progress" data-value=${p.value}>
      <progress max="1" value=${ratio} aria-label=${goal.title + ' progress'}></progress>
      <span>${words}${p.met ? ' · met' : ''}</span>
    </div>`;
}

function Outcomes({ goal }) {
  if (!goal.history.length) return null;
  return html`<ul class="outcomes" aria-label="Recent periods">
    ${goal.history.slice(0, 7).map((h) => html`<li key=${h.starts_at}
      class=${'pill state-' + h.outcome} title=${fullTime(h.starts_at)}>
      ${dateOnly(h.starts_at)}: ${h.outcome}</li>`)}</ul>`;
}

export function GoalsTab({ client }) {
  const [data, error, reload] = useLoad(`/clients/${enc(client.id)}/goals`);
  const [title, setTitle] = useState('');
  const [metric, setMetric] = useState('');
  const [target, setTarget] = useState('');
  const [period, setPeriod] = useState('');
  const [direction, setDirection] = useState('at_least');
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState('');
  const metricUnit = (METRICS.find(([key]) => key === metric) || [])[2];

  async function create(e) {
    e.preventDefault();
    setBusy(true);
    setFormError('');
    const body = { title: title.trim() };
    if (metric) body.metric = metric;
    if (target !== '') body.target = Number(target);
    if (period) body.period = period;
    if (direction !== 'at_least') body.direction = direction;
    try {
      await post(`/clients/${enc(client.id)}/goals`, body);
      setTitle(''); setMetric(''); setTarget(''); setPeriod(''); setDirection('at_least');
      reload();
    } catch (err) {
      setFormError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  const goals = data ? data.goals : null;
  return html`
    <div class="columns care-tab">
      <section aria-labelledby="goals-heading">
        <h2 id="goals-heading">Goals</h2>
        <${ErrorText} error=${error} />
        ${goals === null ? html`<p class="muted">Loading…</p>`
          : goals.length === 0 ? html`<p class="muted">No goals yet.</p>`
            : html`<ul class="care-list" aria-label=${'Goals of ' + client.name}>
                ${goals.map((g) => html`<li key=${g.id} class="care-item goal">
                  <div class="care-item-main">
                    <span class="care-title">${g.title}</span>
                    <${GoalProgress} goal=${g} />
                    <${Outcomes} goal=${g} />
                  </div>
                </li>`)}</ul>`}
      </section>
      <form class="card" onSubmit=${create} aria-labelledby="goal-heading">
        <h3 id="goal-heading">Set a goal</h3>
        <div class="field">
          <label for="goal-title">Title</label>
          <input id="goal-title" value=${title} maxLength="200" required
            placeholder="Walk 8,000 steps a day" onInput=${(e) => setTitle(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="goal-metric">Measured by</label>
          <select id="goal-metric" value=${metric} onChange=${(e) => setMetric(e.currentTarget.value)}>
            ${METRICS.map(([key, label]) => html`<option key=${key} value=${key}>${label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="goal-direction">Aim</label>
          <select id="goal-direction" value=${direction}
            onChange=${(e) => setDirection(e.currentTarget.value)}>
            <option value="at_least">At least the target</option>
            <option value="at_most">At most the target</option>
          </select>
        </div>
        <div class="field">
          <label for="goal-target">Target${metricUnit && unitLabel(metricUnit)
            ? ` (${unitLabel(metricUnit)})` : ''}</label>
          <input id="goal-target" type="number" min="0" step="any" value=${target}
            onInput=${(e) => setTarget(e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for="goal-period">Per</label>
          <select id="goal-period" value=${period} onChange=${(e) => setPeriod(e.currentTarget.value)}>
            <option value="">Overall</option>
            <option value="day">Day</option>
            <option value="week">Week</option>
          </select>
        </div>
        <${ErrorText} error=${formError} />
        <button type="submit" class="primary" disabled=${busy}>Set goal</button>
      </form>
    </div>`;
}

// --- care plans ------------------------------------------------------------------------------

export function SectionsEditor({ sections, onChange, idPrefix }) {
  function set(i, key, value) {
    onChange(sections.map((s, j) => (j === i ? { ...s, [key]: value } : s)));
  }
  return html`
    <fieldset class="sections">
      <legend>Sections</legend>
      ${sections.map((s, i) => html`<div key=${i} class="section-edit">
        <div class="field">
          <label for=${`${idPrefix}-title-${i}`}>Section ${i + 1} title</label>
          <input id=${`${idPrefix}-title-${i}`} value=${s.title} maxLength="200"
            onInput=${(e) => set(i, 'title', e.currentTarget.value)} />
        </div>
        <div class="field">
          <label for=${`${idPrefix}-body-${i}`}>Section ${i + 1} text (Markdown)</label>
          <textarea id=${`${idPrefix}-body-${i}`} rows="5" value=${s.body}
            onInput=${(e) => set(i, 'body', e.currentTarget.value)}></textarea>
        </div>
        <button type="button" class="small" onClick=${() => onChange(sections.filter((_, j) => j !== i))}>
          Remove section ${i + 1}</button>
      </div>`)}
      <button type="button" class="small" onClick=${() => onChange([...sections, { title: '', body: '' }])}>
        Add section</button>
    </fieldset>`;
}

function PlanEditor({ client, plan, onSaved, onCancel }) {
  const [title, setTitle] = useState(plan ? plan.title : '');
  const [sections, setSections] = useState(plan ? plan.sections.map((s) => ({ title: s.title, body: s.body }))
    : [{ title: 'Goals', body: '' }]);
  const [goalIds, setGoalIds] = useState(plan ? plan.goal_ids : []);
  const [taskIds, setTaskIds] = useState(plan ? plan.task_ids : []);
  const [files, setFiles] = useState(plan ? plan.files || [] : []);
  const [progress, setProgress] = useState(null);
  const [templateId, setTemplateId] = useState('');
  const [goals] = useLoad(`/clients/${enc(client.id)}/goals`);
  const [tasks] = useLoad(`/clients/${enc(client.id)}/tasks?status=open`);
  const [templates] = useLoad(plan ? null : '/care-plan-templates');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  function toggle(list, set, id, on) {
    set(on ? [...list, id] : list.filter((x) => x !== id));
  }

  async function attach(file) {
    if (!file) return;
    setError('');
    setProgress(0);
    try {
      const uploaded = await uploadFile(file, setProgress);
      setFiles((list) => [...list, uploaded]);
    } catch (err) {
      setError(err.detail);
    } finally {
      setProgress(null);
    }
  }

  async function save(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      let answer;
      const fileIds = files.map((f) => f.id);
      if (plan) {
        answer = await patch(`/care-plans/${enc(plan.id)}`, {
          title, sections, goal_ids: goalIds, task_ids: taskIds, file_ids: fileIds });
      } else if (templateId) {
        answer = await post(`/clients/${enc(client.id)}/care-plans`, {
          template_id: templateId, goal_ids: goalIds, task_ids: taskIds, file_ids: fileIds });
      } else {
        answer = await post(`/clients/${enc(client.id)}/care-plans`, {
          title, sections, goal_ids: goalIds, task_ids: taskIds, file_ids: fileIds });
      }
      onSaved(answer.care_plan);
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card plan-editor" onSubmit=${save} aria-label=${plan ? 'Edit care plan' : 'New care plan'}>
      <h3>${plan ? `Edit “${plan.title}” (a new version)` : 'New care plan'}</h3>
      ${!plan && templates && templates.templates.length > 0 && html`
        <div class="field">
          <label for="plan-template">Start from a template</label>
          <select id="plan-template" value=${templateId} onChange=${(e) => setTemplateId(e.currentTarget.value)}>
            <option value="">No template</option>
            ${templates.templates.map((t) => html`<option key=${t.id} value=${t.id}>${t.title}</option>`)}
          </select>
        </div>`}
      ${!templateId && html`
        <div class="field">
          <label for="plan-title">Title</label>
          <input id="plan-title" value=${title} maxLength="200" required
            onInput=${(e) => setTitle(e.currentTarget.value)} />
        </div>
        <${SectionsEditor} sections=${sections} onChange=${setSections} idPrefix="plan" />`}
      ${goals && goals.goals.length > 0 && html`<fieldset><legend>Linked goals</legend>
        <ul class="pick-list">${goals.goals.map((g) => html`<li key=${g.id} class="check">
          <input type="checkbox" id=${'plan-goal-' + g.id} checked=${goalIds.includes(g.id)}
            onChange=${(e) => toggle(goalIds, setGoalIds, g.id, e.currentTarget.checked)} />
          <label for=${'plan-goal-' + g.id}>${g.title}</label></li>`)}</ul></fieldset>`}
      ${tasks && tasks.tasks.length > 0 && html`<fieldset><legend>Linked tasks</legend>
        <ul class="pick-list">${tasks.tasks.map((t) => html`<li key=${t.id} class="check">
          <input type="checkbox" id=${'plan-task-' + t.id} checked=${taskIds.includes(t.id)}
            onChange=${(e) => toggle(taskIds, setTaskIds, t.id, e.currentTarget.checked)} />
          <label for=${'plan-task-' + t.id}>${t.title}</label></li>`)}</ul></fieldset>`}
      <fieldset class="plan-files"><legend>Files</legend>
        ${files.length > 0 && html`<ul class="pick-list" aria-label="Files of the plan">
          ${files.map((f) => html`<li key=${f.id}><span>${f.name}</span>
            <button type="button" class="small" aria-label=${'Remove ' + f.name}
              onClick=${() => setFiles(files.filter((x) => x.id !== f.id))}>Remove</button>
          </li>`)}</ul>`}
        <label class="button small">Attach a file
          <input type="file" class="visually-hidden" aria-label="Attach a file to the plan"
            onChange=${(e) => { attach(e.currentTarget.files[0]); e.currentTarget.value = ''; }} />
        </label>
        ${progress !== null && html`<progress max="1" value=${progress}
          aria-label="Upload progress"></progress>`}
      </fieldset>
      <${ErrorText} error=${error} />
      <div class="actions">
        <button type="submit" class="primary" disabled=${busy}>${plan ? 'Save new version' : 'Save draft'}</button>
        <button type="button" onClick=${onCancel}>Cancel</button>
      </div>
    </form>`;
}

export function PlanBody({ plan }) {
  return html`${plan.sections.map((s, i) => html`<section key=${i} class="plan-section">
    ${s.title && html`<h3>${s.title}</h3>`}
    <${RichText} markup=${s.html} />
  </section>`)}
  ${plan.files && plan.files.length > 0 && html`<section class="plan-section plan-files"
    aria-label="Files"><h3>Files</h3><${Attachments} files=${plan.files} />
    <ul class="print-only">${plan.files.map((f) => html`<li key=${f.id}>${f.name}</li>`)}</ul>
  </section>`}`;
}

/** Every version of a plan, newest first: each one readable (and printable) as it was. */
function Versions({ plan }) {
  const [data, error] = useLoad(`/care-plans/${enc(plan.id)}/versions`);
  if (error) return html`<${ErrorText} error=${error} />`;
  if (!data) return html`<p class="muted">Loading…</p>`;
  return html`<ol class="versions" aria-label=${'Versions of ' + plan.title}>
    ${data.versions.map((v) => html`<li key=${v.version}>
      <a href=${`#/care-plans/${enc(plan.id)}?version=${v.version}`}>Version ${v.version}</a>
      <span class="muted"> · ${dateOnly(v.created_at)}${v.shared_at
        ? ' · shared ' + dateOnly(v.shared_at) : ''}</span></li>`)}</ol>`;
}

export function PlansTab({ client }) {
  const [data, error, reload] = useLoad(`/clients/${enc(client.id)}/care-plans`);
  const [editing, setEditing] = useState(null); // null | 'new' | plan
  const [history, setHistory] = useState(null); // the plan whose versions are open
  const [note, setNote] = useState('');
  const [actionError, setActionError] = useState('');

  async function share(plan) {
    setActionError('');
    try {
      await post(`/care-plans/${enc(plan.id)}/share`);
      setNote(`“${plan.title}” is shared with ${client.name}.`);
      reload();
    } catch (err) {
      setActionError(err.detail);
    }
  }

  const plans = data ? data.care_plans : null;
  return html`
    <section class="care-tab" aria-labelledby="plans-heading">
      <div class="page-head">
        <h2 id="plans-heading">Care plans</h2>
        ${!editing && html`<button type="button" class="primary" onClick=${() => setEditing('new')}>
          New care plan</button>`}
      </div>
      ${note && html`<p class="success" role="status">${note}</p>`}
      <${ErrorText} error=${error || actionError} />
      ${editing && html`<${PlanEditor} client=${client} plan=${editing === 'new' ? null : editing}
        onCancel=${() => setEditing(null)}
        onSaved=${(p) => { setEditing(null); setNote(`Saved version ${p.version} of “${p.title}”.`); reload(); }} />`}
      ${plans === null ? html`<p class="muted">Loading…</p>`
        : plans.length === 0 ? html`<p class="muted">No care plans yet.</p>`
          : plans.map((p) => html`<article key=${p.id} class="card plan" aria-label=${p.title}>
              <div class="page-head">
                <div>
                  <h3>${p.title}</h3>
                  <p class="muted">Version ${p.version} ·
                    ${p.status === 'draft' ? html`<span class="pill state-draft">Draft: only the team sees it</span>`
                      : p.has_unshared_changes
                        ? html`<span class="pill state-overdue">Shared version ${p.shared_version}; newer edits not shared</span>`
                        : html`<span class="pill state-shared">Shared ${dateOnly(p.shared_at)}</span>`}</p>
                </div>
                <div class="actions">
                  ${(p.status === 'draft' || p.has_unshared_changes) && html`
                    <button type="button" class="primary" onClick=${() => share(p)}>Share with client</button>`}
                  <button type="button" onClick=${() => setEditing(p)}>Edit</button>
                  ${p.version > 1 && html`<button type="button" aria-expanded=${history === p.id}
                    onClick=${() => setHistory(history === p.id ? null : p.id)}>Versions</button>`}
                  <a class="button" href=${'#/care-plans/' + enc(p.id)}>Print view</a>
                </div>
              </div>
              ${history === p.id && html`<${Versions} plan=${p} />`}
              <${PlanBody} plan=${p} />
            </article>`)}
    </section>`;
}

// --- programs --------------------------------------------------------------------------------

export const MODULE_LABELS = {
  upcoming: 'Upcoming', open: 'To do', late: 'Late', done: 'Done', cancelled: 'Cancelled',
};
const STATE_LABELS = { not_started: 'Not started', on_track: 'On track', late: 'Late', done: 'Done' };

export function EnrollmentCard({ enrollment, onChanged, team = true }) {
  const [error, setError] = useState('');
  async function act(action) {
    setError('');
    try {
      await post(`/enrollments/${enc(enrollment.id)}/${action}`);
      onChanged();
    } catch (err) {
      setError(err.detail);
    }
  }
  const p = enrollment.progress;
  return html`
    <article class="card enrollment" aria-label=${enrollment.program_title + ' for ' + (enrollment.client_name || '')}>
      <div class="page-head">
        <div>
          <h3>${team && enrollment.client_name ? enrollment.client_name + ' · ' : ''}${enrollment.program_title}</h3>
          <p class="muted">Since ${dateOnly(enrollment.created_at)} ·
            <span class=${'pill state-' + enrollment.status}>${enrollment.status}</span>
            · <span class=${'pill state-' + p.state}>${STATE_LABELS[p.state] || p.state}</span>
            · ${p.done} done, ${p.open} to do, ${p.late} late, ${p.upcoming} upcoming</p>
        </div>
        ${team && html`<div class="actions">
          ${enrollment.status === 'active' && html`<button type="button" class="small" onClick=${() => act('pause')}>Pause</button>`}
          ${enrollment.status === 'paused' && html`<button type="button" class="small" onClick=${() => act('resume')}>Resume</button>`}
          ${enrollment.status !== 'ended' && html`<button type="button" class="small danger" onClick=${() => act('end')}>End</button>`}
        </div>`}
      </div>
      <${ErrorText} error=${error} />
      <ol class="module-list">${enrollment.modules.map((m) => html`<li key=${m.module_id}>
        <span class="module-day">Day ${m.day}</span> <span>${m.title}</span>
        <span class=${'pill state-' + m.status}>${MODULE_LABELS[m.status] || m.status}</span></li>`)}</ol>
    </article>`;
}

export function ProgramsTab({ client }) {
  const [data, error, reload] = useLoad(`/clients/${enc(client.id)}/enrollments`);
  const [programs] = useLoad('/programs');
  const [programId, setProgramId] = useState('');
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);

  async function enroll(e) {
    e.preventDefault();
    setBusy(true);
    setFormError('');
    try {
      const answer = await post(`/programs/${enc(programId)}/enrollments`, { client_ids: [client.id] });
      if (answer.skipped.length) setFormError(`${client.name} is already enrolled in this program.`);
      reload();
    } catch (err) {
      setFormError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  const enrollments = data ? data.enrollments : null;
  return html`
    <div class="columns care-tab">
      <section aria-labelledby="programs-heading">
        <h2 id="programs-heading">Programs</h2>
        <${ErrorText} error=${error} />
        ${enrollments === null ? html`<p class="muted">Loading…</p>`
          : enrollments.length === 0 ? html`<p class="muted">Not enrolled in any program.</p>`
            : enrollments.map((en) => html`<${EnrollmentCard} key=${en.id} enrollment=${en}
                onChanged=${reload} team=${false} />`)}
        ${enrollments && enrollments.length > 0 && html`<${EnrollmentActions}
          enrollments=${enrollments} onChanged=${reload} />`}
      </section>
      <form class="card" onSubmit=${enroll} aria-labelledby="enroll-heading">
        <h3 id="enroll-heading">Enrol in a program</h3>
        ${programs && programs.programs.length === 0
          ? html`<p class="muted">No programs yet: build one in the <a href="#/library">library</a>.</p>`
          : html`<div class="field">
              <label for="enroll-program">Program</label>
              <select id="enroll-program" value=${programId} required
                onChange=${(e) => setProgramId(e.currentTarget.value)}>
                <option value="">Choose…</option>
                ${(programs ? programs.programs : []).map((p) => html`<option key=${p.id} value=${p.id}>${p.title}</option>`)}
              </select>
            </div>
            <${ErrorText} error=${formError} />
            <button type="submit" class="primary" disabled=${busy || !programId}>Enrol</button>`}
      </form>
    </div>`;
}

function EnrollmentActions({ enrollments, onChanged }) {
  const [error, setError] = useState('');
  async function act(enrollment, action) {
    setError('');
    try {
      await post(`/enrollments/${enc(enrollment.id)}/${action}`);
      onChanged();
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<div class="enrollment-actions">
    ${enrollments.filter((e) => e.status !== 'ended').map((e) => html`<div key=${e.id} class="actions">
      <span>${e.program_title}:</span>
      ${e.status === 'active' && html`<button type="button" class="small" onClick=${() => act(e, 'pause')}>Pause</button>`}
      ${e.status === 'paused' && html`<button type="button" class="small" onClick=${() => act(e, 'resume')}>Resume</button>`}
      <button type="button" class="small danger" onClick=${() => act(e, 'end')}>End enrolment</button>
    </div>`)}
    <${ErrorText} error=${error} />
  </div>`;
}

