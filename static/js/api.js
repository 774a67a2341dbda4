// HTTP calls to /api/v1 with the browser's session cookie. Unsafe methods echo the readable
// carethread_csrf cookie in X-CSRF-Token, as docs/api.md §2 asks.

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const NO_SESSION_PATHS = ['/sessions', '/organizations', '/invitations/accept'];

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `Request failed (${status})`);
    this.status = status;
    this.code = (body && body.code) || 'error';
    this.detail = this.message;
    this.field = body && body.field;
    // invalid_answers (forms): [{question, code, detail}], one per problem
    this.errors = (body && Array.isArray(body.errors)) ? body.errors : [];
  }
}

let onSessionLost = null;

/** Called once with a function to run when an authenticated call answers 401. */
export function setSessionLostHandler(fn) {
  onSessionLost = fn;
}

export function readCookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return '';
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE.has(method)) {
    const token = readCookie('carethread_csrf');
    if (token) headers['X-CSRF-Token'] = token;
  }
  let response;
  try {
    response = await fetch('/api/v1' + path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {
      code: 'network_error',
      detail: 'Carethread could not be reached. Check your connection and try again.',
    });
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !NO_SESSION_PATHS.includes(path) && onSessionLost) {
      onSessionLost();
    }
    throw error;
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
