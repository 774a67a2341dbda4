// Small helpers: ids, dates, names.

/** A random UUID v4, also outside secure contexts (where crypto.randomUUID is missing). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longDateFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'long', month: 'long', day: 'numeric', year: 'numeric',
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

export function dayKey(iso) {
  return String(startOfDay(new Date(iso)));
}

/** "Today", "Yesterday" or a full date, for day separators. */
export function dayLabel(iso) {
  const days = Math.round((startOfDay(new Date()) - startOfDay(new Date(iso))) / 86400000);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return longDateFormat.format(new Date(iso));
}

export function clockTime(iso) {
  return timeFormat.format(new Date(iso));
}

export function fullTime(iso) {
  return fullFormat.format(new Date(iso));
}

/** Compact time for the thread list: a clock time today, a weekday this week, else a date. */
export function shortWhen(iso) {
  if (!iso) return '';
  const days = Math.round((startOfDay(new Date()) - startOfDay(new Date(iso))) / 86400000);
  if (days === 0) return clockTime(iso);
  if (days < 7) return weekdayFormat.format(new Date(iso));
  return dateFormat.format(new Date(iso));
}

export function codePoints(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

export function humanize(kind) {
  const words = String(kind).replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export const ROLE_LABELS = {
  owner: 'Owner', admin: 'Admin', provider: 'Provider', staff: 'Staff', bot: 'Bot',
  client: 'Client',
};

const mediumDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** "Dec 4, 2026": a date without the time. */
export function dateOnly(iso) {
  return iso ? mediumDate.format(new Date(iso)) : '';
}

/** A due date picked as YYYY-MM-DD -> the end of that day here, as an RFC 3339 time. */
export function endOfDay(yyyymmdd) {
  const [y, m, d] = String(yyyymmdd).split('-').map(Number);
  if (!y || !m || !d) return null;
  return new Date(y, m - 1, d, 23, 59, 0).toISOString();
}
