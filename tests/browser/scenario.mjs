// The caseworker web interface in headless Chromium, through real daemons
// (tests/browser/browser.sh starts them and sets the environment).
//
// Two caseworkers in two towns: Erika in Lünen refers an (invented) family
// to Unna's Frühe Hilfen; Jonas in Unna accepts it with a Lotse, reports
// progress and the outcome; Erika sees the outcome in the referral's history.
// Then one Transferbörse agreement: Unna offers, Kamen asks, the county
// matches, both accept, it is scheduled, both confirm it, and the ledger
// shows it. Erika also works a second case on its page: a Vermerk, a new
// Lotse, a Wiedervorlage that is due, closed with a reason and reopened, all
// in its Verlauf. And the refusals, each with a German message and no change: a
// wrong password, a change without the CSRF token, a Sachbearbeitung user
// opening the administration, a referral to a recipient the consent does not
// name. Offices: Greta in Lünen acts for the Jugendamt only and cannot find
// or open the Jobcenter family's case. Emergency access: Anna (administration)
// sees no case until Bernd, a second administrator, approves her request for
// the Jobcenter; she then reads the family's case (nothing to change), the
// Jobcenter's Leitung sees who read what and why, and once Anna ends it the
// case is refused again. Screenshots of each main page go to $BR_SCREENSHOTS.
//

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  town, env, step, ok, eq, log, summary, uncaughtPageErrors, launch, openDesk, screenshot, api,
  waitFor, runMatching,
} from './lib.mjs';

const LUENEN = town('luenen', 'Lünen');
// Lünen's letterhead on printed forms (browser.sh configures it)
const LUENEN_LETTERHEAD = env('BR_LUENEN_LETTERHEAD');
const UNNA = town('unna', 'Unna');
const KAMEN = town('kamen', 'Kamen');
const LUENEN_ADMIN = { ...LUENEN, user: env('BR_LUENEN_ADMIN'), password: env('BR_LUENEN_ADMIN_PASSWORD') };
// A second caseworker in Lünen, acting for the Jugendamt only
const LUENEN_JUGENDAMT = {
  ...LUENEN, user: env('BR_LUENEN_JUGENDAMT'), password: env('BR_LUENEN_JUGENDAMT_PASSWORD'),
};
// A second administrator in Lünen, and the Leitung of its Jobcenter
const LUENEN_ADMIN2 = { ...LUENEN, user: env('BR_LUENEN_ADMIN2'), password: env('BR_LUENEN_ADMIN2_PASSWORD') };
const LUENEN_LEITUNG = { ...LUENEN, user: env('BR_LUENEN_LEITUNG'), password: env('BR_LUENEN_LEITUNG_PASSWORD') };

// The invented family and what the towns write about it
const MOTHER = 'Petra Sonnenberg';
const CHILD = 'Mia Sonnenberg';
const LOTSE = 'Herr Brückner (Lotse, erfunden)';
const PROGRESS = 'Erstgespräch geführt, Sprachkurs angefragt';
const OUTCOME = 'Kita-Platz mit Sprachförderung ab August';
const OFFER_TITLE = 'Lotsendienst Frühe Hilfen (erfunden)';
const OFFER_PITFALLS = 'Datenschutzfragen früh klären.\nEltern von Anfang an einbeziehen.';
// A second (invented) case, worked on its page: Vermerk, Bearbeiten, closed, reopened
const CLIENT = 'Jan Winterfeld';
const FIRST_LOTSE = 'Frau Kranich (Lotsin, erfunden)';
const NEW_LOTSE = 'Herr Reiher (Lotse, erfunden)';
const EXTERNAL_REF = 'JC-2026-0815';
const NOTE = 'Erstgespräch im Jobcenter geführt.\nTermin beim Arbeitgeber-Service folgt.';
const CLOSE_TEXT = 'Arbeitsstelle gefunden';
// Why the administration needs to read the Jobcenter's cases (invented)
const EMERGENCY_REASON = 'Meldung nach § 8a SGB VIII zur Familie Sonnenberg; das Jobcenter ist heute nicht erreichbar.';

// Texts the pages show (node/web/api.js, app.js and pages/*.js)
const TEXT = {
  wrongPassword: 'Benutzername oder Passwort ist falsch.',
  forbidden: 'Dafür fehlt Ihnen die Berechtigung.',
  csrf: 'Ihre Sitzung ist auf dieser Seite nicht mehr gültig.',
  noAccess: 'Kein Zugriff',
  recipientMismatch: 'Dieser Empfänger ist in der Einwilligung nicht genannt.',
  notBeforeDate: 'Ein Abschluss ist erst ab dem vereinbarten Termin möglich.',
  consentSaved: 'Die Einwilligung wurde gespeichert',
  formSaved: 'mit dem unterschriebenen Formular',
  formStored: 'Unterschriebene Einwilligung gespeichert (PDF, ',
  here: 'in dieser Verwaltung',
  // The withdrawal right on the printed form (node/web/consent-texts.js)
  withdrawDe: 'Sie können die Einwilligung jederzeit widerrufen',
  withdrawTr: 'Onayınızı istediğiniz zaman geri alabilirsiniz',
  withdrawAr: 'يمكنك سحب موافقتك في أي وقت',
  bindingUk: 'Юридичну силу має лише текст німецькою мовою.',
  referralSent: 'Die Überweisung wurde gesendet.',
  accepted: 'Die Überweisung wurde angenommen.',
  progressSent: 'Der Zwischenstand wurde gesendet.',
  completed: 'Die Überweisung wurde abgeschlossen.',
  submitted: 'An den Kreis übermittelt.',
  auditIntact: 'Das Protokoll ist unversehrt',
  recordsIntact: 'Die Fallakten sind so, wie bruecke sie zuletzt gespeichert hat',
  otherOffice: 'Dieser Vorgang gehört zu einer anderen Stelle.',
  oneOffice: 'Ein Fachverfahren arbeitet für genau eine Stelle.',
  someOffice: 'Bitte mindestens eine Stelle wählen.',
  noteSaved: 'Der Vermerk wurde gespeichert.',
  changesSaved: 'Die Änderungen wurden gespeichert.',
  caseClosed: 'Der Fall wurde abgeschlossen.',
  caseReopened: 'Der Fall wurde wieder aufgenommen.',
  goalReached: 'Ziel erreicht, Hilfe abgeschlossen',
  emergencyOnly: 'Die Administration sieht Fälle nur während eines freigegebenen Notfallzugriffs.',
  emergencyRequested: 'Der Notfallzugriff auf Jobcenter ist beantragt.',
  emergencyApproved: 'ist freigegeben bis',
  emergencyEnded: 'Der Notfallzugriff auf Jobcenter wurde beendet.',
  emergencyBanner: 'Notfallzugriff aktiv für Jobcenter bis',
  emergencyLogged: 'alle Zugriffe werden protokolliert',
};

// ---- Page helpers ----------------------------------------------------------------------

const byTestId = (scope, id) => scope.locator(`[data-testid="${id}"]`);

