// Which screen the URL names. Links in emails open real paths (/accept-invite, /reset-password,
// /join/{code}), which the server answers with this page; screens inside the app live in the
// hash (/#/threads/{id}), so a reload of any of them still loads this page.
import { useEffect, useState } from './lib.js';

const ROUTES = [
  // [pattern, name]: ':x' parts become params. New screens (clients, settings…) slot in here.
  ['', 'chats'],
  ['threads/:threadId', 'chats'],
  ['new', 'new-thread'],
  ['clients', 'clients'],
  ['clients/new', 'add-client'],
  ['clients/:clientId', 'client'],
  ['clients/:clientId/health', 'client-health'],
  ['health', 'health'],
  ['feed', 'feed'],
  ['forms', 'forms'],
  ['forms/new', 'form-new'],
  ['forms/:formId', 'form-edit'],
  ['form-requests', 'form-requests'],
  ['form-requests/:requestId', 'form-request'],
  ['calendar', 'calendar'],
  ['appointments', 'appointments'],
  ['book', 'book'],
  ['team', 'team'],
  ['library', 'library'],
  ['today', 'today'],
  ['care-plans/:planId', 'care-plan'],
  ['documents', 'documents'],
  ['settings', 'settings'],
  ['notifications', 'notifications'],
  ['profile', 'profile'],
  ['login', 'login'],
  ['signup', 'signup'],
  ['forgot', 'forgot'],
];

export const PUBLIC_ROUTES = new Set([
  'login', 'signup', 'forgot', 'accept-invite', 'reset-password', 'join', 'public-book',
]);

export function parseRoute(loc = window.location) {
  const path = loc.pathname.replace(/\/+$/, '') || '/';
  if (path === '/accept-invite' || path.startsWith('/accept-invite/')) {
    const query = new URLSearchParams(loc.search).get('token');
    const segment = path.split('/')[2] || '';
    return { name: 'accept-invite', params: { token: query || decodeURIComponent(segment) } };
  }
  if (path === '/reset-password' || path.startsWith('/reset-password/')) {
    return { name: 'reset-password',
      params: { token: new URLSearchParams(loc.search).get('token') || '' } };
  }
  if (path.startsWith('/join/')) {
    return { name: 'join', params: { code: decodeURIComponent(path.slice('/join/'.length)) } };
  }
  if (path.startsWith('/book/')) {
    return { name: 'public-book',
      params: { code: decodeURIComponent(path.slice('/book/'.length)) } };
  }
  const [hashPath, hashQuery] = loc.hash.replace(/^#\/?/, '').split('?');
  const parts = hashPath.split('/').filter(Boolean);
  const query = Object.fromEntries(new URLSearchParams(hashQuery || ''));
  for (const [pattern, name] of ROUTES) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = { ...query };
    let ok = true;
    want.forEach((w, i) => {
      if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(parts[i]);
      else if (w !== parts[i]) ok = false;
    });
    if (ok) return { name, params };
  }
  return { name: 'not-found', params: {} };
}

const CHANGE = 'carethread:route';

/** Go to an in-app screen ('#/threads/x'); from an entry path this also leaves that path. */
export function navigate(hash, { replace = false } = {}) {
  const url = '/' + hash;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event(CHANGE));
}

export function useRoute() {
  const [route, setRoute] = useState(() => parseRoute());
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    window.addEventListener('popstate', update);
    window.addEventListener('hashchange', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('hashchange', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return route;
}
