// Administration: the audit log and its verification, notes on users and
// keys. Berichte (Leitung): counts of cases, consents, referrals and
// transfers from GET /v1/reports, never names.

import { get } from '../api.js';
import { h, replace, table, field, fmtDateTime, shortId } from '../dom.js';
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
    h('section', { 'aria-labelledby': 'users-h' },
      h('h2', { id: 'users-h' }, 'Benutzer und Schlüssel'),
      h('p', { 'data-testid': 'admin-users-note' }, 'Benutzer werden mit ', h('code', {}, "bruecke web-user add"),
        ' angelegt (Rollen: Sachbearbeitung, Leitung, Administration).'),
      h('p', {}, 'Schlüssel der Stelle werden mit ', h('code', {}, 'bruecke keygen'),
        ' erzeugt und beim Kreis eingetragen; Zugangsschlüssel für Fachverfahren mit ', h('code', {}, 'bruecke api-token add'), '.')),
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
        ['Stand', (r) => r.detail || '–'],
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
