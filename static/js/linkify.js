// Web addresses in a message become links; nothing else in the text is ever markup.
// Only http(s) addresses (and bare www. ones, given https) are linked: a `javascript:` or
// `data:` address stays text. Links open in a new tab without giving it this page
// (rel="noopener noreferrer").
import { html } from './lib.js';

const URL_RE = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}'"»”’]+$/;

/** The safe href for a matched address, or null. */
export function safeHref(text) {
  const candidate = /^www\./i.test(text) ? 'https://' + text : text;
  try {
    const url = new URL(candidate);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.href;
  } catch {
    return null;
  }
}

/** Text split into strings and <a> elements, for rendering as children. */
export function linkify(text) {
  const source = String(text || '');
  const parts = [];
  let last = 0;
  for (const match of source.matchAll(URL_RE)) {
    let found = match[0];
    const trail = found.match(TRAILING);
    // Keep a closing bracket that belongs to the address, e.g. a Wikipedia link "(disambiguation)".
    if (trail) {
      let cut = trail[0];
      if (cut.startsWith(')') && (found.match(/\(/g) || []).length
          >= (found.match(/\)/g) || []).length) cut = cut.slice(1);
      found = found.slice(0, found.length - cut.length);
    }
    const href = safeHref(found);
    if (!href || !found) continue;
    if (match.index > last) parts.push(source.slice(last, match.index));
    parts.push(html`<a href=${href} target="_blank" rel="noopener noreferrer">${found}</a>`);
    last = match.index + found.length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return parts;
}
