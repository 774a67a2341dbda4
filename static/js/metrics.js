// Metric readings in words and units as people write them (shared by chat lines and charts).

const UNIT_LABELS = {
  kg: 'kg', '[lb_av]': 'lb', '[stone_av]': 'st', g: 'g', cm: 'cm', m: 'm', '[in_i]': 'in',
  '[ft_i]': 'ft', 'kg/m2': 'kg/m²', 'mm[Hg]': 'mmHg', kPa: 'kPa', '/min': '/min', h: 'h',
  min: 'min', '{steps}': 'steps', '{score}': '', mL: 'mL', '[foz_us]': 'fl oz',
};
export const unitLabel = (u) => (u in UNIT_LABELS ? UNIT_LABELS[u] : u);
export const MOODS = [[1, '😞', 'Very low'], [2, '🙁', 'Low'], [3, '😐', 'Okay'], [4, '🙂', 'Good'],
  [5, '😄', 'Great']];
export function round(value, decimals = 1) {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}

/** One reading in words: "70.2 kg", "118/76 mmHg", "Mood 4 (Good)". */
export function readingText(data) {
  if (!data) return '';
  if (data.components) {
    return `${round(data.components.systolic, 0)}/${round(data.components.diastolic, 0)} mmHg`;
  }
  if (data.type === 'mood') {
    const mood = MOODS.find(([v]) => v === Math.round(data.value));
    return `${round(data.value, 0)} of 5${mood ? ` (${mood[2]})` : ''}`;
  }
  const u = unitLabel(data.unit);
  return `${round(data.value, data.type === 'steps' ? 0 : 1)}${u ? ' ' + u : ''}`;
}

