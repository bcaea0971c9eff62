// Administration: the audit log and its verification, notes on users and
// keys. Berichte (Leitung): counts of cases, consents, referrals and
// transfers from GET /v1/reports, never names.

import { get, post, p } from '../api.js';
import {
  h, replace, table, field, fmtDateTime, shortId, alertBox, showError, showText, setBusy, select,
} from '../dom.js';
import {
  AUDIT_ACTIONS, label, nodeName, SERVICES, CASE_STATES, CONSENT_STATUS, REFERRAL_STATES,
  TRANSFER_STATES, DIRECTIONS,
} from '../catalog.js';

const AUDIT_PAGE = 1000;

export async function auditPage(view, ctx) {
  const verifyBox = h('div', { class: 'verify', 'data-testid': 'audit-verify', role: 'status' }, 'Das Protokoll wird geprüft …');
  const verifyButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-verify-again' }, 'Erneut prüfen');
  const filterInput = h('input', { type: 'search', autocomplete: 'off', 'data-testid': 'audit-filter' });
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'audit-count' });
  const area = h('div', {}, h('p', { class: 'loading' }, 'Protokoll wird geladen …'));
  const moreButton = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'audit-more' }, 'Weitere Einträge laden');

  view.append(
    h('h1', {}, 'Administration'),
    accountsSection(),
    h('section', { 'aria-labelledby': 'verify-h' },
      h('h2', { id: 'verify-h' }, 'Prüfung des Protokolls'),
      h('p', {}, 'Jeder Zugriff auf Fälle, Einwilligungen, Überweisungen und Übergaben wird protokolliert. Die Einträge sind miteinander verkettet; die Prüfung zeigt, ob ein Eintrag verändert, gelöscht oder umsortiert wurde.'),
      verifyBox, h('p', { class: 'actions' }, verifyButton)),
    h('section', { 'aria-labelledby': 'audit-h' },
      h('h2', { id: 'audit-h' }, 'Protokoll'),
      h('form', { class: 'filter', role: 'search', on: { submit: (e) => e.preventDefault() } },
        field('Protokoll filtern', filterInput, 'Sucht in Benutzer, Aktion, Objekt und Zeit.')),
      count, area, h('p', { class: 'actions' }, moreButton)));

  const verify = async () => {
    verifyBox.className = 'verify';
    verifyBox.textContent = 'Das Protokoll wird geprüft …';
    try {
      const result = await get('/v1/audit/verify');
      verifyBox.dataset.intact = String(Boolean(result.intact));
      if (result.intact) {
        verifyBox.className = 'verify ok';
        verifyBox.textContent = `Das Protokoll ist unversehrt: ${result.records} Einträge geprüft.`;
      } else {
        verifyBox.className = 'verify warn';
        replace(verifyBox,
          h('p', {}, `Das Protokoll ist beschädigt, ab Eintrag ${result.first_bad}. Geprüft: ${result.records} Einträge. Bitte den Vorfall melden.`),
          result.problem ? h('p', { class: 'detail', lang: 'en' }, result.problem) : null);
      }
    } catch (error) {
      verifyBox.className = 'verify warn';
      verifyBox.textContent = '';
      ctx.fail(error);
    }
  };
  verifyButton.addEventListener('click', verify);

  const records = [];
  let after = 0;
  const text = (r) => [r.actor, r.action, label(AUDIT_ACTIONS, r.action), r.object, r.detail, fmtDateTime(r.at_ms)]
    .join(' ').toLowerCase();
  const render = () => {
    const words = filterInput.value.toLowerCase().split(/\s+/).filter((w) => w);
    const shown = records.filter((r) => words.every((w) => text(r).includes(w))).slice().reverse();
    count.textContent = words.length ? `${shown.length} von ${records.length} geladenen Einträgen, neueste zuerst`
      : `${records.length} Einträge geladen, neueste zuerst`;
    replace(area, table({
      testid: 'audit-table', rowTestid: 'audit-row', rows: shown, rowAttrs: (r) => ({ 'data-seq': String(r.seq) }),
      empty: records.length ? 'Kein Eintrag passt zum Filter.' : 'Das Protokoll ist leer.',
      columns: [
        ['Nr.', (r) => String(r.seq)],
        ['Zeit', (r) => fmtDateTime(r.at_ms)],
        ['Wer', (r) => nodeName(r.actor)],
        ['Aktion', (r) => label(AUDIT_ACTIONS, r.action)],
        ['Objekt', (r) => (r.object ? h('code', {}, shortId(r.object)) : '–')],
        ['Stand', (r) => label({ ...REFERRAL_STATES, ...TRANSFER_STATES }, r.detail) || '–'],
      ],
    }));
  };
  const load = async () => {
    moreButton.disabled = true;
    try {
      const page = await get('/v1/audit', { after });
      records.push(...(page.records || []));
      after = typeof page.next === 'number' ? page.next : after;
      moreButton.hidden = (page.records || []).length < AUDIT_PAGE;
      render();
    } catch (error) {
      replace(area);
      ctx.fail(error);
    } finally {
      moreButton.disabled = false;
    }
  };
  moreButton.addEventListener('click', load);
  filterInput.addEventListener('input', render);
  await Promise.all([verify(), load()]);
}

