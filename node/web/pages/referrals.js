// Überweisungen: the referral form (only what a valid consent allows, or a
// statute), the Posteingang (incoming and outgoing referrals), one referral
// with its status changes, and the Verlauf (every referral's history).

import { get, post, p, reasonText } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, choiceGroup, checkedValues,
  table, dl, link, badge, fmtDateTime, shortId, oneLine, mapLimit, jsonView,
} from '../dom.js';
import {
  SERVICES, CATEGORIES, PURPOSES, STATUTES, REFERRAL_STATES, REFERRAL_FINAL, DIRECTIONS,
  DECLINE_REASONS, PLACES, label, options, addressText, peerText, nodeName,
} from '../catalog.js';
import { consentsOfCase, consentIsUsable, usableRecipients } from './consents.js';

// ---- New referral -------------------------------------------------------------------------

export async function newPage(view, ctx) {
  const caseId = ctx.params.id;
  const wanted = ctx.query.get('consent') || '';
  const body = h('div', {}, h('p', { class: 'loading' }, 'Fall und Einwilligungen werden geladen …'));
  view.append(
    h('p', { class: 'back' }, link(`#/cases/${caseId}`, 'Zurück zum Fall')),
    h('h1', {}, 'Überweisung anlegen'),
    body);
  let kase;
  let consents;
  try {
    [kase, consents] = await Promise.all([get(p`/v1/cases/${caseId}`), consentsOfCase(caseId)]);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  if (kase.state !== 'open') {
    replace(body, h('p', { class: 'note' }, 'Dieser Fall wird nicht mehr hier geführt; er kann nicht überwiesen werden.'));
    return;
  }
  const usable = consents.filter((c) => consentIsUsable(c));
  const errorBox = alertBox('referral-form-alert');

  // The legal basis: a consent of this case, or a statute.
  const basis = choiceGroup({
    legend: 'Rechtsgrundlage', name: 'basis', type: 'radio', testid: 'referral-basis',
    options: [['consent', 'Einwilligung der Familie'], ['statute', 'Gesetzliche Grundlage ohne Einwilligung']],
    checked: ['consent'],
  });

  // -- consent part
  const consentSelect = select({ 'data-testid': 'referral-consent' },
    usable.map((c) => [c.id, `${label(PURPOSES, c.purpose)} – erteilt von ${c.grantor} – gültig bis ${fmtDateTime(c.valid_until_ms)} (${shortId(c.id)})`]),
    { value: usable.some((c) => c.id === wanted) ? wanted : undefined, placeholder: usable.length ? 'Bitte wählen' : 'Keine gültige Einwilligung' });
  const consentPurpose = h('p', { class: 'readonly', 'data-testid': 'referral-consent-purpose' });
  const consentChoices = h('div', {});
  const consentPart = h('fieldset', { class: 'group', 'data-testid': 'referral-consent-part' },
    h('legend', {}, 'Einwilligung'),
    usable.length ? null : h('p', { class: 'note', 'data-testid': 'referral-no-consent' },
      'Für diesen Fall liegt keine gültige Einwilligung vor (nicht abgelaufen, nicht widerrufen). ',
      link(`#/cases/${caseId}/consents/new`, 'Einwilligung erfassen')),
    field('Einwilligung auswählen', consentSelect, 'Empfänger und Datenkategorien richten sich nach der gewählten Einwilligung.'),
    consentPurpose,
    consentChoices);
  const showConsent = () => {
    const consent = usable.find((c) => c.id === consentSelect.value);
    if (!consent) {
      consentPurpose.textContent = '';
      replace(consentChoices);
      return;
    }
    consentPurpose.textContent = `Zweck: ${label(PURPOSES, consent.purpose)} (aus der Einwilligung)`;
    const recipients = usableRecipients(consent);
    const categories = consent.categories.filter((c) => c !== 'health' || consent.health_data);
    replace(consentChoices,
      choiceGroup({
        legend: 'Empfänger', name: 'consent-recipient', type: 'radio', required: true, testid: 'referral-recipient',
        options: recipients.map((r) => [`${r.ags}|${r.service}`, recipientText(r)]),
        checked: recipients.length === 1 ? [`${recipients[0].ags}|${recipients[0].service}`] : [],
        hint: 'Nur Stellen, die die Einwilligung nennt und für die sie nicht widerrufen ist.',
      }),
      choiceGroup({
        legend: 'Daten, die mitgehen', name: 'consent-categories', testid: 'referral-categories', options: options(CATEGORIES, categories),
        hint: 'Nur Kategorien, die die Einwilligung deckt. Bitte nur wählen, was die Empfängerstelle braucht.',
      }));
  };
  consentSelect.addEventListener('change', showConsent);

  // -- statute part
  const statutes = STATUTES.filter((s) => s.referral);
  const statuteSelect = select({ 'data-testid': 'referral-statute' }, statutes.map((s) => [s.code, s.label]),
    { value: statutes[0].code });
  const statutePurpose = h('p', { class: 'readonly', 'data-testid': 'referral-statute-purpose' });
  const showStatute = () => {
    const statute = statutes.find((s) => s.code === statuteSelect.value);
    statutePurpose.textContent = statute ? `Zweck: ${label(PURPOSES, statute.purpose)} (aus der gesetzlichen Grundlage)` : '';
  };
  statuteSelect.addEventListener('change', showStatute);
  showStatute();
  const statuteAgs = h('input', {
    type: 'text', pattern: '[0-9]{8}', maxlength: '8', inputmode: 'numeric', list: 'referral-ags-list', title: '8 Ziffern',
    'data-testid': 'referral-statute-ags',
  });
  const statuteService = select({ 'data-testid': 'referral-statute-service' }, options(SERVICES), { placeholder: 'Bitte wählen' });
  const statuteCategories = choiceGroup({
    legend: 'Daten, die mitgehen', name: 'statute-categories', testid: 'referral-statute-categories', options: options(CATEGORIES),
    hint: 'Nur was für den Schutz des Kindes erforderlich ist.',
  });
  const statutePart = h('fieldset', { class: 'group', 'data-testid': 'referral-statute-part' },
    h('legend', {}, 'Gesetzliche Grundlage'),
    h('p', { class: 'note' }, 'Ohne Einwilligung nur bei gewichtigen Anhaltspunkten für eine Gefährdung des Kindeswohls (§ 8a SGB VIII). Die Familie ist einzubeziehen, soweit der Schutz des Kindes dadurch nicht in Frage gestellt wird.'),
    field('Vorschrift', statuteSelect),
    statutePurpose,
    h('datalist', { id: 'referral-ags-list' }, PLACES.filter((pl) => pl.ags).map((pl) => h('option', { value: pl.ags }, pl.name))),
    field('Gemeinde der Empfängerstelle (AGS, 8 Ziffern)', statuteAgs),
    field('Dienst der Empfängerstelle', statuteService),
    statuteCategories);

  // The referring office is the case's own: a case refers only from the
  // office that keeps it.
  const ownService = h('p', { class: 'readonly', 'data-testid': 'referral-service' },
    `Überweisende Stelle: ${label(SERVICES, kase.service)} (die Stelle, die den Fall führt)`);
  const note = h('textarea', { rows: '3', maxlength: '4000', 'data-testid': 'referral-note' });

  const switchBasis = () => {
    const mode = checkedValues(basis, 'basis')[0] || 'consent';
    consentPart.hidden = mode !== 'consent';
    consentPart.disabled = mode !== 'consent';
    statutePart.hidden = mode !== 'statute';
    statutePart.disabled = mode !== 'statute';
  };
  basis.addEventListener('change', switchBasis);
  switchBasis();
  showConsent();

  const form = h('form', { class: 'stack', 'data-testid': 'referral-form' },
    errorBox,
    basis,
    consentPart,
    statutePart,
    ownService,
    field('Nachricht an die Empfängerstelle', note, 'Optional. Bitte keine Angaben, die nicht zu den gewählten Datenkategorien gehören.'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'referral-submit' }, 'Überweisung senden'),
      link(`#/cases/${caseId}`, 'Abbrechen', { class: 'button secondary' })));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const mode = checkedValues(basis, 'basis')[0];
    const request = { case_id: caseId, service: kase.service };
    let recipientValue;
    if (mode === 'consent') {
      const consent = usable.find((c) => c.id === consentSelect.value);
      if (!consent) {
        showText(errorBox, 'Bitte eine gültige Einwilligung wählen.');
        consentSelect.focus();
        return;
      }
      recipientValue = checkedValues(consentChoices, 'consent-recipient')[0];
      request.consent_id = consent.id;
      request.purpose = consent.purpose;
      request.categories = checkedValues(consentChoices, 'consent-categories');
    } else if (mode === 'statute') {
      const statute = statutes.find((s) => s.code === statuteSelect.value);
      if (!statute) {
        showText(errorBox, 'Bitte eine Vorschrift wählen.');
        return;
      }
      if (!/^[0-9]{8}$/.test(statuteAgs.value.trim()) || !statuteService.value) {
        showText(errorBox, 'Bitte die Empfängerstelle angeben: Gemeindeschlüssel (8 Ziffern) und Dienst.');
        statuteAgs.focus();
        return;
      }
      recipientValue = `${statuteAgs.value.trim()}|${statuteService.value}`;
      request.statute = statute.code;
      request.purpose = statute.purpose;
      request.categories = checkedValues(statuteCategories, 'statute-categories');
    } else {
      showText(errorBox, 'Bitte die Rechtsgrundlage wählen.');
      return;
    }
    if (!recipientValue) {
      showText(errorBox, 'Bitte einen Empfänger wählen.');
      return;
    }
    if (!request.categories.length) {
      showText(errorBox, 'Bitte mindestens eine Datenkategorie wählen.');
      return;
    }
    const [ags, service] = recipientValue.split('|');
    request.recipient = { ags, service };
    const text = oneLine(note.value);
    if (text) request.note = text;
    setBusy(form, true);
    try {
      const referral = await post('/v1/referrals', request);
      ctx.go(`#/referrals/${referral.id}`, 'Die Überweisung wurde gesendet.');
    } catch (error) {
      showError(errorBox, error);
      errorBox.scrollIntoView({ block: 'nearest' });
    } finally {
      setBusy(form, false);
    }
  });

  replace(body, h('p', {}, `Fall ${shortId(caseId)}: Die Familie wird an eine Stelle in einer anderen Gemeinde oder einem anderen Dienst vermittelt. Es gehen nur die gewählten Datenkategorien mit.`), form);
}

