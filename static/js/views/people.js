// People as the chat shows them: initials in a coloured circle (a photo once files exist).
import { html } from '../lib.js';

/** "Robin Hart" -> "RH", "madonna" -> "M"; letters of any script, never more than two. */
export function initials(name) {
  const words = String(name || '').trim().split(/\s+/).filter(Boolean);
  if (!words.length) return '?';
  const first = [...words[0]][0] || '';
  const last = words.length > 1 ? [...words[words.length - 1]][0] || '' : '';
  return (first + last).toUpperCase();
}

// Eight hues with white text at AA contrast or better.
const HUES = ['#1d4ed8', '#047857', '#b45309', '#7c3aed', '#be123c', '#0e7490', '#4d7c0f', '#a21caf'];

export function avatarColor(key) {
  let h = 0;
  for (const ch of String(key || '')) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return HUES[h % HUES.length];
}

/** A decorative avatar: the name is always written next to it, so it is hidden from readers. */
export function Avatar({ name, id, size = 'md' }) {
  return html`<span class=${'avatar avatar-' + size} aria-hidden="true"
    style=${{ background: avatarColor(id || name) }}>${initials(name)}</span>`;
}
