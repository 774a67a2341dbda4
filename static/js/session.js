// Signing in and out: GET /me decides whether the cookie session is alive.
import { del, get, setSessionLostHandler } from './api.js';
import * as chat from './chat.js';
import * as outbox from './outbox.js';
import * as realtime from './realtime.js';
import { emit, isStaff, state } from './store.js';

const PROFILES_KEY = 'carethread.profiles';

function storedProfiles() {
  try {
    const list = JSON.parse(sessionStorage.getItem(PROFILES_KEY) || '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

/** Keep the profiles a login listed, for the practice switcher. */
export function rememberProfiles(profiles) {
  try {
    if (profiles && profiles.length > 1) {
      sessionStorage.setItem(PROFILES_KEY, JSON.stringify(profiles));
    } else {
      sessionStorage.removeItem(PROFILES_KEY);
    }
  } catch {
    // storage disabled: no switcher
  }
}

/** Ask the server who we are; start the app when the cookie session is alive. */
export async function restore() {
  let me;
  try {
    me = await get('/me');
  } catch (error) {
    if (error.status === 401) return false;
    throw error;
  }
  start(me);
  return true;
}

function start(me) {
  realtime.stop();
  chat.resetChat();
  state.me = me.user;
  state.organization = me.organization;
  state.role = me.role;
  state.profiles = storedProfiles().filter((p) => p.id !== undefined);
  state.notice = '';
  state.names.set(me.user.id, me.user.name);
  outbox.load();
  realtime.start({ sessionEnded: () => ended('Your session has ended. Please log in again.') });
  chat.loadThreads().catch(() => {});
  if (isStaff()) chat.loadTeam().catch(() => {});
  emit();
}

function clear() {
  realtime.stop();
  chat.resetChat();
  state.me = null;
  state.organization = null;
  state.role = null;
  state.profiles = [];
}

/** The server ended the session (logout elsewhere, expiry, removal). */
export function ended(notice) {
  if (!state.me) return;
  clear();
  state.notice = notice;
  emit();
}

setSessionLostHandler(() => ended('Your session has ended. Please log in again.'));

export async function logout({ keepProfiles = false } = {}) {
  try {
    await del('/sessions/current');
  } catch {
    // already ended: the cookies are cleared below either way
  }
  outbox.forget();
  if (!keepProfiles) rememberProfiles([]);
  clear();
  emit();
}