// "Gesundheitsamt, Unna (AGS 05978036) – Stelle: Kreis Unna": the node only
// where it is not the town itself.
function recipientText(r) {
  const place = PLACES.find((pl) => pl.ags && pl.ags === r.ags);
  const node = nodeName(r.node);
  return place && place.name === node ? addressText(r) : `${addressText(r)} – Stelle: ${node}`;
}

// ---- Posteingang ----------------------------------------------------------------------------

const byNewest = (a, b) => (b.created_at_ms || 0) - (a.created_at_ms || 0);

function stateBadge(state) {
  const kind = state === 'requested' || state === 'received' ? 'new'
    : REFERRAL_FINAL.has(state) ? 'final' : 'ok';
  return badge(label(REFERRAL_STATES, state), kind);
}

export async function inboxPage(view, ctx) {
  const incomingArea = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  const outgoingArea = h('div', {});
  const summary = h('p', { role: 'status', 'data-testid': 'inbox-summary' });
  view.append(
    h('h1', {}, 'Posteingang'),
    summary,
    h('section', { 'aria-labelledby': 'incoming-h' }, h('h2', { id: 'incoming-h' }, 'Eingegangene Überweisungen'), incomingArea),
    h('section', { 'aria-labelledby': 'outgoing-h' }, h('h2', { id: 'outgoing-h' }, 'Gesendete Überweisungen'), outgoingArea));
  let all;
  try {
    all = (await get('/v1/referrals')).referrals || [];
  } catch (error) {
    replace(incomingArea);
    ctx.fail(error);
    return;
  }
  const incoming = all.filter((r) => r.direction === 'incoming').sort(byNewest);
  const outgoing = all.filter((r) => r.direction === 'outgoing').sort(byNewest);
  const fresh = incoming.filter((r) => r.state === 'requested' || r.state === 'received').length;
  summary.textContent = fresh === 1 ? '1 neue Überweisung wartet auf Antwort.'
    : `${fresh} neue Überweisungen warten auf Antwort.`;
  replace(incomingArea, table({
    testid: 'inbox-table', rowTestid: 'inbox-row', rows: incoming, rowAttrs: (r) => ({ 'data-id': r.id }),
    empty: 'Keine eingegangenen Überweisungen.',
    columns: [
      ['Eingegangen', (r) => link(`#/referrals/${r.id}`, fmtDateTime(r.created_at_ms), { 'data-testid': 'referral-open' })],
      ['Von', (r) => peerText(r.peer)],
      ['An (eigener Dienst)', (r) => label(SERVICES, r.service)],
      ['Zweck', (r) => label(PURPOSES, r.purpose)],
      ['Stand', (r) => stateBadge(r.state)],
      ['Zuletzt geändert', (r) => fmtDateTime(r.updated_at_ms || r.created_at_ms)],
    ],
  }));
  replace(outgoingArea, table({
    testid: 'outbox-table', rowTestid: 'outbox-row', rows: outgoing, rowAttrs: (r) => ({ 'data-id': r.id }),
    empty: 'Keine gesendeten Überweisungen.',
    columns: [
      ['Gesendet', (r) => link(`#/referrals/${r.id}`, fmtDateTime(r.created_at_ms), { 'data-testid': 'referral-open' })],
      ['Fall', (r) => (r.case_id ? link(`#/cases/${r.case_id}`, `Fall ${shortId(r.case_id)}`) : '–')],
      ['An', (r) => peerText(r.peer)],
      ['Zweck', (r) => label(PURPOSES, r.purpose)],
      ['Stand', (r) => stateBadge(r.state)],
      ['Zuletzt geändert', (r) => fmtDateTime(r.updated_at_ms || r.created_at_ms)],
    ],
  }));
}

