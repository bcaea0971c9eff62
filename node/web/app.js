// The caseworker web interface: session, header, navigation and the hash
// router (#/cases, #/cases/<id>, ...). Each page area lives in pages/*.js.

import * as api from './api.js';
import { h, replace, clear, alertBox, statusBox, showError, showText, setBusy, field } from './dom.js';
import { ROLES, label, nodeName, officesText } from './catalog.js';
import * as cases from './pages/cases.js';
import * as consents from './pages/consents.js';
import * as consentPrint from './pages/consent-print.js';
import * as referrals from './pages/referrals.js';
import * as transfers from './pages/transfers.js';
import * as exchange from './pages/exchange.js';
import * as admin from './pages/admin.js';
import * as followUps from './pages/followups.js';
import * as emergency from './pages/emergency.js';

// Who may use what. The server refuses the same things (403); the interface
// only spares users the links they cannot use. `emergency`: a page that
// only reads, which the administration may also use while it holds an
// emergency access (Notfallzugriff); it then shows no control that changes
// anything.
const WORK = ['sachbearbeitung', 'leitung'];
const ADMIN = ['administration'];

const ROUTES = [
  { path: 'cases', roles: WORK, page: cases.listPage, emergency: true },
  { path: 'cases/new', roles: WORK, page: cases.newPage },
  { path: 'cases/:id', roles: WORK, page: cases.detailPage, emergency: true },
  { path: 'cases/:id/consents/new', roles: WORK, page: consents.newPage },
  { path: 'cases/:id/referrals/new', roles: WORK, page: referrals.newPage },
  { path: 'cases/:id/transfer', roles: WORK, page: transfers.newPage },
  { path: 'follow-ups', roles: WORK, page: followUps.followUpsPage },
  { path: 'consents/:id', roles: WORK, page: consents.detailPage, emergency: true },
  { path: 'consents/:id/print', roles: WORK, page: consentPrint.printPage, emergency: true },
  { path: 'inbox', roles: WORK, page: referrals.inboxPage },
  { path: 'referrals/:id', roles: WORK, page: referrals.detailPage, emergency: true },
  { path: 'history', roles: WORK, page: referrals.historyPage },
  { path: 'transfers', roles: WORK, page: transfers.listPage },
  { path: 'transfers/:id', roles: WORK, page: transfers.detailPage, emergency: true },
  { path: 'exchange', roles: WORK, page: exchange.boardPage },
  { path: 'exchange/mine', roles: WORK, page: exchange.minePage },
  { path: 'exchange/offer', roles: WORK, page: exchange.offerPage },
  { path: 'exchange/offer/:id', roles: WORK, page: exchange.offerPage },
  { path: 'exchange/request', roles: WORK, page: exchange.requestPage },
  { path: 'exchange/submissions', roles: WORK, page: exchange.submissionsPage },
  { path: 'exchange/agreements', roles: WORK, page: exchange.agreementsPage },
  { path: 'exchange/ledger', roles: WORK, page: exchange.ledgerPage },
  { path: 'reports', roles: ['leitung'], page: admin.reportsPage },
  { path: 'emergency', roles: ['leitung'], page: emergency.leitungPage },
  { path: 'admin', roles: ADMIN, page: admin.auditPage },
];

const NAV = [
  { href: '#/cases', text: 'Fälle', testid: 'nav-cases', roles: WORK, prefix: ['cases', 'consents'] },
  { href: '#/follow-ups', text: 'Wiedervorlagen', testid: 'nav-follow-ups', roles: WORK, prefix: ['follow-ups'] },
  { href: '#/inbox', text: 'Posteingang', testid: 'nav-inbox', roles: WORK, prefix: ['inbox', 'referrals'] },
  { href: '#/history', text: 'Verlauf', testid: 'nav-history', roles: WORK, prefix: ['history'] },
  { href: '#/transfers', text: 'Fallübergabe', testid: 'nav-transfers', roles: WORK, prefix: ['transfers'] },
  { href: '#/exchange', text: 'Transferbörse', testid: 'nav-exchange', roles: WORK, prefix: ['exchange'] },
  { href: '#/reports', text: 'Berichte', testid: 'nav-reports', roles: ['leitung'], prefix: ['reports'] },
  { href: '#/emergency', text: 'Notfallzugriffe', testid: 'nav-emergency', roles: ['leitung'], prefix: ['emergency'] },
  { href: '#/admin', text: 'Administration', testid: 'nav-admin', roles: ADMIN, prefix: ['admin'] },
  // Only while the administrator holds an emergency access
  { href: '#/cases', text: 'Fälle (Notfallzugriff)', testid: 'nav-emergency-cases', roles: ADMIN,
    prefix: ['cases', 'consents', 'referrals', 'transfers'], emergency: true },
];

