// People as the chat shows them: their photo, or initials in a coloured circle.
import { html } from '../lib.js';
import { state } from '../store.js';

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

/** A decorative avatar: the name is always written next to it, so it is hidden from readers.
 * The person's photo (`src`, else the one last seen for `id`) or their initials. */
export function Avatar({ name, id, size = 'md', src }) {
  const photo = src !== undefined ? src : (id && state.avatars.get(id));
  if (photo) {
    return html`<span class=${'avatar avatar-photo avatar-' + size} aria-hidden="true"
      data-avatar=${id || ''}><img src=${photo} alt="" loading="lazy" decoding="async" /></span>`;
  }
  return html`<span class=${'avatar avatar-' + size} aria-hidden="true" data-avatar=${id || ''}
    style=${{ background: avatarColor(id || name) }}>${initials(name)}</span>`;
}
