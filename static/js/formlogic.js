// Forms without the screens: item types, the tree of groups, conditional display (the
// server's rule, docs/api.md §11: show_when, and enable_when with every FHIR operator), the
// answers worth sending, and answers in words for the team. Calculated values come from the
// server (POST /form-requests/{id}/calculate); conditions may depend on them.

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
  ['datetime', 'Date and time'],
  ['time', 'Time of day'],
  ['open_choice', 'Choice with “other”'],
  ['attachment', 'File'],
];
export const TYPE_LABELS = { ...Object.fromEntries(ITEM_TYPES), group: 'Group' };
export const CHOICE_TYPES = new Set(['single_choice', 'multiple_choice']);
export const OPTION_TYPES = new Set(['single_choice', 'multiple_choice', 'open_choice']);
const NOT_ANSWERED = new Set(['heading', 'group']);

/** Every item in document order (a group, then its items), with the ids of its groups. */
export function walk(items, parents = [], out = []) {
  for (const item of items || []) {
    out.push({ item, parents });
    if (item.type === 'group') walk(item.items, [...parents, item.id], out);
  }
  return out;
}

/** The items as one list, groups included. */
export function flatItems(items) {
  return walk(items).map((x) => x.item);
}

/** Filled in by the server (calculated, or hidden), never by the client. */
export function isComputed(item) {
  return Boolean(item.calculated || item.hidden);
}

/** What the builder cannot edit (it would lose it): groups, enable_when, item variables.
 * (Calculated and hidden items of a flat form are kept as they are, and can be moved.) */
export function needsFhir(items) {
  const all = flatItems(items);
  const types = new Map(all.map((i) => [i.id, i.type]));
  // One enableWhen on a question the builder can compare with is one of its own conditions.
  const ownCondition = (i) => i.enable_when.length === 1
    && CONDITION_TYPES.has(types.get(i.enable_when[0].question))
    && (i.enable_when[0].operator !== 'exists' || i.enable_when[0].answer === true)
    && operatorsFor(types.get(i.enable_when[0].question))
      .some(([op]) => op === i.enable_when[0].operator);
  return all.some((i) => i.type === 'group' || i.variables
    || (i.enable_when && !ownCondition(i)));
}

/** The comparisons the builder offers for a condition on a question of this type. */
export function operatorsFor(type) {
  const answered = ['exists', 'is answered'];
  if (type === 'yes_no') return [['=', 'is'], answered];
  if (type === 'number' || type === 'scale') {
    return [['=', 'is'], ['!=', 'is not'], ['>', 'is above'], ['>=', 'is at least'],
      ['<', 'is below'], ['<=', 'is at most'], answered];
  }
  if (type === 'date') {
    return [['=', 'is'], ['!=', 'is not'], ['>', 'is after'], ['>=', 'is on or after'],
      ['<', 'is before'], ['<=', 'is on or before'], answered];
  }
  return [['=', 'is'], ['!=', 'is not'], answered];
}

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
    case 'datetime':
      return withOffset(String(raw));
    case 'attachment':
      return raw && raw.id ? { id: raw.id } : undefined;
    case 'open_choice':
      if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
        return (raw.other || '').trim() ? { other: raw.other } : undefined;
      }
      return raw;
    case 'heading':
    case 'group':
      return undefined;
    default:
      return raw;
  }
}

const pad = (n) => String(Math.abs(n)).padStart(2, '0');

/** "2026-11-30T09:30" from a datetime-local control, with this browser's offset added. */
export function withOffset(local) {
  if (!local) return undefined;
  if (/(Z|[+-]\d{2}:\d{2})$/.test(local)) return local;
  const when = new Date(local);
  if (Number.isNaN(when.getTime())) return local; // the server explains what is wrong
  const minutes = -when.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const seconds = local.length === 16 ? ':00' : '';
  return `${local}${seconds}${sign}${pad(Math.trunc(minutes / 60))}:${pad(minutes % 60)}`;
}

function valuesOf(given) {
  if (given === undefined || given === null) return [];
  return (Array.isArray(given) ? given : [given]).map((v) => {
    if (v && typeof v === 'object' && 'other' in v) return v.other;
    if (v && typeof v === 'object' && 'id' in v) return v.id;
    return v;
  });
}