const main = document.getElementById('main');
const nav = document.getElementById('site-nav');
const headerInfo = document.getElementById('header-info');
const dialog = document.getElementById('relogin-dialog');
const banner = document.getElementById('emergency-banner');

let session = null; // {user, role, offices} while logged in
let pendingFlash = ''; // a confirmation to show on the next page
let pageAlert = null;
let pageStatus = null;
let routeSeq = 0; // the latest page shown; an older one still loading stops
let emergencyList = null; // the administration: GET /v1/emergency as last read
let accesses = []; // the administration: its emergency accesses in force
let accessTimer = 0; // ends the banner when the first access runs out

function homeFor(role) {
  return role === 'administration' ? '#/admin' : '#/cases';
}

// '#/cases/abc?topic=x' -> {segments: ['cases', 'abc'], query: URLSearchParams}
function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(2) : '';
  const [pathPart, queryPart = ''] = raw.split('?');
  const segments = pathPart.split('/').filter((s) => s).map((s) => decodeURIComponent(s));
  return { segments, query: new URLSearchParams(queryPart) };
}

function matchRoute(segments) {
  for (const route of ROUTES) {
    const parts = route.path.split('/');
    if (parts.length !== segments.length) continue;
    const params = {};
    let ok = true;
    parts.forEach((part, i) => {
      if (part.startsWith(':')) params[part.slice(1)] = segments[i];
      else if (part !== segments[i]) ok = false;
    });
    if (ok) return { route, params };
  }
  return null;
}

// ---- Rendering a page ------------------------------------------------------------

function pageFrame() {
  pageAlert = alertBox('page-alert');
  pageStatus = statusBox('page-status');
  const view = h('div', { class: 'view' });
  replace(main, pageStatus, pageAlert, view);
  if (pendingFlash) {
    showText(pageStatus, pendingFlash);
    pendingFlash = '';
  }
  return view;
}

function focusHeading(view) {
  const heading = view.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
    document.title = `${heading.textContent} – bruecke`;
  }
}

// May the session use this route? The administration uses the reading
// pages while it holds an emergency access.
function allowed(route) {
  if (route.roles.includes(session.role)) return true;
  return Boolean(route.emergency) && session.role === 'administration' && accesses.length > 0;
}

function refusedPage(view, text) {
  view.appendChild(h('h1', {}, 'Kein Zugriff'));
  showText(pageAlert, text);
}

// A record of an office the user does not act for: the page's heading says
// so, the alert says why (the sentence for OFFICE_NOT_PERMITTED).
function officeRefused(view) {
  const heading = view.querySelector('h1');
  if (heading) {
    heading.textContent = 'Kein Zugriff';
    document.title = 'Kein Zugriff – bruecke';
  }
}

