// The practice library (#/library), for the team: task templates, care plan templates and
// programs (modules on day N: text, files, a form to fill, a task), with each program's enrolments
// and every client's progress.
import { del, get, post } from '../api.js';
import { Attachments, uploadFile } from '../files.js';
import { html, useEffect, useState } from '../lib.js';
import {
  EnrollmentCard, RichText, SectionsEditor, repeatLabel, useLoad,
} from './care-tasks.js';
import { ErrorText } from './forms.js';

const enc = encodeURIComponent;

function TaskTemplates() {
  const [data, error, reload] = useLoad('/task-templates');
  const [title, setTitle] = useState('');
  const [repeat, setRepeat] = useState('');
  const [days, setDays] = useState('');
  const [formError, setFormError] = useState('');

  async function create(e) {
    e.preventDefault();
    setFormError('');
    try {
      await post('/task-templates', { title, repeat: repeat || null,
        due_in_days: days === '' ? null : Number(days) });
      setTitle(''); setRepeat(''); setDays('');
      reload();
    } catch (err) {
      setFormError(err.detail);
    }
  }

  async function remove(t) {
    try {
      await del('/task-templates/' + enc(t.id));
      reload();
    } catch (err) {
      setFormError(err.detail);
    }
  }

  return html`
    <section class="card" aria-labelledby="lib-tasks">
      <h2 id="lib-tasks">Task templates</h2>
      <${ErrorText} error=${error} />
      ${data && (data.templates.length === 0 ? html`<p class="muted">No task templates yet.</p>`
        : html`<ul class="care-list" aria-label="Task templates">${data.templates.map((t) => html`
            <li key=${t.id} class="care-item"><div class="care-item-main">
              <span class="care-title">${t.title}</span>
              <span class="muted">${[repeatLabel(t.repeat),
                t.due_in_days !== null ? `due ${t.due_in_days} day(s) after assigning` : '']
                .filter(Boolean).join(' · ')}</span></div>
              <button type="button" class="small" onClick=${() => remove(t)}
                aria-label=${'Delete ' + t.title}>Delete</button></li>`)}</ul>`)}
      <form onSubmit=${create} class="inline-grid">
        <div class="field"><label for="tt-title">Title</label>
          <input id="tt-title" value=${title} required maxLength="200"
            onInput=${(e) => setTitle(e.currentTarget.value)} /></div>
        <div class="field"><label for="tt-repeat">Repeat</label>
          <select id="tt-repeat" value=${repeat} onChange=${(e) => setRepeat(e.currentTarget.value)}>
            <option value="">Does not repeat</option><option value="daily">Every day</option>
            <option value="weekly">Every week</option></select></div>
        <div class="field"><label for="tt-days">Due after (days)</label>
          <input id="tt-days" type="number" min="0" max="365" value=${days}
            onInput=${(e) => setDays(e.currentTarget.value)} /></div>
        <${ErrorText} error=${formError} />
        <button type="submit" class="primary">Add task template</button>
      </form>
    </section>`;
}

function PlanTemplates() {
  const [data, error, reload] = useLoad('/care-plan-templates');
  const [title, setTitle] = useState('');
  const [sections, setSections] = useState([{ title: '', body: '' }]);
  const [formError, setFormError] = useState('');

  async function create(e) {
    e.preventDefault();
    setFormError('');
    try {
      await post('/care-plan-templates', { title, sections });
      setTitle(''); setSections([{ title: '', body: '' }]);
      reload();
    } catch (err) {
      setFormError(err.detail);
    }
  }

  async function remove(t) {
    try {
      await del('/care-plan-templates/' + enc(t.id));
      reload();
    } catch (err) {
      setFormError(err.detail);
    }
  }

  return html`
    <section class="card" aria-labelledby="lib-plans">
      <h2 id="lib-plans">Care plan templates</h2>
      <${ErrorText} error=${error} />
      ${data && (data.templates.length === 0 ? html`<p class="muted">No plan templates yet.</p>`
        : html`<ul class="care-list" aria-label="Care plan templates">${data.templates.map((t) => html`
            <li key=${t.id} class="care-item"><div class="care-item-main">
              <span class="care-title">${t.title}</span>
              <span class="muted">${t.sections.map((s) => s.title).filter(Boolean).join(' · ')}</span>
            </div>
            <button type="button" class="small" onClick=${() => remove(t)}
              aria-label=${'Delete ' + t.title}>Delete</button></li>`)}</ul>`)}
      <form onSubmit=${create}>
        <div class="field"><label for="pt-title">Template title</label>
          <input id="pt-title" value=${title} required maxLength="200"
            onInput=${(e) => setTitle(e.currentTarget.value)} /></div>
        <${SectionsEditor} sections=${sections} onChange=${setSections} idPrefix="pt" />
        <${ErrorText} error=${formError} />
        <button type="submit" class="primary">Add plan template</button>
      </form>
    </section>`;
}

