// Administration: the emergency access (Notfallzugriff, in emergency.js),
// the audit log and its verification, notes on users and keys. Berichte (Leitung): counts of cases, consents, referrals and
// transfers from GET /v1/reports, never names.

import { get, post, p, nodeOffices } from '../api.js';
import {
  h, replace, table, field, fmtDateTime, shortId, alertBox, showError, showText, setBusy, select,
  choiceGroup, checkedValues,
} from '../dom.js';
import {
  AUDIT_ACTIONS, label, nodeName, SERVICES, CASE_STATES, CONSENT_STATUS, REFERRAL_STATES,
  TRANSFER_STATES, DIRECTIONS, CASE_FIELDS, CLOSE_REASONS, options, officesText,
} from '../catalog.js';
import { adminSection as emergencySection } from './emergency.js';

const AUDIT_PAGE = 1000;

export async function auditPage(view, ctx) {
  const verifyBox = h('div', { class: 'verify', 'data-testid': 'audit-verify', role: 'status' }, 'Das Protokoll wird geprüft …');
  const verifyButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'audit-verify-again' }, 'Erneut prüfen');
  const filterInput = h('input', { type: 'search', autocomplete: 'off', 'data-testid': 'audit-filter' });
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'audit-count' });
  const area = h('div', {}, h('p', { class: 'loading' }, 'Protokoll wird geladen …'));
  const moreButton = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'audit-more' }, 'Weitere Einträge laden');

  const accounts = h('section', { 'aria-labelledby': 'users-h' },
    h('h2', { id: 'users-h' }, 'Benutzer und Schlüssel'),
    h('p', { class: 'loading' }, 'Benutzer werden geladen …'));
  const emergency = emergencySection(ctx);
  view.append(
    h('h1', {}, 'Administration'),
    emergency.element,
    accounts,
    h('section', { 'aria-labelledby': 'verify-h' },
      h('h2', { id: 'verify-h' }, 'Prüfung des Protokolls'),
      h('p', {}, 'Jeder Zugriff auf Fälle, Einwilligungen, Überweisungen und Übergaben wird protokolliert. Die Einträge sind miteinander verkettet; die Prüfung zeigt, ob ein Eintrag verändert, gelöscht oder umsortiert wurde, und ob eine Fallakte aus einer älteren Kopie zurückgespielt wurde.'),
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
      verifyBox.dataset.recordsIntact = String(result.records_intact !== false);
      const records = result.records_intact === false
        ? h('p', {}, 'Die Fallakten sind nicht mehr so, wie bruecke sie zuletzt gespeichert hat: Ein Datensatz wurde aus einer älteren Kopie zurückgespielt, entfernt oder außerhalb von bruecke hinzugefügt. Bitte den Vorfall der IT und der oder dem Datenschutzbeauftragten melden.')
        : h('p', {}, 'Die Fallakten sind so, wie bruecke sie zuletzt gespeichert hat.');
      if (result.intact && result.records_intact !== false) {
        verifyBox.className = 'verify ok';
        replace(verifyBox, h('p', {}, `Das Protokoll ist unversehrt: ${result.records} Einträge geprüft.`),
          records);
      } else if (result.intact) {
        verifyBox.className = 'verify warn';
        replace(verifyBox, h('p', {}, `Das Protokoll ist unversehrt: ${result.records} Einträge geprüft.`),
          records);
      } else {
        verifyBox.className = 'verify warn';
        replace(verifyBox,
          h('p', {}, `Das Protokoll ist beschädigt, ab Eintrag ${result.first_bad}. Geprüft: ${result.records} Einträge. Bitte den Vorfall melden.`),
          result.problem ? h('p', { class: 'detail', lang: 'en' }, result.problem) : null, records);
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
  const text = (r) => [r.actor, r.action, label(AUDIT_ACTIONS, r.action), r.object, r.detail,
    auditDetail(r), fmtDateTime(r.at_ms)]
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
        ['Stand', (r) => auditDetail(r)],
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
  await Promise.all([emergency.loaded, accountsSection(accounts, ctx), verify(), load()]);
}

// The audit record's detail in German: a state, what of a case changed, why
// it was closed, the office of an emergency access, and whether it was read
// under one ("break-glass <id> …").
function auditDetail(record) {
  const words = (record.detail || '').split(' ');
  if (words[0] === 'break-glass') {
    let next = 1;
    while (next < words.length && /^[0-9a-f]{32}$/.test(words[next])) next += 1;
    const rest = auditDetail({ ...record, detail: words.slice(next).join(' ') });
    return rest === '–' ? 'im Notfallzugriff' : `im Notfallzugriff · ${rest}`;
  }
  if (record.action.startsWith('emergency.')) {
    return record.detail ? `Stelle: ${label(SERVICES, record.detail)}` : '–';
  }
  if (record.action === 'cases.search') return 'Suchbegriff nicht im Klartext gespeichert';
  if (record.action === 'case.update') {
    const fields = (record.detail || '').split(' ').filter((f) => f);
    return fields.length ? `Geändert: ${fields.map((f) => label(CASE_FIELDS, f)).join(', ')}` : '–';
  }
  if (record.action === 'case.close') return label(CLOSE_REASONS, record.detail);
  return label({ ...REFERRAL_STATES, ...TRANSFER_STATES }, record.detail) || '–';
}

// ---- Users of the web interface and API tokens ---------------------------------------

const WEB_ROLES = { sachbearbeitung: 'Sachbearbeitung', leitung: 'Leitung', administration: 'Administration' };
const TOKEN_ROLES = {
  caseworker: 'Sachbearbeitung (Programm)', integration: 'Fachverfahren', readonly: 'Nur lesen',
};

// The offices an account of `role` must have: none for the administration,
// exactly one for the town's case software (Fachverfahren). Returns the
// German sentence for what is wrong, or '' if the choice fits.
function officeProblem(kind, role, offices, adding) {
  if (role === 'integration' && offices.length !== 1) {
    return 'Ein Fachverfahren arbeitet für genau eine Stelle. Bitte genau eine Stelle wählen.';
  }
  if (role === 'administration' && offices.length) {
    return 'Die Administration arbeitet für keine Stelle. Bitte keine Stelle wählen.';
  }
  if (adding && kind === 'users' && role !== 'administration' && !offices.length) {
    return 'Bitte mindestens eine Stelle wählen. Ohne Stelle sieht die Person keine Fälle.';
  }
  return '';
}

// The checkboxes of the node's offices (`hosted`), `checked` ticked.
function officeChoices({ hosted, checked, name, testid, legend, hint }) {
  if (!hosted.length) {
    return h('fieldset', { class: 'choices', 'data-testid': testid },
      h('legend', {}, legend),
      h('p', { class: 'note' }, 'Für diesen Standort sind im Verzeichnis des Kreises keine Stellen eingetragen.'));
  }
  return choiceGroup({ legend, name, testid, hint, options: options(SERVICES, hosted), checked });
}

// One list with its form: the web users ("users") or the API tokens
// ("tokens"), from /ui/admin/<kind>. `hosted`: the offices of this node.
function accountList(kind, hosted) {
  const users = kind === 'users';
  const roles = users ? WEB_ROLES : TOKEN_ROLES;
  const whose = (account) => (users ? `von ${account}` : `des Zugangsschlüssels ${account}`);
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  const alert = alertBox(`admin-${kind}-alert`);
  const editor = h('div', {});
  const shown = h('p', { class: 'note', hidden: true, 'data-testid': 'admin-token-shown' });
  const name = h('input', { type: 'text', required: true, maxlength: '32', pattern: '[a-z0-9\\-]+', 'data-testid': `admin-${kind}-name` });
  const role = select({ required: true, 'data-testid': `admin-${kind}-role` }, Object.entries(roles));
  const password = users
    ? h('input', { type: 'password', required: true, minlength: '10', maxlength: '128', autocomplete: 'new-password', 'data-testid': 'admin-users-password' })
    : null;
  const officeName = `${kind}-office`;
  const offices = officeChoices({
    hosted,
    checked: hosted.length === 1 ? hosted : [],
    name: officeName,
    testid: `admin-${kind}-office`,
    legend: users ? 'Stellen, für die die Person arbeitet' : 'Stellen, für die das Programm arbeitet',
    hint: users ? 'Die Person sieht und bearbeitet nur die Fälle dieser Stellen.'
      : 'Ein Fachverfahren arbeitet für genau eine Stelle.',
  });
  // The administration sees no cases and acts for no office
  const noOffice = h('p', { class: 'note', hidden: true, 'data-testid': `admin-${kind}-no-office` },
    'Die Administration arbeitet für keine Stelle und sieht keine Fälle.');
  const switchRole = () => {
    const admin = role.value === 'administration';
    offices.hidden = admin;
    offices.disabled = admin;
    noOffice.hidden = !admin;
  };
  role.addEventListener('change', switchRole);
  switchRole();

  const editButton = (account) => area.querySelector(
    `[data-id="${CSS.escape(account)}"] [data-testid="admin-${kind}-offices-edit"]`);
  const closeEditor = (account) => {
    replace(editor);
    const button = account ? editButton(account) : null;
    if (button) button.focus();
  };
  // "Stellen ändern": the row's offices as checkboxes, saved for the row.
  const openEditor = (row) => {
    const editAlert = alertBox(`admin-${kind}-offices-alert`);
    const editName = `${kind}-offices-edit`;
    const group = officeChoices({
      hosted: [...new Set([...hosted, ...(row.offices || [])])],
      checked: row.offices || [],
      name: editName,
      testid: `admin-${kind}-offices`,
      legend: `Stellen von ${row.name} (${roles[row.role] || row.role})`,
      hint: row.role === 'integration' ? 'Ein Fachverfahren arbeitet für genau eine Stelle.'
        : 'Die Änderung gilt ab der nächsten Anfrage, ohne neue Anmeldung.',
    });
    const form = h('form', { class: 'stack card', 'data-testid': `admin-${kind}-offices-form` },
      editAlert,
      group,
      h('div', { class: 'actions' },
        h('button', { type: 'submit', 'data-testid': `admin-${kind}-offices-save` }, 'Stellen speichern'),
        h('button', {
          type: 'button', class: 'secondary', 'data-testid': `admin-${kind}-offices-cancel`,
          on: { click: () => closeEditor(row.name) },
        }, 'Abbrechen')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = checkedValues(group, editName);
      const problem = officeProblem(kind, row.role, chosen, false);
      if (problem) {
        showText(editAlert, problem);
        return;
      }
      setBusy(form, true);
      try {
        await post(p`/ui/admin/${kind}/${row.name}/offices`, { offices: chosen });
        showText(alert, `Die Stellen ${whose(row.name)} wurden geändert: ${chosen.length ? officesText(chosen) : 'keine'}. Das gilt ab der nächsten Anfrage.`);
        replace(editor);
        await load();
        const button = editButton(row.name);
        if (button) button.focus();
      } catch (error) {
        showError(editAlert, error);
        setBusy(form, false);
      }
    });
    replace(editor, form);
    const first = form.querySelector('input');
    if (first) first.focus();
  };

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
          ['Stellen', (row) => h('span', { 'data-testid': `admin-${kind}-offices-text` },
            (row.offices || []).length ? officesText(row.offices) : 'keine')],
          ['Aktionen', (row) => h('div', { class: 'row-actions' },
            row.role === 'administration' ? null : h('button', {
              type: 'button', class: 'secondary', 'data-testid': `admin-${kind}-offices-edit`,
              'aria-label': `Stellen von ${row.name} ändern`,
              on: { click: () => openEditor(row) },
            }, 'Stellen ändern'),
            ' ',
            h('button', {
              type: 'button', class: 'secondary', 'data-testid': `admin-${kind}-remove`,
              'aria-label': users ? `Benutzer ${row.name} entfernen` : `Zugangsschlüssel ${row.name} sperren`,
              on: { click: () => remove(row.name) },
            }, users ? 'Entfernen' : 'Sperren'))],
        ],
        rows,
        empty: users ? 'Keine Benutzer.' : 'Keine Zugangsschlüssel.',
      }));
    } catch (error) {
      replace(area);
      showError(alert, error);
    }
  };
  const remove = async (account) => {
    try {
      await post(p`/ui/admin/${kind}/${account}/remove`, {});
      showText(alert, users ? `Benutzer ${account} entfernt.` : `Zugangsschlüssel ${account} gesperrt.`);
      replace(editor);
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
        const body = { name: name.value.trim(), role: role.value };
        body.offices = role.value === 'administration' ? [] : checkedValues(offices, officeName);
        const problem = officeProblem(kind, body.role, body.offices, true);
        if (problem) {
          showText(alert, problem);
          const first = offices.querySelector('input');
          if (first) first.focus();
          return;
        }
        if (password) body.password = password.value;
        setBusy(form, true);
        shown.hidden = true;
        try {
          const answer = await post(`/ui/admin/${kind}`, body);
          if (answer.token) {
            shown.textContent = `Zugangsschlüssel (wird nur jetzt angezeigt): ${answer.token}`;
            shown.hidden = false;
          }
          showText(alert, users ? `Benutzer ${body.name} angelegt.` : `Zugangsschlüssel ${body.name} angelegt.`);
          name.value = '';
          if (password) password.value = '';
          for (const box of offices.querySelectorAll('input[type="checkbox"]')) box.checked = hosted.length === 1;
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
  offices,
  noOffice,
  password ? field('Passwort', password, 'Mindestens 10 Zeichen. Geben Sie es der Person auf sicherem Weg weiter.') : null,
  h('p', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': `admin-${kind}-add` },
    users ? 'Benutzer anlegen' : 'Zugangsschlüssel anlegen')));
  const loaded = load();
  return { element: h('div', {}, alert, area, editor, shown, form), loaded };
}

