// Appointments (docs/api.md "Appointments"): the provider's week calendar with their hours, the
// booking flow (a client's own, the team's from a client profile, a reschedule), the list of
// upcoming appointments with the calendar feed, the public booking page (/book/{code}), the
// practice's types and settings, and the appointment cards in a chat.
import { ApiError, del, get, patch, post, put } from '../api.js';
import { nameOf } from '../chat.js';
import { html, useEffect, useState } from '../lib.js';
import { navigate } from '../router.js';
import { isAdmin, isStaff, useStore } from '../store.js';
import { clockTime, fullTime } from '../util.js';
import { EntryPage, SubmitButton } from './entry.js';
import { ErrorText, Field } from './forms.js';

export const APPOINTMENT_KINDS = new Set([
  'appointment.booked', 'appointment.rescheduled', 'appointment.cancelled',
  'appointment.reminded',
]);
const WHERE = { video: 'Video call', in_person: 'In person', phone: 'Phone call' };
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short',
  day: 'numeric' });
const longDay = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long',
  day: 'numeric' });

function localDayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-`
    + String(d.getDate()).padStart(2, '0');
}

function byDay(slots) {
  const days = new Map();
  for (const slot of slots) {
    const key = localDayKey(slot.start);
    if (!days.has(key)) days.set(key, []);
    days.get(key).push(slot);
  }
  return days;
}

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
  } catch {
    return null;
  }
}

const plusDays = (date, n) => new Date(date.getTime() + n * 86400000);

// --- picking a slot ------------------------------------------------------------------------

/** Days with free slots, then the slots of the chosen day. `load(from, to)` answers slots. */
function SlotPicker({ load, picked, onPick, reloadKey }) {
  const [slots, setSlots] = useState(null);
  const [error, setError] = useState('');
  const [day, setDay] = useState('');
  useEffect(() => {
    let live = true;
    setSlots(null);
    const from = new Date();
    load(from, plusDays(from, 28))
      .then((found) => {
        if (!live) return;
        setSlots(found);
        setDay((d) => d || (found.length ? localDayKey(found[0].start) : ''));
      })
      .catch((err) => live && setError(err.detail));
    return () => { live = false; };
  }, [reloadKey]);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!slots) return html`<p class="muted">Looking for free times…</p>`;
  if (!slots.length) return html`<p class="notice">No free times in the next four weeks.</p>`;
  const days = byDay(slots);
  return html`
    <div class="slot-picker">
      <h3 class="step-title">Day</h3>
      <div class="day-chips" role="group" aria-label="Days with free times">
        ${[...days.keys()].map((key) => html`<button type="button" key=${key}
          class=${'chip' + (key === day ? ' selected' : '')} aria-pressed=${key === day}
          onClick=${() => setDay(key)}>${dayFormat.format(new Date(days.get(key)[0].start))}
          </button>`)}
      </div>
      <h3 class="step-title">Time</h3>
      <div class="slot-grid" role="group" aria-label="Free times">
        ${(days.get(day) || []).map((slot) => html`<button type="button" key=${slot.start}
          class=${'slot' + (picked && picked.start === slot.start ? ' selected' : '')}
          aria-pressed=${Boolean(picked && picked.start === slot.start)}
          data-start=${slot.start} onClick=${() => onPick(slot)}>${clockTime(slot.start)}
          </button>`)}
      </div>
    </div>`;
}

function Choices({ label, items, value, onChoose, describe }) {
  return html`<div class="choices" role="group" aria-label=${label}>
    ${items.map((item) => html`<button type="button" key=${item.id}
      class=${'choice' + (value === item.id ? ' selected' : '')} aria-pressed=${value === item.id}
      onClick=${() => onChoose(item.id)}>
      <span class="choice-name">${item.name}</span>
      ${describe && html`<span class="choice-meta">${describe(item)}</span>`}</button>`)}
  </div>`;
}

const typeLine = (t) => `${t.minutes} minutes · ${WHERE[t.location] || t.location}`;

// --- booking (signed in) -------------------------------------------------------------------

/** Book for myself (a client), for a client (the team, `clientId`), or move one (`reschedule`). */
export function BookView({ clientId, reschedule }) {
  const [types, setTypes] = useState(null);
  const [providers, setProviders] = useState(null);
  const [client, setClient] = useState(null);
  const [moving, setMoving] = useState(null);
  const [typeId, setTypeId] = useState('');
  const [providerId, setProviderId] = useState('');
  const [slot, setSlot] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const [reason, setReason] = useState('');

  useEffect(() => {
    const loads = [get('/appointment-types'), get('/providers/bookable')];
    Promise.all(loads).then(([t, p]) => {
      setTypes(t.appointment_types);
      setProviders(p.providers);
      if (t.appointment_types.length === 1) setTypeId(t.appointment_types[0].id);
      if (p.providers.length === 1) setProviderId(p.providers[0].id);
    }).catch((err) => setError(err.detail));
    if (clientId) get('/clients/' + encodeURIComponent(clientId)).then((r) => setClient(r.client))
      .catch((err) => setError(err.detail));
    if (reschedule) {
      get('/appointments/' + encodeURIComponent(reschedule)).then((r) => {
        setMoving(r.appointment);
        setTypeId(r.appointment.type_id);
        setProviderId(r.appointment.provider_id);
      }).catch((err) => setError(err.detail));
    }
  }, [clientId, reschedule]);

  if (isStaff() && !clientId && !reschedule) {
    return html`<section class="page"><h1>Book an appointment</h1>
      <p>Open a client's profile and choose <strong>Book appointment</strong>.</p>
      <p><a href="#/clients">Clients</a></p></section>`;
  }
  const type = types && types.find((t) => t.id === typeId);
  const provider = providers && providers.find((p) => p.id === providerId);

  async function confirm() {
    setBusy(true);
    setError('');
    try {
      const body = reschedule ? { start: slot.start, ...(reason.trim()
        ? { reason: reason.trim() } : {}) }
        : { provider_id: providerId, type_id: typeId, start: slot.start,
          ...(clientId ? { client_id: clientId } : {}) };
      const r = reschedule
        ? await post(`/appointments/${encodeURIComponent(reschedule)}/reschedule`, body)
        : await post('/appointments', body);
      setDone(r.appointment);
    } catch (err) {
      setError(err.detail);
      if (err.code === 'slot_taken') {
        setSlot(null);
        setAttempt((n) => n + 1);
      }
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return html`<section class="page book-page" aria-labelledby="book-heading">
      <h1 id="book-heading">${reschedule ? 'Appointment moved' : 'Appointment booked'}</h1>
      <div class="booked-summary success" role="status">
        <p><strong>${fullTime(done.start)}</strong></p>
        <p>${done.type_name} with ${done.provider_name} · ${WHERE[done.location]}</p>
      </div>
      ${done.video_url && html`<p>Video link: <a href=${done.video_url} target="_blank"
        rel="noopener noreferrer">${done.video_url}</a></p>`}
      <p class="muted">${isStaff() ? 'The client gets a confirmation email.'
        : 'A confirmation is on its way to your email.'}</p>
      <div class="actions">
        <a class="button primary" href=${isStaff() ? '#/calendar' : '#/appointments'}>
          ${isStaff() ? 'Calendar' : 'My appointments'}</a>
        ${client && client.care_thread_id && html`<a class="button"
          href=${'#/threads/' + client.care_thread_id}>Chat with ${client.name}</a>`}
      </div>
    </section>`;
  }

  const heading = reschedule ? 'Move appointment' : client ? `Book for ${client.name}`
    : 'Book an appointment';
  return html`
    <section class="page book-page" aria-labelledby="book-heading">
      <h1 id="book-heading">${heading}</h1>
      ${moving && html`<p class="muted">Now: ${fullTime(moving.start)} · ${moving.type_name}
        with ${moving.provider_name}</p>`}
      <${ErrorText} error=${error} />
      ${!types ? html`<p class="muted">Loading…</p>` : html`
        ${!reschedule && html`
          <h2 class="step-title">Type</h2>
          ${types.length ? html`<${Choices} label="Appointment type" items=${types}
            value=${typeId} describe=${typeLine} onChoose=${(id) => {
              setTypeId(id);
              setSlot(null);
            }} />` : html`<p class="notice">Nothing can be booked online yet.</p>`}
          ${providers.length > 1 && html`
            <h2 class="step-title">With</h2>
            <${Choices} label="Provider" items=${providers} value=${providerId}
              onChoose=${(id) => {
                setProviderId(id);
                setSlot(null);
              }} />`}`}
        ${typeId && providerId && html`<${SlotPicker} key=${typeId + providerId}
          reloadKey=${typeId + providerId + attempt} picked=${slot} onPick=${setSlot}
          load=${(from, to) => get(`/providers/${encodeURIComponent(providerId)}/slots?`
            + new URLSearchParams({ type_id: typeId, from: from.toISOString(),
              to: to.toISOString() })).then((r) => r.slots)} />`}
        ${slot && html`
          <div class="confirm-bar" role="region" aria-label="Confirm">
            <p><strong>${`${longDay.format(new Date(slot.start))}, ${clockTime(slot.start)}`}</strong>
              ${type && html`<br /><span class="muted">${type.name} · ${typeLine(type)}${
                provider ? ` · ${provider.name}` : ''}</span>`}</p>
            ${reschedule && html`<div class="field"><label for="move-reason">Reason (optional)
              </label><input id="move-reason" value=${reason} maxLength=${500}
              onInput=${(e) => setReason(e.currentTarget.value)} /></div>`}
            <button type="button" class="primary" disabled=${busy} onClick=${confirm}>
              ${busy ? 'Booking…' : reschedule ? 'Move to this time' : 'Book'}</button>
          </div>`}`}
    </section>`;
}

// --- one appointment, as a card ------------------------------------------------------------

function CancelForm({ appointment, onDone }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  if (!open) {
    return html`<button type="button" class="quiet" onClick=${() => setOpen(true)}>Cancel</button>`;
  }
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await post(`/appointments/${encodeURIComponent(appointment.id)}/cancel`,
        reason.trim() ? { reason: reason.trim() } : {});
      onDone(r.appointment);
    } catch (err) {
      setError(err.detail);
      setBusy(false);
    }
  }
  return html`<form class="cancel-form" onSubmit=${submit}>
    <label for=${'reason-' + appointment.id}>Reason (optional)</label>
    <input id=${'reason-' + appointment.id} value=${reason} maxLength=${500}
      onInput=${(e) => setReason(e.currentTarget.value)} />
    <${ErrorText} error=${error} />
    <div class="actions"><button type="submit" class="danger" disabled=${busy}>
      ${busy ? 'Cancelling…' : 'Cancel appointment'}</button>
      <button type="button" class="quiet" onClick=${() => setOpen(false)}>Keep it</button></div>
  </form>`;
}

function Actions({ appointment, onChange }) {
  if (appointment.status !== 'booked' || new Date(appointment.end) < new Date()) return null;
  return html`<div class="actions appt-actions">
    ${appointment.video_url && html`<a class="button primary" href=${appointment.video_url}
      target="_blank" rel="noopener noreferrer">Join</a>`}
    <a class="button" href=${'#/book?reschedule=' + encodeURIComponent(appointment.id)}>
      Reschedule</a>
    <${CancelForm} appointment=${appointment} onDone=${onChange} />
  </div>`;
}

function AppointmentItem({ appointment: initial }) {
  const [a, setA] = useState(initial);
  const staff = isStaff();
  return html`<li class=${'appt-card ' + a.status} data-appointment-id=${a.id}>
    <p class="appt-when"><strong>${fullTime(a.start)}</strong></p>
    <p>${a.type_name} · ${WHERE[a.location] || a.location}</p>
    <p class="muted">${staff ? `${a.client_name} with ${a.provider_name}`
      : `With ${a.provider_name}`}</p>
    ${a.status === 'cancelled' && html`<p class="appt-status">Cancelled${a.cancel_reason
      ? `: ${a.cancel_reason}` : ''}</p>`}
    <${Actions} appointment=${a} onChange=${setA} />
  </li>`;
}

function CalendarFeed() {
  const [active, setActive] = useState(null);
  const [url, setUrl] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    get('/me/calendar-feed').then((r) => setActive(r.active)).catch((e) => setError(e.detail));
  }, []);
  async function reset() {
    setError('');
    try {
      const r = await post('/me/calendar-feed');
      setUrl(r.url);
      setActive(true);
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<section class="feed" aria-labelledby="feed-heading">
    <h2 id="feed-heading">Calendar feed</h2>
    <p class="muted">Subscribe to your appointments from your calendar app. Keep the address
      private; making a new one stops the old one.</p>
    ${url && html`<p><label for="feed-url">Your feed address</label>
      <input id="feed-url" readonly value=${url} onFocus=${(e) => e.currentTarget.select()} /></p>`}
    <${ErrorText} error=${error} />
    <div class="actions">
      <button type="button" onClick=${reset}>${active ? 'Make a new address' : 'Get a feed address'}
      </button>
      ${active && html`<button type="button" class="quiet" onClick=${async () => {
        await del('/me/calendar-feed');
        setActive(false);
        setUrl('');
      }}>Turn off</button>`}
    </div>
  </section>`;
}

