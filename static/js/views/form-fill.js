// The client fills in a form requested in their care chat: every question type with labelled
// controls, conditional questions shown and hidden as they answer, a draft saved as they go,
// field-level errors from the server, and a thank-you. Also the answers, read back. Groups
// nest; calculated items (a BMI, a total score) show the server's value as the client types.
import { get, post, put } from '../api.js';
import { fileUrl, humanSize, uploadFile } from '../files.js';
import {
  answerText, answersToSend, flatItems, formState, isComputed, isEmpty, points, visibleIds,
} from '../formlogic.js';
import { html, useEffect, useRef, useState } from '../lib.js';
import { useStore } from '../store.js';
import { clockTime, dateOnly } from '../util.js';

const DRAFT_DELAY_MS = 700;
const CALC_DELAY_MS = 250;
const SCALE_AS_BUTTONS = 11; // a scale of at most this many points shows one button each

/** Answers, question by question (headings and groups as section titles); scores of chosen
 * options. Calculated values are among the answers; hidden ones show to the team only. */
export function AnswerList({ items, answers, showScores = false }) {
  let n = 0;
  const { enabled: asked } = formState(items, answers || {}, answers || {});
  const row = (item) => {
    if (item.hidden && !showScores) return null;
    if (item.type === 'heading') {
      return html`<h3 key=${item.id} class="answer-heading">${item.text}</h3>`;
    }
    if (item.type === 'group') {
      return html`<section key=${item.id} class="answer-group" data-group=${item.id}>
        ${item.text && html`<h3 class="answer-heading">${item.text}</h3>`}
        ${item.items.map(row)}</section>`;
    }
    n += 1;
    const value = answers ? answers[item.id] : undefined;
    let scoreNote = '';
    if (showScores && !isEmpty(value) && item.options) {
      const chosen = Array.isArray(value) ? value : [value];
      const scored = item.options.filter((o) => chosen.includes(o.value)
        && o.score !== undefined && o.score !== null);
      if (scored.length) scoreNote = points(scored.reduce((sum, o) => sum + o.score, 0));
    }
    return html`
      <div key=${item.id} class="answer" data-question=${item.id}>
        <p class="answer-q"><span class="muted">${n}.</span> ${item.text}</p>
        ${isEmpty(value)
          ? html`<p class="answer-a muted">${asked.has(item.id) ? 'No answer'
            : 'Not asked (its condition was not met)'}</p>`
          : html`<p class="answer-a">${answerText(item, value)}${scoreNote
            && html` <span class="muted small">(${scoreNote})</span>`}${item.calculated
            && html` <span class="muted small">(calculated)</span>`}</p>`}
      </div>`;
  };
  return html`<div class="answer-list">${items.map(row)}</div>`;
}

/** What a control holds for a stored answer (numbers are edited as text). */
function toControl(item, value) {
  if (value === undefined || value === null) return undefined;
  if (item.type === 'number') return String(value);
  if (item.type === 'datetime') return String(value).slice(0, 16); // the local control's part
  if (item.type === 'time') return String(value).slice(0, 5);
  return value;
}

function Label({ item, forId }) {
  return html`<label for=${forId} class="q-label">${item.text}${item.required
    && html` <span class="req">(required)</span>`}</label>`;
}

function Legend({ item }) {
  return html`<legend class="q-label">${item.text}${item.required
    && html` <span class="req">(required)</span>`}</legend>`;
}

function rangeHint(item) {
  const has = (x) => x !== undefined && x !== null;
  if (has(item.min) && has(item.max)) return `From ${item.min} to ${item.max}.`;
  if (has(item.min)) return `At least ${item.min}.`;
  if (has(item.max)) return `At most ${item.max}.`;
  return '';
}

/** Characters used of a text answer's limit: shown once it matters, an error past it (the
 * browser's maxlength would cut a long paste silently). */
function LengthLine({ id, value, max }) {
  const used = [...String(value || '')].length;
  if (!max || used < max * 0.8) return null;
  const over = used > max;
  return html`<p class=${'hint counter' + (over ? ' over' : '')} id=${id} aria-live="polite">
    ${over ? `${used - max} characters over the limit of ${max}: shorten the answer.`
      : `${used} of ${max} characters`}</p>`;
}