// Waits until LOCATOR (one element or the first of many) shows TEXT.
async function see(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

// Waits until the page has loaded what it shows: no "wird geladen" left, no
// form busy.
async function settled(page) {
  await page.locator('main .loading').first().waitFor({ state: 'detached' });
  await page.locator('main [aria-busy="true"]').first().waitFor({ state: 'detached' });
}

// Goes to the page at HASH (e.g. '#/inbox') in the single-page app and waits
// for its heading.
// Returns once the app has handled the change (its hashchange listener came
// first and renders the new page's frame before its first await), so that
// nothing of the page before is taken for the new one.
async function go(page, hash, heading) {
  await page.evaluate((target) => new Promise((resolve) => {
    if (location.hash === target) {
      window.dispatchEvent(new HashChangeEvent('hashchange'));
      resolve();
      return;
    }
    window.addEventListener('hashchange', () => resolve(), { once: true });
    location.hash = target;
  }), hash);
  if (heading) await see(page.locator('main h1'), heading);
  await settled(page);
}

// The page's own status line (confirmations) and its refusals.
const pageStatus = (page) => byTestId(page, 'page-status');

// Logs DESK's user in through the login form; waits for the start page.
async function login(desk, who = desk.town) {
  const { page } = desk;
  await page.goto('/ui/');
  await byTestId(page, 'login-user').fill(who.user);
  await byTestId(page, 'login-password').fill(who.password);
  await byTestId(page, 'login-submit').click();
  await byTestId(page, 'header-user').waitFor();
  await settled(page);
}

// A call from inside the page with its session cookie, as the pages make it,
// but with the headers given here (no CSRF token unless given).
async function pageFetch(page, method, path, body, headers = {}) {
  return page.evaluate(async ({ method, path, body, headers }) => {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json', ...headers } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    return { status: response.status, data };
  }, { method, path, body, headers });
}

// The session's CSRF token, for a change sent with pageFetch.
async function csrfOf(page) {
  return page.evaluate(async () => (await (await fetch('/ui/session')).json()).csrf);
}

// The German sentence the pages show for a refusal (node/web/api.js).
async function germanFor(page, status, data) {
  return page.evaluate(async ({ status, data }) => {
    const api = await import('/ui/api.js');
    return api.messageFor(new api.ApiError(status, data && data.error, data && data.detail)).text;
  }, { status, data });
}

// Reloads the page (its own "Aktualisieren" or the hash) until FN(page) holds.
async function reloadUntil(page, what, hash, fn) {
  await waitFor(what, async () => {
    await go(page, hash);
    return fn(page);
  });
}

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
// The day of the instant MS in Berlin, as a date input takes it (YYYY-MM-DD)
const berlinDay = (ms) => new Intl.DateTimeFormat('en-CA',
  { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
const DAY_MS = 86400000;

// ---- The scenario ------------------------------------------------------------------------

async function main() {
  const browser = await launch();
  try {
    const erika = await openDesk(browser, LUENEN, 'Lünen/erika');
    const state = {}; // ids the steps share

    // ---- Refused: a wrong password ------------------------------------------------------
    await step('Lünen: the login page; a wrong password is refused', async () => {
      const { page } = erika;
      await page.goto('/ui/');
      await byTestId(page, 'login-form').waitFor();
      await screenshot(page, 'login');
      await byTestId(page, 'login-user').fill(LUENEN.user);
      await byTestId(page, 'login-password').fill('falsches-Passwort-123');
      await byTestId(page, 'login-submit').click();
      await see(byTestId(page, 'login-error'), TEXT.wrongPassword);
      ok(true, `a wrong password shows "${TEXT.wrongPassword}"`);
      ok(await byTestId(page, 'header-user').count() === 0, 'no one is logged in after the wrong password');
      const cookies = await erika.context.cookies();
      ok(!cookies.some((c) => c.name === 'bruecke_session'), 'no session cookie after the wrong password');
      eq(401, (await pageFetch(page, 'GET', '/ui/session')).status, 'the session after the wrong password (HTTP)');
    });

    // ---- Keyboard alone, and 200 % zoom ----------------------------------------------------
    await step('Lünen: Erika logs in with the keyboard alone; the page fits at 200 % zoom', async () => {
      const { page } = erika;
      await page.goto('/ui/');
      await byTestId(page, 'login-form').waitFor();
      //  Tab from the top reaches the name field; type, Tab, type, Enter
      await page.keyboard.press('Tab');
      for (let presses = 0; presses < 10; presses += 1) {
        if (await page.evaluate(() => document.activeElement?.dataset?.testid) === 'login-user') break;
        await page.keyboard.press('Tab');
      }
      eq('login-user', await page.evaluate(() => document.activeElement?.dataset?.testid),
        'Tab reaches the user name field');
      await page.keyboard.type(LUENEN.user);
      await page.keyboard.press('Tab');
      await page.keyboard.type(LUENEN.password);
      await page.keyboard.press('Enter');
      await byTestId(page, 'header-user').waitFor();
      await settled(page);
      ok(true, 'logged in with the keyboard alone');
      //  200 % zoom of a 1280 px window is 640 CSS px: no sideways scrolling
      await page.setViewportSize({ width: 640, height: 900 });
      for (const hash of ['#/cases', '#/follow-ups', '#/exchange']) {
        await page.goto(`/ui/${hash}`);
        await settled(page);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        ok(wide <= 640, `${hash} fits 640 CSS px (200 % zoom) without sideways scrolling (${wide} px)`);
      }
      await screenshot(page, 'zoom-200');
      await page.setViewportSize({ width: 1280, height: 900 });
      await pageFetch(page, 'POST', '/ui/logout', {}, { 'X-CSRF-Token': await page.evaluate(
        async () => (await (await fetch('/ui/session')).json()).csrf) });
    });

    await step('Lünen: Erika logs in', async () => {
      await login(erika);
      const header = await byTestId(erika.page, 'header-user').textContent();
      ok(header.includes(LUENEN.user) && header.includes('Sachbearbeitung'), `the header names Erika and her role (${header})`);
      const offices = await byTestId(erika.page, 'header-offices').textContent();
      ok(['Jobcenter', 'Jugendamt', 'Frühe Hilfen'].every((o) => offices.includes(o)),
        `the header names Erika's offices (${offices})`);
      const cookies = await erika.context.cookies();
      const session = cookies.find((c) => c.name === 'bruecke_session');
      ok(session && session.httpOnly && session.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict');
      await see(erika.page.locator('main h1'), 'Fälle');
      eq(false, await byTestId(erika.page, 'nav-admin').isVisible(), 'Sachbearbeitung sees no link to the administration');
    });

    // ---- Refused: a change without the CSRF token -------------------------------------------
    await step('Lünen: a case without the CSRF token is refused, nothing changes', async () => {
      const { page } = erika;
      const before = (await api(LUENEN, 'GET', '/v1/cases')).cases.length;
      // A raw request with the session cookie but without the token
      const answer = await pageFetch(page, 'POST', '/v1/cases',
        { kind: 'family', service: 'jobcenter', members: [{ name: MOTHER, role: 'Mutter', age: 34 }] });
      eq(403, answer.status, 'a POST without X-CSRF-Token (HTTP status)');
      eq('FORBIDDEN', answer.data && answer.data.error, 'a POST without X-CSRF-Token (reason)');
      log(`the pages would say: ${await germanFor(page, answer.status, answer.data)}`);
      // The form, its request stripped of the token on the way out
      await page.route('**/v1/cases', async (route) => {
        const headers = { ...route.request().headers() };
        delete headers['x-csrf-token'];
        await route.continue({ headers });
      });
      await go(page, '#/cases/new', 'Neuen Fall anlegen');
      await byTestId(page, 'case-service').selectOption('jobcenter');
      await byTestId(page, 'member-name').fill(MOTHER);
      await byTestId(page, 'member-role').fill('Mutter');
      await byTestId(page, 'member-age').fill('34');
      await byTestId(page, 'case-submit').click();
      await see(byTestId(page, 'case-form-alert'), TEXT.csrf);
      ok(true, `the form without the token shows "${TEXT.csrf}"`);
      await page.unroute('**/v1/cases');
      eq(before, (await api(LUENEN, 'GET', '/v1/cases')).cases.length, 'cases after the requests without the token');
    });

    // ---- Refused: Sachbearbeitung opens the administration -----------------------------------
    await step('Lünen: Erika (Sachbearbeitung) opens the administration and is refused', async () => {
      const { page } = erika;
      await go(page, '#/admin', TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.forbidden);
      ok(true, `the administration page shows "${TEXT.noAccess}" and "${TEXT.forbidden}"`);
      eq(0, await byTestId(page, 'audit-table').count(), 'audit records shown to Sachbearbeitung');
      const answer = await pageFetch(page, 'GET', '/v1/audit');
      eq(403, answer.status, 'the audit log for Sachbearbeitung (HTTP status)');
    });

    // ---- Casework in Lünen: case, consent, referral ----------------------------------------------
    await step('Lünen: Erika opens a case for the (invented) family', async () => {
      const { page } = erika;
      await go(page, '#/cases', 'Fälle');
      await byTestId(page, 'case-new').click();
      await see(page.locator('main h1'), 'Neuen Fall anlegen');
      await settled(page);
      const offered = await byTestId(page, 'case-service').locator('option[value]:not([value=""])')
        .evaluateAll((items) => items.map((o) => o.value).sort());
      eq(['fruehe-hilfen', 'jobcenter', 'jugendamt'], offered, 'the offices the case form offers Erika');
      await byTestId(page, 'case-kind').selectOption('family');
      await byTestId(page, 'case-service').selectOption('jobcenter');
      await byTestId(page, 'member-name').fill(MOTHER);
      await byTestId(page, 'member-role').fill('Mutter');
      await byTestId(page, 'member-age').fill('34');
      await byTestId(page, 'member-add').click();
      await byTestId(page, 'member-name').nth(1).fill(CHILD);
      await byTestId(page, 'member-role').nth(1).fill('Kind');
      await byTestId(page, 'member-age').nth(1).fill('4');
      //  The mother holds custody for Mia: only then may she consent for her
      await page.locator(`[data-testid="custody-choice"][data-parent="${MOTHER}"][data-child="${CHILD}"]`).check();
      eq(1, await byTestId(page, 'custody-choice').count(), 'custody choices (the mother for Mia)');
      await byTestId(page, 'case-needs-input').fill('Kita-Platz\nSprachförderung für Mia');
      await byTestId(page, 'detail-add').click();
      await byTestId(page, 'detail-category').selectOption('language');
      await byTestId(page, 'detail-key').fill('Kind');
      await byTestId(page, 'detail-value').fill('spricht noch kein Deutsch');
      await byTestId(page, 'case-submit').click();
      await page.waitForURL(/#\/cases\/[0-9a-f]{32}$/);
      state.caseId = page.url().match(/#\/cases\/([0-9a-f]{32})$/)[1];
      await settled(page);
      await see(byTestId(page, 'case-members'), CHILD);
      const kase = await api(LUENEN, 'GET', `/v1/cases/${state.caseId}`);
      eq(2, kase.members.length, 'members of the new case (API)');
      eq('jobcenter', kase.service, 'the new case\'s service (API)');
      eq([CHILD], kase.members.find((m) => m.name === MOTHER).custody_for, 'the mother\'s custody (API)');
      await see(byTestId(page, 'case-members'), 'Sorgerecht für');
      await screenshot(page, 'case');
      await go(page, '#/cases', 'Fälle');
      await byTestId(page, 'case-row').first().waitFor();
      eq(1, await byTestId(page, 'case-row').count(), 'cases in the list');
      await screenshot(page, 'cases');
    });

    await step('Lünen: Erika records the family\'s consent: recipients from the directory, the signed form stored', async () => {
      const { page } = erika;
      await go(page, `#/cases/${state.caseId}`);
      await byTestId(page, 'case-consent-new').click();
      await see(page.locator('main h1'), 'Einwilligung erfassen');
      await settled(page);
      await byTestId(page, 'consent-grantor').fill(MOTHER);
      await byTestId(page, 'consent-purpose').selectOption('language-support');
      for (const category of ['household', 'child-age', 'language']) {
        await byTestId(page, `consent-categories-${category}`).check();
      }
      // The recipients offered are the directory's, less the case's own office
      const directory = (await api(LUENEN, 'GET', '/v1/directory')).addresses;
      const offered = directory.filter((a) => !(a.here && a.service === 'jobcenter'))
        .map((a) => `${a.ags}|${a.service}`).sort();
      eq(offered, (await byTestId(page, 'consent-recipients').locator('input[name="recipients"]')
        .evaluateAll((inputs) => inputs.map((i) => i.value))).sort(), 'the recipients offered are the directory\'s');
      eq('05978024', await byTestId(page, 'consent-recipients-place').first().getAttribute('data-ags'),
        'this town\'s offices come first');
      await see(byTestId(page, 'consent-recipients-place').first(), TEXT.here);
      ok(true, `this town\'s offices are marked "${TEXT.here}"`);
      await byTestId(page, 'consent-recipients-05978036|fruehe-hilfen').check();
      // The signed form as scanned: an invented PDF, in memory
      const scan = Buffer.from(`%PDF-1.4\n% Einwilligung ${MOTHER}, erfunden, ${Date.now()}\n%%EOF\n`);
      const expected = createHash('sha256').update(scan).digest('hex');
      await byTestId(page, 'consent-evidence-file').setInputFiles({
        name: 'einwilligung-scan.pdf', mimeType: 'application/pdf', buffer: scan,
      });
      await see(byTestId(page, 'consent-evidence-status'), 'berechnet');
      eq(expected, await byTestId(page, 'consent-evidence-sha256').inputValue(), 'the evidence hash the page computed');
      eq(false, await byTestId(page, 'consent-evidence-sha256').isVisible(), 'no hash to type where the browser computes it');
      await screenshot(page, 'consent-form');
      // The form as filled in so far, to print before signing (Ukrainian beside German)
      await page.evaluate(() => { window.print = () => {}; });
      await byTestId(page, 'consent-print-language').selectOption('uk');
      await byTestId(page, 'consent-print').click();
      const area = page.locator('#print-area');
      await area.locator('[lang="uk"]').first().waitFor({ state: 'attached' });
      const areaText = await area.textContent();
      ok(areaText.includes(MOTHER) && areaText.includes(TEXT.bindingUk),
        'the form printed from the new consent names the grantor and says in Ukrainian that German binds');
      await page.emulateMedia({ media: 'print' });
      await screenshot(page, 'consent-print');
      await page.emulateMedia({ media: 'screen' });
      await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
      await byTestId(page, 'consent-submit').click();
      await page.waitForURL(/#\/consents\/[0-9a-f]{32}$/);
      state.consentId = page.url().match(/#\/consents\/([0-9a-f]{32})$/)[1];
      await see(pageStatus(page), TEXT.consentSaved);
      await see(pageStatus(page), TEXT.formSaved);
      await settled(page);
      const consent = await api(LUENEN, 'GET', `/v1/consents/${state.consentId}`);
      eq(expected, consent.evidence_sha256, 'the consent\'s evidence hash (API)');
      eq(['05978036|fruehe-hilfen|unna'], consent.recipients.map((r) => `${r.ags}|${r.service}|${r.node}`),
        'the consent\'s recipients (API)');
      eq(state.caseId, consent.case_id, 'the consent\'s case (API)');
      eq([true, 'application/pdf', scan.length], [consent.form_stored, consent.form_type, consent.form_size],
        'the signed form is stored with the consent (API)');
      await see(byTestId(page, 'consent-form-stored'), TEXT.formStored);
      ok(true, `the page says "${await byTestId(page, 'consent-form-stored').textContent()}"`);
      eq(0, await byTestId(page, 'consent-form-upload-form').count(), 'no second upload once stored');
      // Downloaded again: the same bytes
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        byTestId(page, 'consent-form-download').click(),
      ]);
      eq(`einwilligung-${state.consentId.slice(0, 8)}.pdf`, download.suggestedFilename(), 'the downloaded file\'s name');
      const downloaded = createHash('sha256').update(await readFile(await download.path())).digest('hex');
      eq(expected, downloaded, 'the SHA-256 of the file "Herunterladen" gives');
      await byTestId(page, 'consent-form-file').waitFor({ state: 'visible' });
      const stored = await api(LUENEN, 'GET', `/v1/consents/${state.consentId}/form`);
      eq(expected, stored.sha256, 'the stored form\'s SHA-256 (API)');
      ok(Buffer.from(stored.data, 'base64').equals(scan), 'the stored form is the scanned file (API)');
      await screenshot(page, 'consent');
    });

    await step('Lünen: the consent\'s form prints with Turkish beside German, and Arabic right to left', async () => {
      const { page } = erika;
      await byTestId(page, 'consent-print').click();
      await see(page.locator('main h1'), 'Einwilligungsformular');
      await settled(page);
      await byTestId(page, 'consent-print-language').selectOption('tr');
      const sheet = page.locator('main');
      const letterhead = byTestId(sheet, 'consent-print-letterhead');
      await see(letterhead, LUENEN_LETTERHEAD);
      ok(true, `the letterhead names "${LUENEN_LETTERHEAD}"`);
      const german = byTestId(sheet, 'consent-print-german');
      const second = byTestId(sheet, 'consent-print-second');
      await second.first().waitFor();
      eq(await german.count(), await second.count(), 'a Turkish cell beside each German one');
      const langs = await second.evaluateAll((cells) => [...new Set(cells.map((c) => `${c.lang}/${c.dir}`))]);
      eq(['tr/ltr'], langs, 'the second column\'s language and direction');
      const germanText = (await german.allTextContents()).join(' ');
      const turkishText = (await second.allTextContents()).join(' ');
      ok(germanText.includes(TEXT.withdrawDe) && germanText.includes(MOTHER), 'the German column: the grantor and the withdrawal right');
      ok(turkishText.includes(LUENEN_LETTERHEAD), 'the Turkish column names the town (controller)');
      ok(turkishText.includes(TEXT.withdrawTr), `the Turkish column says "${TEXT.withdrawTr}"`);
      ok(turkishText.includes('Sprachförderung / Dil desteği'), 'the purpose in German and Turkish');
      ok(/[?&]lang=tr$/.test(page.url()), 'the address keeps the language');
      // "Drucken" opens the print dialog
      await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
      await byTestId(page, 'consent-print-button').click();
      eq(1, await page.evaluate(() => window.printed), 'print dialogs opened by "Drucken"');
      await page.emulateMedia({ media: 'print' });
      eq(false, await page.locator('main h1').first().isVisible(), 'on paper: no page heading or controls');
      await screenshot(page, 'consent-print-tr');
      await page.emulateMedia({ media: 'screen' });
      await byTestId(page, 'consent-print-language').selectOption('ar');
      await second.first().waitFor();
      eq(['ar/rtl'], await second.evaluateAll((cells) => [...new Set(cells.map((c) => `${c.lang}/${c.dir}`))]),
        'the Arabic column\'s language and direction');
      ok((await second.allTextContents()).join(' ').includes(TEXT.withdrawAr), 'the Arabic column states the withdrawal right');
      await page.emulateMedia({ media: 'print' });
      await screenshot(page, 'consent-print-ar');
      await page.emulateMedia({ media: 'screen' });
      await screenshot(page, 'consent-form-screen');
    });

    // ---- Refused: a recipient the consent does not name ------------------------------------------
    await step('Lünen: a referral to a recipient the consent does not name is refused', async () => {
      const { page } = erika;
      const before = (await api(LUENEN, 'GET', '/v1/referrals')).referrals.length;
      await go(page, `#/cases/${state.caseId}/referrals/new?consent=${state.consentId}`, 'Überweisung anlegen');
      const offered = byTestId(page, 'referral-recipient').locator('input[type="radio"]');
      eq(1, await offered.count(), 'recipients the form offers');
      eq('05978036|fruehe-hilfen', await offered.first().getAttribute('value'), 'the recipient offered');
      await byTestId(page, 'referral-categories-household').check();
      // The form's only recipient, changed in the page to Kamen's Frühe Hilfen
      await offered.first().evaluate((radio) => {
        radio.value = '05978020|fruehe-hilfen';
        radio.checked = true;
      });
      await byTestId(page, 'referral-submit').click();
      await see(byTestId(page, 'referral-form-alert'), TEXT.recipientMismatch);
      ok(true, `the manipulated recipient shows "${TEXT.recipientMismatch}"`);
      eq(before, (await api(LUENEN, 'GET', '/v1/referrals')).referrals.length, 'referrals after the refusal (API)');
      ok(/referrals\/new/.test(page.url()), 'the form stays open after the refusal');
    });

    await step('Lünen: Erika refers the family to Unna\'s Frühe Hilfen', async () => {
      const { page } = erika;
      await go(page, `#/consents/${state.consentId}`);
      await byTestId(page, 'consent-referral-new').click();
      await see(page.locator('main h1'), 'Überweisung anlegen');
      await settled(page);
      eq(state.consentId, await byTestId(page, 'referral-consent').inputValue(), 'the consent chosen in the form');
      ok(await byTestId(page, 'referral-recipient').locator('input[type="radio"]').first().isChecked(),
        'the consent\'s one recipient is chosen');
      for (const category of ['household', 'child-age', 'language']) {
        await byTestId(page, `referral-categories-${category}`).check();
      }
      await see(byTestId(page, 'referral-service'), 'Jobcenter');
      eq(0, await page.locator('select[data-testid="referral-service"]').count(),
        'the referring office is shown as text, not chosen');
      await byTestId(page, 'referral-note').fill('Bitte um Kontaktaufnahme, Familie spricht Deutsch und Türkisch');
      await screenshot(page, 'referral-form');
      await byTestId(page, 'referral-submit').click();
      await page.waitForURL(/#\/referrals\/[0-9a-f]{32}$/);
      state.referralId = page.url().match(/#\/referrals\/([0-9a-f]{32})$/)[1];
      await see(pageStatus(page), TEXT.referralSent);
      const referral = await api(LUENEN, 'GET', `/v1/referrals/${state.referralId}`);
      eq('unna', referral.peer.node, 'the referral\'s recipient node (API)');
      eq(['household', 'child-age', 'language'], referral.categories, 'the referral\'s categories (API)');
      eq('jobcenter', referral.service, 'the referring office is the case\'s (API)');
    });

    // ---- Unna: the inbox, accept, progress, outcome -------------------------------------------------
    const jonas = await openDesk(browser, UNNA, 'Unna/jonas');
    await step('Unna: Jonas logs in and finds the referral in the inbox', async () => {
      await waitFor('Unna has the referral', async () => {
        const list = (await api(UNNA, 'GET', '/v1/referrals')).referrals;
        return list.find((r) => r.direction === 'incoming' && r.id === state.referralId);
      });
      await login(jonas);
      const { page } = jonas;
      await byTestId(page, 'nav-inbox').click();
      await see(page.locator('main h1'), 'Posteingang');
      await settled(page);
      const row = byTestId(page, 'inbox-row').and(page.locator(`[data-id="${state.referralId}"]`));
      await row.waitFor();
      await see(row, 'Lünen');
      await see(byTestId(page, 'inbox-summary'), '1 neue Überweisung');
      await screenshot(page, 'inbox');
      await byTestId(row, 'referral-open').click();
      await see(page.locator('main h1'), `Überweisung ${state.referralId.slice(0, 8)}`);
      await settled(page);
      await see(byTestId(page, 'referral-sections'), 'spricht noch kein Deutsch');
      ok(true, 'Unna sees the data the consent covers (language)');
    });

    await step('Unna: Jonas accepts with a Lotse, reports progress and the outcome', async () => {
      const { page } = jonas;
      await byTestId(page, 'referral-accept-lotse').fill(LOTSE);
      await byTestId(page, 'referral-accept').click();
      await see(pageStatus(page), TEXT.accepted);
      await see(byTestId(page, 'referral-state'), 'angenommen');
      await see(byTestId(page, 'referral-lotse'), LOTSE);
      await byTestId(page, 'referral-progress-text').fill(PROGRESS);
      await byTestId(page, 'referral-progress').click();
      await see(pageStatus(page), TEXT.progressSent);
      await see(byTestId(page, 'referral-state'), 'in Bearbeitung');
      await byTestId(page, 'referral-complete-text').fill(OUTCOME);
      await byTestId(page, 'referral-complete').click();
      await see(pageStatus(page), TEXT.completed);
      await see(byTestId(page, 'referral-state'), 'abgeschlossen');
      await see(byTestId(page, 'referral-outcome-text'), OUTCOME);
      eq(0, await byTestId(page, 'referral-complete').count(), 'actions left on a completed referral');
      const referral = await api(UNNA, 'GET', `/v1/referrals/${state.referralId}`);
      eq('completed', referral.state, 'Unna\'s referral state (API)');
    });

    // ---- Lünen: the outcome in the history ---------------------------------------------------------
    await step('Lünen: Erika sees the outcome in the referral\'s history', async () => {
      await waitFor('Lünen has the outcome', async () => {
        const referral = await api(LUENEN, 'GET', `/v1/referrals/${state.referralId}`);
        return referral.state === 'completed' && referral.outcome === OUTCOME;
      });
      const { page } = erika;
      await go(page, `#/referrals/${state.referralId}`, `Überweisung ${state.referralId.slice(0, 8)}`);
      await see(byTestId(page, 'referral-state'), 'abgeschlossen');
      await see(byTestId(page, 'referral-outcome-text'), OUTCOME);
      await see(byTestId(page, 'referral-lotse'), LOTSE);
      const states = await byTestId(page, 'history-entry').evaluateAll((items) => items.map((i) => i.dataset.state));
      for (const expected of ['requested', 'received', 'accepted', 'in_progress', 'completed']) {
        ok(states.includes(expected), `the history has "${expected}" (${states.join(', ')})`);
      }
      await see(byTestId(page, 'referral-history'), PROGRESS);
      await see(byTestId(page, 'referral-history'), OUTCOME);
      await go(page, '#/history', 'Verlauf');
      const card = byTestId(page, 'history-referral').and(page.locator(`[data-id="${state.referralId}"]`));
      await see(card, OUTCOME);
      await see(card, LOTSE);
      await screenshot(page, 'referral-history');
      await go(page, `#/cases/${state.caseId}`);
      await see(byTestId(page, 'case-referral-row'), 'abgeschlossen');
      await see(byTestId(page, 'case-lotse'), LOTSE);
      ok(true, 'the case shows the referral completed and Unna\'s Lotse');
    });

    // ---- Offices: the Jugendamt does not see the Jobcenter's case -------------------------------------
    await step('Lünen: Greta (Jugendamt only) cannot find or open the Jobcenter family\'s case', async () => {
      const greta = await openDesk(browser, LUENEN, 'Lünen/greta');
      await login(greta, LUENEN_JUGENDAMT);
      const { page } = greta;
      await see(page.locator('main h1'), 'Fälle');
      const offices = await byTestId(page, 'header-offices').textContent();
      ok(offices.includes('Jugendamt') && !offices.includes('Jobcenter'), `the header names Greta's one office (${offices})`);
      //  The list: the Jobcenter's case is not there
      const ownRow = page.locator(`[data-testid="case-row"][data-id="${state.caseId}"]`);
      await see(byTestId(page, 'case-count'), 'Fälle');
      eq(0, await ownRow.count(), 'the Jobcenter\'s case in Greta\'s list');
      await see(byTestId(page, 'case-offices'), 'Jugendamt');
      eq(0, (await api(LUENEN, 'GET', '/v1/cases')).cases.filter((c) => c.service === 'jugendamt').length,
        'Jugendamt cases in Lünen (API), so Greta\'s list is empty');
      await byTestId(page, 'case-table-empty').waitFor();
      await screenshot(page, 'office-cases');
      //  The name search: nothing for Greta, while the Jobcenter finds the family
      eq(1, (await api(LUENEN, 'GET', '/v1/cases?name=Sonnenberg')).cases.length,
        'cases with "Sonnenberg" for an account of all offices (API)');
      await byTestId(page, 'cases-name-search').fill('Sonnenberg');
      await byTestId(page, 'cases-name-submit').click();
      await see(byTestId(page, 'case-count'), '„Sonnenberg“');
      await see(byTestId(page, 'case-table-empty'), 'Kein Fall mit einer Person dieses Namens.');
      eq(0, await ownRow.count(), 'the Jobcenter\'s case in Greta\'s name search');
      //  The case's address: refused in German, nothing of the family shown
      await go(page, `#/cases/${state.caseId}`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.otherOffice);
      ok(true, `opening the case shows "${TEXT.noAccess}" and "${TEXT.otherOffice}"`);
      const text = await page.locator('main').innerText();
      ok(!text.includes(MOTHER) && !text.includes(CHILD), 'no name of the family on the refused page');
      eq(0, await byTestId(page, 'case-members').count(), 'members shown to Greta');
      await screenshot(page, 'office-refused');
      const answer = await pageFetch(page, 'GET', `/v1/cases/${state.caseId}`);
      eq(403, answer.status, 'the case for Greta (HTTP status)');
      eq('OFFICE_NOT_PERMITTED', answer.data && answer.data.error, 'the case for Greta (reason)');
      //  Nor the case's referral, consent or forms
      await go(page, `#/referrals/${state.referralId}`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.otherOffice);
      await go(page, `#/consents/${state.consentId}`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.otherOffice);
      await go(page, `#/cases/${state.caseId}/referrals/new`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.otherOffice);
      eq(0, await byTestId(page, 'referral-form').count(), 'referral form shown to Greta for the Jobcenter\'s case');
      ok(true, 'the case\'s referral, consent and referral form are refused in German too');
      //  A new case: only the Jugendamt, already chosen
      await go(page, '#/cases/new', 'Neuen Fall anlegen');
      const offered = await byTestId(page, 'case-service').locator('option')
        .evaluateAll((items) => items.map((o) => o.value));
      eq(['jugendamt'], offered, 'the offices the case form offers Greta');
      eq('jugendamt', await byTestId(page, 'case-service').inputValue(), 'the one office is chosen');
      await screenshot(page, 'office-case-form');
      await greta.context.close();
    });

    // ---- The Transferbörse: one agreement from offer to ledger ---------------------------------------
    const mira = await openDesk(browser, KAMEN, 'Kamen/mira');
    await step('Transferbörse: Unna publishes an offer, Kamen asks for the topic', async () => {
      const { page } = jonas;
      await byTestId(page, 'nav-exchange').click();
      await see(page.locator('main h1'), 'Transferbörse');
      await byTestId(page, 'exchange-nav-offer').click();
      await see(page.locator('main h1'), 'Angebot veröffentlichen');
      await settled(page);
      await byTestId(page, 'offer-title').fill(OFFER_TITLE);
      await byTestId(page, 'offer-topics-fruehe-hilfen').check();
      await byTestId(page, 'offer-target-group').fill('Familien mit Kindern unter drei Jahren (erfunden)');
      await byTestId(page, 'offer-results').fill('Mehr Familien erreicht, weniger Abbrüche (erfundene Zahlen)');
      await byTestId(page, 'offer-success-factors').fill('Feste Ansprechpersonen, kurze Wege');
      await byTestId(page, 'offer-pitfalls').fill(OFFER_PITFALLS);
      await byTestId(page, 'offer-presentation').check();
      await byTestId(page, 'offer-hours').fill('4');
      await byTestId(page, 'offer-capacity').fill('8');
      await byTestId(page, 'offer-submit').click();
      await see(page.locator('main h1'), 'Übermittlungen an den Kreis');
      await see(pageStatus(page), TEXT.submitted);
      state.offerId = await waitFor('Kamen\'s board has Unna\'s offer', async () => {
        const board = await api(KAMEN, 'GET', '/v1/exchange/board');
        const offer = (board.offers || []).find((o) => o.town === 'unna' && o.title === OFFER_TITLE);
        return offer && offer.id;
      });
      const published = ((await api(KAMEN, 'GET', '/v1/exchange/board')).offers || [])
        .find((o) => o.id === state.offerId);
      ok(published.pitfalls === OFFER_PITFALLS, 'an offer\'s text keeps its paragraphs on the board');
      await reloadUntil(page, 'Unna\'s submission shows confirmed', '#/exchange/submissions',
        async (p) => (await byTestId(p, 'submission-row').first().getAttribute('data-state')) !== 'queued');

      await login(mira);
      await byTestId(mira.page, 'nav-exchange').click();
      await see(mira.page.locator('main h1'), 'Transferbörse');
      await settled(mira.page);
      const card = byTestId(mira.page, 'board-offer').and(mira.page.locator(`[data-id="${state.offerId}"]`));
      await see(card, OFFER_TITLE);
      await see(card, 'Unna');
      ok((await card.innerText()).includes(OFFER_PITFALLS), 'and shows them as paragraphs');
      await screenshot(mira.page, 'exchange-board');
      await byTestId(mira.page, 'exchange-nav-request').click();
      await see(mira.page.locator('main h1'), 'Anfrage stellen');
      await settled(mira.page);
      await byTestId(mira.page, 'request-mode-topic').check();
      await byTestId(mira.page, 'request-topic').selectOption('fruehe-hilfen');
      await byTestId(mira.page, 'request-note').fill('Start im nächsten Halbjahr');
      await byTestId(mira.page, 'request-submit').click();
      await see(pageStatus(mira.page), TEXT.submitted);
      await waitFor('Unna\'s board has Kamen\'s request', async () => {
        const board = await api(UNNA, 'GET', '/v1/exchange/board');
        return (board.requests || []).some((r) => r.town === 'kamen' && r.topic === 'fruehe-hilfen');
      });
    });

    await step('Transferbörse: the county matches; both towns accept', async () => {
      const output = await runMatching();
      log(`matching: ${output.trim().split('\n').join(' | ')}`);
      ok(/proposed unna -> kamen fruehe-hilfen 4 h/.test(output), 'the county\'s matching proposes Unna -> Kamen, 4 h');
      state.agreementId = await waitFor('both towns have the proposal', async () => {
        const [u, k] = await Promise.all([api(UNNA, 'GET', '/v1/exchange/agreements'), api(KAMEN, 'GET', '/v1/exchange/agreements')]);
        const mine = k.agreements.find((a) => a.provider === 'unna' && a.topic === 'fruehe-hilfen');
        return mine && u.agreements.some((a) => a.id === mine.id) && mine.id;
      });
      for (const desk of [jonas, mira]) {
        const { page } = desk;
        await go(page, '#/exchange/agreements', 'Vereinbarungen');
        const card = byTestId(page, 'agreement-row').and(page.locator(`[data-id="${state.agreementId}"]`));
        await see(card, 'Unna coacht Kamen');
        await byTestId(card, 'agreement-accept').click();
        await see(byTestId(card, 'agreement-status'), TEXT.submitted);
      }
      await waitFor('both towns see the agreement accepted', async () => {
        const [u, k] = await Promise.all([
          api(UNNA, 'GET', `/v1/exchange/agreements/${state.agreementId}`),
          api(KAMEN, 'GET', `/v1/exchange/agreements/${state.agreementId}`)]);
        return u.state === 'accepted' && k.state === 'accepted';
      });
    });

    await step('Transferbörse: scheduled next week, completing is refused; moved to yesterday', async () => {
      const card = (page) => byTestId(page, 'agreement-row').and(page.locator(`[data-id="${state.agreementId}"]`));
      const nextWeek = isoDay(Date.now() + 7 * DAY_MS);
      const yesterday = isoDay(Date.now() - DAY_MS);
      // Kamen sets the date: next week
      await reloadUntil(mira.page, 'Kamen can schedule', '#/exchange/agreements',
        async (p) => (await card(p).getAttribute('data-state')) === 'accepted');
      await byTestId(card(mira.page), 'agreement-schedule-date').fill(nextWeek);
      await byTestId(card(mira.page), 'agreement-schedule').click();
      await see(byTestId(card(mira.page), 'agreement-status'), TEXT.submitted);
      await waitFor('Unna sees the date next week', async () => {
        const a = await api(UNNA, 'GET', `/v1/exchange/agreements/${state.agreementId}`);
        return a.state === 'scheduled' && a.scheduled_for_ms === Date.parse(`${nextWeek}T00:00:00Z`);
      });
      // Unna confirms too early: refused
      await reloadUntil(jonas.page, 'Unna can confirm', '#/exchange/agreements',
        async (p) => (await card(p).getAttribute('data-state')) === 'scheduled');
      await byTestId(card(jonas.page), 'agreement-complete').click();
      await see(byTestId(card(jonas.page), 'agreement-alert'), TEXT.notBeforeDate);
      ok(true, `confirming before the date shows "${TEXT.notBeforeDate}"`);
      const early = await api(UNNA, 'GET', `/v1/exchange/agreements/${state.agreementId}`);
      eq(false, Boolean(early.provider_signed), 'Unna\'s signature after the refusal (API)');
      eq('scheduled', early.state, 'the state after the refusal (API)');
      // Kamen moves the date to yesterday, when the coaching took place
      await go(mira.page, '#/exchange/agreements', 'Vereinbarungen');
      await byTestId(card(mira.page), 'agreement-schedule-date').fill(yesterday);
      await byTestId(card(mira.page), 'agreement-schedule').click();
      await see(byTestId(card(mira.page), 'agreement-status'), TEXT.submitted);
      await waitFor('Unna sees the date yesterday', async () => {
        const a = await api(UNNA, 'GET', `/v1/exchange/agreements/${state.agreementId}`);
        return a.scheduled_for_ms === Date.parse(`${yesterday}T00:00:00Z`);
      });
    });

    await step('Transferbörse: both confirm; the ledger shows the record and the balances', async () => {
      const card = (page) => byTestId(page, 'agreement-row').and(page.locator(`[data-id="${state.agreementId}"]`));
      await go(jonas.page, '#/exchange/agreements', 'Vereinbarungen');
      await byTestId(card(jonas.page), 'agreement-complete').click();
      await see(byTestId(card(jonas.page), 'agreement-status'), TEXT.submitted);
      await waitFor('Kamen sees Unna\'s signature', async () => {
        const a = await api(KAMEN, 'GET', `/v1/exchange/agreements/${state.agreementId}`);
        return a.provider_signed === true;
      });
      await go(mira.page, '#/exchange/agreements', 'Vereinbarungen');
      await byTestId(card(mira.page), 'agreement-complete').click();
      await see(byTestId(card(mira.page), 'agreement-status'), TEXT.submitted);
      await waitFor('both ledgers hold the record', async () => {
        const [u, k] = await Promise.all([api(UNNA, 'GET', '/v1/exchange/ledger'), api(KAMEN, 'GET', '/v1/exchange/ledger')]);
        return u.records.length === 1 && k.records.length === 1;
      });
      await reloadUntil(mira.page, 'Kamen sees the agreement completed', '#/exchange/agreements',
        async (p) => (await card(p).getAttribute('data-state')) === 'completed');
      await see(card(mira.page), 'abgeschlossen');
      await see(card(mira.page), 'Bilanz-Eintrag');
      await screenshot(mira.page, 'exchange-agreements');
      await byTestId(mira.page, 'exchange-nav-ledger').click();
      await see(mira.page.locator('main h1'), 'Bilanz der Transferbörse');
      await settled(mira.page);
      eq('true', await byTestId(mira.page, 'ledger-verified').getAttribute('data-verified'), 'the ledger verifies (page)');
      const record = byTestId(mira.page, 'ledger-record').and(mira.page.locator(`[data-id="${state.agreementId}"]`));
      await see(record, 'Unna');
      await see(record, 'Kamen');
      await see(record, '4');
      const balance = (node) => byTestId(mira.page, 'ledger-balance').and(mira.page.locator(`[data-id="${node}"]`));
      await see(balance('unna'), '+4 h');
      await see(balance('kamen'), '−4 h');
      ok(true, 'the ledger page shows the record, Unna +4 h and Kamen −4 h');
      const ledger = await api(KAMEN, 'GET', '/v1/exchange/ledger');
      eq(4, ledger.balances.unna, 'Unna\'s balance (API)');
      eq(-4, ledger.balances.kamen, 'Kamen\'s balance (API)');
      eq(0, ledger.total, 'the sum of the balances (API)');
      eq(true, ledger.verified, 'the ledger verifies (API)');
      await screenshot(mira.page, 'exchange-ledger');
    });

    // ---- Lünen: a second case worked on its page ------------------------------------------------------
    await step('Lünen: Erika works a second case: Vermerk, Lotse, Wiedervorlage, closed and reopened', async () => {
      const { page } = erika;
      await go(page, '#/cases/new', 'Neuen Fall anlegen');
      await byTestId(page, 'case-kind').selectOption('person');
      await byTestId(page, 'case-service').selectOption('jobcenter');
      await byTestId(page, 'member-name').fill(CLIENT);
      await byTestId(page, 'member-role').fill('Person');
      await byTestId(page, 'member-age').fill('41');
      await byTestId(page, 'case-needs-input').fill('Arbeit\nKinderbetreuung');
      await byTestId(page, 'case-caseworker').fill(LUENEN.user);
      await byTestId(page, 'case-lotse-input').fill(FIRST_LOTSE);
      await byTestId(page, 'case-external-ref-input').fill(EXTERNAL_REF);
      await byTestId(page, 'case-submit').click();
      await page.waitForURL(/#\/cases\/[0-9a-f]{32}$/);
      state.secondCaseId = page.url().match(/#\/cases\/([0-9a-f]{32})$/)[1];
      ok(state.secondCaseId !== state.caseId, 'a second case was opened');
      await settled(page);
      await see(byTestId(page, 'case-external-ref'), EXTERNAL_REF);
      await byTestId(page, 'case-journal-empty').waitFor();
      //  A Vermerk, its line break kept
      await byTestId(page, 'case-note-text').fill(NOTE);
      await byTestId(page, 'case-note-submit').click();
      await see(pageStatus(page), TEXT.noteSaved);
      await settled(page);
      const entry = byTestId(page, 'journal-entry');
      eq(1, await entry.count(), 'Vermerke on the case page');
      eq(NOTE, await entry.locator('.journal-text').innerText(), 'the Vermerk as shown, with its line break');
      await see(entry, LUENEN.user);
      await byTestId(page, 'case-journal').scrollIntoViewIfNeeded();
      await screenshot(page, 'case-journal');
      //  Bearbeiten: another Lotse, a Wiedervorlage for yesterday, one need fewer
      const yesterday = berlinDay(Date.now() - DAY_MS);
      await byTestId(page, 'case-edit-open').click();
      await byTestId(page, 'case-edit-form').waitFor();
      eq(FIRST_LOTSE, await byTestId(page, 'case-edit-lotse').inputValue(), 'the Lotse in the form');
      await byTestId(page, 'case-edit-lotse').fill(NEW_LOTSE);
      await byTestId(page, 'case-edit-follow-up').fill(yesterday);
      await byTestId(page, 'case-edit-needs').fill('Arbeit');
      await byTestId(page, 'case-edit-form').scrollIntoViewIfNeeded();
      await screenshot(page, 'case-edit');
      await byTestId(page, 'case-edit-submit').click();
      await see(pageStatus(page), TEXT.changesSaved);
      await settled(page);
      await see(byTestId(page, 'case-lotse'), NEW_LOTSE);
      await see(byTestId(page, 'case-follow-up'), 'fällig');
      eq(['Arbeit'], await byTestId(page, 'case-needs').locator('li').allInnerTexts(), 'the needs shown after the change');
      const history = byTestId(page, 'case-history');
      await see(history, 'Lotse geändert');
      await see(history, NEW_LOTSE);
      await see(history, 'Wiedervorlage gesetzt');
      await see(history, 'Bedarfe korrigiert');
      ok(true, 'the Verlauf shows the Lotse changed, the Wiedervorlage set and the needs corrected');
      await history.scrollIntoViewIfNeeded();
      await screenshot(page, 'case-history');
      //  The Wiedervorlagen: the case is due; "nur meine" keeps it (Erika is its caseworker)
      await byTestId(page, 'nav-follow-ups').click();
      await see(page.locator('main h1'), 'Wiedervorlagen');
      await settled(page);
      const row = page.locator(`[data-testid="follow-up-row"][data-id="${state.secondCaseId}"]`);
      await row.waitFor();
      eq('true', await row.getAttribute('data-due'), 'the second case is due in the Wiedervorlagen');
      await see(row, 'fällig');
      await see(row, EXTERNAL_REF);
      await see(row, NEW_LOTSE);
      eq(0, await page.locator(`[data-testid="follow-up-row"][data-id="${state.caseId}"]`).count(),
        'the first case (no Wiedervorlage) in the Wiedervorlagen');
      await Promise.all([
        page.waitForResponse((r) => r.url().includes(`/v1/follow-ups?caseworker=${LUENEN.user}`) && r.ok()),
        byTestId(page, 'follow-ups-mine').check(),
      ]);
      await see(byTestId(page, 'follow-ups-count'), '1 Wiedervorlage, davon 1 fällig');
      await row.waitFor();
      ok(true, '"nur meine" keeps the case whose caseworker is Erika');
      await screenshot(page, 'follow-ups');
      await byTestId(row, 'follow-up-open').click();
      await see(page.locator('main h1'), `Fall ${state.secondCaseId.slice(0, 8)}`);
      await settled(page);
      //  Closed with a reason: no more changes, a notice and "Fall wieder aufnehmen"
      await byTestId(page, 'case-close-reason').selectOption('goal-reached');
      await byTestId(page, 'case-close-text').fill(CLOSE_TEXT);
      await byTestId(page, 'case-close').click();
      await see(pageStatus(page), TEXT.caseClosed);
      await settled(page);
      await see(byTestId(page, 'case-state'), 'abgeschlossen');
      await see(byTestId(page, 'case-closed-notice'), 'Abgeschlossen am');
      await see(byTestId(page, 'case-closed-notice'), TEXT.goalReached);
      await see(byTestId(page, 'case-history'), `Fall abgeschlossen: ${TEXT.goalReached}`);
      for (const control of ['case-note-form', 'case-edit-open', 'case-close-form', 'case-referral-new']) {
        eq(0, await byTestId(page, control).count(), `${control} on the closed case`);
      }
      await screenshot(page, 'case-closed');
      const followUps = await pageFetch(page, 'GET', '/v1/follow-ups');
      eq(false, followUps.data.follow_ups.some((f) => f.id === state.secondCaseId),
        'the closed case among the Wiedervorlagen (API)');
      await go(page, '#/cases', 'Fälle');
      const listed = page.locator(`[data-testid="case-row"][data-id="${state.secondCaseId}"]`);
      await see(listed, EXTERNAL_REF);
      await see(listed, 'abgeschlossen');
      await screenshot(page, 'cases-second');
      //  Reopened
      await go(page, `#/cases/${state.secondCaseId}`);
      await byTestId(page, 'case-reopen').click();
      await see(pageStatus(page), TEXT.caseReopened);
      await settled(page);
      await see(byTestId(page, 'case-state'), 'offen');
      await see(byTestId(page, 'case-history'), 'Fall wieder aufgenommen');
      await byTestId(page, 'case-note-form').waitFor();
      eq(0, await byTestId(page, 'case-closed-notice').count(), 'the closed notice after reopening');
      //  What the node holds (API, with Erika's session)
      const answer = await pageFetch(page, 'GET', `/v1/cases/${state.secondCaseId}`);
      eq(200, answer.status, 'the second case (HTTP status)');
      const kase = answer.data;
      eq([NOTE], (kase.journal || []).map((n) => n.text), 'the journal (API)');
      eq(LUENEN.user, kase.journal[0].by, 'the note\'s author (API)');
      const changes = (kase.history || []).map((e) => e.change);
      eq(['closed', 'follow_up_ms', 'lotse', 'needs', 'reopened'], changes.slice().sort(), 'the history\'s changes (API)');
      eq('reopened', changes[changes.length - 1], 'the last history entry (API)');
      eq(FIRST_LOTSE, kase.history.find((e) => e.change === 'lotse').previous, 'the Lotse before the change (API)');
      eq('goal-reached', kase.history.find((e) => e.change === 'closed').reason, 'the reason for closing (API)');
      eq(CLOSE_TEXT, kase.history.find((e) => e.change === 'closed').text, 'the text for closing (API)');
      eq('open', kase.state, 'the second case\'s state after reopening (API)');
      eq(NEW_LOTSE, kase.lotse, 'the second case\'s Lotse (API)');
      eq(['Arbeit'], kase.needs, 'the second case\'s needs (API)');
      const midnight = await page.evaluate(async (day) => (await import('/ui/dom.js')).berlinMidnight(day), yesterday);
      eq(midnight, kase.follow_up_ms, 'the Wiedervorlage: yesterday, 00:00 Berlin time (API)');
      eq('open', (await api(LUENEN, 'GET', `/v1/cases/${state.caseId}`)).state, 'the first case is still open (API)');
    });

    // ---- The administration: the audit log --------------------------------------------------------
    await step('Lünen: the administration reads and verifies the audit log', async () => {
      const anna = await openDesk(browser, LUENEN, 'Lünen/anna');
      await login(anna, LUENEN_ADMIN);
      const { page } = anna;
      await see(page.locator('main h1'), 'Administration');
      await settled(page);
      await see(byTestId(page, 'audit-verify'), TEXT.auditIntact);
      await see(byTestId(page, 'audit-verify'), TEXT.recordsIntact);
      await byTestId(page, 'audit-row').first().waitFor();
      await see(byTestId(page, 'audit-table'), 'Überweisung gesendet');
      ok(true, 'the audit log shows the referral and verifies');
      const loaded = await byTestId(page, 'audit-row').count();
      ok(loaded < 1000, `all ${loaded} audit records fit on one page`);
      eq(false, await byTestId(page, 'audit-more').isVisible(), '"Weitere Einträge laden" with one page of records');
      await screenshot(page, 'admin-audit');
      // Every action in German, none as its code (the signed form's were once missing)
      const actions = await byTestId(page, 'audit-row').locator('td:nth-child(4)').allInnerTexts();
      const codes = actions.filter((a) => /^[a-z_-]+(\.[a-z_-]+)+$/.test(a.trim()));
      eq('', [...new Set(codes)].join(' '), `each of ${actions.length} audit actions is named in German`);
      ok(actions.some((a) => a.includes('Unterschriebene Einwilligung')), 'the signed form\'s actions among them');
      eq(false, await byTestId(page, 'nav-cases').isVisible(), 'the administration sees no link to the cases');
      // The administration manages the web users: add one, see it, remove it
      await byTestId(page, 'admin-users-row').first().waitFor();
      ok((await byTestId(page, 'admin-users-table').innerText()).includes('erika'), 'the users list Erika');
      const gretaRow = page.locator('[data-testid="admin-users-row"][data-id="greta"]');
      await see(byTestId(gretaRow, 'admin-users-offices-text'), 'Jugendamt');
      eq('Jugendamt', (await byTestId(gretaRow, 'admin-users-offices-text').textContent()).trim(),
        'the offices the users list shows for Greta');
      //  The administration acts for no office: no checkboxes for it
      await byTestId(page, 'admin-users-role').selectOption('administration');
      eq(false, await byTestId(page, 'admin-users-office').isVisible(), 'office checkboxes for a new administration user');
      await see(byTestId(page, 'admin-users-no-office'), 'keine Stelle');
      //  Leitung: without an office refused in German, nothing sent
      await byTestId(page, 'admin-users-name').fill('karl');
      await byTestId(page, 'admin-users-role').selectOption('leitung');
      await byTestId(page, 'admin-users-password').fill('Karl-Demo-Passwort-1');
      await byTestId(page, 'admin-users-add').click();
      await see(byTestId(page, 'admin-users-alert'), TEXT.someOffice);
      eq(0, await page.locator('[data-testid="admin-users-row"][data-id="karl"]').count(), 'karl without an office');
      await byTestId(page, 'admin-users-office-jobcenter').check();
      await byTestId(page, 'admin-users-office-jugendamt').check();
      await byTestId(page, 'admin-users-add').click();
      await see(byTestId(page, 'admin-users-alert'), 'Benutzer karl angelegt.');
      const karlRow = page.locator('[data-testid="admin-users-row"][data-id="karl"]');
      await karlRow.waitFor();
      await see(byTestId(karlRow, 'admin-users-offices-text'), 'Jobcenter, Jugendamt');
      const listed = async () => (await pageFetch(page, 'GET', '/ui/admin/users')).data.users
        .find((u) => u.name === 'karl');
      eq(['jobcenter', 'jugendamt'], (await listed()).offices.slice().sort(), 'karl\'s offices (API)');
      await screenshot(page, 'admin-users');
      //  "Stellen ändern": the Jugendamt only
      await byTestId(karlRow, 'admin-users-offices-edit').click();
      await byTestId(page, 'admin-users-offices-form').waitFor();
      eq(true, await byTestId(page, 'admin-users-offices-jobcenter').isChecked(), 'karl\'s Jobcenter is ticked in the editor');
      await byTestId(page, 'admin-users-offices-jobcenter').uncheck();
      await screenshot(page, 'admin-users-offices');
      await byTestId(page, 'admin-users-offices-save').click();
      await see(byTestId(page, 'admin-users-alert'), 'Die Stellen von karl wurden geändert: Jugendamt.');
      await see(byTestId(karlRow, 'admin-users-offices-text'), 'Jugendamt');
      eq(['jugendamt'], (await listed()).offices, 'karl\'s offices after the change (API)');
      ok(true, 'the administration changed karl\'s offices');
      //  An integration token needs exactly one office: two are refused in German
      await byTestId(page, 'admin-tokens-name').fill('fachverfahren');
      await byTestId(page, 'admin-tokens-role').selectOption('integration');
      await byTestId(page, 'admin-tokens-office-jobcenter').check();
      await byTestId(page, 'admin-tokens-office-jugendamt').check();
      await byTestId(page, 'admin-tokens-add').click();
      await see(byTestId(page, 'admin-tokens-alert'), TEXT.oneOffice);
      eq(0, await page.locator('[data-testid="admin-tokens-row"][data-id="fachverfahren"]').count(),
        'an integration token with two offices');
      await karlRow.locator('[data-testid="admin-users-remove"]').click();
      await see(byTestId(page, 'admin-users-alert'), 'Benutzer karl entfernt.');
      await page.locator('[data-testid="admin-users-row"][data-id="karl"]').waitFor({ state: 'detached' });
      ok(true, 'the administration added and removed a web user');
    });

    // ---- The administration: emergency access (Notfallzugriff) -------------------------------------
    await step('Lünen: emergency access: Anna asks, Bernd approves, Anna reads the Jobcenter case, the Leitung sees it', async () => {
      const anna = await openDesk(browser, LUENEN, 'Lünen/anna (Notfall)');
      await login(anna, LUENEN_ADMIN);
      const { page } = anna;
      await see(page.locator('main h1'), 'Administration');
      await settled(page);
      const short = state.caseId.slice(0, 8);
      //  Without an access: no link, no banner, no case, in the page and in the API
      eq(0, await byTestId(page, 'nav-emergency-cases').count(), 'the link to the cases without an emergency access');
      eq(false, await byTestId(page, 'emergency-banner').isVisible(), 'the banner without an emergency access');
      await see(byTestId(page, 'emergency-note'), 'zweite Person der Administration');
      eq([], (await pageFetch(page, 'GET', '/v1/cases')).data.cases, 'the cases the administration sees (API)');
      await go(page, '#/cases', TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.emergencyOnly);
      await go(page, `#/cases/${state.caseId}`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.emergencyOnly);
      ok(!(await page.locator('main').innerText()).includes(MOTHER), 'no name of the family for the administration');
      const refused = await pageFetch(page, 'GET', `/v1/cases/${state.caseId}`);
      eq(403, refused.status, 'the case for the administration (HTTP status)');
      eq('OFFICE_NOT_PERMITTED', refused.data && refused.data.error, 'the case for the administration (reason)');
      //  Anna asks for 30 minutes of the Jobcenter's cases
      await go(page, '#/admin', 'Administration');
      const offered = await byTestId(page, 'emergency-office').locator('option[value]:not([value=""])')
        .evaluateAll((items) => items.map((o) => o.textContent).sort());
      eq(['Frühe Hilfen', 'Jobcenter', 'Jugendamt'], offered, 'the offices the emergency form offers, in German');
      await byTestId(page, 'emergency-office').selectOption('jobcenter');
      await byTestId(page, 'emergency-reason-input').fill(EMERGENCY_REASON);
      await byTestId(page, 'emergency-minutes').selectOption('30');
      await byTestId(page, 'emergency-submit').click();
      await see(byTestId(page, 'emergency-status'), TEXT.emergencyRequested);
      const asked = page.locator('[data-testid="emergency-row"][data-state="requested"]');
      await asked.first().waitFor();
      eq(1, await asked.count(), 'requests waiting');
      state.emergencyId = await asked.getAttribute('data-id');
      await see(byTestId(asked, 'emergency-state'), 'wartet auf Freigabe');
      await see(byTestId(asked, 'emergency-reason'), EMERGENCY_REASON);
      eq(0, await byTestId(asked, 'emergency-approve').count(), '"Freigeben" on Anna\'s own request');
      await screenshot(page, 'emergency-request', byTestId(page, 'emergency-section'));
      const own = await pageFetch(page, 'POST', `/v1/emergency/${state.emergencyId}/approve`, {},
        { 'X-CSRF-Token': await csrfOf(page) });
      eq(403, own.status, 'Anna approving her own request (HTTP status)');
      eq([], (await pageFetch(page, 'GET', '/v1/cases')).data.cases, 'the cases Anna sees before the approval (API)');
      //  Bernd, a second administrator, sees the request and approves it
      const bernd = await openDesk(browser, LUENEN, 'Lünen/bernd');
      await login(bernd, LUENEN_ADMIN2);
      const waiting = bernd.page.locator(`[data-testid="emergency-row"][data-id="${state.emergencyId}"]`);
      await see(byTestId(waiting, 'emergency-state'), 'wartet auf Freigabe');
      await see(byTestId(waiting, 'emergency-requested-by'), LUENEN_ADMIN.user);
      await see(byTestId(waiting, 'emergency-reason'), EMERGENCY_REASON);
      await see(waiting, 'Jobcenter');
      await screenshot(bernd.page, 'emergency-approve', byTestId(bernd.page, 'emergency-section'));
      await byTestId(waiting, 'emergency-approve').click();
      await see(byTestId(bernd.page, 'emergency-status'), TEXT.emergencyApproved);
      const approved = bernd.page.locator(`[data-testid="emergency-row"][data-id="${state.emergencyId}"][data-state="active"]`);
      await see(byTestId(approved, 'emergency-state'), 'aktiv bis');
      await see(byTestId(approved, 'emergency-approved-by'), LUENEN_ADMIN2.user);
      eq(false, await byTestId(bernd.page, 'emergency-banner').isVisible(), 'a banner for Bernd, who holds no access');
      eq(0, await byTestId(bernd.page, 'nav-emergency-cases').count(), 'the link to the cases for Bernd');
      //  Anna reloads: the banner, and the Jobcenter's cases, read-only
      await page.reload();
      await byTestId(page, 'header-user').waitFor();
      await see(byTestId(page, 'emergency-banner'), TEXT.emergencyBanner);
      await see(byTestId(page, 'emergency-banner'), TEXT.emergencyLogged);
      await see(byTestId(page, 'nav-emergency-cases'), 'Fälle (Notfallzugriff)');
      await byTestId(page, 'nav-emergency-cases').click();
      await see(page.locator('main h1'), 'Fälle (Notfallzugriff)');
      await settled(page);
      await see(byTestId(page, 'case-offices'), 'Jobcenter');
      const jobcenter = (await api(LUENEN, 'GET', '/v1/cases')).cases.filter((c) => c.service === 'jobcenter')
        .map((c) => c.id).sort();
      const listed = (await byTestId(page, 'case-row').evaluateAll((rows) => rows.map((r) => r.dataset.id))).sort();
      eq(jobcenter, listed, 'the cases Anna sees: the Jobcenter\'s');
      eq(0, await byTestId(page, 'case-new').count(), '"Neuen Fall anlegen" for the administration');
      await page.locator(`[data-testid="case-row"][data-id="${state.caseId}"] [data-testid="case-open"]`).click();
      await see(page.locator('main h1'), `Fall ${short}`);
      await settled(page);
      await see(byTestId(page, 'case-members'), MOTHER);
      await see(byTestId(page, 'case-read-only'), 'nur lesen');
      for (const control of ['case-note-form', 'case-edit-open', 'case-close-form', 'case-reopen-form',
        'case-consent-new', 'case-referral-new', 'case-transfer']) {
        eq(0, await byTestId(page, control).count(), `${control} for the administration`);
      }
      eq(0, await page.locator('main form button[type="submit"]').count(), 'buttons that send a change on the case page');
      await see(byTestId(page, 'emergency-banner'), TEXT.emergencyBanner);
      await screenshot(page, 'emergency-banner');
      //  The consent reads too, without "widerrufen" or a referral
      await byTestId(page, 'consent-open').first().click();
      await see(page.locator('main h1'), 'Einwilligung');
      await settled(page);
      await byTestId(page, 'consent-facts').waitFor();
      eq(0, await byTestId(page, 'consent-withdraw-form').count(), 'the withdraw form for the administration');
      eq(0, await byTestId(page, 'consent-referral-new').count(), 'a new referral for the administration');
      //  The node refuses any change all the same
      const note = await pageFetch(page, 'POST', `/v1/cases/${state.caseId}/notes`, { text: 'Notfall' },
        { 'X-CSRF-Token': await csrfOf(page) });
      eq(403, note.status, 'a Vermerk by the administration under the emergency access (HTTP status)');
      //  What was read, as the node lists it (API, with Anna's session)
      const grants = (await pageFetch(page, 'GET', '/v1/emergency')).data.emergency;
      const grant = grants.find((g) => g.id === state.emergencyId);
      eq('active', grant.state, 'the access (API)');
      eq(LUENEN_ADMIN2.user, grant.approved_by, 'who approved it (API)');
      ok(grant.actions.some((a) => a.action === 'case.read' && a.object === state.caseId),
        'the access lists case.read of the family\'s case (API)');
      ok(grant.actions.some((a) => a.action === 'consent.read' && a.object === state.consentId),
        'the access lists consent.read of the family\'s consent (API)');
      //  ... and as the administration page shows it
      await go(page, '#/admin', 'Administration');
      const mine = page.locator(`[data-testid="emergency-row"][data-id="${state.emergencyId}"]`);
      const read = mine.locator(`[data-testid="emergency-action"][data-action="case.read"][data-object="${state.caseId}"]`);
      await see(read.first(), `Fall ${short} angesehen`);
      //  The Leitung of the Jobcenter sees who read what, and why
      const lea = await openDesk(browser, LUENEN, 'Lünen/lea');
      await login(lea, LUENEN_LEITUNG);
      await byTestId(lea.page, 'nav-emergency').click();
      await see(lea.page.locator('main h1'), 'Notfallzugriffe auf Ihre Stellen');
      await settled(lea.page);
      const seen = lea.page.locator(`[data-testid="emergency-row"][data-id="${state.emergencyId}"]`);
      await see(byTestId(seen, 'emergency-requested-by'), LUENEN_ADMIN.user);
      await see(byTestId(seen, 'emergency-approved-by'), LUENEN_ADMIN2.user);
      await see(byTestId(seen, 'emergency-reason'), EMERGENCY_REASON);
      await see(byTestId(seen, 'emergency-state'), 'aktiv bis');
      await see(seen.locator(`[data-testid="emergency-action"][data-action="case.read"][data-object="${state.caseId}"]`).first(),
        `Fall ${short} angesehen`);
      eq(0, await lea.page.locator('[data-testid="emergency-approve"], [data-testid="emergency-end"]').count(),
        'buttons for the Leitung');
      await screenshot(lea.page, 'emergency-leitung');
      //  Anna ends the access: the banner goes, the case is refused again
      await byTestId(mine, 'emergency-end').click();
      await see(byTestId(page, 'emergency-status'), TEXT.emergencyEnded);
      await see(byTestId(page.locator(`[data-testid="emergency-row"][data-id="${state.emergencyId}"][data-state="ended"]`),
        'emergency-state'), 'beendet');
      await byTestId(page, 'emergency-banner').waitFor({ state: 'hidden' });
      eq(0, await byTestId(page, 'nav-emergency-cases').count(), 'the link to the cases after the end');
      await go(page, `#/cases/${state.caseId}`, TEXT.noAccess);
      await see(byTestId(page, 'page-alert'), TEXT.emergencyOnly);
      ok(!(await page.locator('main').innerText()).includes(MOTHER), 'no name of the family after the end');
      const after = await pageFetch(page, 'GET', `/v1/cases/${state.caseId}`);
      eq(403, after.status, 'the case after the end (HTTP status)');
      eq('OFFICE_NOT_PERMITTED', after.data && after.data.error, 'the case after the end (reason)');
      log(`the pages would say: ${await germanFor(page, after.status, after.data)}`);
      eq([], (await pageFetch(page, 'GET', '/v1/cases')).data.cases, 'the cases Anna sees after the end (API)');
      //  The Leitung sees it ended
      await go(lea.page, '#/emergency', 'Notfallzugriffe auf Ihre Stellen');
      await see(byTestId(seen, 'emergency-state'), 'beendet');
      await Promise.all([anna.context.close(), bernd.context.close(), lea.context.close()]);
    });

    // ---- The county coordination office: the dashboard on the broker ------------------------
    await step('County: the dashboard shows the towns, the referral flow and the balances', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
      const page = await context.newPage();
      const url = env('BR_DASHBOARD_URL');
      //  It renders anew every few seconds: wait until it has seen the ledger record
      await waitFor('the dashboard shows the Transferbörse balance', async () => {
        await page.goto(url);
        return (await page.locator('body').innerText()).includes('+4');
      });
      await see(page.locator('h1'), 'Kreis-Dashboard');
      const text = await page.locator('body').innerText();
      ok(text.includes('luenen') && text.includes('unna') && text.includes('kamen'), 'the towns are listed');
      ok(text.includes('< 5'), 'the single Lünen → Unna referral shows as a suppressed cell');
      ok(!text.includes(MOTHER) && !text.includes(OFFER_TITLE), 'no names, no offers: counts only');
      eq(2, await page.locator('svg').count(), 'two server-rendered plots');
      eq(0, await page.locator('script').count(), 'no JavaScript');
      await screenshot(page, 'dashboard');
      await context.close();
    });
  } finally {
    await browser.close();
  }
  const errors = uncaughtPageErrors();
  if (errors.length) throw new Error(`uncaught errors in the pages: ${errors.join('; ')}`);
}

try {
  await main();
  log(`PASS: ${summary()}`);
} catch (error) {
  log(`FAIL: ${error && error.message ? error.message : error} (${summary()})`);
  process.exitCode = 1;
}