/** Upcoming (and recent) appointments; the client's home for booking. */
export function AppointmentsView() {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const from = plusDays(new Date(), -1);
    get('/appointments?' + new URLSearchParams({ from: from.toISOString(),
      to: plusDays(from, 180).toISOString() }))
      .then((r) => setList(r.appointments)).catch((err) => setError(err.detail));
  }, []);
  return html`<section class="page appointments-page" aria-labelledby="appts-heading">
    <div class="page-head"><h1 id="appts-heading">Appointments</h1>
      ${!isStaff() && html`<a class="button primary" href="#/book">Book</a>`}</div>
    <${ErrorText} error=${error} />
    ${!list ? html`<p class="muted">Loading…</p>` : list.length === 0
      ? html`<p class="muted">No upcoming appointments.</p>`
      : html`<ul class="appt-list">${list.map((a) => html`<${AppointmentItem} key=${a.id}
          appointment=${a} />`)}</ul>`}
    <${CalendarFeed} />
  </section>`;
}

// --- the provider's week ---------------------------------------------------------------------

function mondayOf(date) {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const back = (d.getDay() + 6) % 7;
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - back);
}

export function CalendarView() {
  const s = useStore();
  const [week, setWeek] = useState(() => mondayOf(new Date()));
  const [providers, setProviders] = useState([]);
  const [providerId, setProviderId] = useState(s.me.id);
  const [types, setTypes] = useState([]);
  const [typeId, setTypeId] = useState('');
  const [appointments, setAppointments] = useState(null);
  const [slots, setSlots] = useState([]);
  const [error, setError] = useState('');
  const [version, setVersion] = useState(0);

  useEffect(() => {
    get('/providers/bookable').then((r) => setProviders(r.providers)).catch(() => {});
    get('/appointment-types').then((r) => {
      setTypes(r.appointment_types);
      if (r.appointment_types.length) setTypeId(r.appointment_types[0].id);
    }).catch(() => {});
  }, [version]);

  useEffect(() => {
    const from = week;
    const to = new Date(week.getFullYear(), week.getMonth(), week.getDate() + 7);
    const range = { from: from.toISOString(), to: to.toISOString() };
    setError('');
    setAppointments(null);
    get('/appointments?' + new URLSearchParams({ ...range, provider_id: providerId }))
      .then((r) => setAppointments(r.appointments)).catch((err) => setError(err.detail));
    if (typeId) {
      get(`/providers/${encodeURIComponent(providerId)}/slots?`
        + new URLSearchParams({ ...range, type_id: typeId }))
        .then((r) => setSlots(r.slots)).catch(() => setSlots([]));
    } else setSlots([]);
  }, [week, providerId, typeId, version]);

  const days = [...Array(7).keys()].map((i) => new Date(week.getFullYear(), week.getMonth(),
    week.getDate() + i));
  const apptsByDay = new Map();
  for (const a of appointments || []) {
    const key = localDayKey(a.start);
    if (!apptsByDay.has(key)) apptsByDay.set(key, []);
    apptsByDay.get(key).push(a);
  }
  const slotsByDay = byDay(slots);
  const who = providers.find((p) => p.id === providerId);
  return html`<section class="page calendar-page" aria-labelledby="cal-heading">
    <div class="page-head"><h1 id="cal-heading">Calendar</h1>
      <div class="actions">
        <button type="button" onClick=${() => setWeek(plusDays(week, -7))}
          aria-label="Previous week">‹</button>
        <button type="button" onClick=${() => setWeek(mondayOf(new Date()))}>This week</button>
        <button type="button" onClick=${() => setWeek(plusDays(week, 7))}
          aria-label="Next week">›</button>
      </div></div>
    <div class="cal-filters">
      ${isAdmin() && providers.length > 0 && html`<label>Provider <select value=${providerId}
        onChange=${(e) => setProviderId(e.currentTarget.value)}>
        ${!providers.some((p) => p.id === s.me.id) && html`<option value=${s.me.id}>Me</option>`}
        ${providers.map((p) => html`<option key=${p.id} value=${p.id}>${p.name}</option>`)}
        </select></label>`}
      ${types.length > 0 && html`<label>Free times for <select value=${typeId}
        onChange=${(e) => setTypeId(e.currentTarget.value)}>
        ${types.map((t) => html`<option key=${t.id} value=${t.id}>${t.name}</option>`)}
        </select></label>`}
      ${who && html`<span class="muted">Hours in ${who.time_zone}</span>`}
    </div>
    <${ErrorText} error=${error} />
    <div class="week" role="list" aria-label="Week"
      data-loaded=${appointments ? 'true' : 'false'}>
      ${days.map((d) => {
        const key = localDayKey(d.toISOString());
        const items = apptsByDay.get(key) || [];
        const free = slotsByDay.get(key) || [];
        return html`<div class="week-day" role="listitem" key=${key} data-day=${key}>
          <h2 class="week-day-name">${dayFormat.format(d)}</h2>
          ${items.map((a) => html`<a key=${a.id} class=${'cal-appt ' + a.status}
            href=${'#/clients/' + encodeURIComponent(a.client_id)} data-appointment-id=${a.id}>
            <span class="cal-time">${clockTime(a.start)}–${clockTime(a.end)}</span>
            <span class="cal-who">${a.client_name}</span>
            <span class="cal-what muted">${a.type_name}${a.status === 'cancelled'
              ? ' · cancelled' : ''}</span></a>`)}
          ${free.length > 0 && html`<p class="cal-free" title=${free.map((f) => clockTime(f.start))
            .join(', ')}>${free.length} free</p>`}
          ${items.length === 0 && free.length === 0 && html`<p class="muted small">—</p>`}
        </div>`;
      })}
    </div>
    ${providerId === s.me.id || isAdmin() ? html`<${HoursEditor} providerId=${providerId}
      onSaved=${() => setVersion((v) => v + 1)} />` : null}
    ${isAdmin() && html`<${TypesEditor} onChange=${() => setVersion((v) => v + 1)} />
      <${PracticeAppointmentSettings} />`}
    <${CalendarFeed} />
  </section>`;
}