// ---- One referral --------------------------------------------------------------------------

export function historyList(history, testid = 'referral-history') {
  if (!history || !history.length) return h('p', { class: 'empty' }, 'Noch keine Einträge.');
  return h('ol', { class: 'timeline', 'data-testid': testid },
    history.map((entry) => h('li', { 'data-testid': 'history-entry', 'data-state': entry.state },
      h('span', { class: 'when' }, fmtDateTime(entry.at_ms)), ' ',
      h('strong', {}, label(REFERRAL_STATES, entry.state)),
      entry.by ? ` – ${nodeName(entry.by)}` : '',
      entry.reason && entry.reason !== 'OK' ? h('span', { class: 'reason' }, ` (Grund: ${reasonLabel(entry.reason)})`) : null,
      entry.text ? h('q', {}, entry.text) : null)));
}

function reasonLabel(code) {
  return DECLINE_REASONS[code] || (code === 'CONSENT_WITHDRAWN' ? 'Einwilligung widerrufen' : reasonText(code));
}

export async function detailPage(view, ctx) {
  const { id } = ctx.params;
  const body = h('div', {}, h('p', { class: 'loading' }, 'Überweisung wird geladen …'));
  // The administration (emergency access) has no Posteingang: back to the case
  const back = h('p', { class: 'back' }, ctx.readOnly ? null : link('#/inbox', 'Zurück zum Posteingang'));
  view.append(back, h('h1', {}, `Überweisung ${shortId(id)}`), body);
  let r;
  try {
    r = await get(p`/v1/referrals/${id}`);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  const incoming = r.direction === 'incoming';
  const expired = typeof r.valid_until_ms === 'number' && r.valid_until_ms <= Date.now();
  if (ctx.readOnly) replace(back, link(r.case_id ? `#/cases/${r.case_id}` : '#/cases', r.case_id ? 'Zurück zum Fall' : 'Zurück zu den Fällen'));
  replace(body,
    dl([
      ['Richtung', label(DIRECTIONS, r.direction)],
      ['Stand', h('span', { 'data-testid': 'referral-state' }, stateBadge(r.state))],
      incoming ? ['Von', peerText(r.peer)] : ['An', r.peer && r.peer.ags ? `${addressText(r.peer)} – ${nodeName(r.peer.node)}` : peerText(r.peer)],
      [incoming ? 'An (eigener Dienst)' : 'Von (eigener Dienst)', label(SERVICES, r.service)],
      r.case_id ? ['Fall', link(`#/cases/${r.case_id}`, `Fall ${shortId(r.case_id)}`)] : null,
      ['Zweck', label(PURPOSES, r.purpose)],
      ['Rechtsgrundlage', r.consent_id
        ? (incoming ? `Einwilligung ${shortId(r.consent_id)}` : link(`#/consents/${r.consent_id}`, `Einwilligung ${shortId(r.consent_id)}`))
        : r.statute || '–'],
      ['Datenkategorien', (r.categories || []).map((c) => label(CATEGORIES, c)).join(', ')],
      ['Lotse', h('span', { 'data-testid': 'referral-lotse' }, r.lotse || '–')],
      r.outcome ? ['Ergebnis', h('span', { 'data-testid': 'referral-outcome-text' }, r.outcome)] : null,
      ['Nachricht', r.note || '–'],
      ['Angelegt', fmtDateTime(r.created_at_ms)],
      ['Rechtsgrundlage gilt bis', fmtDateTime(r.valid_until_ms)],
    ], { 'data-testid': 'referral-facts' }),
    r.processing_stopped ? h('p', { class: 'note warn', 'data-testid': 'referral-stopped' },
      'Die Einwilligung wurde widerrufen. Die Bearbeitung ist gestoppt; die Überweisung kann nicht mehr geändert werden.') : null,
    incoming && r.sections ? h('section', { 'aria-labelledby': 'sections-h' },
      h('h2', { id: 'sections-h' }, 'Übermittelte Angaben'),
      h('div', { 'data-testid': 'referral-sections' }, Object.entries(r.sections).map(([category, value]) =>
        h('div', { class: 'section-data' }, h('h3', {}, label(CATEGORIES, category)), jsonView(value))))) : null,
    ctx.readOnly ? null : actionsFor(r, expired, ctx),
    h('section', { 'aria-labelledby': 'history-h' },
      h('h2', { id: 'history-h' }, 'Verlauf'),
      historyList(r.history)));
}

function actionsFor(r, expired, ctx) {
  if (REFERRAL_FINAL.has(r.state) || r.processing_stopped) return null;
  if (expired) {
    return h('p', { class: 'note warn', 'data-testid': 'referral-expired' },
      'Die Rechtsgrundlage dieser Überweisung ist abgelaufen. Der Stand kann nicht mehr geändert werden.');
  }
  const forms = [];
  if (r.direction === 'incoming') {
    if (r.state === 'requested' || r.state === 'received') {
      forms.push(statusForm(r, ctx, {
        testid: 'referral-accept', title: 'Annehmen', state: 'accepted', button: 'Überweisung annehmen',
        success: 'Die Überweisung wurde angenommen.',
        fields: [
          { key: 'lotse', label: 'Lotse', hint: 'Wer begleitet die Familie bei Ihnen?', required: true, max: 100 },
          { key: 'text', label: 'Nachricht an die überweisende Stelle', required: false },
        ],
      }));
      forms.push(statusForm(r, ctx, {
        testid: 'referral-decline', title: 'Ablehnen', state: 'declined', button: 'Überweisung ablehnen', danger: true,
        success: 'Die Überweisung wurde abgelehnt.',
        reason: true,
        fields: [{ key: 'text', label: 'Begründung', required: true }],
      }));
    } else {
      forms.push(statusForm(r, ctx, {
        testid: 'referral-progress', title: 'Zwischenstand melden', state: 'in_progress', button: 'Zwischenstand senden',
        success: 'Der Zwischenstand wurde gesendet.',
        fields: [
          { key: 'text', label: 'Zwischenstand', required: true },
          { key: 'lotse', label: 'Lotse (falls geändert)', required: false, max: 100 },
        ],
      }));
      forms.push(statusForm(r, ctx, {
        testid: 'referral-complete', title: 'Abschließen', state: 'completed', button: 'Abschließen',
        success: 'Die Überweisung wurde abgeschlossen.',
        fields: [{ key: 'text', label: 'Ergebnis', hint: 'Geht an die überweisende Stelle.', required: true }],
      }));
      forms.push(statusForm(r, ctx, {
        testid: 'referral-fail', title: 'Als gescheitert melden', state: 'failed', button: 'Als gescheitert melden', danger: true,
        success: 'Die Überweisung wurde als gescheitert gemeldet.',
        fields: [{ key: 'text', label: 'Begründung', required: true }],
      }));
    }
  } else {
    forms.push(statusForm(r, ctx, {
      testid: 'referral-cancel', title: 'Zurückziehen', state: 'cancelled', button: 'Überweisung zurückziehen', danger: true,
      success: 'Die Überweisung wurde zurückgezogen.',
      fields: [{ key: 'text', label: 'Begründung an die Empfängerstelle', required: false }],
    }));
  }
  return h('section', { 'aria-labelledby': 'actions-h' }, h('h2', { id: 'actions-h' }, 'Bearbeiten'), forms);
}

// One form that posts {state, ...fields} to /v1/referrals/{id}/status.
function statusForm(r, ctx, spec) {
  const errorBox = alertBox(`${spec.testid}-alert`);
  const inputs = spec.fields.map((f) => {
    const control = f.key === 'lotse'
      ? h('input', { type: 'text', maxlength: String(f.max || 100), required: f.required, 'data-testid': `${spec.testid}-${f.key}` })
      : h('textarea', { rows: '2', maxlength: '4000', required: f.required, 'data-testid': `${spec.testid}-${f.key}` });
    return { spec: f, control };
  });
  const reason = spec.reason
    ? select({ 'data-testid': `${spec.testid}-reason` }, options(DECLINE_REASONS), { placeholder: 'Ohne Angabe' })
    : null;
  const form = h('form', { class: 'stack card', 'data-testid': `${spec.testid}-form` },
    h('h3', {}, spec.title),
    errorBox,
    reason ? field('Grund', reason) : null,
    inputs.map(({ spec: f, control }) => field(f.label, control, f.hint)),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: spec.danger ? 'danger' : '', 'data-testid': spec.testid }, spec.button)));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { state: spec.state };
    for (const { spec: f, control } of inputs) {
      const value = oneLine(control.value);
      if (f.required && !value) {
        showText(errorBox, `Bitte „${f.label}“ ausfüllen.`);
        control.focus();
        return;
      }
      if (value) body[f.key] = value;
    }
    if (reason && reason.value) body.reason = reason.value;
    setBusy(form, true);
    try {
      await post(p`/v1/referrals/${r.id}/status`, body);
      ctx.reload(spec.success);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  return form;
}