export function Question({ item, index, value, error, onChange }) {
  const id = `fq-${index}`;
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const invalid = error ? 'true' : undefined;
  const errorLine = error && html`<p class="field-error" id=${errId}>${error}</p>`;
  const describe = (hint) => [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ')
    || undefined;
  const wrap = (body) => html`<div class="q" data-question=${item.id}
    data-type=${item.type} data-invalid=${invalid}>${body}</div>`;

  switch (item.type) {
    case 'heading':
      return html`<h2 class="q-heading" data-question=${item.id}>${item.text}</h2>`;
    case 'datetime':
    case 'time':
      return wrap(html`
        <${Label} item=${item} forId=${id} />
        <input id=${id} type=${item.type === 'time' ? 'time' : 'datetime-local'}
          value=${value || ''} aria-required=${item.required ? 'true' : undefined}
          aria-invalid=${invalid} aria-describedby=${describe(false)}
          onInput=${(e) => onChange(e.currentTarget.value)} />
        ${errorLine}`);
    case 'open_choice':
      return wrap(html`<${OpenChoice} item=${item} id=${id} value=${value}
        invalid=${invalid} describe=${describe} onChange=${onChange} />${errorLine}`);
    case 'attachment':
      return wrap(html`<${Attachment} item=${item} id=${id} value=${value}
        invalid=${invalid} describe=${describe} onChange=${onChange} />${errorLine}`);
    case 'short_text':
    case 'date':
      return wrap(html`
        <${Label} item=${item} forId=${id} />
        <input id=${id} type=${item.type === 'date' ? 'date' : 'text'} value=${value || ''}
          aria-required=${item.required ? 'true' : undefined}
          aria-invalid=${invalid} aria-describedby=${describe(Boolean(item.max_length))}
          onInput=${(e) => onChange(e.currentTarget.value)} />
        ${item.type !== 'date' && html`<${LengthLine} id=${hintId} value=${value}
          max=${item.max_length} />`}
        ${errorLine}`);
    case 'long_text':
      return wrap(html`
        <${Label} item=${item} forId=${id} />
        <textarea id=${id} rows="4" value=${value || ''}
          aria-required=${item.required ? 'true' : undefined} aria-invalid=${invalid}
          aria-describedby=${describe(Boolean(item.max_length))}
          onInput=${(e) => onChange(e.currentTarget.value)}></textarea>
        <${LengthLine} id=${hintId} value=${value} max=${item.max_length} />
        ${errorLine}`);
    case 'number': {
      const unit = item.unit && (item.unit.code || item.unit.display);
      const hint = [rangeHint(item), unit ? `In ${item.unit.display || unit}.` : '']
        .filter(Boolean).join(' ');
      return wrap(html`
        <${Label} item=${item} forId=${id} />
        <div class="with-unit">
          <input id=${id} type="number" inputmode="decimal" step=${item.integer ? '1' : 'any'}
            value=${value || ''} min=${item.min} max=${item.max}
            aria-required=${item.required ? 'true' : undefined}
            aria-invalid=${invalid} aria-describedby=${describe(hint)}
            onInput=${(e) => onChange(e.currentTarget.value)} />
          ${unit && html`<span class="unit" aria-hidden="true">${unit}</span>`}
        </div>
        ${hint && html`<p class="hint" id=${hintId}>${hint}</p>`}
        ${errorLine}`);
    }
    case 'single_choice':
    case 'yes_no': {
      if (item.item_control === 'drop-down' && item.type === 'single_choice') {
        return wrap(html`
          <${Label} item=${item} forId=${id} />
          <select id=${id} value=${value || ''} aria-invalid=${invalid}
            aria-required=${item.required ? 'true' : undefined}
            aria-describedby=${describe(false)}
            onChange=${(e) => onChange(e.currentTarget.value || undefined)}>
            <option value="">Choose…</option>
            ${item.options.map((o) => html`<option key=${o.value} value=${o.value}>
              ${o.label}</option>`)}
          </select>
          ${errorLine}`);
      }
      const options = item.type === 'yes_no'
        ? [{ value: true, label: 'Yes' }, { value: false, label: 'No' }] : item.options;
      return wrap(html`
        <fieldset id=${id} class="choices-group" aria-describedby=${describe(false)}>
          <${Legend} item=${item} />
          ${options.map((o, i) => html`
            <div class="choice-opt" key=${String(o.value)}>
              <input type="radio" id=${`${id}-${i}`} name=${id} checked=${value === o.value}
                aria-invalid=${invalid} onChange=${() => onChange(o.value)} />
              <label for=${`${id}-${i}`}>${o.label}</label>
            </div>`)}
        </fieldset>
        ${errorLine}`);
    }
    case 'multiple_choice': {
      const chosen = Array.isArray(value) ? value : [];
      return wrap(html`
        <fieldset id=${id} class="choices-group" aria-describedby=${describe(true)}>
          <${Legend} item=${item} />
          <p class="hint" id=${hintId}>Choose all that apply.</p>
          ${item.options.map((o, i) => html`
            <div class="choice-opt" key=${o.value}>
              <input type="checkbox" id=${`${id}-${i}`} checked=${chosen.includes(o.value)}
                aria-invalid=${invalid} onChange=${(e) => onChange(e.currentTarget.checked
                  ? [...chosen, o.value] : chosen.filter((x) => x !== o.value))} />
              <label for=${`${id}-${i}`}>${o.label}</label>
            </div>`)}
        </fieldset>
        ${errorLine}`);
    }
    case 'scale': {
      const count = item.max - item.min + 1;
      if (count > SCALE_AS_BUTTONS || count < 1) {
        const hint = rangeHint(item) + ' Whole numbers only.';
        return wrap(html`
          <${Label} item=${item} forId=${id} />
          <input id=${id} type="number" inputmode="numeric" step="1" min=${item.min}
            max=${item.max} value=${value === undefined ? '' : String(value)}
            aria-required=${item.required ? 'true' : undefined} aria-invalid=${invalid}
            aria-describedby=${describe(hint)}
            onInput=${(e) => onChange(e.currentTarget.value === ''
              ? undefined : Number(e.currentTarget.value))} />
          <p class="hint" id=${hintId}>${hint}</p>
          ${errorLine}`);
      }
      const steps = Array.from({ length: count }, (_, i) => item.min + i);
      return wrap(html`
        <fieldset id=${id} class="scale-group" aria-describedby=${describe(true)}>
          <${Legend} item=${item} />
          <p class="hint" id=${hintId}>From ${item.min} (lowest) to ${item.max} (highest).</p>
          <div class="scale-points">
            ${steps.map((p) => html`
              <span class="scale-point" key=${p}>
                <input type="radio" id=${`${id}-${p}`} name=${id} checked=${value === p}
                  aria-invalid=${invalid} onChange=${() => onChange(p)} />
                <label for=${`${id}-${p}`}>${p}</label>
              </span>`)}
          </div>
        </fieldset>
        ${errorLine}`);
    }
    case 'consent': {
      const v = value || { name: '', agreed: false };
      return wrap(html`
        <fieldset id=${id} class="consent-group" aria-describedby=${describe(false)}>
          <${Legend} item=${item} />
          <div class="check">
            <input type="checkbox" id=${`${id}-agree`} checked=${Boolean(v.agreed)}
              aria-invalid=${invalid}
              onChange=${(e) => onChange({ ...v, agreed: e.currentTarget.checked })} />
            <label for=${`${id}-agree`}>I agree</label>
          </div>
          <div class="field">
            <label for=${`${id}-name`}>Your full name</label>
            <input id=${`${id}-name`} value=${v.name} maxLength="200" autocomplete="name"
              aria-invalid=${invalid}
              onInput=${(e) => onChange({ ...v, name: e.currentTarget.value })} />
          </div>
        </fieldset>
        ${errorLine}`);
    }
    default:
      return wrap(html`<p class="muted">${item.text} (this app cannot show this kind of
        question yet)</p>`);
  }
}

/** A calculated item: the server's value as the client answers (never typed in). */
export function Computed({ item, value }) {
  const shown = value === undefined || value === null ? '' : answerText(item, value);
  return html`<div class="q computed" data-question=${item.id} data-type=${item.type}>
    <p class="q-label" id=${`calc-${item.id}`}>${item.text}</p>
    <output class="calc-value" aria-labelledby=${`calc-${item.id}`} aria-live="polite">
      ${shown || html`<span class="muted">Worked out from your answers</span>`}</output>
  </div>`;
}

function OpenChoice({ item, id, value, invalid, describe, onChange }) {
  const many = Boolean(item.repeats);
  const list = many ? (Array.isArray(value) ? value : []) : (value === undefined ? [] : [value]);
  const other = list.find((v) => v && typeof v === 'object');
  const codes = list.filter((v) => typeof v === 'string');
  const otherOn = other !== undefined;
  const set = (nextCodes, nextOther) => {
    const next = [...nextCodes, ...(nextOther !== undefined ? [nextOther] : [])];
    onChange(many ? next : next[next.length - 1]);
  };
  return html`
    <fieldset id=${id} class="choices-group" aria-describedby=${describe(false)}>
      <${Legend} item=${item} />
      ${item.options.map((o, i) => html`
        <div class="choice-opt" key=${o.value}>
          <input type=${many ? 'checkbox' : 'radio'} id=${`${id}-${i}`} name=${id}
            checked=${codes.includes(o.value)} aria-invalid=${invalid}
            onChange=${(e) => (many
              ? set(e.currentTarget.checked ? [...codes, o.value]
                : codes.filter((x) => x !== o.value), other)
              : set([o.value], undefined))} />
          <label for=${`${id}-${i}`}>${o.label}</label>
        </div>`)}
      <div class="choice-opt other">
        <input type=${many ? 'checkbox' : 'radio'} id=${`${id}-other`} name=${id}
          checked=${otherOn} aria-invalid=${invalid}
          onChange=${(e) => (e.currentTarget.checked ? set(many ? codes : [], { other: '' })
            : set(codes, undefined))} />
        <label for=${`${id}-other`}>Other</label>
        <input id=${`${id}-other-text`} aria-label=${`Other: ${item.text}`} maxLength="500"
          value=${other ? other.other : ''} autocomplete="off"
          onInput=${(e) => set(many ? codes : [], { other: e.currentTarget.value })} />
      </div>
    </fieldset>`;
}

function Attachment({ item, id, value, invalid, describe, onChange }) {
  const [state, setState] = useState('');
  async function pick(e) {
    const file = e.currentTarget.files && e.currentTarget.files[0];
    if (!file) return;
    setState('Uploading…');
    try {
      onChange(await uploadFile(file));
      setState('');
    } catch (err) {
      setState(err.detail || 'The upload failed.');
    }
  }
  return html`
    <${Label} item=${item} forId=${id} />
    ${value && value.id ? html`<p class="attached">
        <a href=${fileUrl(value.id)} download=${value.name || ''}>${value.name || 'Your file'}</a>
        ${value.size ? html` <span class="muted small">${humanSize(value.size)}</span>` : ''}
        <button type="button" class="small quiet" onClick=${() => onChange(undefined)}>
          Remove</button></p>`
      : html`<input id=${id} type="file" aria-invalid=${invalid}
          aria-required=${item.required ? 'true' : undefined}
          aria-describedby=${describe(false)} onChange=${pick} />`}
    ${state && html`<p class="hint" role="status">${state}</p>`}`;
}

/** The questions as the client sees them: groups as sections, calculated values live. */
export function QuestionTree({ items, all, shown, values, calculated, errors, change }) {
  return items.filter((item) => shown.has(item.id)).map((item) => {
    if (item.type === 'group') {
      return html`<section key=${item.id} class="q-group" data-group=${item.id}
        aria-labelledby=${item.text ? `group-${item.id}` : undefined}>
        ${item.text && html`<h2 class="q-group-title" id=${`group-${item.id}`}>${item.text}</h2>`}
        <${QuestionTree} items=${item.items} all=${all} shown=${shown} values=${values}
          calculated=${calculated} errors=${errors} change=${change} />
      </section>`;
    }
    if (isComputed(item)) {
      return html`<${Computed} key=${item.id} item=${item} value=${calculated[item.id]} />`;
    }
    return html`<${Question} key=${item.id} item=${item} index=${all.indexOf(item)}
      value=${values[item.id]} error=${errors[item.id]} onChange=${(v) => change(item, v)} />`;
  });
}

function careThreadLink(s) {
  for (const t of s.threads.values()) {
    if (t.kind === 'care') return '#/threads/' + encodeURIComponent(t.id);
  }
  return '#/';
}

function Closed({ request, justSent, back }) {
  const heading = useRef(null);
  useEffect(() => {
    if (justSent && heading.current) heading.current.focus();
  }, [justSent]);
  if (request.status === 'cancelled') {
    return html`
      <div class="card fill-closed">
        <h2 ref=${heading} tabindex="-1">This form was cancelled</h2>
        <p>Your care team cancelled this request: there is nothing to fill in.</p>
        <p><a href=${back}>Back to your care team</a></p>
      </div>`;
  }
  return html`
    <div class="card fill-closed thanks" role=${justSent ? 'status' : undefined}>
      <h2 ref=${heading} tabindex="-1">Thank you!</h2>
      <p>${justSent ? 'Your answers were sent to your care team.'
        : `You sent your answers${request.completed_at
          ? ` on ${dateOnly(request.completed_at)}` : ''}.`}</p>
      <p><a class="button primary" href=${back}>Back to your care team</a></p>
      ${request.answers && html`<details class="your-answers">
        <summary>Your answers</summary>
        <${AnswerList} items=${request.items} answers=${request.answers} />
      </details>`}
    </div>`;
}

export function FillFormView({ requestId, thread = '' }) {
  const s = useStore();
  const [request, setRequest] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [values, setValues] = useState({});
  const [errors, setErrors] = useState({}); // item id -> detail
  const [summary, setSummary] = useState([]); // [{question, detail}] after a refused submit
  const [saveState, setSaveState] = useState({ kind: 'idle' });
  const [busy, setBusy] = useState(false);
  const [formError, setFormError] = useState('');
  const [justSent, setJustSent] = useState(false);
  const [calculated, setCalculated] = useState({});

  const valuesRef = useRef(values);
  const itemsRef = useRef([]);
  const timer = useRef(null);
  const inflight = useRef(null);
  const again = useRef(false);
  const lastSent = useRef('');
  const closed = useRef(false);
  const summaryRef = useRef(null);
  const calculatedRef = useRef({});
  const calcTimer = useRef(null);
  const calcTurn = useRef(0);
  const path = '/form-requests/' + encodeURIComponent(requestId);

  function keepCalculated(next) {
    calculatedRef.current = next || {};
    setCalculated(calculatedRef.current);
  }

  /** The server's values of calculated items for the answers so far (only the latest ask
   * counts). */
  async function recalculate() {
    if (closed.current || !flatItems(itemsRef.current).some((i) => i.calculated)) return;
    calcTurn.current += 1;
    const turn = calcTurn.current;
    const answers = answersToSend(itemsRef.current, valuesRef.current,
      { draft: true, calculated: calculatedRef.current });
    try {
      const r = await post(path + '/calculate', { answers });
      if (turn === calcTurn.current) keepCalculated(r.calculated);
    } catch {
      // The next answer asks again; the server works it out on submit anyway.
    }
  }

  async function load() {
    try {
      const { request: r } = await get(path);
      itemsRef.current = r.items || [];
      closed.current = r.status !== 'open';
      const initial = {};
      const computed = {};
      for (const item of flatItems(r.items || [])) {
        const stored = r.draft ? r.draft[item.id] : undefined;
        if (isComputed(item)) {
          if (stored !== undefined) computed[item.id] = stored;
          continue;
        }
        const v = toControl(item, stored);
        if (v !== undefined) initial[item.id] = v;
      }
      valuesRef.current = initial;
      keepCalculated(computed);
      lastSent.current = JSON.stringify(answersToSend(r.items || [], initial,
        { draft: true, calculated: computed }));
      setValues(initial);
      setRequest(r);
      document.title = `${r.form_title} · Carethread`;
    } catch (err) {
      setLoadError(err.status === 404
        ? 'This form is not available: it may not be yours, or the link is wrong.'
          + (s.profiles.length > 1 ? ' If another of your practices sent it, switch to that '
            + 'practice at the top of the screen, then open the link again.' : '')
        : err.detail);
    }
  }

  async function saveDraft() {
    if (closed.current) return;
    if (inflight.current) {
      again.current = true;
      return;
    }
    const answers = answersToSend(itemsRef.current, valuesRef.current,
      { draft: true, calculated: calculatedRef.current });
    const body = JSON.stringify(answers);
    if (body === lastSent.current) {
      setSaveState((st) => (st.kind === 'pending' ? { kind: 'saved', at: st.at } : st));
      return;
    }
    setSaveState({ kind: 'saving' });
    inflight.current = put(path + '/draft', { answers })
      .then(() => {
        lastSent.current = body;
        setSaveState({ kind: 'saved', at: new Date().toISOString() });
      })
      .catch((err) => {
        if (err.code === 'invalid_answers') {
          setErrors((old) => {
            const next = { ...old };
            for (const e of err.errors) if (!next[e.question]) next[e.question] = e.detail;
            return next;
          });
          setSaveState({ kind: 'error', text: 'Draft not saved: check the answers marked below.' });
        } else if (err.code === 'request_completed' || err.code === 'request_cancelled') {
          closed.current = true;
          load();
        } else {
          setSaveState({ kind: 'error', text: `Draft not saved: ${err.detail}` });
        }
      });
    await inflight.current;
    inflight.current = null;
    if (again.current) {
      again.current = false;
      saveDraft();
    }
  }

  function flushSoon() {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      timer.current = null;
      saveDraft();
    }, DRAFT_DELAY_MS);
  }

  function flushNow() {
    if (!timer.current) return;
    clearTimeout(timer.current);
    timer.current = null;
    saveDraft();
  }

  useEffect(() => {
    load();
    const onHide = () => {
      if (document.visibilityState === 'hidden') flushNow();
    };
    document.addEventListener('visibilitychange', onHide);
    return () => {
      document.removeEventListener('visibilitychange', onHide);
      flushNow(); // leaving the screen: keep what was typed
    };
  }, [requestId]);

  function change(item, value) {
    const next = { ...valuesRef.current };
    if (value === undefined) delete next[item.id];
    else next[item.id] = value;
    valuesRef.current = next;
    setValues(next);
    if (errors[item.id]) {
      setErrors((old) => {
        const rest = { ...old };
        delete rest[item.id];
        return rest;
      });
    }
    setSaveState((st) => ({ kind: 'pending', at: st.at }));
    flushSoon();
    clearTimeout(calcTimer.current);
    calcTimer.current = setTimeout(recalculate, CALC_DELAY_MS);
  }

  function focusQuestion(questionId) {
    const index = flatItems(itemsRef.current).findIndex((i) => i.id === questionId);
    const box = document.getElementById(`fq-${index}`);
    if (!box) return;
    const target = box.matches('input, textarea, select') ? box
      : box.querySelector('input:checked, input, textarea, select');
    (target || box).focus();
  }

  async function submit(e) {
    e.preventDefault();
    clearTimeout(timer.current);
    timer.current = null;
    setBusy(true);
    setFormError('');
    setSummary([]);
    if (inflight.current) await inflight.current.catch(() => {});
    const answers = answersToSend(itemsRef.current, valuesRef.current,
      { calculated: calculatedRef.current });
    try {
      await post(path + '/submit', { answers });
      closed.current = true;
      setJustSent(true);
      setRequest({ ...request, status: 'completed', completed_at: new Date().toISOString(),
        answers: { ...calculatedRef.current, ...answers }, draft: null });
    } catch (err) {
      if (err.code === 'invalid_answers') {
        const map = {};
        for (const x of err.errors) if (!map[x.question]) map[x.question] = x.detail;
        setErrors(map);
        setSummary(err.errors);
        const shown = visibleIds(itemsRef.current, valuesRef.current, calculatedRef.current);
        const first = flatItems(itemsRef.current).find((i) => map[i.id] && shown.has(i.id));
        requestAnimationFrame(() => {
          if (first) focusQuestion(first.id);
          else if (summaryRef.current) summaryRef.current.focus();
        });
      } else if (['request_completed', 'request_cancelled', 'request_closed'].includes(err.code)) {
        closed.current = true;
        await load();
      } else {
        setFormError(err.detail);
      }
    } finally {
      setBusy(false);
    }
  }

  const back = thread ? '#/threads/' + encodeURIComponent(thread) : careThreadLink(s);
  if (!request) {
    return html`<section class="page narrow fill"><p><a href=${back}>Back to chat</a></p>
      ${loadError ? html`<p class="error" role="alert">${loadError}</p>`
        : html`<p class="muted">Loading the form…</p>`}</section>`;
  }

  const items = request.items || [];
  const all = flatItems(items);
  const shown = visibleIds(items, values, calculated);
  const textOf = new Map(all.map((i) => [i.id, i.text]));
  const due = request.due_at ? `Please fill it in by ${dateOnly(request.due_at)}.` : '';
  let saveText = 'Your answers are saved as a draft as you go.';
  if (saveState.kind === 'saving') saveText = 'Saving draft…';
  if (saveState.kind === 'saved') saveText = `Draft saved at ${clockTime(saveState.at)}.`;
  if (saveState.kind === 'error') saveText = saveState.text;

  return html`
    <section class="page narrow fill" aria-labelledby="fill-heading">
      <p><a href=${back}>Back to chat</a></p>
      <h1 id="fill-heading">${request.form_title}</h1>
      ${request.status !== 'open'
        ? html`<${Closed} request=${request} justSent=${justSent} back=${back} />`
        : html`
          ${request.form_description
            && html`<p class="form-description">${request.form_description}</p>`}
          <p class="muted">${due} Questions marked “required” need an answer.</p>
          <form class="fill-form" onSubmit=${submit} novalidate>
            <${QuestionTree} items=${items} all=${all} shown=${shown} values=${values}
              calculated=${calculated} errors=${errors} change=${change} />
            ${summary.length > 0 && html`
              <div class="error summary" role="alert" tabindex="-1" ref=${summaryRef}>
                <p>Some answers need attention; nothing was sent yet.</p>
                <ul class="bullets">${summary.map((x) => html`<li key=${x.question + x.code}>
                  ${shown.has(x.question)
                    ? html`<button type="button" class="link"
                        onClick=${() => focusQuestion(x.question)}>
                        ${textOf.get(x.question)}</button>: ${x.detail}`
                    : html`${x.detail}`}
                </li>`)}</ul>
              </div>`}
            ${formError && html`<p class="error" role="alert">${formError}</p>`}
            <div class="fill-footer">
              <p class=${'save-state' + (saveState.kind === 'error' ? ' bad' : '')}
                role="status">${saveText}</p>
              <button type="submit" class="primary" disabled=${busy}>
                ${busy ? 'Sending…' : 'Submit'}</button>
            </div>
          </form>`}
    </section>`;
}