const EXCEPTION_KINDS = { off: 'Day off', hours_off: 'Hours off', extra: 'Extra hours' };

function exceptionKind(e) {
  if (e.available) return 'extra';
  return e.start ? 'hours_off' : 'off';
}

const shortDate = new Intl.DateTimeFormat(undefined, { weekday: 'short', year: 'numeric',
  month: 'short', day: 'numeric', timeZone: 'UTC' });

/** Weekly hours (any number of spans a day, e.g. a lunch break between two) and dated
 * exceptions: days off, hours off, extra hours. Everything the server holds is kept. */
function HoursEditor({ providerId, onSaved }) {
  const [zone, setZone] = useState('');
  const [days, setDays] = useState(null); // per weekday: [{start, end}, ...]; [] = not working
  const [exceptions, setExceptions] = useState([]);
  const [adding, setAdding] = useState({ date: '', kind: 'off', start: '09:00', end: '12:00' });
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    setDays(null);
    get(`/providers/${encodeURIComponent(providerId)}/availability`).then((r) => {
      const a = r.availability;
      setZone(a.time_zone || browserZone() || 'UTC');
      setDays(DAYS.map((_, day) => a.weekly.filter((w) => w.day === day)
        .map((w) => ({ start: w.start, end: w.end }))));
      setExceptions(a.exceptions);
    }).catch((err) => setError(err.detail));
  }, [providerId]);
  if (!days) return null;
  const setDay = (i, spans) => setDays(days.map((d, j) => (j === i ? spans : d)));
  const changeSpan = (i, k, key, value) => setDay(i, days[i].map((span, n) => (n === k
    ? { ...span, [key]: value } : span)));
  async function save(e) {
    e.preventDefault();
    setStatus('');
    setError('');
    try {
      await put(`/providers/${encodeURIComponent(providerId)}/availability`, {
        time_zone: zone.trim(),
        weekly: days.flatMap((spans, day) => spans.map((span) => ({ day, ...span }))),
        exceptions,
      });
      setStatus('Hours saved.');
      onSaved();
    } catch (err) {
      setError(err.detail);
    }
  }
  function addException() {
    const entry = { date: adding.date, available: adding.kind === 'extra' };
    if (adding.kind !== 'off') Object.assign(entry, { start: adding.start, end: adding.end });
    setExceptions([...exceptions, entry].sort((x, y) => x.date.localeCompare(y.date)));
    setAdding({ ...adding, date: '' });
  }
  const describe = (x) => {
    const when = shortDate.format(new Date(x.date + 'T00:00:00Z'));
    const kind = EXCEPTION_KINDS[exceptionKind(x)];
    return x.start ? `${when}: ${kind.toLowerCase()} ${x.start}–${x.end}` : `${when}: ${kind.toLowerCase()}`;
  };
  return html`<form class="hours" onSubmit=${save} aria-labelledby="hours-heading">
    <h2 id="hours-heading">Working hours</h2>
    <${Field} label="Time zone" name="time_zone" value=${zone} onInput=${setZone}
      hint="An IANA name, e.g. Europe/Berlin or America/New_York." />
    <table class="hours-table"><tbody>
      ${days.map((spans, i) => html`<tr key=${i}>
        <th scope="row"><label><input type="checkbox" checked=${spans.length > 0}
          onChange=${(e) => setDay(i, e.currentTarget.checked
            ? [{ start: '09:00', end: '17:00' }] : [])} /> ${DAYS[i]}</label></th>
        <td>${spans.length === 0 ? html`<span class="muted">Not working</span>`
          : spans.map((span, k) => {
            const n = k ? ` (${k + 1})` : '';
            return html`<div class="span-row" key=${k}>
              <input type="time" aria-label=${`${DAYS[i]} from${n}`} value=${span.start}
                onInput=${(e) => changeSpan(i, k, 'start', e.currentTarget.value)} />
              <span aria-hidden="true">–</span>
              <input type="time" aria-label=${`${DAYS[i]} until${n}`} value=${span.end}
                onInput=${(e) => changeSpan(i, k, 'end', e.currentTarget.value)} />
              ${k > 0 && html`<button type="button" class="link"
                aria-label=${`Remove ${DAYS[i]} hours${n}`}
                onClick=${() => setDay(i, spans.filter((_, m) => m !== k))}>Remove</button>`}
            </div>`;
          })}
          ${spans.length > 0 && html`<button type="button" class="link"
            aria-label=${`Add hours on ${DAYS[i]}`}
            onClick=${() => setDay(i, [...spans, { start: '14:00', end: '17:00' }])}>
            + hours</button>`}</td>
      </tr>`)}
    </tbody></table>
    <fieldset class="exceptions"><legend>Days off and extra hours</legend>
      ${exceptions.length === 0 ? html`<p class="muted">None.</p>`
        : html`<ul aria-label="Exceptions">${exceptions.map((x, k) => html`<li key=${k}>
          ${describe(x)} <button type="button" class="link" aria-label=${'Remove ' + describe(x)}
          onClick=${() => setExceptions(exceptions.filter((_, m) => m !== k))}>Remove</button>
          </li>`)}</ul>`}
      <div class="row exception-add">
        <div class="field"><label for="exc-date">Date</label>
          <input id="exc-date" type="date" value=${adding.date}
            onInput=${(e) => setAdding({ ...adding, date: e.currentTarget.value })} /></div>
        <div class="field"><label for="exc-kind">What</label>
          <select id="exc-kind" value=${adding.kind}
            onChange=${(e) => setAdding({ ...adding, kind: e.currentTarget.value })}>
            ${Object.entries(EXCEPTION_KINDS).map(([k, v]) => html`<option value=${k}>${v}
              </option>`)}</select></div>
        ${adding.kind !== 'off' && html`
          <div class="field"><label for="exc-from">From</label>
            <input id="exc-from" type="time" value=${adding.start}
              onInput=${(e) => setAdding({ ...adding, start: e.currentTarget.value })} /></div>
          <div class="field"><label for="exc-until">Until</label>
            <input id="exc-until" type="time" value=${adding.end}
              onInput=${(e) => setAdding({ ...adding, end: e.currentTarget.value })} /></div>`}
        <button type="button" disabled=${!adding.date} onClick=${addException}>Add</button>
      </div>
      <p class="hint">Changes here are saved with the hours.</p>
    </fieldset>
    <${ErrorText} error=${error} />
    ${status && html`<p class="success" role="status">${status}</p>`}
    <button type="submit" class="primary">Save hours</button>
  </form>`;
}

