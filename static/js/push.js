// Web Push in this browser: the service worker at /sw.js, the subscription sent to the server.
import { get, post } from './api.js';

const DISMISSED = 'carethread.push-prompt-dismissed';

export function pushSupported() {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

export function pushPermission() {
  return pushSupported() ? Notification.permission : 'unsupported';
}

/** Offer the prompt only when it helps: supported, not yet decided, not waved away. */
export function shouldOfferPush() {
  if (pushPermission() !== 'default') return false;
  try {
    return !localStorage.getItem(DISMISSED);
  } catch {
    return false;
  }
}

export function dismissPushOffer() {
  try {
    localStorage.setItem(DISMISSED, String(Date.now()));
  } catch {
    // private mode: the prompt simply comes back next time
  }
}

function keyBytes(base64url) {
  const padded = base64url.replace(/-/g, '+').replace(/_/g, '/')
    + '='.repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** Ask the browser (on a click: browsers require a user gesture), subscribe, tell the server. */
export async function enablePush() {
  if (!pushSupported()) throw new Error('This browser cannot show notifications.');
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    dismissPushOffer();
    throw new Error('Notifications are blocked for this site in the browser’s settings.');
  }
  const registration = await navigator.serviceWorker.register('/sw.js');
  await navigator.serviceWorker.ready;
  const { public_key: key } = await get('/push/key');
  let subscription;
  try {
    subscription = await registration.pushManager.getSubscription()
      || await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  } catch {
    throw new Error('This browser could not reach its push service. Try again later.');
  }
  await post('/push/subscriptions', subscription.toJSON());
  return subscription;
}

export async function currentPushSubscription() {
  if (!pushSupported()) return null;
  const registration = await navigator.serviceWorker.getRegistration('/');
  return registration ? registration.pushManager.getSubscription() : null;
}