// The users and tokens, once the node's offices are known.
async function accountsSection(section, ctx) {
  let hosted = [];
  try {
    hosted = await nodeOffices();
  } catch (error) {
    ctx.fail(error);
  }
  const userList = accountList('users', hosted);
  const tokenList = accountList('tokens', hosted);
  replace(section,
    h('h2', { id: 'users-h' }, 'Benutzer und Schlüssel'),
    h('p', { 'data-testid': 'admin-users-note' },
      'Benutzer der Oberfläche (Sachbearbeitung, Leitung, Administration). Nach fünf falschen Passwörtern ist ein Name 15 Minuten gesperrt.'),
    h('p', {}, `Stellen dieses Standorts laut Verzeichnis des Kreises: ${hosted.length ? officesText(hosted) : 'keine'}. Sachbearbeitung und Leitung sehen und bearbeiten nur die Fälle, Einwilligungen und Überweisungen der Stellen, für die sie arbeiten.`),
    userList.element,
    h('h3', {}, 'Zugangsschlüssel für Programme'),
    h('p', {}, 'Fachverfahren und Werkzeuge greifen mit einem Zugangsschlüssel auf die Schnittstelle zu. Die Schlüssel der Stelle selbst werden mit ',
      h('code', {}, 'bruecke keygen'), ' erzeugt und beim Kreis eingetragen.'),
    tokenList.element);
  await Promise.all([userList.loaded, tokenList.loaded]);
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