const WHO_BOOKS = { clients: 'Clients book', team: 'Team only', public: 'Public link' };

/** A type's fields as the form holds them (strings), from a type or the defaults. */
function typeDraft(t) {
  return t ? {
    name: t.name, minutes: String(t.minutes), location: t.location, bookable_by: t.bookable_by,
    notice: String(t.min_notice_minutes / 60), cancel: String(t.cancel_notice_minutes / 60),
    buffer_before: String(t.buffer_before), buffer_after: String(t.buffer_after),
    horizon_days: String(t.horizon_days),
    slot_interval: t.slot_interval && t.slot_interval !== t.minutes ? String(t.slot_interval) : '',
    form_ids: [...t.form_ids],
  } : {
    name: '', minutes: '50', location: 'video', bookable_by: 'clients', notice: '24',
    cancel: '24', buffer_before: '0', buffer_after: '0', horizon_days: '60', slot_interval: '',
    form_ids: [],
  };
}

function typeBody(d) {
  return {
    name: d.name, minutes: Number(d.minutes), location: d.location, bookable_by: d.bookable_by,
    min_notice_minutes: Math.round(Number(d.notice) * 60),
    cancel_notice_minutes: Math.round(Number(d.cancel) * 60),
    buffer_before: Number(d.buffer_before) || 0, buffer_after: Number(d.buffer_after) || 0,
    horizon_days: Number(d.horizon_days) || 60,
    slot_interval: d.slot_interval ? Number(d.slot_interval) : null,
    form_ids: d.form_ids,
  };
}