async function route() {
  if (!session) return;
  if (!location.hash.startsWith('#/') || location.hash === '#/') {
    if (location.hash === '' || location.hash === '#/' || location.hash === '#') {
      location.replace(homeFor(session.role));
    }
    return; // '#main' from the skip link and the like: not a page
  }
  const seq = ++routeSeq;
  const { segments, query } = parseHash();
  renderNav(segments[0]);
  refreshHeader();
  const view = pageFrame();
  if (session.role === 'administration') {
    // Whether an emergency access is in force decides the banner, the
    // navigation and the reading pages: asked afresh on every page
    const waiting = h('p', { class: 'loading' }, 'Wird geladen …');
    view.appendChild(waiting);
    await loadEmergency().catch(() => {});
    if (seq !== routeSeq || !session) return;
    waiting.remove();
    renderNav(segments[0]);
  }
  const found = matchRoute(segments);
  if (!found) {
    view.appendChild(h('h1', {}, 'Seite nicht gefunden'));
    view.appendChild(h('p', {}, 'Diese Seite gibt es nicht. ',
      h('a', { href: homeFor(session.role) }, 'Zur Startseite')));
    focusHeading(view);
    return;
  }
  if (!allowed(found.route)) {
    refusedPage(view, found.route.emergency && session.role === 'administration'
      ? 'Die Administration sieht Fälle nur während eines freigegebenen Notfallzugriffs. Er wird auf der Seite „Administration“ beantragt.'
      : 'Dafür fehlt Ihnen die Berechtigung.');
    focusHeading(view);
    return;
  }
  const alert = pageAlert; // this page's, even if the user has moved on
  const here = location.hash;
  const readOnly = session.role === 'administration';
  const ctx = {
    session,
    params: found.params,
    query,
    // The administration under an emergency access: it reads, and the
    // pages show no control that changes anything; `emergencyOffices` are
    // the offices whose records it may read now.
    readOnly,
    emergencyOffices: readOnly ? emergency.accessOffices(accesses) : [],
    // The administration: GET /v1/emergency as read for this page.
    emergency: readOnly ? emergencyList : null,
    // Reads the emergency accesses again after a change, updates the banner
    // and the navigation, and returns them (throws if they cannot be read).
    async emergencyChanged() {
      const list = await loadEmergency();
      if (session && location.hash === here) renderNav(segments[0]);
      return list;
    },
    // Shows a refusal that concerns the whole page (e.g. loading failed).
    fail(error) {
      showError(alert, error);
      if (error instanceof api.ApiError && error.code === 'OFFICE_NOT_PERMITTED' && location.hash === here) {
        officeRefused(view);
      }
    },
    // Goes to another page and shows a confirmation there.
    go(hash, flash) {
      pendingFlash = flash || '';
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    // Shows this page again, fresh (if the user is still on it).
    reload(flash) { if (location.hash === here) ctx.go(here, flash); },
  };
  const done = found.route.page(view, ctx);
  focusHeading(view);
  try {
    await done;
  } catch (error) {
    showError(alert, error);
  }
}

// ---- Header and navigation ---------------------------------------------------------

function renderNav(current) {
  clear(nav);
  const list = h('ul', {});
  for (const item of NAV) {
    if (!item.roles.includes(session.role)) continue;
    if (item.emergency && !accesses.length) continue;
    const active = item.prefix.includes(current);
    list.appendChild(h('li', {}, h('a', {
      href: item.href, 'data-testid': item.testid, 'aria-current': active ? 'page' : undefined,
    }, item.text)));
  }
  nav.appendChild(list);
  nav.hidden = false;
}

// ---- Emergency access (the administration) -----------------------------------------

// Reads GET /v1/emergency and shows the accesses in force; returns the list.
// On failure the administration is taken to hold none.
async function loadEmergency() {
  try {
    //  Only one's own, cheap and not audited: asked on every page
    const answer = await api.get('/v1/emergency', { mine: 'true' });
    emergencyList = answer.emergency || [];
  } catch (error) {
    emergencyList = null;
    showAccesses([]);
    throw error;
  }
  if (session) showAccesses(emergency.activeFor(emergencyList, session.user));
  return emergencyList;
}

// The banner on every page while the administrator holds an emergency
// access; when the first one runs out, the page is shown again without it.
function showAccesses(active) {
  accesses = active;
  clearTimeout(accessTimer);
  accessTimer = 0;
  if (!active.length) {
    banner.hidden = true;
    clear(banner);
    return;
  }
  replace(banner, h('p', {},
    h('strong', {}, `Notfallzugriff aktiv für ${emergency.accessesText(active)}`),
    ' – alle Zugriffe werden protokolliert.'));
  banner.hidden = false;
  const first = Math.min(...active.map((grant) => grant.until_ms));
  accessTimer = setTimeout(() => {
    accessTimer = 0;
    if (!session) return;
    const { segments } = parseHash();
    const found = matchRoute(segments);
    if (found && found.route.emergency) {
      route(); // the page reads no more: show it again, refused
    } else {
      loadEmergency().then(() => renderNav(segments[0]), () => renderNav(segments[0]));
    }
  }, Math.max(0, first - Date.now()) + 1000);
}

const townText = h('span', { class: 'town', 'data-testid': 'header-town' });
const connText = h('span', { class: 'conn', 'data-testid': 'header-connection' });
const officeText = h('span', { class: 'offices', 'data-testid': 'header-offices' });

// The offices the user acts for, in German ("Zuständig für: Jobcenter,
// Frühe Hilfen"); the administration acts for none and is told nothing.
function showOffices() {
  if (!session || session.role === 'administration') {
    officeText.textContent = '';
    officeText.hidden = true;
    return;
  }
  officeText.hidden = false;
  officeText.textContent = session.offices.length
    ? `Zuständig für: ${officesText(session.offices)}`
    : 'Keiner Stelle zugeordnet';
}

async function refreshHeader() {
  // The administration may change the user's offices at any time; they hold
  // from the next request, so the header asks again on every page.
  api.get('/ui/session').then((answer) => {
    if (session && answer.user === session.user && Array.isArray(answer.offices)) {
      session.offices = answer.offices;
      showOffices();
    }
  }, () => {});
  try {
    const status = await api.get('/v1/status');
    api.cache.set('status', status);
    const name = nodeName(status.node);
    townText.textContent = name === status.node ? `Stelle: ${status.node}` : `Stelle: ${name} (${status.node})`;
    connText.textContent = status.connected ? 'mit dem Kreis verbunden' : 'keine Verbindung zum Kreis';
    connText.className = status.connected ? 'conn ok' : 'conn warn';
  } catch {
    if (!townText.textContent) townText.textContent = 'Stelle: unbekannt';
    connText.textContent = '';
  }
}

function renderHeader() {
  clear(headerInfo);
  if (!session) return;
  headerInfo.appendChild(h('div', { class: 'where' }, townText, ' ', connText));
  showOffices();
  headerInfo.appendChild(h('div', { class: 'who' },
    h('span', { 'data-testid': 'header-user' }, `Angemeldet: ${session.user} (${label(ROLES, session.role)})`),
    ' ',
    officeText,
    ' ',
    h('button', { type: 'button', class: 'secondary', 'data-testid': 'logout', on: { click: doLogout } },
      'Abmelden')));
}

async function doLogout() {
  try {
    await api.logout();
  } catch {
    // Logged out on the server or not: the interface forgets the session.
  }
  session = null;
  api.clearCache();
  emergencyList = null;
  showAccesses([]);
  townText.textContent = '';
  renderHeader();
  clear(nav);
  nav.hidden = true;
  history.replaceState(null, '', '#/');
  showLogin('Sie wurden abgemeldet.');
}

// ---- Login -----------------------------------------------------------------------------

function loginForm(prefix, onDone, { user = '' } = {}) {
  const errorBox = alertBox(`${prefix}-error`);
  const userInput = h('input', {
    type: 'text', name: 'user', autocomplete: 'username', required: true, value: user,
    autocapitalize: 'none', spellcheck: 'false', 'data-testid': `${prefix}-user`,
  });
  const passwordInput = h('input', {
    type: 'password', name: 'password', autocomplete: 'current-password', required: true,
    'data-testid': `${prefix}-password`,
  });
  const form = h('form', { class: 'login', 'data-testid': `${prefix}-form`, novalidate: 'novalidate' },
    errorBox,
    field('Benutzername', userInput),
    field('Passwort', passwordInput),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': `${prefix}-submit` }, 'Anmelden')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = userInput.value.trim();
    if (!name || !passwordInput.value) {
      showText(errorBox, 'Bitte Benutzername und Passwort eingeben.');
      (name ? passwordInput : userInput).focus();
      return;
    }
    setBusy(form, true);
    try {
      const answer = await api.login(name, passwordInput.value);
      showText(errorBox, '');
      await onDone(answer);
    } catch (error) {
      showError(errorBox, error, 'login');
      passwordInput.focus();
    } finally {
      setBusy(form, false);
    }
  });
  return { form, userInput, passwordInput };
}

