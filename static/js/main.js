// The web client: picks the screen for the URL and the session.
import { html, render, useEffect, useState } from './lib.js';
import { PUBLIC_ROUTES, navigate, useRoute } from './router.js';
import { restore } from './session.js';
import { isStaff, state, useStore } from './store.js';
import {
  AppointmentsView, BookView, CalendarView, PublicBookingView,
} from './views/appointments.js';
import { MyDocumentsView } from './files.js';
import { ChatsView } from './views/chats.js';
import { FeedView, HealthView } from './views/care.js';
import { AddClientView, ClientView, ClientsView } from './views/clients.js';
import { AcceptInvite, Login, NotFound, SignUp } from './views/entry.js';
import { FormBuilderView, FormsView } from './views/form-builder.js';
import { FormRequestView, FormRequestsView } from './views/form-requests.js';
import { JoinView } from './views/join.js';
import { LibraryView } from './views/library.js';
import { NewThreadView } from './views/new-thread.js';
import { ForgotPassword, ResetPassword } from './views/password.js';
import { ProfileView } from './views/profile.js';
import { NotificationsView } from './views/reach.js';
import { SettingsView } from './views/settings.js';
import { Shell } from './views/shell.js';
import { TeamView } from './views/team.js';
import { CarePlanView, TodayView } from './views/today.js';

// Signed-in screens: name -> [view, who may see it].
const SCREENS = {
  chats: [({ params }) => html`<${ChatsView} threadId=${params.threadId} at=${params.at} />`,
    () => true],
  documents: [() => html`<${MyDocumentsView} me=${state.me} />`, () => !isStaff()],
  'new-thread': [({ params }) => html`<${NewThreadView} clientId=${params.client} />`, isStaff],
  clients: [() => html`<${ClientsView} />`, isStaff],
  'add-client': [() => html`<${AddClientView} />`, isStaff],
  client: [({ params }) => html`<${ClientView} key=${params.clientId}
    clientId=${params.clientId} tab=${params.tab || 'profile'} />`, isStaff],
  'client-health': [({ params }) => html`<${HealthView} key=${params.clientId}
    clientId=${params.clientId} />`, isStaff],
  // The client's own metrics, charts and journal; the team's feed of their clients.
  health: [() => html`<${HealthView} />`, () => !isStaff()],
  feed: [() => html`<${FeedView} />`, isStaff],
  forms: [() => html`<${FormsView} />`, isStaff],
  'form-new': [() => html`<${FormBuilderView} key="new" />`, isStaff],
  'form-edit': [({ params }) => html`<${FormBuilderView} key=${params.formId}
    formId=${params.formId} />`, isStaff],
  // The team's tracking list; a client's own forms.
  'form-requests': [({ params }) => html`<${FormRequestsView} form=${params.form || ''} />`,
    () => true],
  // The team reads the response; the client fills the form in.
  'form-request': [({ params }) => html`<${FormRequestView} key=${params.requestId}
    requestId=${params.requestId} thread=${params.thread || ''} />`, () => true],
  calendar: [() => html`<${CalendarView} />`, isStaff],
  appointments: [() => html`<${AppointmentsView} />`, () => true],
  book: [({ params }) => html`<${BookView} key=${(params.client || '') + (params.reschedule || '')}
    clientId=${params.client} reschedule=${params.reschedule} />`, () => true],
  team: [() => html`<${TeamView} />`, isStaff],
  library: [() => html`<${LibraryView} />`, isStaff],
  today: [() => html`<${TodayView} />`, () => !isStaff()],
  // A care plan to read and print: the team's latest version, the client's shared one.
  'care-plan': [({ params }) => html`<${CarePlanView} key=${params.planId + (params.version || '')}
    planId=${params.planId} version=${params.version} />`, () => true],
  settings: [() => html`<${SettingsView} />`, isStaff],
  notifications: [() => html`<${NotificationsView} />`, () => true],
  profile: [() => html`<${ProfileView} />`, () => true],
};

function Redirect({ to }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function App() {
  const route = useRoute();
  const s = useStore();
  const [booted, setBooted] = useState(false);
  const [bootError, setBootError] = useState('');

  useEffect(() => {
    restore()
      .catch((err) => setBootError(err.detail || 'Carethread could not be reached.'))
      .finally(() => setBooted(true));
  }, []);

  if (!booted) return html`<p class="boot" role="status">Loading…</p>`;
  if (bootError && !s.me) {
    return html`<main id="main" class="entry"><div class="entry-card">
      <h1>Carethread is not reachable</h1><p role="alert">${bootError}</p>
      <button type="button" class="primary" onClick=${() => location.reload()}>Try again</button>
    </div></main>`;
  }

  switch (route.name) {
    case 'accept-invite':
      return html`<${AcceptInvite} token=${route.params.token} />`;
    case 'reset-password':
      return html`<${ResetPassword} token=${route.params.token} />`;
    case 'join':
      return html`<${JoinView} code=${route.params.code} />`;
    case 'public-book':
      return html`<${PublicBookingView} code=${route.params.code} />`;
    default:
      break;
  }
  if (!s.me) {
    if (route.name === 'signup') return html`<${SignUp} />`;
    if (route.name === 'forgot') return html`<${ForgotPassword} />`;
    return html`<${Login} />`;
  }
  if (PUBLIC_ROUTES.has(route.name)) return html`<${Redirect} to="#/" />`;
  const screen = SCREENS[route.name];
  if (!screen || !screen[1]()) return html`<${NotFound} />`;
  return html`<${Shell} route=${route}>${screen[0](route)}<//>`;
}

render(html`<${App} />`, document.getElementById('app'));
