// The node's API as the web interface uses it: the session calls under /ui/
// and the JSON API under /v1/. The session cookie travels by itself
// (credentials: 'same-origin'); every change (POST, PATCH) carries the CSRF
// token the login or session answer gave. A refusal ({"error": CODE, "detail": English}) becomes
// an ApiError; messageFor turns it into a German sentence.

let csrfToken = '';
const unauthorizedListeners = new Set();

export function setCsrf(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

// fn(error) is called when a call (other than the login itself) answers 401:
// the session has ended; the page stays as it is so nothing typed is lost.
export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
}

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail || ''}`);
    this.name = 'ApiError';
    this.status = status; // HTTP status, 0 if the server was not reached
    this.code = code; // the reason code, e.g. CONSENT_WITHDRAWN
    this.detail = detail || ''; // the server's English detail
  }
}

// HTTP status -> reason code, for answers without a JSON body.
function codeForStatus(status) {
  switch (status) {
    case 400: return 'MALFORMED';
    case 401: return 'UNAUTHORIZED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 409: return 'INVALID_STATE';
    case 413: return 'TOO_LARGE';
    case 429: return 'TOO_MANY_ATTEMPTS';
    case 503: return 'BUSY';
    default: return 'INTERNAL';
  }
}

async function request(method, path, body, { isLogin = false } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', String(cause && cause.message ? cause.message : cause));
  }
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const code = data && typeof data.error === 'string' ? data.error : codeForStatus(response.status);
    const detail = data && typeof data.detail === 'string' ? data.detail : `HTTP ${response.status}`;
    const error = new ApiError(response.status, code, detail);
    error.method = method;
    if (response.status === 401 && !isLogin) {
      for (const fn of unauthorizedListeners) fn(error);
    }
    throw error;
  }
  if (data === null) data = {};
  data.httpStatus = response.status;
  return data;
}

export function get(path, query) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const text = params.toString();
    if (text) url += `?${text}`;
  }
  return request('GET', url);
}

export function post(path, body) {
  return request('POST', path, body);
}

// A partial change (PATCH /v1/cases/{id}): only the members given change;
// null clears one.
export function patch(path, body) {
  return request('PATCH', path, body);
}

// Ids in paths are 32 hex digits; encode anyway so nothing else slips in.
export function p(strings, ...values) {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ''), '');
}

// ---- Session ---------------------------------------------------------------------

export async function login(user, password) {
  const answer = await request('POST', '/ui/login', { user, password }, { isLogin: true });
  setCsrf(answer.csrf);
  return answer;
}

// The session, or null if not logged in.
export async function currentSession() {
  try {
    const answer = await request('GET', '/ui/session', undefined, { isLogin: true });
    setCsrf(answer.csrf);
    return answer;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function logout() {
  try {
    await request('POST', '/ui/logout', {}, { isLogin: true });
  } finally {
    setCsrf('');
  }
}

// ---- German messages ---------------------------------------------------------------

const LATER = 'Bitte später erneut versuchen.';

const MESSAGES = {
  UNAUTHORIZED: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an – Ihre Eingaben bleiben erhalten.',
  TOO_MANY_ATTEMPTS: 'Zu viele Fehlversuche. Bitte in 15 Minuten erneut versuchen.',
  FORBIDDEN: 'Dafür fehlt Ihnen die Berechtigung.',
  NOT_FOUND: 'Der Eintrag wurde nicht gefunden. Vielleicht ist der Link veraltet.',
  INVALID_STATE: 'Das ist im jetzigen Stand des Vorgangs nicht möglich. Bitte laden Sie die Seite neu und prüfen Sie den Stand.',
  MALFORMED: 'Die Eingaben sind unvollständig oder ungültig.',
  TOO_LARGE: 'Die Eingaben sind zu umfangreich. Bitte kürzen.',
  ATTESTATION_INVALID: 'Die Angaben zur Rechtsgrundlage der Übermittlung sind ungültig (zum Beispiel eine Datenkategorie doppelt gewählt).',
  ATTESTATION_MISSING: 'Der Übermittlung fehlt die Angabe der Rechtsgrundlage.',
  CONSENT_MISSING: 'Für diese Übermittlung liegt keine passende Einwilligung dieses Falls und keine gesetzliche Grundlage vor.',
  CONSENT_WITHDRAWN: 'Die Einwilligung wurde für diesen Empfänger widerrufen. Es dürfen keine Daten mehr übermittelt oder weiter bearbeitet werden.',
  CONSENT_EXPIRED: 'Die Einwilligung bzw. die Rechtsgrundlage ist abgelaufen. Bitte eine neue Einwilligung einholen.',
  PURPOSE_MISMATCH: 'Der Zweck ist von der Einwilligung bzw. der gewählten gesetzlichen Grundlage nicht gedeckt.',
  RECIPIENT_MISMATCH: 'Dieser Empfänger ist in der Einwilligung nicht genannt. Daten dürfen nur an die Stellen gehen, denen die Familie zugestimmt hat.',
  CATEGORY_NOT_COVERED: 'Mindestens eine Datenkategorie ist von der Einwilligung nicht gedeckt. Gesundheitsdaten brauchen eine ausdrückliche Einwilligung in Gesundheitsdaten.',
  NO_ROUTE: 'Für diese Gemeinde (AGS) und diesen Dienst ist im Verzeichnis des Kreises keine zuständige Stelle eingetragen.',
  AMBIGUOUS_ROUTE: 'Für diese Gemeinde und diesen Dienst sind im Verzeichnis des Kreises mehrere Stellen eingetragen. Bitte den Kreis informieren.',
  UNKNOWN_NODE: 'Die Empfängerstelle ist im Verzeichnis des Kreises nicht bekannt.',
  NODE_REVOKED: 'Die Empfängerstelle ist im Verzeichnis des Kreises gesperrt. Es kann nichts an sie übermittelt werden.',
  METHOD_NOT_ALLOWED: 'Diese Aktion ist hier nicht vorgesehen.',
  OFFICE_NOT_PERMITTED: 'Dieser Vorgang gehört zu einer anderen Stelle. Sie dürfen ihn nicht einsehen oder bearbeiten (Sozialgeheimnis).',
  ON_BEHALF_MISSING: 'Die Fachanwendung hat nicht angegeben, für welche Mitarbeiterin oder welchen Mitarbeiter sie handelt.',
  GRANTOR_NOT_MEMBER: 'Die einwilligende Person gehört nicht zu diesem Fall. Bitte zuerst als Person des Falls erfassen.',
  GRANTOR_NOT_ENTITLED: 'Die einwilligende Person kann nicht für alle betroffenen Personen einwilligen: Sie ist minderjährig, für ein betroffenes Kind nicht als sorgeberechtigt eingetragen, oder eine betroffene Person ist volljährig und muss selbst einwilligen.',
  SUBJECT_NOT_MEMBER: 'Mindestens eine betroffene Person gehört nicht zu diesem Fall.',
  CONSENT_BACKDATED: 'Die Einwilligung kann nicht rückwirkend gelten. Der Beginn darf nicht vor der Erfassung liegen.',
  EVIDENCE_MISMATCH: 'Diese Datei ist nicht die unterschriebene Einwilligung, die bei der Erfassung angegeben wurde (die Prüfsumme stimmt nicht überein).',
  CONSENT_TOO_LONG: 'Die Einwilligung ist länger gültig, als der Kreis erlaubt. Bitte ein früheres Ende wählen.',
  TOO_EARLY: 'Der vereinbarte Termin ist noch nicht erreicht. Ein Abschluss ist erst ab dem vereinbarten Termin möglich.',
  EXPIRED: 'Die Nachricht ist abgelaufen und wurde nicht zugestellt.',
  REPLAYED: 'Diese Nachricht wurde bereits verarbeitet.',
  BAD_SIGNATURE: 'Die Signatur ist ungültig. Bitte die Administration informieren.',
  SENDER_MISMATCH: 'Der Absender passt nicht zur Verbindung. Bitte die Administration informieren.',
  STORE_FULL: `Der Speicher der Stelle ist voll. ${LATER} Bitte auch die Administration informieren.`,
  STORE_FAILED: `Speichern ist gerade nicht möglich. ${LATER}`,
  BUSY: `Der Dienst ist gerade ausgelastet oder wird neu gestartet. ${LATER}`,
  IO_ERROR: `Ein Lese- oder Schreibfehler ist aufgetreten. ${LATER}`,
  DECRYPT_FAILED: 'Ein Datensatz kann nicht entschlüsselt werden. Bitte die Administration informieren.',
  AUDIT_BROKEN: 'Das Protokoll ist beschädigt. Bitte sofort die Administration informieren.',
  ROSTER_EXPIRED: 'Das Verzeichnis des Kreises ist abgelaufen. Bitte die Administration informieren.',
  NETWORK: 'Keine Verbindung zum Server. Bitte Netzwerk prüfen und erneut versuchen.',
  INTERNAL: 'Ein Fehler im Server ist aufgetreten. Bitte die Administration informieren.',
};

// Codes whose English detail helps the user fix the input.
const SHOW_DETAIL = new Set(['MALFORMED', 'ATTESTATION_INVALID', 'TOO_LARGE', 'INTERNAL']);

// The German sentence for a reason code (also used for reasons the broker
// gave in the Transferbörse's submissions).
export function reasonText(code) {
  return MESSAGES[code] || `Abgelehnt (Grund: ${code}).`;
}

// err: an ApiError (or any error). context 'login' changes the 401 sentence.
// Returns {text, detail}; detail is the English detail where it helps, else ''.
export function messageFor(err, context) {
  if (!(err instanceof ApiError)) {
    return { text: 'Ein unerwarteter Fehler ist aufgetreten.', detail: String(err && err.message || err) };
  }
  if (err.code === 'UNAUTHORIZED' && context === 'login') {
    return { text: 'Benutzername oder Passwort ist falsch.', detail: '' };
  }
  // The node refuses a change without the session's CSRF token: not a
  // missing permission, but a session the page no longer holds rightly
  if (err.code === 'FORBIDDEN' && /CSRF/.test(err.detail || '')) {
    return {
      text: 'Ihre Sitzung ist auf dieser Seite nicht mehr gültig. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.',
      detail: '',
    };
  }
  const text = MESSAGES[err.code] || `Die Anfrage wurde abgelehnt (Grund: ${err.code}).`;
  const detail = SHOW_DETAIL.has(err.code) || !MESSAGES[err.code] ? err.detail : '';
  return { text, detail };
}

// ---- A small cache for the session (catalogues, what consents belong to which
// case). Cleared at login and logout.

const cacheStore = new Map();

export const cache = {
  get: (key) => cacheStore.get(key),
  set: (key, value) => cacheStore.set(key, value),
  delete: (key) => cacheStore.delete(key),
};

export function clearCache() {
  cacheStore.clear();
}

// GET /v1/status (the header reads it on every page; read here only if it
// has not yet).
export async function nodeStatus() {
  let status = cacheStore.get('status');
  if (!status || !Array.isArray(status.offices)) {
    status = await get('/v1/status');
    cacheStore.set('status', status);
  }
  return status;
}

// The offices (service codes) this node hosts, from GET /v1/status.
export async function nodeOffices() {
  const status = await nodeStatus();
  return Array.isArray(status.offices) ? status.offices : [];
}

// The offices a consent may name and a referral may reach (GET
// /v1/directory): [{ags, place, service, node, node_name, here}]. Read
// afresh each time, as the county's roster may change.
export async function directoryAddresses() {
  const answer = await get('/v1/directory');
  return Array.isArray(answer.addresses) ? answer.addresses : [];
}