function showLogin(message) {
  document.title = 'Anmeldung – bruecke';
  const status = statusBox('page-status');
  const { form, userInput } = loginForm('login', async (answer) => {
    api.clearCache();
    startSession(answer);
  });
  replace(main, h('div', { class: 'view narrow' },
    h('h1', { tabindex: '-1' }, 'Anmeldung'),
    h('p', {}, 'Bitte melden Sie sich mit Ihrem Benutzernamen an.'),
    status,
    form));
  if (message) showText(status, message);
  userInput.focus();
}

// The offices of a login or session answer (service codes).
function officesOf(answer) {
  return Array.isArray(answer.offices) ? answer.offices.filter((o) => typeof o === 'string') : [];
}

function startSession(answer) {
  session = { user: answer.user, role: answer.role, offices: officesOf(answer) };
  emergencyList = null;
  showAccesses([]);
  renderHeader();
  refreshHeader();
  if (!location.hash.startsWith('#/') || location.hash === '#/') {
    location.replace(homeFor(session.role)); // hashchange renders it
  } else {
    route();
  }
}

// The session ended while a page was open: ask for the password again in a
// dialog, so that the page and everything typed into it stay.
// True while only reads (GET) failed since the dialog opened: then the page can
// simply be loaded again after the login; after a failed POST it must stay as
// it is, with what the user typed.
let onlyReadsFailed = false;