// ---- Verlauf -----------------------------------------------------------------------------

export async function historyPage(view, ctx) {
  const direction = select({ 'data-testid': 'history-direction' },
    [['', 'Alle'], ['incoming', 'Eingegangene'], ['outgoing', 'Gesendete']], { value: '' });
  const area = h('div', { 'data-testid': 'history-list' }, h('p', { class: 'loading' }, 'Verlauf wird geladen …'));
  view.append(
    h('h1', {}, 'Verlauf'),
    h('p', {}, 'Jede Überweisung mit allen Schritten, neueste zuerst.'),
    h('form', { class: 'filter', on: { submit: (e) => e.preventDefault() } }, field('Überweisungen zeigen', direction)),
    area);
  let referrals;
  try {
    const list = ((await get('/v1/referrals')).referrals || []).sort(byNewest);
    referrals = await mapLimit(list, 4, (r) => get(p`/v1/referrals/${r.id}`));
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  const render = () => {
    const shown = referrals.filter((r) => !direction.value || r.direction === direction.value);
    if (!shown.length) {
      replace(area, h('p', { class: 'empty' }, 'Keine Überweisungen.'));
      return;
    }
    replace(area, shown.map((r) => {
      const headingId = `hist-${r.id}`;
      const who = r.direction === 'incoming' ? `von ${peerText(r.peer)}` : `an ${peerText(r.peer)}`;
      return h('article', { class: 'card', 'data-testid': 'history-referral', 'data-id': r.id, 'aria-labelledby': headingId },
        h('h2', { id: headingId }, link(`#/referrals/${r.id}`, `${label(PURPOSES, r.purpose)} ${who}`)),
        h('p', {}, label(DIRECTIONS, r.direction), ' · ', stateBadge(r.state), r.lotse ? ` · Lotse: ${r.lotse}` : ''),
        historyList(r.history));
    }));
  };
  direction.addEventListener('change', render);
  render();
}
