// Signing in and out: GET /me decides whether the cookie session is alive.
import { del, get, post, setSessionLostHandler } from './api.js';
import * as chat from './chat.js';
import * as outbox from './outbox.js';
import * as realtime from './realtime.js';
import { emit, isStaff, state } from './store.js';

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

function startRealtime() {
  realtime.start({ sessionEnded: () => ended('Your session has ended. Please log in again.') });
}

function start(me) {
  realtime.stop();
  chat.resetChat();
  state.me = me.user;
  state.organization = me.organization;
  state.role = me.role;
  state.profiles = me.profiles || []; // every practice this login belongs to
  state.notice = '';
  state.names.set(me.user.id, me.user.name);
  outbox.load();
  startRealtime();
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

/** Move this session to another practice of the same login. */
export async function switchProfile(profileId) {
  realtime.stop(); // the server closes this session's sockets as it ends the session
  try {
    await post('/sessions/switch', { profile_id: profileId });
  } catch (error) {
    if (state.me) startRealtime();
    throw error;
  }
  await restore();
}

export async function logout() {
  try {
    await del('/sessions/current');
  } catch {
    // already ended: the cookies are cleared below either way
  }
  outbox.forget();
  clear();
  emit();
}