function askRelogin(error) {
  if (!session) return;
  const isRead = Boolean(error && error.method === 'GET');
  if (dialog.open) {
    onlyReadsFailed = onlyReadsFailed && isRead;
    return;
  }
  onlyReadsFailed = isRead;
  const { form, passwordInput } = loginForm('relogin', async (answer) => {
    dialog.close();
    if (answer.user === session.user && answer.role === session.role) {
      session.offices = officesOf(answer);
      showOffices();
      if (onlyReadsFailed) {
        pendingFlash = 'Sie sind wieder angemeldet.';
        route();
      } else {
        showText(pageStatus, 'Sie sind wieder angemeldet. Bitte senden Sie das Formular noch einmal.');
      }
    } else {
      api.clearCache();
      startSession(answer);
    }
  }, { user: session.user });
  replace(dialog,
    h('h2', { id: 'relogin-title' }, 'Sitzung abgelaufen'),
    h('p', {}, 'Bitte melden Sie sich erneut an. Ihre Eingaben auf der Seite bleiben erhalten.'),
    form,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'relogin-cancel',
        on: { click: () => dialog.close() } }, 'Schließen')));
  dialog.showModal();
  passwordInput.focus();
}

// ---- Start -------------------------------------------------------------------------------

async function boot() {
  const skip = document.querySelector('.skip-link');
  skip.addEventListener('click', (event) => {
    event.preventDefault(); // keep the page's #/ address
    main.focus();
  });
  api.onUnauthorized(askRelogin);
  window.addEventListener('hashchange', route);
  try {
    const answer = await api.currentSession();
    if (answer) startSession(answer);
    else showLogin();
  } catch (error) {
    const box = alertBox('page-alert');
    replace(main, h('div', { class: 'view narrow' }, h('h1', { tabindex: '-1' }, 'bruecke'), box,
      h('p', {}, h('button', { type: 'button', 'data-testid': 'retry', on: { click: () => location.reload() } },
        'Erneut versuchen'))));
    showError(box, error);
  }
}

boot();