const EMPTY_MODULE = { day: 0, title: '', body: '', form_id: '', task_title: '', files: [] };

function moduleBody(m) {
  const body = { day: Number(m.day), title: m.title, body: m.body };
  if (m.form_id) body.form_id = m.form_id;
  if (m.files && m.files.length) body.file_ids = m.files.map((f) => f.id);
  if (m.task_title && m.task_title.trim()) body.task_title = m.task_title.trim();
  return body;
}

function ModuleFields({ module, onChange, idPrefix, forms, index }) {
  const set = (key, value) => onChange({ ...module, [key]: value });
  const n = index + 1;
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState('');
  async function attach(file) {
    if (!file) return;
    setError('');
    setProgress(0);
    try {
      const uploaded = await uploadFile(file, setProgress);
      onChange({ ...module, files: [...(module.files || []), uploaded] });
    } catch (err) {
      setError(err.detail);
    } finally {
      setProgress(null);
    }
  }
  return html`<div class="module-edit">
    <div class="field"><label for=${idPrefix + '-day'}>Module ${n}: day</label>
      <input id=${idPrefix + '-day'} type="number" min="0" max="365" value=${module.day} required
        onInput=${(e) => set('day', e.currentTarget.value)} /></div>
    <div class="field"><label for=${idPrefix + '-title'}>Module ${n}: title</label>
      <input id=${idPrefix + '-title'} value=${module.title} required maxLength="200"
        onInput=${(e) => set('title', e.currentTarget.value)} /></div>
    <div class="field"><label for=${idPrefix + '-body'}>Module ${n}: text (Markdown)</label>
      <textarea id=${idPrefix + '-body'} rows="3" value=${module.body}
        onInput=${(e) => set('body', e.currentTarget.value)}></textarea></div>
    <div class="field"><label for=${idPrefix + '-form'}>Module ${n}: form to fill</label>
      <select id=${idPrefix + '-form'} value=${module.form_id}
        onChange=${(e) => set('form_id', e.currentTarget.value)}>
        <option value="">None</option>
        ${forms.map((f) => html`<option key=${f.id} value=${f.id}>${f.title}</option>`)}
      </select></div>
    <div class="field"><label for=${idPrefix + '-task'}>Module ${n}: task to do</label>
      <input id=${idPrefix + '-task'} value=${module.task_title} maxLength="200"
        onInput=${(e) => set('task_title', e.currentTarget.value)} /></div>
    <div class="field module-files">
      ${(module.files || []).length > 0 && html`<ul class="pick-list"
        aria-label=${`Module ${n}: files`}>${module.files.map((f) => html`<li key=${f.id}>
        <span>${f.name}</span> <button type="button" class="small" aria-label=${'Remove ' + f.name}
          onClick=${() => set('files', module.files.filter((x) => x.id !== f.id))}>Remove</button>
        </li>`)}</ul>`}
      <label class="button small">Module ${n}: attach a file
        <input type="file" class="visually-hidden" aria-label=${`Module ${n}: attach a file`}
          onChange=${(e) => { attach(e.currentTarget.files[0]); e.currentTarget.value = ''; }} />
      </label>
      ${progress !== null && html`<progress max="1" value=${progress}
        aria-label="Upload progress"></progress>`}
      <${ErrorText} error=${error} />
    </div>
  </div>`;
}

function useForms() {
  const [forms, setForms] = useState([]);
  useEffect(() => {
    get('/forms').then((r) => setForms(r.forms.filter((f) => !f.archived))).catch(() => {});
  }, []);
  return forms;
}