/** Create a type, or change one (`type`); `onSaved` after the server took it. */
function TypeForm({ type, forms, onSaved, onCancel }) {
  const [d, setD] = useState(() => typeDraft(type));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const prefix = type ? 'edit-' + type.id : 'new-type';
  const set = (key) => (value) => setD({ ...d, [key]: value });
  async function submit(e) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const body = typeBody(d);
      if (type) {
        await patch('/appointment-types/' + encodeURIComponent(type.id), body);
      } else {
        if (body.slot_interval === null) delete body.slot_interval;
        await post('/appointment-types', body);
        setD(typeDraft(null));
      }
      onSaved();
    } catch (err) {
      setError(err.detail);
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="type-form" onSubmit=${submit}
    aria-label=${type ? `Change ${type.name}` : 'New appointment type'}>
    <${Field} label="Name" name=${prefix + '-name'} value=${d.name} onInput=${set('name')}
      maxLength=${100} />
    <div class="row">
      <${Field} label="Minutes" name=${prefix + '-minutes'} type="number" value=${d.minutes}
        onInput=${set('minutes')} />
      <div class="field"><label for=${prefix + '-location'}>Where</label>
        <select id=${prefix + '-location'} value=${d.location}
          onChange=${(e) => set('location')(e.currentTarget.value)}>
          ${Object.entries(WHERE).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
      <div class="field"><label for=${prefix + '-who'}>Who books</label>
        <select id=${prefix + '-who'} value=${d.bookable_by}
          onChange=${(e) => set('bookable_by')(e.currentTarget.value)}>
          ${Object.entries(WHO_BOOKS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
        </select></div>
    </div>
    <div class="row">
      <${Field} label="Notice (hours)" name=${prefix + '-notice'} type="number"
        value=${d.notice} onInput=${set('notice')} />
      <${Field} label="Cancel until (hours before)" name=${prefix + '-cancel'} type="number"
        value=${d.cancel} onInput=${set('cancel')} />
    </div>
    <details class="more-options" open=${Boolean(type)}><summary>More options</summary>
      <div class="row">
        <${Field} label="Free before (minutes)" name=${prefix + '-before'} type="number"
          value=${d.buffer_before} onInput=${set('buffer_before')} min="0" max="240" />
        <${Field} label="Free after (minutes)" name=${prefix + '-after'} type="number"
          value=${d.buffer_after} onInput=${set('buffer_after')} min="0" max="240" />
      </div>
      <div class="row">
        <${Field} label="Bookable up to (days ahead)" name=${prefix + '-horizon'} type="number"
          value=${d.horizon_days} onInput=${set('horizon_days')} min="1" max="730" />
        <${Field} label="Minutes between start times" name=${prefix + '-interval'}
          type="number" value=${d.slot_interval} onInput=${set('slot_interval')}
          required=${false} hint="Empty: the length of the appointment." />
      </div>
      ${forms.length > 0 && html`<fieldset><legend>Forms to request on booking</legend>
        ${forms.map((f) => html`<label class="check" key=${f.id}><input type="checkbox"
          checked=${d.form_ids.includes(f.id)} onChange=${(e) => set('form_ids')(
            e.currentTarget.checked ? [...d.form_ids, f.id]
              : d.form_ids.filter((x) => x !== f.id))} />
          ${f.title}</label>`)}</fieldset>`}
    </details>
    <${ErrorText} error=${error} />
    <div class="actions">
      <button type="submit" class=${type ? 'primary' : ''} disabled=${busy}>
        ${type ? 'Save type' : 'Add type'}</button>
      ${onCancel && html`<button type="button" class="quiet" onClick=${onCancel}>Close</button>`}
    </div>
  </form>`;
}

function TypesEditor({ onChange }) {
  const [types, setTypes] = useState([]);
  const [forms, setForms] = useState([]);
  const [editing, setEditing] = useState('');
  const load = () => get('/appointment-types').then((r) => setTypes(r.appointment_types));
  useEffect(() => {
    load().catch(() => {});
    get('/forms').then((r) => setForms(r.forms.filter((f) => !f.archived))).catch(() => {});
  }, []);
  async function saved() {
    setEditing('');
    await load();
    onChange();
  }
  async function archive(t) {
    await patch('/appointment-types/' + encodeURIComponent(t.id), { archived: true });
    await saved();
  }
  return html`<section class="types" aria-labelledby="types-heading">
    <h2 id="types-heading">Appointment types</h2>
    <ul class="type-list">${types.map((t) => html`<li key=${t.id}>
      <strong>${t.name}</strong> <span class="muted">${typeLine(t)} · ${WHO_BOOKS[t.bookable_by]}${
        t.buffer_before || t.buffer_after ? ` · ${t.buffer_before}/${t.buffer_after} min free`
        : ''}${t.form_ids.length ? ` · ${t.form_ids.length === 1 ? '1 form'
        : `${t.form_ids.length} forms`} on booking` : ''}</span>
      <button type="button" class="link" aria-label=${'Change ' + t.name}
        onClick=${() => setEditing(editing === t.id ? '' : t.id)}>Change</button>
      <button type="button" class="link" aria-label=${'Archive ' + t.name}
        onClick=${() => archive(t)}>Archive</button>
      ${editing === t.id && html`<${TypeForm} key=${'edit' + t.id} type=${t} forms=${forms}
        onSaved=${saved} onCancel=${() => setEditing('')} />`}</li>`)}
    </ul>
    <h3 class="step-title">New type</h3>
    <${TypeForm} forms=${forms} onSaved=${saved} />
  </section>`;
}

function PracticeAppointmentSettings() {
  const [settings, setSettings] = useState(null);
  const [template, setTemplate] = useState('');
  const [hours, setHours] = useState('');
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const show = (r) => {
    setSettings(r.settings);
    setTemplate(r.settings.meeting_url_template || '');
    setHours(r.settings.reminder_hours.join(', '));
  };
  useEffect(() => { get('/appointment-settings').then(show).catch((e) => setError(e.detail)); },
    []);
  if (!settings) return null;
  async function save(e) {
    e.preventDefault();
    setError('');
    setStatus('');
    try {
      show(await patch('/appointment-settings', {
        meeting_url_template: template.trim() || null,
        reminder_hours: hours.split(',').map((h) => Number(h.trim())).filter((h) => h),
      }));
      setStatus('Saved.');
    } catch (err) {
      setError(err.detail);
    }
  }
  async function link(enabled) {
    try {
      show(enabled === 'reset' ? await post('/appointment-settings/booking-link')
        : await patch('/appointment-settings', { booking_enabled: enabled }));
    } catch (err) {
      setError(err.detail);
    }
  }
  return html`<form class="appt-settings" onSubmit=${save} aria-labelledby="appt-set-heading">
    <h2 id="appt-set-heading">Booking settings</h2>
    <${Field} label="Video meeting address" name="meeting_url_template" value=${template}
      onInput=${setTemplate} required=${false}
      hint="e.g. https://meet.example.org/practice-{appointment_id}; {appointment_id} is filled in." />
    <${Field} label="Reminders (hours before)" name="reminder_hours" value=${hours}
      onInput=${setHours} required=${false} hint="Comma-separated, e.g. 24, 1." />
    <${ErrorText} error=${error} />
    ${status && html`<p class="success" role="status">${status}</p>`}
    <button type="submit">Save settings</button>
    <fieldset><legend>Public booking link</legend>
      ${settings.booking_url ? html`<p><a href=${settings.booking_url} target="_blank"
        rel="noopener" class="booking-url">${settings.booking_url}</a></p>
        <button type="button" onClick=${() => link('reset')}>New link</button>
        <button type="button" class="quiet" onClick=${() => link(false)}>Turn off</button>`
      : html`<p class="muted">Let people who are not clients yet book a discovery call.</p>
        <button type="button" onClick=${() => link(true)}>Turn on</button>`}
    </fieldset>
  </form>`;
}

// --- the public booking page -----------------------------------------------------------------

export function PublicBookingView({ code }) {
  const [info, setInfo] = useState(null);
  const [infoError, setInfoError] = useState('');
  const [typeId, setTypeId] = useState('');
  const [providerId, setProviderId] = useState('');
  const [slot, setSlot] = useState(null);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const [attempt, setAttempt] = useState(0);
  const base = '/booking/' + encodeURIComponent(code);

  useEffect(() => {
    get(base).then((r) => {
      setInfo(r);
      if (r.types.length === 1) setTypeId(r.types[0].id);
      if (r.providers.length === 1) setProviderId(r.providers[0].id);
    }).catch((err) => setInfoError(err.detail));
  }, [code]);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setDone(await post(base, { provider_id: providerId, type_id: typeId, start: slot.start,
        name, email, time_zone: browserZone() }));
    } catch (err) {
      setError(err instanceof ApiError ? err : { detail: String(err) });
      if (err.code === 'slot_taken') {
        setSlot(null);
        setAttempt((n) => n + 1);
      }
    } finally {
      setBusy(false);
    }
  }

  if (infoError) {
    return html`<${EntryPage} title="Booking link not valid">
      <p class="error" role="alert">${infoError}</p><//>`;
  }
  if (!info) return html`<${EntryPage} title="Book a call"><p class="muted">Loading…</p><//>`;
  if (done) {
    return html`<${EntryPage} title="You're booked">
      <div class="success" role="status">
        <p><strong>${fullTime(done.appointment.start)}</strong></p>
        <p>${done.appointment.type_name} with ${done.appointment.provider_name}</p></div>
      <p>We sent a confirmation to <strong>${done.email}</strong>, and an invitation to create
        your Carethread login, where you can message ${info.organization.name} securely.</p>
    <//>`;
  }
  return html`
    <${EntryPage} title=${`Book with ${info.organization.name}`}
      intro="Pick a time that suits you. No login needed.">
      ${info.types.length === 0 ? html`<p class="notice">Nothing can be booked here right now.</p>`
        : html`
        ${info.types.length > 1 && html`<h2 class="step-title">What</h2>
          <${Choices} label="Appointment type" items=${info.types} value=${typeId}
            describe=${typeLine} onChoose=${(id) => { setTypeId(id); setSlot(null); }} />`}
        ${info.types.length === 1 && html`<p class="muted">${
          `${info.types[0].name} · ${typeLine(info.types[0])}`}</p>`}
        ${info.providers.length > 1 && html`<h2 class="step-title">With</h2>
          <${Choices} label="Provider" items=${info.providers} value=${providerId}
            onChoose=${(id) => { setProviderId(id); setSlot(null); }} />`}
        ${typeId && providerId && html`<${SlotPicker} reloadKey=${typeId + providerId + attempt}
          picked=${slot} onPick=${setSlot}
          load=${(from, to) => get(base + '/slots?' + new URLSearchParams({
            provider_id: providerId, type_id: typeId, from: from.toISOString(),
            to: to.toISOString() })).then((r) => r.slots)} />`}
        ${error && !slot && html`<p class="error" role="alert">${error.detail}</p>`}
        ${slot && html`<form onSubmit=${submit} class="public-book-form">
          <p class="selected-time"><strong>${
            `${longDay.format(new Date(slot.start))}, ${clockTime(slot.start)}`}</strong></p>
          <${Field} label="Your name" name="name" value=${name} onInput=${setName}
            autocomplete="name" maxLength=${200} />
          <${Field} label="Email" name="email" type="email" value=${email} onInput=${setEmail}
            autocomplete="email" />
          <${ErrorText} error=${error && error.detail} />
          <${SubmitButton} busy=${busy} label="Book this time" busyLabel="Booking…" />
        </form>`}`}
    <//>`;
}

// --- appointment events in a chat --------------------------------------------------------------

/** appointment id -> its latest known state, from the events held for a thread. */
export function appointmentStates(events) {
  const states = new Map();
  for (const ev of events) {
    const id = ev.data && ev.data.appointment_id;
    if (!id || !APPOINTMENT_KINDS.has(ev.kind) || ev.kind === 'appointment.reminded') continue;
    states.set(id, { status: ev.kind === 'appointment.cancelled' ? 'cancelled' : 'booked',
      start: ev.data.start, end: ev.data.end });
  }
  return states;
}

function BookedCard({ ev, current }) {
  const data = ev.data || {};
  const [local, setLocal] = useState(null);
  const state = local || current || { status: 'booked', start: data.start, end: data.end };
  const appointment = { id: data.appointment_id, status: state.status, start: state.start,
    end: state.end, video_url: data.video_url };
  const by = ev.actor_id ? nameOf(ev.actor_id) : null;
  return html`<li class="appt-card-item" data-seq=${ev.seq} data-kind=${ev.kind}
    data-appointment-id=${data.appointment_id}>
    <article class=${'appt-chat-card ' + state.status}
      aria-label=${'Appointment: ' + (data.type_name || '')}>
      <p class="form-card-kind">Appointment${state.status === 'cancelled' ? ' · cancelled' : ''}</p>
      <h3 class="form-card-title">${fullTime(state.start)}</h3>
      <p class="muted small">${`${data.type_name} with ${data.provider_name} · `
        + `${WHERE[data.location] || data.location}${by ? ` · booked by ${by}` : ''}`}</p>
      ${state.status === 'booked' && state.start !== data.start
        && html`<p class="muted small">Moved from ${fullTime(data.start)}</p>`}
      <${Actions} appointment=${appointment} onChange=${(a) => setLocal({ ...state,
        status: a.status })} />
    </article>
  </li>`;
}

/** One appointment.* event in a thread: the booking is a card, the rest are lines. */
export function AppointmentEventItem({ ev, current }) {
  const data = ev.data || {};
  if (ev.kind === 'appointment.booked') {
    return html`<${BookedCard} ev=${ev} current=${current} />`;
  }
  const who = ev.actor_id ? nameOf(ev.actor_id) : 'Carethread';
  let text;
  if (ev.kind === 'appointment.rescheduled') {
    text = `${who} moved the appointment from ${fullTime(data.from)} to ${fullTime(data.start)}`
      + (data.reason ? ` (${data.reason})` : '');
  } else if (ev.kind === 'appointment.cancelled') {
    text = `${who} cancelled the appointment on ${fullTime(data.start)}`
      + (data.reason ? ` (${data.reason})` : '');
  } else {
    text = `Reminder sent: appointment on ${fullTime(data.start)}`;
  }
  return html`<li class="sys appt-line" data-seq=${ev.seq} data-kind=${ev.kind}>
    <p><span class="sys-text">${text}</span>
      <time datetime=${ev.created_at}>${clockTime(ev.created_at)}</time></p></li>`;
}

export function goBook(clientId) {
  navigate('#/book?client=' + encodeURIComponent(clientId));
}