// ---- Users of the web interface and API tokens ---------------------------------------

const WEB_ROLES = { sachbearbeitung: 'Sachbearbeitung', leitung: 'Leitung', administration: 'Administration' };
const TOKEN_ROLES = {
  caseworker: 'Sachbearbeitung (Programm)', integration: 'Fachverfahren', readonly: 'Nur lesen',
};

// One list with its form: the web users ("users") or the API tokens
// ("tokens"), from /ui/admin/<kind>.
function accountList(kind) {
  const users = kind === 'users';
  const roles = users ? WEB_ROLES : TOKEN_ROLES;
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  const alert = alertBox(`admin-${kind}-alert`);
  const shown = h('p', { class: 'note', hidden: true, 'data-testid': 'admin-token-shown' });
  const name = h('input', { type: 'text', required: true, maxlength: '32', pattern: '[a-z0-9-]+', 'data-testid': `admin-${kind}-name` });
  const role = select({ required: true, 'data-testid': `admin-${kind}-role` }, Object.entries(roles));
  const password = users
    ? h('input', { type: 'password', required: true, minlength: '10', maxlength: '128', autocomplete: 'new-password', 'data-testid': 'admin-users-password' })
    : null;
  const load = async () => {
    try {
      const answer = await get(`/ui/admin/${kind}`);
      const rows = (answer[kind] || []).sort((a, b) => a.name.localeCompare(b.name));
      replace(area, table({
        testid: `admin-${kind}-table`,
        rowTestid: `admin-${kind}-row`,
        rowAttrs: (row) => ({ 'data-id': row.name }),
        columns: [
          ['Name', (row) => row.name],
          ['Rolle', (row) => roles[row.role] || row.role],
          ['', (row) => h('button', {
            type: 'button', class: 'secondary', 'data-testid': `admin-${kind}-remove`,
            on: { click: () => remove(row.name) },
          }, users ? 'Entfernen' : 'Sperren')],
        ],
        rows,
        empty: users ? 'Keine Benutzer.' : 'Keine Zugangsschlüssel.',
      }));
    } catch (error) {
      showError(alert, error);
    }
  };
  const remove = async (who) => {
    try {
      await post(p`/ui/admin/${kind}/${who}/remove`, {});
      showText(alert, users ? `Benutzer ${who} entfernt.` : `Zugangsschlüssel ${who} gesperrt.`);
      await load();
    } catch (error) {
      showError(alert, error);
    }
  };
  const form = h('form', {
    'data-testid': `admin-${kind}-form`,
    on: {
      submit: async (event) => {
        event.preventDefault();
        setBusy(form, true);
        shown.hidden = true;
        try {
          const body = { name: name.value.trim(), role: role.value };
          if (password) body.password = password.value;
          const answer = await post(`/ui/admin/${kind}`, body);
          if (answer.token) {
            shown.textContent = `Zugangsschlüssel (wird nur jetzt angezeigt): ${answer.token}`;
            shown.hidden = false;
          }
          showText(alert, users ? `Benutzer ${body.name} angelegt.` : `Zugangsschlüssel ${body.name} angelegt.`);
          name.value = '';
          if (password) password.value = '';
          await load();
        } catch (error) {
          showError(alert, error);
        } finally {
          setBusy(form, false);
        }
      },
    },
  },
  field('Name', name, 'Kleinbuchstaben, Ziffern und Bindestriche, höchstens 32 Zeichen.'),
  field('Rolle', role),
  password ? field('Passwort', password, 'Mindestens 10 Zeichen. Geben Sie es der Person auf sicherem Weg weiter.') : null,
  h('p', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': `admin-${kind}-add` },
    users ? 'Benutzer anlegen' : 'Zugangsschlüssel anlegen')));
  load();
  return h('div', {}, alert, area, shown, form);
}

