// Forms without the screens: item types, conditional display (the server's rule, docs/api.md
// §11), the answers worth sending, and answers in words for the team.

export const ITEM_TYPES = [
  ['short_text', 'Short text'],
  ['long_text', 'Long text'],
  ['number', 'Number'],
  ['date', 'Date'],
  ['single_choice', 'Single choice'],
  ['multiple_choice', 'Multiple choice'],
  ['yes_no', 'Yes / no'],
  ['scale', 'Scale'],
  ['consent', 'Consent'],
  ['heading', 'Section heading'],
];
export const TYPE_LABELS = Object.fromEntries(ITEM_TYPES);
export const CHOICE_TYPES = new Set(['single_choice', 'multiple_choice']);

/** Types whose answer can drive a "show when" condition (not a heading, not a consent). */
export const CONDITION_TYPES = new Set([
  'yes_no', 'single_choice', 'multiple_choice', 'scale', 'number', 'short_text', 'long_text',
  'date',
]);

export function isEmpty(value) {
  return value === undefined || value === null || value === ''
    || (Array.isArray(value) && value.length === 0);
}

/**
 * The answer as the API wants it, from what a control holds (numbers are typed as text;
 * a consent is only an answer once it has a name or a tick). `undefined` means no answer.
 */
export function toAnswer(item, raw) {
  if (isEmpty(raw)) return undefined;
  switch (item.type) {
    case 'number': {
      const text = String(raw).trim();
      if (!text) return undefined;
      const n = Number(text);
      return Number.isFinite(n) ? n : text; // text: the server explains what is wrong
    }
    case 'scale':
      return typeof raw === 'number' ? raw : Number(raw);
    case 'consent': {
      const name = (raw.name || '').trim();
      if (!name && !raw.agreed) return undefined;
      return { name: raw.name || '', agreed: Boolean(raw.agreed) };
    }
    case 'heading':
      return undefined;
    default:
      return raw;
  }
}

function matches(given, equals) {
  if (Array.isArray(given)) return given.includes(equals);
  return given === equals;
}

/**
 * Which items show, given the answers so far: the server's rule (an item shows when the answer
 * to its earlier question equals the value, or contains it; an unanswered or hidden question
 * shows none of the items that depend on it).
 */
export function visibleIds(items, answers) {
  const shown = new Set();
  const kept = {};
  for (const item of items) {
    const cond = item.show_when;
    if (cond && !(cond.question in kept && matches(kept[cond.question], cond.equals))) continue;
    shown.add(item.id);
    const value = toAnswer(item, answers[item.id]);
    if (value !== undefined) kept[item.id] = value;
  }
  return shown;
}

/**
 * The answers to send: shown items only, typed for the API. For a draft, a consent goes only
 * once it is complete (the server refuses a draft holding an unticked one).
 */
export function answersToSend(items, answers, { draft = false } = {}) {
  const shown = visibleIds(items, answers);
  const out = {};
  for (const item of items) {
    if (!shown.has(item.id) || item.type === 'heading') continue;
    const value = toAnswer(item, answers[item.id]);
    if (value === undefined) continue;
    if (draft && item.type === 'consent' && !(value.agreed && value.name.trim())) continue;
    out[item.id] = value;
  }
  return out;
}

function optionLabel(item, value) {
  const option = (item.options || []).find((o) => o.value === value);
  return option ? option.label : String(value);
}

/** An answer in words, for the team's view of a response. */
export function answerText(item, value) {
  if (isEmpty(value)) return '';
  switch (item.type) {
    case 'single_choice':
      return optionLabel(item, value);
    case 'multiple_choice':
      return (Array.isArray(value) ? value : [value]).map((v) => optionLabel(item, v)).join(', ');
    case 'yes_no':
      return value === true ? 'Yes' : value === false ? 'No' : String(value);
    case 'consent':
      return value && value.agreed
        ? `Agreed, signed “${value.name}”` : `Not agreed${value && value.name ? ` (${value.name})` : ''}`;
    case 'date': {
      const [y, m, d] = String(value).split('-').map(Number);
      const when = new Date(y, (m || 1) - 1, d || 1);
      return Number.isNaN(when.getTime()) ? String(value)
        : new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(when);
    }
    default:
      return String(value);
  }
}

/** The score of an option, in words ("2 points"). */
export function points(score) {
  return `${score} ${score === 1 ? 'point' : 'points'}`;
}

/** "items[3]: a scale needs min and max." -> "Question 4: a scale needs min and max." */
export function itemErrorText(detail) {
  return String(detail || '').replace(/items\[(\d+)\](?:\.([a-z_]+))?/g,
    (_, n, field) => `Question ${Number(n) + 1}` + (field ? ` ${field.replace('_', ' ')}` : ''));
}