/** The client's own forms: what is still to fill in first, then what was sent. */
export function MyFormsView() {
  const [requests, setRequests] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    document.title = 'Your forms · Carethread';
    get('/form-requests').then((r) => setRequests(r.requests))
      .catch((err) => setError(err.detail));
  }, []);
  const open = (requests || []).filter((r) => r.status === 'open');
  const done = (requests || []).filter((r) => r.status === 'completed');
  const link = (r) => '#/form-requests/' + encodeURIComponent(r.id);
  return html`
    <section class="page narrow" aria-labelledby="my-forms-heading">
      <h1 id="my-forms-heading">Your forms</h1>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${requests === null ? html`<p class="muted">Loading…</p>` : html`
        <h2>To fill in</h2>
        ${open.length === 0 ? html`<p class="muted">Nothing to fill in right now.</p>`
          : html`<ul class="req-list" aria-label="Forms to fill in">${open.map((r) => html`
              <li key=${r.id} class="req-row">
                <div class="req-main">
                  <span class="req-title">${r.form_title}</span>
                  <span class="muted small">${r.due_at ? `Please fill it in by ${dateOnly(r.due_at)}`
                    : `Asked ${dateOnly(r.created_at)}`}</span>
                </div>
                <a class="button primary small" href=${link(r)}
                  aria-label=${'Open form: ' + r.form_title}>Open form</a>
              </li>`)}</ul>`}
        ${done.length > 0 && html`
          <h2>Sent</h2>
          <ul class="req-list" aria-label="Forms you sent">${done.map((r) => html`
            <li key=${r.id} class="req-row">
              <div class="req-main">
                <span class="req-title">${r.form_title}</span>
                <span class="muted small">Sent ${dateOnly(r.completed_at)}</span>
              </div>
              <a class="button small" href=${link(r)}
                aria-label=${'Your answers: ' + r.form_title}>Your answers</a>
            </li>`)}</ul>`}`}
    </section>`;
}
