// The frame around signed-in screens: header, navigation, practice switcher, connection banner.
import { totalUnread } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { navigate } from '../router.js';
import { logout, switchProfile } from '../session.js';
import { isStaff, useStore } from '../store.js';
import { Viewer } from '../files.js';
import { Avatar } from './people.js';
import { ROLE_LABELS } from '../util.js';

function ConnectionBanner() {
  const s = useStore();
  let text = '';
  let kind = 'offline';
  if (s.conn === 'offline') {
    text = 'You are offline. Reconnecting… Messages you write now will be sent when the '
      + 'connection is back.';
  } else if (s.conn === 'blocked') {
    text = 'Live updates are blocked for this address. Open Carethread from its usual address.';
  } else if (s.conn === 'syncing' && s.threadsLoaded) {
    text = 'Catching up…';
    kind = 'syncing';
  }
  return html`<div class="banner-slot" role="status" aria-live="polite">
    ${text && html`<p class=${'banner ' + kind} data-conn=${s.conn}>${text}</p>`}</div>`;
}

function PracticeSwitcher() {
  const s = useStore();
  const [error, setError] = useState('');
  if (s.profiles.length < 2) return null;
  async function change(e) {
    const id = e.currentTarget.value;
    if (id === s.me.id) return;
    const select = e.currentTarget;
    setError('');
    try {
      await switchProfile(id);
      navigate('#/', { replace: true });
    } catch (err) {
      select.value = s.me.id;
      setError(err.detail);
    }
  }
  return html`
    <div class="switcher">
      <label for="practice-switcher" class="visually-hidden">Practice</label>
      <select id="practice-switcher" value=${s.me.id} onChange=${change}>
        ${s.profiles.map((p) => html`<option key=${p.id} value=${p.id}>
          ${p.organization_name}</option>`)}
      </select>
      ${error && html`<span class="error" role="alert">${error}</span>`}
    </div>`;
}

export function Shell({ route, children }) {
  const s = useStore();
  const unread = totalUnread();
  useEffect(() => {
    document.title = (unread ? `(${unread}) ` : '') + `${s.organization.name} · Carethread`;
  }, [unread, s.organization.name]);
  const here = (name) => (route.name === name ? 'page' : undefined);
  return html`
    <a class="skip-link" href="#main" onClick=${(e) => {
      e.preventDefault();
      const main = document.getElementById('main');
      if (main) main.focus();
    }}>Skip to content</a>
    <header class="topbar">
      <div class="topbar-start">
        <a class="brand" href="#/">Carethread</a>
        ${s.profiles.length > 1
          ? html`<${PracticeSwitcher} />`
          : html`<span class="org-name">${s.organization.name}</span>`}
      </div>
      <nav aria-label="Main" class="mainnav">
        <a href="#/" aria-current=${here('chats')}>Chats${unread
          ? html` <span class="badge" aria-label=${`${unread} unread`}>${unread}</span>` : ''}</a>
        ${isStaff() && html`
          <a href="#/feed" aria-current=${here('feed')}>Feed</a>
          <a href="#/clients" aria-current=${here('clients') || here('client') || here('add-client')
            || here('client-health')}>Clients</a>
          <a href="#/calendar" aria-current=${here('calendar') || here('book')}>Calendar</a>
          <a href="#/new" class="wide-only" aria-current=${here('new-thread')}>New chat</a>
          <a href="#/forms" aria-current=${here('forms') || here('form-new') || here('form-edit')
            || here('form-requests') || here('form-request')}>Forms</a>
          <a href="#/library" aria-current=${here('library')}>Library</a>
          <a href="#/team" aria-current=${here('team')}>Team</a>
          <a href="#/settings" aria-current=${here('settings')}>Settings</a>`}
        ${!isStaff() && html`<a href="#/appointments"
          aria-current=${here('appointments') || here('book')}>Appointments</a>`}
        ${!isStaff() && html`<a href="#/health" aria-current=${here('health')}>My health</a>`}
        ${!isStaff() && html`<a href="#/today" aria-current=${here('today')}>Today</a>`}
        ${!isStaff() && html`<a href="#/form-requests"
          aria-current=${here('form-requests') || here('form-request')}>Forms</a>
          <a href="#/documents" aria-current=${here('documents')}>Documents</a>`}
      </nav>
      <div class="topbar-end">
        <a href="#/notifications" class="quiet-link notif-link" aria-label="Notifications"
          aria-current=${here('notifications')}><svg class="bell" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"
            stroke-linejoin="round"><path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
            <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" /></svg
          ><span class="notif-text">Notifications</span></a>
        <a href="#/profile" class="me me-link" aria-current=${here('profile')}
          aria-label=${`${s.me.name}: your profile and photo`} title="Your profile and photo">
          <${Avatar} name=${s.me.name} id=${s.me.id} src=${s.me.avatar_url || null} size="sm" />
          <span class="me-text"><span class="me-name">${s.me.name}</span>
          <span class="role">${ROLE_LABELS[s.role] || s.role}</span></span></a>
        <button type="button" class="quiet" onClick=${async () => {
          await logout();
          navigate('#/login', { replace: true });
        }}>Log out</button>
      </div>
    </header>
    <${ConnectionBanner} />
    <main id="main" tabindex="-1" class=${'app-main route-' + route.name}>${children}</main>
    <${Viewer} />`;
}
