// Staff screens for forms: the list (with FHIR import) and the builder (questions of every
// type, options with scores, required flags, "show when" conditions, order, versions).
import { ApiError, get, patch, post } from '../api.js';
import {
  CHOICE_TYPES, CONDITION_TYPES, ITEM_TYPES, OPTION_TYPES, TYPE_LABELS, flatItems,
  isComputed, itemErrorText, needsFhir, operatorsFor, visibleIds,
} from '../formlogic.js';
import { html, useEffect, useRef, useState } from '../lib.js';
import { navigate } from '../router.js';
import { Computed, Question, QuestionTree } from './form-fill.js';
import { ErrorText } from './forms.js';

const MAX_IMPORT_BYTES = 1024 * 1024;

/** The tabs over the forms screens: the forms themselves, and the requests made of them. */
export function FormsTabs({ current }) {
  return html`
    <nav class="tabs" aria-label="Forms sections">
      <a href="#/forms" aria-current=${current === 'forms' ? 'page' : undefined}>Forms</a>
      <a href="#/form-requests" aria-current=${current === 'requests' ? 'page' : undefined}>
        Requests</a>
    </nav>`;
}

function ImportFhir({ onImported }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const input = useRef(null);

  async function pick(e) {
    const file = e.currentTarget.files && e.currentTarget.files[0];
    setError('');
    if (!file) return;
    setBusy(true);
    try {
      if (file.size > MAX_IMPORT_BYTES) {
        throw new ApiError(413, { detail: 'That file is over 1 MB: a Questionnaire is smaller.' });
      }
      let resource;
      try {
        resource = JSON.parse(await file.text());
      } catch {
        throw new ApiError(400, { detail: 'That file is not JSON. Choose a FHIR Questionnaire '
          + 'saved as a .json file.' });
      }
      const { form } = await post('/forms/import-fhir', resource);
      onImported(form);
    } catch (err) {
      setError(err.code === 'fhir_invalid'
        ? 'That file is not a FHIR Questionnaire (its resourceType must be “Questionnaire”).'
        : itemErrorText(err.detail));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  }

  return html`
    <div class="card import-card">
      <h2 id="import-heading">Import</h2>
      <div class="field">
        <label for="fhir-file">Import a FHIR Questionnaire (JSON file)</label>
        <input id="fhir-file" ref=${input} type="file" accept=".json,application/json,application/fhir+json"
          disabled=${busy} onChange=${pick} aria-describedby="fhir-help" />
        <p class="hint" id="fhir-help">A FHIR R4 Questionnaire, such as the PHQ-9 or GAD-7 from
          LOINC. It becomes a new form you can edit.</p>
      </div>
      ${busy && html`<p class="muted" role="status">Importing…</p>`}
      <${ErrorText} error=${error} />
    </div>`;
}

export function FormsView() {
  const [forms, setForms] = useState(null);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');

  const load = () => get('/forms').then((r) => setForms(r.forms));
  useEffect(() => {
    document.title = 'Forms · Carethread';
    load().catch((err) => setError(err.detail));
  }, []);

  return html`
    <section class="page" aria-labelledby="forms-heading">
      <div class="page-head">
        <h1 id="forms-heading">Forms</h1>
        <a class="button primary" href="#/forms/new">New form</a>
      </div>
      <${FormsTabs} current="forms" />
      ${note && html`<p class="success" role="status">${note}</p>`}
      <${ErrorText} error=${error} />
      <div class="columns">
        <div>
          ${forms === null ? html`<p class="muted">Loading forms…</p>`
            : forms.length === 0
              ? html`<p class="muted">No forms yet. Build one with “New form”, or import a FHIR
                  Questionnaire.</p>`
              : html`<ul class="client-list" aria-label="Forms">
                  ${forms.map((f) => html`
                    <li key=${f.id}>
                      <a class="client-row" href=${'#/forms/' + encodeURIComponent(f.id)}>
                        <span class="client-main">
                          <span class="client-name form-title">${f.title}</span>
                          ${f.description && html`<span class="muted small clamp">
                            ${f.description}</span>`}
                        </span>
                        <span class="client-side">
                          <span class="pill">Version ${f.version}</span>
                          ${f.archived && html`<span class="pill state-none">Archived</span>`}
                        </span>
                      </a>
                    </li>`)}
                </ul>`}
        </div>
        <div class="side">
          <${ImportFhir} onImported=${async (form) => {
            const asked = flatItems(form.items).filter((i) => !['heading', 'group']
              .includes(i.type) && !i.calculated && !i.hidden).length;
            setNote(`Imported “${form.title}” with ${asked} ${
              asked === 1 ? 'question' : 'questions'}.`);
            await load().catch(() => {});
          }} />
        </div>
      </div>
    </section>`;
}

// ---- the builder -------------------------------------------------------------------------

let keys = 0;
const nextKey = () => `k${(keys += 1)}`;

function blankOption() {
  return { key: nextKey(), value: null, label: '', score: '' };
}

function freshId(items) {
  const used = new Set(items.map((i) => i.id));
  let n = items.length + 1;
  while (used.has(`q${n}`)) n += 1;
  return `q${n}`;
}

function blankItem(type, items) {
  return {
    key: nextKey(), id: freshId(items), type, text: '', required: false,
    options: OPTION_TYPES.has(type) ? [blankOption(), blankOption()] : [],
    min: type === 'scale' ? '0' : '', max: type === 'scale' ? '10' : '', extra: {}, cond: null,
  };
}

/** A stored form -> the builder's state (conditions point at items by their local key). */
function fromForm(form) {
  const byId = new Map();
  const items = form.items.map((it) => {
    const item = {
      key: nextKey(), id: it.id, type: it.type, text: it.text, required: Boolean(it.required),
      options: (it.options || []).map((o) => ({
        key: nextKey(), value: o.value, label: o.label || o.value, system: o.system,
        score: o.score === undefined || o.score === null ? '' : String(o.score),
      })),
      min: it.min === undefined || it.min === null ? '' : String(it.min),
      max: it.max === undefined || it.max === null ? '' : String(it.max),
      extra: {
        code: it.code, max_length: it.max_length, item_control: it.item_control,
        integer: it.integer, repeats: it.repeats,
      },
      unit: it.unit ? it.unit.code : '', unitSource: it.unit, cond: null, source: it,
      fixed: isComputed(it) ? it : null,
    };
    byId.set(it.id, item);
    return item;
  });
  for (const item of items) {
    const only = item.source.enable_when && item.source.enable_when.length === 1
      ? item.source.enable_when[0] : null;
    const when = item.source.show_when
      || (only && { question: only.question, op: only.operator, equals: only.answer });
    delete item.source;
    if (!when || !byId.has(when.question)) continue;
    const on = byId.get(when.question);
    const op = when.op || '=';
    let equals = op === 'exists' ? '' : when.equals;
    if (CHOICE_TYPES.has(on.type) && op !== 'exists') {
      const option = on.options.find((o) => o.value === when.equals);
      equals = option ? option.key : '';
    }
    item.cond = { on: on.key, op, equals };
  }
  return {
    title: form.title, description: form.description || '', items,
  };
}

function optionValue(option) {
  return option.value !== null && option.value !== undefined ? option.value : option.label.trim();
}

/** The builder's state -> items for the API, and what must be fixed first. */
function toItems(items) {
  const problems = [];
  const out = items.map((item, index) => {
    const n = index + 1;
    const where = `Question ${n}`;
    if (item.fixed) return item.fixed; // calculated or hidden: kept exactly as imported
    const it = { id: item.id, type: item.type, text: item.text.trim(), required: item.required };
    if (!it.text) problems.push(`${where} needs its text.`);
    if (item.type === 'heading') it.required = false;
    if (OPTION_TYPES.has(item.type)) {
      const options = item.options.filter((o) => o.label.trim() || o.value);
      if (!options.length) problems.push(`${where} needs at least one option.`);
      const values = options.map(optionValue);
      if (new Set(values).size !== values.length) problems.push(`${where} has two options with the same label.`);
      it.options = options.map((o) => {
        const option = { value: optionValue(o), label: o.label.trim() || optionValue(o) };
        if (o.system) option.system = o.system; // a code's system (imported), kept as is
        if (String(o.score).trim() !== '') {
          const score = Number(o.score);
          if (!Number.isFinite(score)) problems.push(`${where}: a score must be a number.`);
          option.score = score;
        }
        return option;
      });
    }
    if (item.type === 'number' || item.type === 'scale') {
      for (const bound of ['min', 'max']) {
        const text = String(item[bound]).trim();
        if (text === '') continue;
        const value = Number(text);
        if (!Number.isFinite(value)) problems.push(`${where}: ${bound === 'min' ? 'the lowest' : 'the highest'} value must be a number.`);
        it[bound] = value;
      }
      if (item.type === 'scale') {
        if (it.min === undefined || it.max === undefined) problems.push(`${where}: a scale needs its lowest and highest values.`);
        else if (!Number.isInteger(it.min) || !Number.isInteger(it.max)) problems.push(`${where}: a scale goes from one whole number to another.`);
      }
      if (it.min !== undefined && it.max !== undefined && it.min > it.max) problems.push(`${where}: the lowest value is above the highest.`);
    }
    if ((item.type === 'short_text' || item.type === 'long_text') && item.extra.max_length) {
      it.max_length = item.extra.max_length;
    }
    if (item.extra.code) it.code = item.extra.code;
    if (item.extra.item_control) it.item_control = item.extra.item_control;
    if (item.type === 'number' && item.extra.integer) it.integer = true;
    if (item.type === 'open_choice' && item.extra.repeats) it.repeats = true;
    if (item.type === 'number' && String(item.unit || '').trim()) {
      const code = String(item.unit).trim();
      it.unit = item.unitSource && item.unitSource.code === code ? item.unitSource : { code };
    }
    if (item.cond) {
      const at = items.findIndex((x) => x.key === item.cond.on);
      const on = items[at];
      if (!on || at >= index) {
        problems.push(`${where}: its condition must name a question above it.`);
      } else if (!CONDITION_TYPES.has(on.type)) {
        problems.push(`${where}: a condition cannot depend on a ${TYPE_LABELS[on.type].toLowerCase()} question.`);
      } else {
        let equals = item.cond.equals;
        if (CHOICE_TYPES.has(on.type)) {
          const option = on.options.find((o) => o.key === equals);
          equals = option ? optionValue(option) : undefined;
        } else if (on.type === 'number' || on.type === 'scale') {
          equals = String(equals).trim() === '' ? undefined : Number(equals);
          if (equals !== undefined && !Number.isFinite(equals)) equals = undefined;
        } else if (on.type === 'yes_no') {
          if (typeof equals !== 'boolean') equals = undefined;
        } else {
          equals = String(equals === undefined || equals === null ? '' : equals) || undefined;
        }
        const op = item.cond.op || '=';
        if (op === 'exists') {
          it.enable_when = [{ question: on.id, operator: 'exists', answer: true }];
        } else if (equals === undefined) {
          problems.push(`${where}: choose the answer that shows it.`);
        } else if (op === '=') {
          it.show_when = { question: on.id, equals };
        } else {
          it.enable_when = [{ question: on.id, operator: op, answer: equals }];
        }
      }
    }
    return it;
  });
  if (!items.length) problems.push('Add at least one question.');
  return { items: out, problems };
}

function Bound({ id, label, value, onInput, hint }) {
  return html`
    <div class="field">
      <label for=${id}>${label}</label>
      <input id=${id} type="number" inputmode="decimal" step="any" value=${value}
        onInput=${(e) => onInput(e.currentTarget.value)} />
      ${hint && html`<p class="hint">${hint}</p>`}
    </div>`;
}

function OptionsEditor({ item, n, update }) {
  const setOption = (key, change) => update({
    options: item.options.map((o) => (o.key === key ? { ...o, ...change } : o)),
  });
  return html`
    <fieldset class="options-edit">
      <legend>Options</legend>
      <ol>
        ${item.options.map((o, i) => html`
          <li key=${o.key} class="option-row">
            <div class="field grow">
              <label for=${`${o.key}-label`}>Option ${i + 1}</label>
              <input id=${`${o.key}-label`} value=${o.label} maxLength="500" autocomplete="off"
                onInput=${(e) => setOption(o.key, { label: e.currentTarget.value })} />
            </div>
            <div class="field score">
              <label for=${`${o.key}-score`}>Score</label>
              <input id=${`${o.key}-score`} type="number" step="any" inputmode="decimal"
                value=${o.score} aria-label=${`Score of option ${i + 1} (optional)`}
                onInput=${(e) => setOption(o.key, { score: e.currentTarget.value })} />
            </div>
            <button type="button" class="small quiet" disabled=${item.options.length < 2}
              aria-label=${`Remove option ${i + 1} of question ${n}`}
              onClick=${() => update({ options: item.options.filter((x) => x.key !== o.key) })}>
              Remove</button>
          </li>`)}
      </ol>
      <button type="button" class="small" onClick=${() => update({
        options: [...item.options, blankOption()] })}
        aria-label=${`Add an option to question ${n}`}>Add option</button>
      <p class="hint">Scores are optional: the form’s score adds up the scores of the chosen
        options (and the values of scales).</p>
    </fieldset>`;
}

function ConditionEditor({ item, index, items, update }) {
  const earlier = items.slice(0, index).filter((x) => CONDITION_TYPES.has(x.type));
  const on = item.cond && items.find((x) => x.key === item.cond.on);
  const id = item.key;
  const setOn = (key) => {
    const target = items.find((x) => x.key === key);
    let equals = '';
    if (target && target.type === 'yes_no') equals = true;
    if (target && CHOICE_TYPES.has(target.type) && target.options[0]) equals = target.options[0].key;
    update({ cond: { on: key, op: '=', equals } });
  };
  const op = (item.cond && item.cond.op) || '=';
  const operators = on ? operatorsFor(on.type) : [];
  let valueControl = null;
  if (on && op !== 'exists') {
    const set = (equals) => update({ cond: { ...item.cond, equals } });
    const label = html`<label for=${`${id}-equals`}>${op === '='
      ? 'Has the answer' : 'Compared with'}</label>`;
    if (on.type === 'yes_no') {
      const current = item.cond.equals === true ? 'yes' : item.cond.equals === false ? 'no' : '';
      valueControl = html`<div class="field">${label}
        <select id=${`${id}-equals`} value=${current}
          onChange=${(e) => set(e.currentTarget.value === '' ? ''
            : e.currentTarget.value === 'yes')}>
          ${current === '' && html`<option value="">Choose…</option>`}
          <option value="yes">Yes</option><option value="no">No</option>
        </select></div>`;
    } else if (CHOICE_TYPES.has(on.type)) {
      valueControl = html`<div class="field">${label}
        <select id=${`${id}-equals`} value=${item.cond.equals}
          onChange=${(e) => set(e.currentTarget.value)}>
          <option value="">Choose…</option>
          ${on.options.map((o, i) => html`<option key=${o.key} value=${o.key}>
            ${o.label.trim() || `Option ${i + 1}`}</option>`)}
        </select></div>`;
    } else if (on.type === 'number' || on.type === 'scale') {
      valueControl = html`<div class="field">${label}
        <input id=${`${id}-equals`} type="number" step="any" value=${item.cond.equals}
          onInput=${(e) => set(e.currentTarget.value)} /></div>`;
    } else {
      valueControl = html`<div class="field">${label}
        <input id=${`${id}-equals`} type=${on.type === 'date' ? 'date' : 'text'}
          value=${item.cond.equals} autocomplete="off"
          onInput=${(e) => set(e.currentTarget.value)} /></div>`;
    }
  }
  return html`
    <div class="condition">
      <div class="check">
        <input type="checkbox" id=${`${id}-cond`} checked=${Boolean(item.cond)}
          disabled=${!item.cond && earlier.length === 0}
          onChange=${(e) => (e.currentTarget.checked
            ? setOn(earlier.length ? earlier[earlier.length - 1].key : '')
            : update({ cond: null }))} />
        <label for=${`${id}-cond`}>Only show when an earlier question has a given answer</label>
      </div>
      ${!item.cond && earlier.length === 0 && index > 0 && html`<p class="hint">A condition
        needs an earlier question (not a heading or a consent).</p>`}
      ${item.cond && html`
        <div class="condition-fields">
          <div class="field">
            <label for=${`${id}-on`}>Show when</label>
            <select id=${`${id}-on`} value=${item.cond.on}
              onChange=${(e) => setOn(e.currentTarget.value)}>
              ${!on && html`<option value="">Choose a question…</option>`}
              ${on && !earlier.includes(on) && html`<option value=${on.key}>
                ${items.indexOf(on) + 1}. ${on.text.trim() || TYPE_LABELS[on.type]}
                (not above this one)</option>`}
              ${earlier.map((x) => html`<option key=${x.key} value=${x.key}>
                ${items.indexOf(x) + 1}. ${x.text.trim() || TYPE_LABELS[x.type]}</option>`)}
            </select>
          </div>
          ${on && html`<div class="field">
            <label for=${`${id}-op`}>Comparison</label>
            <select id=${`${id}-op`} value=${op}
              onChange=${(e) => update({ cond: { ...item.cond, op: e.currentTarget.value } })}>
              ${operators.map(([value, text]) => html`<option key=${value} value=${value}>
                ${text}</option>`)}
            </select>
          </div>`}
          ${valueControl}
        </div>`}
    </div>`;
}

/** Move up / Move down / Remove, for a question of the builder. */
function RowActions({ id, n, first, last, move, remove }) {
  return html`
    <div class="row-actions">
      <button type="button" class="small" id=${`${id}-up`} disabled=${first}
        aria-label=${`Move question ${n} up`} onClick=${() => move(-1)}>Move up</button>
      <button type="button" class="small" id=${`${id}-down`} disabled=${last}
        aria-label=${`Move question ${n} down`} onClick=${() => move(1)}>Move down</button>
      <button type="button" class="small quiet" aria-label=${`Remove question ${n}`}
        onClick=${remove}>Remove</button>
    </div>`;
}

function ItemEditor({ item, index, items, update, move, remove, focusText }) {
  const n = index + 1;
  const id = item.key;
  const text = useRef(null);
  useEffect(() => {
    if (focusText && text.current) text.current.focus();
  }, [focusText]);
  const heading = item.type === 'heading';
  if (item.fixed) {
    return html`
      <li class="q-edit is-fixed" data-item-id=${item.id}>
        <fieldset>
          <legend>Question ${n}</legend>
          <p><strong>${item.text}</strong></p>
          <p class="hint">${item.fixed.calculated
            ? html`Worked out by the form from the answers: <code>${
              item.fixed.calculated.expression}</code>.`
            : 'Hidden from the client.'} It is kept as imported; the builder does not edit
            it.</p>
          <${RowActions} id=${id} n=${n} first=${index === 0}
            last=${index === items.length - 1} move=${move} remove=${remove} />
        </fieldset>
      </li>`;
  }
  return html`
    <li class=${'q-edit' + (heading ? ' is-heading' : '')} data-item-id=${item.id}>
      <fieldset>
        <legend>Question ${n}</legend>
        <div class="q-top">
          <div class="field">
            <label for=${`${id}-type`}>Type</label>
            <select id=${`${id}-type`} value=${item.type} onChange=${(e) => {
              const type = e.currentTarget.value;
              const change = { type };
              if (OPTION_TYPES.has(type) && !item.options.length) {
                change.options = [blankOption(), blankOption()];
              }
              if (type === 'scale' && item.min === '' && item.max === '') {
                change.min = '0';
                change.max = '10';
              }
              update(change);
            }}>
              ${ITEM_TYPES.map(([value, label]) => html`<option key=${value} value=${value}>
                ${label}</option>`)}
            </select>
          </div>
          ${!heading && html`<div class="check">
            <input type="checkbox" id=${`${id}-required`} checked=${item.required}
              onChange=${(e) => update({ required: e.currentTarget.checked })} />
            <label for=${`${id}-required`}>Required</label>
          </div>`}
        </div>
        <div class="field">
          <label for=${`${id}-text`}>${heading ? 'Heading text' : 'Question text'}</label>
          <textarea id=${`${id}-text`} ref=${text} rows="2" maxLength="2000" value=${item.text}
            onInput=${(e) => update({ text: e.currentTarget.value })}></textarea>
        </div>
        ${OPTION_TYPES.has(item.type) && html`<${OptionsEditor} item=${item} n=${n}
          update=${update} />`}
        ${item.type === 'open_choice' && html`<p class="hint">The client may also type their own
          answer under “Other”.</p>`}
        ${item.type === 'attachment' && html`<p class="hint">The client attaches one file (a
          photo, a PDF); their care team can download it with the answers.</p>`}
        ${item.type === 'number' && html`<div class="pair">
          <${Bound} id=${`${id}-min`} label="Lowest allowed (optional)" value=${item.min}
            onInput=${(min) => update({ min })} />
          <${Bound} id=${`${id}-max`} label="Highest allowed (optional)" value=${item.max}
            onInput=${(max) => update({ max })} />
        </div>
        <div class="field">
          <label for=${`${id}-unit`}>Unit (optional, a UCUM code such as kg or cm)</label>
          <input id=${`${id}-unit`} value=${item.unit || ''} maxLength="50" autocomplete="off"
            onInput=${(e) => update({ unit: e.currentTarget.value })} />
        </div>`}
        ${item.type === 'scale' && html`<div class="pair">
          <${Bound} id=${`${id}-min`} label="Lowest value" value=${item.min}
            onInput=${(min) => update({ min })} />
          <${Bound} id=${`${id}-max`} label="Highest value" value=${item.max}
            onInput=${(max) => update({ max })} />
        </div>`}
        ${item.type === 'consent' && html`<p class="hint">The client ticks “I agree” and types
          their full name.</p>`}
        ${heading && html`<p class="hint">A section title or a note: never answered.</p>`}
        ${index > 0 && html`<${ConditionEditor} item=${item} index=${index} items=${items}
          update=${update} />`}
        <${RowActions} id=${id} n=${n} first=${index === 0}
          last=${index === items.length - 1} move=${move} remove=${remove} />
      </fieldset>
    </li>`;
}

/** An imported form's questions as a nested list: type, unit, condition, calculation. */
function Outline({ items }) {
  return html`<ol class="outline">${items.map((item) => html`<li key=${item.id}
    data-item-id=${item.id}>
    <span>${item.text || TYPE_LABELS[item.type]}</span>
    <span class="muted small"> · ${TYPE_LABELS[item.type] || item.type}${item.unit
      ? ` (${item.unit.code})` : ''}${item.calculated ? ' · calculated' : ''}${item.hidden
      ? ' · hidden' : ''}${item.enable_when || item.show_when ? ' · conditional' : ''}</span>
    ${item.type === 'group' && html`<${Outline} items=${item.items} />`}
  </li>`)}</ol>`;
}

/** The form as the client will see it, from the questions being edited (answers here go
 * nowhere). */
function Preview({ draft, fixed }) {
  const [values, setValues] = useState({});
  if (fixed) {
    const all = flatItems(fixed);
    return html`
      <section class="card preview" aria-labelledby="preview-heading">
        <p class="muted small" id="preview-heading">Preview: what the client will see
          (calculated values appear as they answer)</p>
        <div class="fill">
          <h2 class="preview-title">${draft.title || 'Untitled form'}</h2>
          ${draft.description && html`<p class="description">${draft.description}</p>`}
        </div>
        <div class="fill questions"><${QuestionTree} items=${fixed} all=${all}
          shown=${visibleIds(fixed, values)} values=${values} calculated=${{}} errors=${{}}
          change=${(item, v) => setValues({ ...values, [item.id]: v })} /></div>
        <button type="button" class="primary preview-submit" disabled>Submit</button>
      </section>`;
  }
  const built = toItems(draft.items).items;
  const shown = visibleIds(built, values);
  return html`
    <section class="card preview" aria-labelledby="preview-heading">
      <p class="muted small" id="preview-heading">Preview: what the client will see</p>
      <div class="fill">
        <h2 class="preview-title">${draft.title || 'Untitled form'}</h2>
        ${draft.description && html`<p class="description">${draft.description}</p>`}
      </div>
      ${built.length === 0 ? html`<p class="muted">No questions yet.</p>`
        : html`<div class="fill questions">${built.map((item, index) => shown.has(item.id)
          && (isComputed(item) ? html`<${Computed} key=${item.id} item=${item} />`
          : html`<${Question} key=${item.id} item=${item} index=${'preview-' + index}
            value=${values[item.id]} error=${null}
            onChange=${(v) => setValues({ ...values, [item.id]: v })} />`))}</div>`}
      <button type="button" class="primary preview-submit" disabled>Submit</button>
    </section>`;
}

export function FormBuilderView({ formId }) {
  const [form, setForm] = useState(null); // as stored (null while new or loading)
  const [draft, setDraft] = useState(formId ? null : { title: '', description: '', items: [] });
  const [newType, setNewType] = useState('short_text');
  const [focusKey, setFocusKey] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [problems, setProblems] = useState([]);
  const [done, setDone] = useState('');
  const [previewing, setPreviewing] = useState(false);
  const moved = useRef(null);
  const problemsRef = useRef(null);

  useEffect(() => {
    document.title = (formId ? 'Edit form' : 'New form') + ' · Carethread';
    if (!formId) return;
    get('/forms/' + encodeURIComponent(formId))
      .then((r) => {
        setForm(r.form);
        setDraft(fromForm(r.form));
      })
      .catch((err) => setError(err.status === 404 ? 'This form does not exist.' : err.detail));
  }, [formId]);

  useEffect(() => {
    // Keep the keyboard on the button that moved its question.
    if (!moved.current) return;
    const { key, dir } = moved.current;
    moved.current = null;
    const button = document.getElementById(`${key}-${dir < 0 ? 'up' : 'down'}`);
    const other = document.getElementById(`${key}-${dir < 0 ? 'down' : 'up'}`);
    if (button && !button.disabled) button.focus();
    else if (other) other.focus();
  });

  if (!draft) {
    return html`<section class="page"><p><a href="#/forms">Forms</a></p>
      ${error ? html`<p class="error" role="alert">${error}</p>`
        : html`<p class="muted">Loading…</p>`}</section>`;
  }

  const items = draft.items;
  // Imported with groups, conditions or calculations the builder cannot edit: its questions
  // stay as they are (edit the Questionnaire and import it again).
  const locked = Boolean(form && (needsFhir(form.items)
    || (form.variables && form.variables.length)));
  const setItems = (next) => {
    setDraft({ ...draft, items: next });
    setDone('');
  };
  const updateItem = (key, change) => setItems(items.map((x) => (x.key === key ? { ...x, ...change } : x)));

  function add() {
    const item = blankItem(newType, items);
    setItems([...items, item]);
    setFocusKey(item.key);
  }

  function move(index, dir) {
    const to = index + dir;
    if (to < 0 || to >= items.length) return;
    const next = [...items];
    [next[index], next[to]] = [next[to], next[index]];
    moved.current = { key: items[index].key, dir };
    setItems(next);
  }

  function remove(index) {
    const gone = items[index];
    setItems(items.filter((_, i) => i !== index)
      .map((x) => (x.cond && x.cond.on === gone.key ? { ...x, cond: null } : x)));
  }

  async function save(e) {
    e.preventDefault();
    setError('');
    setDone('');
    const built = locked ? { items: [], problems: [] } : toItems(items);
    const found = [...built.problems];
    if (!draft.title.trim()) found.unshift('The form needs a title.');
    setProblems(found);
    if (found.length) {
      requestAnimationFrame(() => problemsRef.current && problemsRef.current.focus());
      return;
    }
    setBusy(true);
    try {
      if (!form) {
        const { form: saved } = await post('/forms', {
          title: draft.title, description: draft.description, items: built.items,
        });
        navigate('#/forms/' + encodeURIComponent(saved.id), { replace: true });
        return;
      }
      const body = {};
      if (draft.title !== form.title) body.title = draft.title;
      if (draft.description !== (form.description || '')) body.description = draft.description;
      const before = locked ? '' : JSON.stringify(toItems(fromForm(form).items).items);
      const itemsChanged = !locked && JSON.stringify(built.items) !== before;
      if (itemsChanged) body.items = built.items;
      if (!Object.keys(body).length) {
        setDone('Nothing changed.');
        return;
      }
      const { form: saved } = await patch('/forms/' + encodeURIComponent(form.id), body);
      setForm(saved);
      setDraft(fromForm(saved));
      setDone(itemsChanged
        ? `Saved as version ${saved.version}. New requests use it; requests already made keep `
          + 'the version they were made with.'
        : 'Saved.');
    } catch (err) {
      setError(itemErrorText(err.detail));
    } finally {
      setBusy(false);
    }
  }

  async function archive(archived) {
    setBusy(true);
    setError('');
    try {
      const { form: saved } = await patch('/forms/' + encodeURIComponent(form.id), { archived });
      setForm(saved);
      setDone(archived ? 'Archived: it can no longer be requested.' : 'It can be requested again.');
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }

  return html`
    <section class="page narrow builder" aria-labelledby="builder-heading">
      <p><a href="#/forms">Forms</a></p>
      <div class="page-head">
        <div>
          <h1 id="builder-heading">${form ? 'Edit form' : 'New form'}</h1>
          ${form && html`<p class="muted">Version ${form.version}${form.archived
            ? ' · Archived' : ''}</p>`}
        </div>
        <div class="actions">
          <button type="button" class="small preview-toggle" aria-pressed=${previewing}
            onClick=${() => setPreviewing(!previewing)}>
            ${previewing ? 'Back to editing' : 'Preview'}</button>
        ${form && html`
          <a class="button small" href=${`/api/v1/forms/${encodeURIComponent(form.id)}/fhir`}
            download=${`questionnaire-${form.id}.json`}>Download as FHIR Questionnaire</a>
          <button type="button" class="small" disabled=${busy}
            onClick=${() => archive(!form.archived)}>${form.archived ? 'Unarchive' : 'Archive'}</button>`}
        </div>
      </div>
      ${previewing && html`<${Preview} draft=${draft} fixed=${locked ? form.items : null} />`}
      <form onSubmit=${save} novalidate hidden=${previewing}>
        <div class="field">
          <label for="form-title">Title</label>
          <input id="form-title" value=${draft.title} maxLength="200" autocomplete="off"
            onInput=${(e) => { setDraft({ ...draft, title: e.currentTarget.value }); setDone(''); }} />
        </div>
        <div class="field">
          <label for="form-description">Description (optional)</label>
          <textarea id="form-description" rows="2" maxLength="4000" value=${draft.description}
            onInput=${(e) => { setDraft({ ...draft, description: e.currentTarget.value }); setDone(''); }}>
          </textarea>
        </div>
        <h2>Questions</h2>
        ${locked && html`<div class="card sdc-note" role="note">
          <p>This form has groups, calculated items or conditions imported from a FHIR
            Questionnaire, which this builder cannot edit. Its title and description can be
            changed here; to change its questions, download it as FHIR, edit it, and import it
            again.</p>
          <${Outline} items=${form.items} />
        </div>`}
        ${form && !locked && html`<p class="hint">Saving changed questions makes a new
          version; requests already made keep theirs.</p>`}
        ${items.length === 0 && html`<p class="muted">No questions yet.</p>`}
        ${!locked && html`<ol class="q-list" aria-label="Questions">
          ${items.map((item, index) => html`<${ItemEditor} key=${item.key} item=${item}
            index=${index} items=${items} focusText=${focusKey === item.key}
            update=${(change) => updateItem(item.key, change)}
            move=${(dir) => move(index, dir)} remove=${() => remove(index)} />`)}
        </ol>`}
        ${!locked && html`<div class="add-question">
          <div class="field">
            <label for="new-question-type">New question type</label>
            <select id="new-question-type" value=${newType}
              onChange=${(e) => setNewType(e.currentTarget.value)}>
              ${ITEM_TYPES.map(([value, label]) => html`<option key=${value} value=${value}>
                ${label}</option>`)}
            </select>
          </div>
          <button type="button" onClick=${add}>Add question</button>
        </div>`}
        ${problems.length > 0 && html`
          <div class="error" role="alert" tabindex="-1" ref=${problemsRef}>
            <p>Fix these first:</p>
            <ul class="bullets">${problems.map((p) => html`<li>${p}</li>`)}</ul>
          </div>`}
        <${ErrorText} error=${error} />
        ${done && html`<p class="success" role="status">${done}</p>`}
        <div class="save-row">
          <button type="submit" class="primary" disabled=${busy}>
            ${form ? 'Save form' : 'Create form'}</button>
          ${form && html`<a class="button" href=${'#/form-requests?form=' + encodeURIComponent(form.id)}>
            See requests</a>`}
        </div>
      </form>
    </section>`;
}