function accountsSection() {
  return h('section', { 'aria-labelledby': 'users-h' },
    h('h2', { id: 'users-h' }, 'Benutzer und Schlüssel'),
    h('p', { 'data-testid': 'admin-users-note' },
      'Benutzer der Oberfläche (Sachbearbeitung, Leitung, Administration). Nach fünf falschen Passwörtern ist ein Name 15 Minuten gesperrt.'),
    accountList('users'),
    h('h3', {}, 'Zugangsschlüssel für Programme'),
    h('p', {}, 'Fachverfahren und Werkzeuge greifen mit einem Zugangsschlüssel auf die Schnittstelle zu. Die Schlüssel der Stelle selbst werden mit ',
      h('code', {}, 'bruecke keygen'), ' erzeugt und beim Kreis eingetragen.'),
    accountList('tokens'));
}

// One report table: rows of "value" or "value value" keys with their counts,
// the values turned into German labels by `labels` (one map per value).
function countTable(caption, testid, counts, headers, labels) {
  const rows = Object.entries(counts || {}).map(([key, count]) => ({ parts: key.split(' '), count }));
  rows.sort((a, b) => b.count - a.count);
  const columns = headers.map((header, index) => [header, (row) => label(labels[index], row.parts[index])]);
  columns.push(['Anzahl', (row) => String(row.count)]);
  return table({ caption, columns, rows, testid, rowTestid: `${testid}-row`, empty: 'Keine.' });
}

export async function reportsPage(view) {
  const area = h('div', {}, h('p', { class: 'loading' }, 'Berichte werden geladen …'));
  view.append(
    h('h1', {}, 'Berichte'),
    h('p', { 'data-testid': 'reports-note' },
      'Anzahlen aus dem Bestand dieser Stadt, ohne Namen und ohne Inhalte. Jeder Abruf steht im Protokoll.'),
    area);
  const report = await get('/v1/reports');
  replace(area,
    h('p', { class: 'count', 'data-testid': 'reports-at' }, `Stand: ${fmtDateTime(report.at_ms)}`),
    countTable('Fälle nach Dienst und Stand', 'reports-cases', report.cases,
      ['Dienst', 'Stand'], [SERVICES, CASE_STATES]),
    countTable('Einwilligungen nach Stand', 'reports-consents', report.consents,
      ['Stand'], [CONSENT_STATUS]),
    countTable('Überweisungen nach Richtung und Stand', 'reports-referrals', report.referrals,
      ['Richtung', 'Stand'], [DIRECTIONS, REFERRAL_STATES]),
    countTable('Fallübergaben nach Richtung und Stand', 'reports-transfers', report.transfers,
      ['Richtung', 'Stand'], [DIRECTIONS, TRANSFER_STATES]));
}