function NewProgram({ onCreated }) {
  const forms = useForms();
  const [title, setTitle] = useState('');
  const [modules, setModules] = useState([{ ...EMPTY_MODULE }]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function create(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await post('/programs', { title, modules: modules.map(moduleBody) });
      setTitle(''); setModules([{ ...EMPTY_MODULE }]);
      onCreated();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="card" onSubmit=${create} aria-labelledby="new-program">
      <h3 id="new-program">New program</h3>
      <div class="field"><label for="prog-title">Program title</label>
        <input id="prog-title" value=${title} required maxLength="200"
          onInput=${(e) => setTitle(e.currentTarget.value)} /></div>
      ${modules.map((m, i) => html`<${ModuleFields} key=${i} module=${m} index=${i} forms=${forms}
        idPrefix=${'pm-' + i} onChange=${(next) => setModules(modules.map((x, j) => (j === i ? next : x)))} />`)}
      <div class="actions">
        <button type="button" class="small"
          onClick=${() => setModules([...modules, { ...EMPTY_MODULE,
            day: Number(modules.length ? modules[modules.length - 1].day : 0) + 1 }])}>Add module</button>
        ${modules.length > 1 && html`<button type="button" class="small"
          onClick=${() => setModules(modules.slice(0, -1))}>Remove last module</button>`}
      </div>
      <${ErrorText} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>Create program</button>
    </form>`;
}

function ProgramCard({ program, onChanged }) {
  const forms = useForms();
  const [open, setOpen] = useState(false);
  const [adding, setAdding] = useState(null);
  const [error, setError] = useState('');
  const [enrollments, , reload] = useLoad(open ? `/programs/${enc(program.id)}/enrollments` : null);

  async function addModule(e) {
    e.preventDefault();
    setError('');
    try {
      await post(`/programs/${enc(program.id)}/modules`, moduleBody(adding));
      setAdding(null);
      onChanged();
      reload();
    } catch (err) {
      setError(err.detail);
    }
  }

  return html`
    <article class="card program" aria-label=${program.title}>
      <div class="page-head">
        <div><h3>${program.title}</h3>
          <p class="muted">${program.modules.length} modules · ${program.enrolled} enrolled</p></div>
        <div class="actions">
          <button type="button" class="small" aria-expanded=${open ? 'true' : 'false'}
            onClick=${() => setOpen(!open)}>${open ? 'Hide' : 'Modules and progress'}</button>
        </div>
      </div>
      ${open && html`
        <ol class="module-list">${program.modules.map((m) => html`<li key=${m.id}>
          <span class="module-day">Day ${m.day}</span> <strong>${m.title}</strong>
          ${m.form_id && html` <span class="pill">form</span>`}
          ${m.task_title && html` <span class="pill">task: ${m.task_title}</span>`}
          <${RichText} markup=${m.html} />
          <${Attachments} files=${m.files} /></li>`)}</ol>
        ${adding ? html`<form onSubmit=${addModule}>
            <${ModuleFields} module=${adding} index=${program.modules.length} forms=${forms}
              idPrefix=${'add-' + program.id} onChange=${setAdding} />
            <${ErrorText} error=${error} />
            <div class="actions"><button type="submit" class="primary small">Add module</button>
              <button type="button" class="small" onClick=${() => setAdding(null)}>Cancel</button></div>
          </form>`
          : html`<button type="button" class="small" onClick=${() => setAdding({ ...EMPTY_MODULE })}>
              Add a module</button>`}
        <h4>Progress</h4>
        <${EnrolGroup} program=${program} onEnrolled=${() => { reload(); onChanged(); }} />
        ${enrollments && (enrollments.enrollments.length === 0
          ? html`<p class="muted">No one enrolled yet: enrol a group here, or a client from
              their profile.</p>`
          : enrollments.enrollments.map((en) => html`<${EnrollmentCard} key=${en.id}
              enrollment=${en} onChanged=${reload} />`))}`}
    </article>`;
}

/** Enrol every client of a group at once (POST /programs/{id}/enrollments {group_id});
 * those already enrolled are skipped and said so. */
function EnrolGroup({ program, onEnrolled }) {
  const [groups] = useLoad('/groups');
  const [groupId, setGroupId] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const list = groups ? groups.groups : [];
  if (!groups || list.length === 0) return null;
  const id = 'enrol-group-' + program.id;

  async function enrol(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    setNote('');
    try {
      const answer = await post(`/programs/${enc(program.id)}/enrollments`, { group_id: groupId });
      const n = answer.enrollments.length;
      const skipped = answer.skipped.length;
      setNote(`Enrolled ${n} ${n === 1 ? 'client' : 'clients'}`
        + (skipped ? ` (${skipped} already enrolled)` : '') + '.');
      onEnrolled();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <form class="inline-form" onSubmit=${enrol} aria-label=${'Enrol a group in ' + program.title}>
      <label for=${id}>Enrol a group</label>
      <select id=${id} value=${groupId} onChange=${(e) => setGroupId(e.target.value)}>
        <option value="">Choose a group…</option>
        ${list.map((g) => html`<option key=${g.id} value=${g.id}>${g.name}</option>`)}
      </select>
      <button type="submit" class="small" disabled=${busy || !groupId}>Enrol group</button>
      ${note && html`<p class="success" role="status">${note}</p>`}
      <${ErrorText} error=${error} />
    </form>`;
}

function Programs() {
  const [data, error, reload] = useLoad('/programs');
  return html`
    <section aria-labelledby="lib-programs">
      <h2 id="lib-programs">Programs</h2>
      <${ErrorText} error=${error} />
      <div class="columns">
        <div>${data && (data.programs.length === 0 ? html`<p class="muted">No programs yet.</p>`
          : data.programs.map((p) => html`<${ProgramCard} key=${p.id} program=${p} onChanged=${reload} />`))}
        </div>
        <${NewProgram} onCreated=${reload} />
      </div>
    </section>`;
}

export function LibraryView() {
  useEffect(() => {
    document.title = 'Library · Carethread';
  }, []);
  return html`
    <section class="page library" aria-labelledby="library-heading">
      <h1 id="library-heading">Library</h1>
      <p class="muted">Templates and programs of the practice, to use with any client.</p>
      <${Programs} />
      <div class="profile-grid">
        <${TaskTemplates} />
        <${PlanTemplates} />
      </div>
    </section>`;
}
