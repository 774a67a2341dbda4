// The client's state: one mutable object, and a hook that re-renders a view when it changes.
import { useEffect, useState } from './lib.js';

export const state = {
  me: null, // the signed-in user (profile) from GET /me
  organization: null,
  role: null,
  profiles: [], // every profile (practice) of this login, from GET /me
  notice: '', // a message for the login screen (e.g. the session ended)
  team: new Map(), // user id -> user, for team members (staff only)
  teamLoaded: false,
  names: new Map(), // user id -> name, for everyone seen in a thread or the team
  avatars: new Map(), // user id -> the address of their photo (absent: initials)
  threads: new Map(), // thread id -> thread summary (GET /threads), kept live
  threadsLoaded: false,
  logs: new Map(), // thread id -> event log (see chat.js)
  outbox: [], // messages composed here and not yet acknowledged
  typing: new Map(), // thread id -> Map(user id -> expiry time)
  reads: new Map(), // thread id -> Map(user id -> read seq), other members' read markers
  conn: 'idle', // idle | connecting | syncing | online | offline | blocked
  openThreadId: null,
  sentThisSession: false, // the moment to offer push notifications
};

const listeners = new Set();
let queued = false;

/** Tell every mounted view that the state changed (batched to one notification per tick). */
export function emit() {
  if (queued) return;
  queued = true;
  queueMicrotask(() => {
    queued = false;
    for (const listener of [...listeners]) listener();
  });
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The state, re-rendering the calling component whenever it changes. */
export function useStore() {
  const [, setVersion] = useState(0);
  useEffect(() => subscribe(() => setVersion((v) => v + 1)), []);
  return state;
}

const liveListeners = new Set();

/** Hear every live event as it arrives (feeds and charts refresh from them); returns the
 * unsubscribe function. */
export function onLiveEvent(listener) {
  liveListeners.add(listener);
  return () => liveListeners.delete(listener);
}

export function announceEvent(ev) {
  for (const listener of [...liveListeners]) {
    try {
      listener(ev);
    } catch (err) {
      console.error(err);
    }
  }
}

export function isStaff() {
  return Boolean(state.role) && state.role !== 'client';
}

export function isAdmin() {
  return state.role === 'owner' || state.role === 'admin';
}