function comparable(value, kind) {
  if (kind === 'datetime' && typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  if (kind === 'time' && typeof value === 'string') {
    const m = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
    return m ? `${m[1]}:${m[2]}:${m[3] || '00'}` : null;
  }
  return value;
}

const same = (a, b) => a === b && typeof a === typeof b;

/** One enableWhen (FHIR R4), as the server decides it (server/forms/schema.py). */
export function conditionHolds(cond, given, kind) {
  const values = valuesOf(given);
  const expected = cond.answer;
  switch (cond.operator) {
    case 'exists':
      return (values.length > 0) === expected;
    case '=':
      return values.some((v) => same(v, expected));
    case '!=':
      return !values.some((v) => same(v, expected));
    default: {
      const target = comparable(expected, kind);
      return values.some((v) => {
        const here = comparable(v, kind);
        if (here === null || target === null || typeof here === 'boolean'
          || typeof here !== typeof target) return false;
        switch (cond.operator) {
          case '<': return here < target;
          case '<=': return here <= target;
          case '>': return here > target;
          case '>=': return here >= target;
          default: return false;
        }
      });
    }
  }
}

function isEnabled(item, kept, types) {
  const cond = item.show_when;
  if (cond) {
    const given = kept[cond.question];
    return Array.isArray(given) ? given.includes(cond.equals) : given === cond.equals;
  }
  const conditions = item.enable_when;
  if (!conditions || !conditions.length) return true;
  const results = conditions.map((c) => conditionHolds(c, kept[c.question], types[c.question]));
  return item.enable_behavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

/**
 * Which items are asked, given the answers so far and the server's calculated values: an item
 * is enabled when its conditions hold over the earlier answers (an unanswered or disabled
 * question counts as no answer), and a disabled group disables its items. `shown` leaves out
 * hidden items (and the items of hidden groups); `enabled` keeps them.
 */
export function formState(items, answers, calculated = {}) {
  const found = walk(items);
  const types = Object.fromEntries(found.map(({ item }) => [item.id, item.type]));
  const enabled = new Set();
  const shown = new Set();
  const kept = {};
  const concealed = new Set();
  for (const { item, parents } of found) {
    if (parents.some((p) => !enabled.has(p)) || !isEnabled(item, kept, types)) continue;
    enabled.add(item.id);
    if (item.hidden || parents.some((p) => concealed.has(p))) concealed.add(item.id);
    else shown.add(item.id);
    if (NOT_ANSWERED.has(item.type)) continue;
    if (isComputed(item) || concealed.has(item.id)) {
      if (calculated[item.id] !== undefined && calculated[item.id] !== null) {
        kept[item.id] = calculated[item.id];
      }
      continue;
    }
    const value = toAnswer(item, answers[item.id]);
    if (value !== undefined) kept[item.id] = value;
  }
  return { enabled, shown, kept };
}

/** Which items show (the set of ids), given the answers so far. */
export function visibleIds(items, answers, calculated = {}) {
  return formState(items, answers, calculated).shown;
}

/**
 * The answers to send: the items the client answers that are asked, typed for the API. For a
 * draft, a consent goes only once it is complete (the server refuses a draft holding an
 * unticked one).
 */
export function answersToSend(items, answers, { draft = false, calculated = {} } = {}) {
  const { shown } = formState(items, answers, calculated);
  const out = {};
  for (const item of flatItems(items)) {
    if (!shown.has(item.id) || NOT_ANSWERED.has(item.type) || isComputed(item)) continue;
    const value = toAnswer(item, answers[item.id]);
    if (value === undefined) continue;
    if (draft && item.type === 'consent' && !(value.agreed && value.name.trim())) continue;
    out[item.id] = value;
  }
  return out;
}

function optionLabel(item, value) {
  if (value && typeof value === 'object' && 'other' in value) return `Other: ${value.other}`;
  const option = (item.options || []).find((o) => o.value === value);
  return option ? option.label : String(value);
}

/** A number with its unit ("24.7 kg/m2"). */
export function withUnit(item, value) {
  const unit = item.unit && (item.unit.code || item.unit.display);
  return unit ? `${value} ${unit}` : String(value);
}

/** An answer in words, for the team's view of a response. */
export function answerText(item, value) {
  if (isEmpty(value)) return '';
  switch (item.type) {
    case 'single_choice':
      return optionLabel(item, value);
    case 'multiple_choice':
    case 'open_choice':
      return (Array.isArray(value) ? value : [value]).map((v) => optionLabel(item, v)).join(', ');
    case 'number':
      return withUnit(item, value);
    case 'attachment':
      return value && value.name ? value.name : 'A file';
    case 'datetime': {
      const when = new Date(value);
      return Number.isNaN(when.getTime()) ? String(value)
        : new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeStyle: 'short' })
          .format(when);
    }
    case 'time':
      return String(value).slice(0, 5);
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
