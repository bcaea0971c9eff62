// Fälle: the list with its filter, a case with members, needs, notes, details,
// Lotse, consents and referrals, and the form that opens a case. What is done
// with a case on its page (Vermerke, Bearbeiten, Verlauf, Abschließen) is in
// casework.js.

import { get, post, p, nodeOffices } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, table, dl, badge, link,
  fmtDateTime, shortId, lines, oneLine, mapLimit, jsonView, berlinMidnight, fmtDate,
} from '../dom.js';
import {
  CASE_KINDS, CASE_STATES, SERVICES, CATEGORIES, DETAIL_CATEGORIES, REFERRAL_STATES,
  CONSENT_STATUS, PURPOSES, label, options, nodeName, peerText, officesText,
} from '../catalog.js';
import { consentsOfCase, consentIsUsable } from './consents.js';
import { memberEditor, removeRow } from './members.js';
import {
  EXTERNAL_REF_MAX, EXTERNAL_REF_HINT, FOLLOW_UP_HINT, followUpView, closedNotice, journalSection,
  editSection, historySection, closeSection,
} from './casework.js';

// ---- List --------------------------------------------------------------------------

// Longest name the node searches for, in bytes (BN_NAME_MAX).
const NAME_MAX_BYTES = 100;

export async function listPage(view, ctx) {
  const filterInput = h('input', {
    type: 'search', 'data-testid': 'case-filter', autocomplete: 'off',
  });
  // The search by a person's name asks the node (GET /v1/cases?name=): the
  // list itself holds no names. The name stays out of the address bar.
  const nameInput = h('input', {
    type: 'search', name: 'name', maxlength: String(NAME_MAX_BYTES), autocomplete: 'off',
    spellcheck: 'false', 'data-testid': 'cases-name-search',
  });
  const nameSubmit = h('button', { type: 'submit', 'data-testid': 'cases-name-submit' }, 'Nach Namen suchen');
  // Shown only while a name search is in effect (added and removed, since
  // the stylesheet's display for buttons would override `hidden`).
  const nameReset = h('button', { type: 'button', class: 'secondary', 'data-testid': 'cases-name-reset' },
    'Alle Fälle zeigen');
  const nameAlert = alertBox('cases-name-alert');
  const nameForm = h('form', { class: 'filter inline', role: 'search', 'data-testid': 'cases-name-form' },
    field('Person suchen', nameInput,
      'Die Liste zeigt keine Namen. Die Suche findet Fälle mit einer Person, deren Name den Text enthält (Groß- und Kleinschreibung egal, außer bei Umlauten). Sie wird ohne den Namen protokolliert.'),
    nameSubmit);
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'case-count' });
  const listArea = h('div', { 'data-testid': 'case-list' }, h('p', { class: 'loading' }, 'Fälle werden geladen …'));
  const offices = ctx.readOnly ? ctx.emergencyOffices : ctx.session.offices || [];
  let officesNote = offices.length
    ? `Sie sehen die Fälle der Stellen, für die Sie arbeiten: ${officesText(offices)}.`
    : 'Sie sind keiner Stelle zugeordnet und sehen deshalb keine Fälle. Bitte wenden Sie sich an die Administration.';
  if (ctx.readOnly) {
    officesNote = `Notfallzugriff: Sie sehen die Fälle von ${officesText(offices)}, nur zum Lesen. Jeder Aufruf wird protokolliert, und die Leitung der Stelle sieht ihn.`;
  }
  view.append(
    h('h1', {}, ctx.readOnly ? 'Fälle (Notfallzugriff)' : 'Fälle'),
    h('p', { class: ctx.readOnly ? 'note read-only' : 'hint', 'data-testid': 'case-offices' }, officesNote),
    ctx.readOnly ? null
      : h('p', { class: 'actions' }, link('#/cases/new', 'Neuen Fall anlegen', { class: 'button', 'data-testid': 'case-new' })),
    nameForm,
    nameAlert,
    h('form', { class: 'filter', role: 'search', on: { submit: (e) => e.preventDefault() } },
      field('Fälle filtern', filterInput, 'Sucht in Fallnummer, Art, Dienst, Stand, Aktenzeichen und Datum.')),
    count,
    listArea);

  let all = null; // every case, once loaded
  let found = null; // the cases of the name search, or null
  let searched = ''; // the name searched for
  let searchSeq = 0; // the latest search; older answers are dropped

  const text = (c) => [c.id, label(CASE_KINDS, c.kind), label(SERVICES, c.service),
    label(CASE_STATES, c.state), fmtDateTime(c.created_at_ms), c.external_ref || '',
    typeof c.follow_up_ms === 'number' ? fmtDate(c.follow_up_ms) : ''].join(' ').toLowerCase();
  const render = () => {
    const now = Date.now();
    const base = found || all;
    const words = filterInput.value.toLowerCase().split(/\s+/).filter((w) => w);
    const shown = base.filter((c) => words.every((w) => text(c).includes(w)));
    if (found) {
      const matching = `mit einer Person, deren Name „${searched}“ enthält`;
      count.textContent = words.length
        ? `${shown.length} von ${found.length} Fällen ${matching}`
        : `${found.length} ${found.length === 1 ? 'Fall' : 'Fälle'} ${matching}`;
    } else {
      count.textContent = words.length ? `${shown.length} von ${all.length} Fällen` : `${all.length} Fälle`;
    }
    let empty = all.length ? 'Kein Fall passt zum Filter.' : 'Noch keine Fälle.';
    if (found && !found.length) empty = 'Kein Fall mit einer Person dieses Namens.';
    replace(listArea, table({
      caption: found ? 'Fälle mit einer passenden Person' : ctx.readOnly ? 'Fälle im Notfallzugriff' : 'Fälle Ihrer Stellen',
      testid: 'case-table',
      rowTestid: 'case-row',
      rowAttrs: (c) => ({ 'data-id': c.id }),
      empty,
      rows: shown,
      columns: [
        ['Fall', (c) => link(`#/cases/${c.id}`, `Fall ${shortId(c.id)}`, { 'data-testid': 'case-open' })],
        ['Art', (c) => label(CASE_KINDS, c.kind)],
        ['Dienst', (c) => label(SERVICES, c.service)],
        ['Stand', (c) => label(CASE_STATES, c.state)],
        ['Aktenzeichen', (c) => c.external_ref || '–'],
        ['Wiedervorlage', (c) => (c.state === 'open' ? followUpView(c.follow_up_ms, now) : '–')],
        ['Angelegt', (c) => fmtDateTime(c.created_at_ms)],
      ],
    }));
  };
  const showAll = () => {
    searchSeq += 1;
    found = null;
    searched = '';
    nameReset.remove();
    showText(nameAlert, '');
    if (all) render();
  };

  nameForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = oneLine(nameInput.value);
    if (!name) {
      showAll();
      return;
    }
    if (new TextEncoder().encode(name).length > NAME_MAX_BYTES) {
      showText(nameAlert, `Der Name ist zu lang: höchstens ${NAME_MAX_BYTES} Zeichen (Umlaute zählen doppelt).`);
      return;
    }
    const seq = ++searchSeq;
    showText(nameAlert, '');
    setBusy(nameForm, true);
    try {
      const answer = await get('/v1/cases', { name });
      if (seq !== searchSeq) return;
      found = answer.cases || [];
      searched = name;
      nameForm.append(nameReset);
      if (all) render();
    } catch (error) {
      if (seq === searchSeq) showError(nameAlert, error);
    } finally {
      setBusy(nameForm, false);
    }
  });
  nameReset.addEventListener('click', () => {
    nameInput.value = '';
    showAll();
    nameInput.focus();
  });

  try {
    all = (await get('/v1/cases')).cases || [];
  } catch (error) {
    replace(listArea);
    ctx.fail(error);
    return;
  }
  filterInput.addEventListener('input', render);
  render();
}

// ---- One case ----------------------------------------------------------------------

export async function detailPage(view, ctx) {
  const { id } = ctx.params;
  const heading = h('h1', {}, `Fall ${shortId(id)}`);
  const body = h('div', {}, h('p', { class: 'loading' }, 'Fall wird geladen …'));
  view.append(h('p', { class: 'back' }, link('#/cases', 'Zurück zu den Fällen')), heading, body);
  let kase;
  try {
    kase = await get(p`/v1/cases/${id}`);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  if (kase.state === 'transferred') {
    replace(body,
      h('p', {}, 'Dieser Fall wurde an eine andere Stelle übergeben. Die personenbezogenen Daten sind hier nicht mehr gespeichert.'),
      dl([
        ['Fallnummer', h('code', {}, kase.id)],
        ['Dienst', label(SERVICES, kase.service)],
        ['Stand', label(CASE_STATES, kase.state)],
        ['Übergeben an', nodeName(kase.transferred_to)],
        ['Übergeben am', fmtDateTime(kase.transferred_at_ms)],
        ['Übergabe', link(`#/transfers/${kase.transfer_id}`, `Übergabe ${shortId(kase.transfer_id)}`)],
      ], { 'data-testid': 'case-facts' }));
    return;
  }
  // The administration under an emergency access only reads
  const open = kase.state === 'open' && !ctx.readOnly;
  const closed = kase.state === 'closed';
  const lotseBox = h('dd', { 'data-testid': 'case-lotse' }, kase.lotse || '–');
  const consentArea = h('div', { 'data-testid': 'case-consents' }, h('p', { class: 'loading' }, 'Einwilligungen werden geladen …'));
  const referralArea = h('div', { 'data-testid': 'case-referrals' }, h('p', { class: 'loading' }, 'Überweisungen werden geladen …'));
  const sectionAlert = alertBox('case-sections-alert');

  let stateNote;
  if (ctx.readOnly) {
    stateNote = [
      closed ? closedNotice(kase, ctx, { readOnly: true }) : null,
      h('p', { class: 'note read-only', 'data-testid': 'case-read-only' },
        'Notfallzugriff: Sie können diesen Fall nur lesen. Der Aufruf wird protokolliert, und die Leitung der Stelle sieht ihn.'),
    ];
  } else if (open) {
    stateNote = h('p', { class: 'actions' },
      link(`#/cases/${id}/consents/new`, 'Einwilligung erfassen', { class: 'button', 'data-testid': 'case-consent-new' }),
      link(`#/cases/${id}/referrals/new`, 'Überweisung anlegen', { class: 'button', 'data-testid': 'case-referral-new' }),
      link(`#/cases/${id}/transfer`, 'Fall übergeben', { class: 'button secondary', 'data-testid': 'case-transfer' }));
  } else if (closed) {
    stateNote = closedNotice(kase, ctx);
  } else {
    stateNote = h('p', { class: 'note' }, 'Dieser Fall wird gerade an eine andere Stelle übergeben; er kann so lange nicht bearbeitet werden.');
  }

  replace(body,
    h('dl', { class: 'facts', 'data-testid': 'case-facts' },
      h('dt', {}, 'Fallnummer'), h('dd', {}, h('code', {}, kase.id)),
      h('dt', {}, 'Art'), h('dd', {}, label(CASE_KINDS, kase.kind)),
      h('dt', {}, 'Dienst'), h('dd', {}, label(SERVICES, kase.service)),
      h('dt', {}, 'Stand'), h('dd', { 'data-testid': 'case-state' }, label(CASE_STATES, kase.state)),
      h('dt', {}, 'Angelegt'), h('dd', {}, fmtDateTime(kase.created_at_ms)),
      kase.updated_at_ms ? [h('dt', {}, 'Zuletzt geändert'), h('dd', {}, fmtDateTime(kase.updated_at_ms))] : null,
      h('dt', {}, 'Zuständige Sachbearbeitung'), h('dd', { 'data-testid': 'case-caseworker-name' }, kase.caseworker || '–'),
      h('dt', {}, 'Lotse'), lotseBox,
      h('dt', {}, 'Wiedervorlage'), h('dd', { 'data-testid': 'case-follow-up' },
        kase.state === 'open' ? followUpView(kase.follow_up_ms) : fmtDate(kase.follow_up_ms)),
      h('dt', {}, 'Aktenzeichen der Fachanwendung'), h('dd', { 'data-testid': 'case-external-ref' }, kase.external_ref || '–'),
      kase.transferred_from ? [h('dt', {}, 'Übernommen von'), h('dd', {}, nodeName(kase.transferred_from.node),
        kase.transfer_id ? [' (', link(`#/transfers/${kase.transfer_id}`, `Übergabe ${shortId(kase.transfer_id)}`), ')'] : null)] : null),
    stateNote,

    h('section', { 'aria-labelledby': 'members-h' },
      h('h2', { id: 'members-h' }, 'Personen'),
      table({
        testid: 'case-members', rowTestid: 'case-member-row', rows: kase.members || [],
        columns: [['Name', (m) => m.name], ['Rolle', (m) => m.role], ['Alter', (m) => `${m.age} Jahre`],
          ['Sorgerecht für', (m) => ((m.custody_for || []).length ? m.custody_for.join(', ') : '–')]],
      })),
    h('section', { 'aria-labelledby': 'needs-h' },
      h('h2', { id: 'needs-h' }, 'Bedarfe'),
      listOf(kase.needs, 'case-needs', 'Keine Bedarfe erfasst.')),
    h('section', { 'aria-labelledby': 'notes-h' },
      h('h2', { id: 'notes-h' }, 'Notizen'),
      listOf(kase.notes, 'case-notes', 'Keine Notizen erfasst.')),
    h('section', { 'aria-labelledby': 'details-h' },
      h('h2', { id: 'details-h' }, 'Angaben nach Datenkategorie'),
      detailsView(kase.details)),
    journalSection(kase, ctx, open),
    open ? editSection(kase, ctx) : null,
    h('section', { 'aria-labelledby': 'consents-h' },
      h('h2', { id: 'consents-h' }, 'Einwilligungen'), sectionAlert, consentArea),
    h('section', { 'aria-labelledby': 'referrals-h' },
      h('h2', { id: 'referrals-h' }, 'Überweisungen'), referralArea),
    historySection(kase),
    open ? closeSection(kase, ctx) : null);

  const [consentResult, referralResult] = await Promise.allSettled([
    consentsOfCase(id),
    referralsOfCase(id),
  ]);
  if (consentResult.status === 'fulfilled') {
    const list = consentResult.value;
    replace(consentArea, table({
      testid: 'consent-table', rowTestid: 'consent-row', rows: list,
      rowAttrs: (c) => ({ 'data-id': c.id }),
      empty: 'Für diesen Fall ist keine Einwilligung erfasst.',
      columns: [
        ['Einwilligung', (c) => link(`#/consents/${c.id}`, `${label(PURPOSES, c.purpose)} (${shortId(c.id)})`, { 'data-testid': 'consent-open' })],
        ['Erteilt von', (c) => c.grantor],
        ['Gültig', (c) => `${fmtDateTime(c.valid_from_ms)} bis ${fmtDateTime(c.valid_until_ms)}`],
        ['Stand', (c) => consentStatusBadge(c)],
      ],
    }));
  } else {
    replace(consentArea);
    showError(sectionAlert, consentResult.reason);
  }
  if (referralResult.status === 'fulfilled') {
    const list = referralResult.value;
    const lotsen = [...new Set(list.map((r) => r.lotse).filter((l) => l))];
    if (lotsen.length) {
      replace(lotseBox, kase.lotse || '–', h('br'),
        h('span', { class: 'hint' }, `Von den aufnehmenden Stellen benannt: ${lotsen.join(', ')}`));
    }
    replace(referralArea, table({
      testid: 'case-referral-table', rowTestid: 'case-referral-row', rows: list,
      rowAttrs: (r) => ({ 'data-id': r.id }),
      empty: 'Für diesen Fall gibt es keine Überweisungen.',
      columns: [
        ['Überweisung', (r) => link(`#/referrals/${r.id}`, `${label(PURPOSES, r.purpose)} (${shortId(r.id)})`, { 'data-testid': 'referral-open' })],
        ['An', (r) => peerText(r.peer)],
        ['Stand', (r) => label(REFERRAL_STATES, r.state)],
        ['Lotse', (r) => r.lotse || '–'],
        ['Zuletzt geändert', (r) => fmtDateTime(r.updated_at_ms || r.created_at_ms)],
      ],
    }));
  } else {
    replace(referralArea);
    showError(sectionAlert, referralResult.reason);
  }
}

export function consentStatusBadge(consent) {
  const usable = consentIsUsable(consent);
  const text = label(CONSENT_STATUS, consent.status);
  return badge(text, usable ? 'ok' : 'warn');
}

function listOf(items, testid, empty) {
  if (!items || !items.length) return h('p', { class: 'empty' }, empty);
  return h('ul', { 'data-testid': testid }, items.map((t) => h('li', {}, t)));
}

function detailsView(details) {
  const entries = Object.entries(details || {});
  if (!entries.length) return h('p', { class: 'empty' }, 'Keine weiteren Angaben erfasst.');
  return h('dl', { class: 'facts', 'data-testid': 'case-details' },
    entries.map(([category, value]) => [h('dt', {}, label(CATEGORIES, category)), h('dd', {}, jsonView(value))]));
}

// The outgoing referrals of a case, each read in full (for its Lotse).
async function referralsOfCase(caseId) {
  const all = (await get('/v1/referrals')).referrals || [];
  const mine = all.filter((r) => r.direction === 'outgoing' && r.case_id === caseId);
  return mapLimit(mine, 4, (r) => get(p`/v1/referrals/${r.id}`));
}

// ---- New case ------------------------------------------------------------------------

// The offices the user may open a case for: those it acts for (asked afresh,
// since the administration may have changed them) that this node hosts, in
// the node's order. Without the node's list, the user's own; the node
// refuses a service it does not host.
async function caseOffices(ctx) {
  const [answer, hosted] = await Promise.all([
    get('/ui/session').catch(() => null),
    nodeOffices().catch(() => null),
  ]);
  const mine = answer && Array.isArray(answer.offices) ? answer.offices : ctx.session.offices || [];
  return hosted ? hosted.filter((code) => mine.includes(code)) : mine;
}

export async function newPage(view, ctx) {
  const body = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(
    h('p', { class: 'back' }, link('#/cases', 'Zurück zu den Fällen')),
    h('h1', {}, 'Neuen Fall anlegen'),
    body);
  const offices = await caseOffices(ctx);
  if (!offices.length) {
    replace(body, h('p', { class: 'note', 'data-testid': 'case-no-office' },
      'Sie sind keiner Stelle dieses Standorts zugeordnet und können deshalb keinen Fall anlegen. Bitte wenden Sie sich an die Administration.'));
    return;
  }
  const errorBox = alertBox('case-form-alert');
  const members = memberEditor();
  const detailRows = h('div', { class: 'rows', 'data-testid': 'case-details-rows' });

  const kindSelect = select({ name: 'kind', required: true, 'data-testid': 'case-kind' }, options(CASE_KINDS), { value: 'family' });
  const serviceSelect = select({ name: 'service', required: true, 'data-testid': 'case-service' },
    options(SERVICES, offices),
    offices.length === 1 ? { value: offices[0] } : { placeholder: 'Bitte wählen' });
  const needs = h('textarea', { name: 'needs', rows: '3', 'data-testid': 'case-needs-input' });
  const notes = h('textarea', { name: 'notes', rows: '3', 'data-testid': 'case-notes-input' });
  const caseworker = h('input', { type: 'text', name: 'caseworker', maxlength: '100', 'data-testid': 'case-caseworker' });
  const lotse = h('input', { type: 'text', name: 'lotse', maxlength: '100', 'data-testid': 'case-lotse-input' });
  const externalRef = h('input', {
    type: 'text', name: 'external_ref', maxlength: String(EXTERNAL_REF_MAX), autocomplete: 'off',
    spellcheck: 'false', 'data-testid': 'case-external-ref-input',
  });
  const followUp = h('input', { type: 'date', name: 'follow_up', 'data-testid': 'case-follow-up-input' });

  const addDetail = (focus) => {
    const n = detailRows.children.length + 1;
    const category = select({ required: true, 'data-testid': 'detail-category' },
      options(CATEGORIES, DETAIL_CATEGORIES), { placeholder: 'Bitte wählen' });
    const key = h('input', { type: 'text', required: true, maxlength: '100', 'data-testid': 'detail-key' });
    const value = h('input', { type: 'text', required: true, maxlength: '4000', 'data-testid': 'detail-value' });
    const row = h('fieldset', { class: 'row', 'data-testid': 'detail-row' },
      h('legend', {}, `Angabe ${n}`),
      field('Datenkategorie', category),
      field('Stichwort', key, 'Zum Beispiel „Kind“ oder „Mutter“.'),
      field('Angabe', value),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'detail-remove',
        on: { click: () => { removeRow(detailRows, row, 'Angabe'); } } }, `Angabe ${n} entfernen`));
    detailRows.appendChild(row);
    if (focus) category.focus();
  };

  const form = h('form', { class: 'stack', 'data-testid': 'case-form' },
    errorBox,
    field('Art des Falls', kindSelect),
    field('Dienst, der den Fall führt', serviceSelect,
      offices.length === 1 ? 'Sie arbeiten nur für diese Stelle.' : 'Nur die Stellen, für die Sie arbeiten.'),
    members.persons,
    members.custody,
    field('Bedarfe', needs, 'Ein Bedarf je Zeile, zum Beispiel „Kita-Platz“.'),
    field('Notizen', notes, 'Eine Notiz je Zeile.'),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Weitere Angaben nach Datenkategorie'),
      h('p', { class: 'hint' }, 'Nur was für die Hilfe nötig ist. Jede Angabe gehört zu einer Datenkategorie; nur mit Einwilligung in diese Kategorie wird sie weitergegeben.'),
      detailRows,
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'detail-add', on: { click: () => addDetail(true) } },
        'Angabe hinzufügen')),
    field('Zuständige Sachbearbeitung', caseworker),
    field('Lotse', lotse, 'Die Person, die die Familie begleitet und den Überblick behält (optional).'),
    field('Aktenzeichen der Fachanwendung', externalRef, EXTERNAL_REF_HINT),
    field('Wiedervorlage', followUp, FOLLOW_UP_HINT),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'case-submit' }, 'Fall anlegen'),
      link('#/cases', 'Abbrechen', { class: 'button secondary' })));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const collected = members.collect();
    if (collected.error) {
      showText(errorBox, collected.error);
      errorBox.scrollIntoView({ block: 'nearest' });
      return;
    }
    const details = {};
    for (const row of detailRows.querySelectorAll('[data-testid="detail-row"]')) {
      const category = row.querySelector('[data-testid="detail-category"]').value;
      const key = oneLine(row.querySelector('[data-testid="detail-key"]').value);
      const value = oneLine(row.querySelector('[data-testid="detail-value"]').value);
      details[category] = details[category] || {};
      details[category][key] = value;
    }
    const body = { kind: kindSelect.value, service: serviceSelect.value, members: collected.members };
    const needList = lines(needs.value);
    const noteList = lines(notes.value);
    if (needList.length) body.needs = needList;
    if (noteList.length) body.notes = noteList;
    if (Object.keys(details).length) body.details = details;
    if (oneLine(caseworker.value)) body.caseworker = oneLine(caseworker.value);
    if (oneLine(lotse.value)) body.lotse = oneLine(lotse.value);
    if (oneLine(externalRef.value)) body.external_ref = oneLine(externalRef.value);
    if (followUp.value) body.follow_up_ms = berlinMidnight(followUp.value);
    setBusy(form, true);
    try {
      const created = await post('/v1/cases', body);
      location.hash = `#/cases/${created.id}`;
    } catch (error) {
      showError(errorBox, error);
      errorBox.scrollIntoView({ block: 'nearest' });
    } finally {
      setBusy(form, false);
    }
  });

  replace(body,
    h('p', { class: 'hint' }, 'Alle Angaben bleiben in dieser Stelle. Weitergegeben wird nur mit Einwilligung der Familie oder gesetzlicher Grundlage.'),
    form);
}
