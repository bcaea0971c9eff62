// Einwilligung: record a consent for a case (with the SHA-256 of the scanned
// form, computed in the browser), show it, print it for signature, withdraw it.

import { get, post, p, cache } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, choiceGroup, checkedValues,
  table, dl, link, fmtDateTime, fmtDate, shortId, oneLine, mapLimit, berlinMidnight,
  isoDateBerlin, addDaysIso, badge,
} from '../dom.js';
import {
  CATEGORIES, CONSENT_PURPOSES, PURPOSES, SERVICES, CONSENT_FORMS, CONSENT_STATUS, PLACES,
  label, options, addressText, nodeName,
} from '../catalog.js';
import { caseFormPage } from './casepage.js';

// ---- Which consents belong to a case ------------------------------------------------

// GET /v1/consents?case_id= lists the case's consents without their content;
// each is then read whole (and the read is audited, as it should be).
export async function consentsOfCase(caseId) {
  const list = await get('/v1/consents', { case_id: caseId });
  const ids = (list.consents || []).map((consent) => consent.id).sort();
  return mapLimit(ids, 4, (id) => get(p`/v1/consents/${id}`));
}

// A consent a referral can rest on now: active, within its validity, and with
// at least one recipient not withdrawn.
export function consentIsUsable(consent, now = Date.now()) {
  return consent.status === 'active' && consent.valid_from_ms <= now && now < consent.valid_until_ms
    && (consent.recipients || []).some((r) => !r.withdrawn_at_ms);
}

export function usableRecipients(consent) {
  return (consent.recipients || []).filter((r) => !r.withdrawn_at_ms);
}

// ---- Recording a consent ----------------------------------------------------------------

function agsDatalist(id) {
  return h('datalist', { id }, PLACES.filter((pl) => pl.ags).map((pl) => h('option', { value: pl.ags }, pl.name)));
}

export async function newPage(view, ctx) {
  const opened = await caseFormPage(view, ctx, 'Einwilligung erfassen');
  if (!opened) return;
  const { kase, body } = opened;
  const caseId = ctx.params.id;
  if (kase.state !== 'open') {
    replace(body, h('p', { class: 'note' }, 'Für diesen Fall kann keine Einwilligung erfasst werden, weil er nicht mehr hier geführt wird.'));
    return;
  }
  const names = (kase.members || []).map((m) => m.name);
  const errorBox = alertBox('consent-form-alert');
  const grantor = h('input', { type: 'text', required: true, maxlength: '100', list: 'grantor-names', 'data-testid': 'consent-grantor' });
  const subjects = choiceGroup({
    legend: 'Betroffene Personen (um deren Daten es geht)', name: 'subjects', options: names.map((n) => [n, n]),
    checked: names, testid: 'consent-subjects',
  });
  const purpose = select({ required: true, 'data-testid': 'consent-purpose' }, options(PURPOSES, CONSENT_PURPOSES), { placeholder: 'Bitte wählen' });
  const categories = choiceGroup({
    legend: 'Datenkategorien, die weitergegeben werden dürfen', name: 'categories', options: options(CATEGORIES),
    testid: 'consent-categories', hint: 'Nur was für den Zweck nötig ist.',
  });
  const health = h('input', { type: 'checkbox', id: 'consent-health', 'data-testid': 'consent-health' });
  const recipientRows = h('div', { class: 'rows', 'data-testid': 'consent-recipients' });
  const today = isoDateBerlin(Date.now());
  const validFrom = h('input', { type: 'date', required: true, value: today, min: today, 'data-testid': 'consent-valid-from' });
  const validUntil = h('input', { type: 'date', required: true, value: addDaysIso(today, 365), 'data-testid': 'consent-valid-until' });
  const formKind = select({ required: true, 'data-testid': 'consent-form-kind' }, options(CONSENT_FORMS), { value: 'written' });
  const evidenceFile = h('input', { type: 'file', accept: 'application/pdf,image/*', 'data-testid': 'consent-evidence-file' });
  const evidenceHash = h('input', {
    type: 'text', required: true, pattern: '[0-9a-f]{64}', maxlength: '64', spellcheck: 'false', autocomplete: 'off',
    class: 'mono', title: '64 Zeichen 0–9 und a–f', 'data-testid': 'consent-evidence-sha256',
  });
  const evidenceStatus = h('p', { class: 'hint', role: 'status', 'data-testid': 'consent-evidence-status' });

  const addRecipient = (focus) => {
    const n = recipientRows.children.length + 1;
    const ags = h('input', {
      type: 'text', required: true, pattern: '[0-9]{8}', maxlength: '8', inputmode: 'numeric', list: 'ags-list',
      title: '8 Ziffern', 'data-testid': 'recipient-ags',
    });
    const service = select({ required: true, 'data-testid': 'recipient-service' }, options(SERVICES), { placeholder: 'Bitte wählen' });
    const row = h('fieldset', { class: 'row', 'data-testid': 'recipient-row' },
      h('legend', {}, `Empfänger ${n}`),
      field('Gemeinde (AGS, 8 Ziffern)', ags),
      field('Dienst', service),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'recipient-remove', on: { click: () => {
        row.remove();
        [...recipientRows.children].forEach((r, i) => { r.querySelector('legend').textContent = `Empfänger ${i + 1}`; });
        addButton.focus();
      } } }, 'Empfänger entfernen'));
    recipientRows.appendChild(row);
    if (focus) ags.focus();
  };
  const addButton = h('button', { type: 'button', class: 'secondary', 'data-testid': 'recipient-add', on: { click: () => addRecipient(true) } },
    'Weiteren Empfänger hinzufügen');
  addRecipient(false);

  evidenceFile.addEventListener('change', async () => {
    const file = evidenceFile.files && evidenceFile.files[0];
    if (!file) return;
    if (!(window.crypto && crypto.subtle)) {
      evidenceStatus.textContent = 'Dieser Browser kann die Prüfsumme hier nicht berechnen (keine sichere Verbindung). Bitte die Prüfsumme von Hand eintragen.';
      return;
    }
    evidenceStatus.textContent = 'Prüfsumme wird berechnet …';
    try {
      evidenceHash.value = await sha256Hex(file);
      evidenceStatus.textContent = `Prüfsumme von „${file.name}“ berechnet.`;
    } catch {
      evidenceStatus.textContent = 'Die Datei konnte nicht gelesen werden.';
    }
  });

  // What the form says now (for printing and for sending).
  const read = () => {
    const subjectList = checkedValues(subjects, 'subjects');
    const recipients = [...recipientRows.querySelectorAll('[data-testid="recipient-row"]')].map((row) => ({
      ags: row.querySelector('[data-testid="recipient-ags"]').value.trim(),
      service: row.querySelector('[data-testid="recipient-service"]').value,
    })).filter((r) => r.ags || r.service);
    return {
      case_id: caseId,
      grantor: oneLine(grantor.value),
      subjects: [...new Set(subjectList)],
      purpose: purpose.value,
      categories: checkedValues(categories, 'categories'),
      recipients,
      // From today means from now: a consent never holds before it is recorded
      valid_from_ms: validFrom.value ? Math.max(berlinMidnight(validFrom.value),
        validFrom.value === isoDateBerlin(Date.now()) ? Date.now() : 0) : 0,
      valid_until_ms: validUntil.value ? berlinMidnight(addDaysIso(validUntil.value, 1)) - 1 : 0,
      form: formKind.value,
      evidence_sha256: evidenceHash.value.trim().toLowerCase(),
      health_data: health.checked,
    };
  };

  const form = h('form', { class: 'stack', 'data-testid': 'consent-form' },
    errorBox,
    h('datalist', { id: 'grantor-names' }, names.map((n) => h('option', { value: n }))),
    agsDatalist('ags-list'),
    field('Einwilligende Person', grantor, 'Eine Person des Falls: volljährig, oder mit Sorgerecht für die betroffenen Kinder. Fehlt sie, bitte zuerst im Fall erfassen.'),
    subjects,
    field('Zweck', purpose),
    categories,
    h('div', { class: 'choice' }, health,
      h('label', { for: 'consent-health' }, 'Die Einwilligung umfasst ausdrücklich Gesundheitsdaten (Art. 9 DSGVO).')),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Empfänger (Stellen, an die Daten gehen dürfen)'),
      recipientRows, addButton),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Gültigkeit'),
      field('Gültig ab', validFrom),
      field('Gültig bis einschließlich', validUntil)),
    field('Form der Einwilligung', formKind),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Nachweis'),
      h('p', { class: 'hint' }, 'Die Datei wird nicht hochgeladen. Gespeichert wird nur ihre Prüfsumme (SHA-256); das unterschriebene Original gehört in die Fallakte.'),
      field('Unterschriebenes Formular (Scan)', evidenceFile),
      evidenceStatus,
      field('Prüfsumme des Nachweises (SHA-256)', evidenceHash, 'Wird aus der gewählten Datei berechnet.')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'consent-print',
        on: { click: () => printConsent(read()) } }, 'Formular drucken'),
      h('button', { type: 'submit', 'data-testid': 'consent-submit' }, 'Einwilligung speichern'),
      link(`#/cases/${caseId}`, 'Abbrechen', { class: 'button secondary' })));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = read();
    const problem = checkConsent(data, kase.members || [], validFrom.value);
    if (problem) {
      showText(errorBox, problem);
      errorBox.scrollIntoView({ block: 'nearest' });
      return;
    }
    // From today: the node takes the moment it records the consent
    if (validFrom.value === isoDateBerlin(Date.now())) delete data.valid_from_ms;
    setBusy(form, true);
    try {
      const consent = await post('/v1/consents', data);
      ctx.go(`#/consents/${consent.id}`, 'Die Einwilligung wurde gespeichert.');
    } catch (error) {
      showError(errorBox, error);
      errorBox.scrollIntoView({ block: 'nearest' });
    } finally {
      setBusy(form, false);
    }
  });

  replace(body,
    h('p', {}, `Fall ${shortId(caseId)}. Erfassen Sie, was die Familie unterschrieben hat. Mit „Formular drucken“ erhalten Sie das Formular zur Unterschrift.`),
    form);
}

// Age from which a person is of age; a minor's consent is given by a person
// with custody for it (the node checks the same: GRANTOR_NOT_ENTITLED).
const AGE_OF_MAJORITY = 18;

// What is wrong with the consent `data` for a case with `members`, in
// German, or ''. `fromDay` is the chosen first day (YYYY-MM-DD).
function checkConsent(data, members, fromDay) {
  if (!data.grantor) return 'Bitte die einwilligende Person angeben.';
  const grantor = members.find((m) => m.name === data.grantor);
  if (!grantor) {
    return `„${data.grantor}“ ist keine Person dieses Falls. Die einwilligende Person muss im Fall erfasst sein (bitte den Namen genau so schreiben).`;
  }
  if (!data.subjects.length) return 'Bitte mindestens eine betroffene Person angeben.';
  const custody = grantor.custody_for || [];
  if (grantor.age < AGE_OF_MAJORITY && !custody.length) {
    return `${grantor.name} ist minderjährig und kann nur als sorgeberechtigter Elternteil einwilligen.`;
  }
  const uncovered = data.subjects.filter((name) => {
    const member = members.find((m) => m.name === name);
    return member && member !== grantor && member.age < AGE_OF_MAJORITY && !custody.includes(name);
  });
  if (uncovered.length) {
    return `${grantor.name} ist im Fall nicht als sorgeberechtigt für ${uncovered.join(', ')} eingetragen. Bitte eine sorgeberechtigte Person einwilligen lassen oder das Kind als betroffene Person abwählen.`;
  }
  if (!data.purpose) return 'Bitte den Zweck wählen.';
  if (!data.categories.length) return 'Bitte mindestens eine Datenkategorie wählen.';
  if (data.categories.includes('health') && !data.health_data) {
    return 'Gesundheitsdaten dürfen nur mit ausdrücklicher Einwilligung in Gesundheitsdaten weitergegeben werden. Bitte das Kästchen dazu ankreuzen oder die Kategorie Gesundheit abwählen.';
  }
  if (!data.recipients.length) return 'Bitte mindestens einen Empfänger angeben.';
  for (const r of data.recipients) {
    if (!/^[0-9]{8}$/.test(r.ags)) return 'Der Gemeindeschlüssel (AGS) eines Empfängers hat nicht 8 Ziffern.';
    if (!r.service) return 'Bitte für jeden Empfänger den Dienst wählen.';
  }
  const keys = data.recipients.map((r) => `${r.ags}|${r.service}`);
  if (new Set(keys).size !== keys.length) return 'Ein Empfänger ist doppelt angegeben.';
  if (!data.valid_from_ms || !data.valid_until_ms) return 'Bitte die Gültigkeit angeben.';
  if (fromDay < isoDateBerlin(Date.now())) {
    return 'Die Einwilligung kann nicht rückwirkend gelten. Bitte als Beginn heute oder einen späteren Tag wählen.';
  }
  if (data.valid_until_ms <= data.valid_from_ms) return 'Das Ende der Gültigkeit muss nach ihrem Beginn liegen.';
  if (!/^[0-9a-f]{64}$/.test(data.evidence_sha256)) {
    return 'Bitte den unterschriebenen Nachweis wählen, damit seine Prüfsumme berechnet wird (64 Zeichen 0–9, a–f).';
  }
  return '';
}

async function sha256Hex(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// ---- Showing and withdrawing a consent ---------------------------------------------------

export async function detailPage(view, ctx) {
  const { id } = ctx.params;
  const body = h('div', {}, h('p', { class: 'loading' }, 'Einwilligung wird geladen …'));
  const back = h('p', { class: 'back' });
  view.append(back, h('h1', {}, `Einwilligung ${shortId(id)}`), body);
  let consent;
  try {
    consent = await get(p`/v1/consents/${id}`);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  back.appendChild(link(`#/cases/${consent.case_id}`, 'Zurück zum Fall'));
  const usable = consentIsUsable(consent);
  const open = usableRecipients(consent);

  replace(body,
    dl([
      ['Nummer', h('code', {}, consent.id)],
      ['Fall', link(`#/cases/${consent.case_id}`, `Fall ${shortId(consent.case_id)}`)],
      ['Stand', h('span', { 'data-testid': 'consent-status' }, badge(label(CONSENT_STATUS, consent.status), usable ? 'ok' : 'warn'))],
      ['Einwilligende Person', consent.grantor],
      ['Betroffene Personen', consent.subjects.join(', ')],
      ['Zweck', label(PURPOSES, consent.purpose)],
      ['Datenkategorien', h('ul', {}, consent.categories.map((c) => h('li', {}, label(CATEGORIES, c))))],
      ['Gesundheitsdaten', consent.health_data ? 'ausdrücklich umfasst' : 'nicht umfasst'],
      ['Gültig', `vom ${fmtDateTime(consent.valid_from_ms)} bis ${fmtDateTime(consent.valid_until_ms)}`],
      ['Form', label(CONSENT_FORMS, consent.form)],
      ['Prüfsumme des Nachweises', h('code', { class: 'mono wrap' }, consent.evidence_sha256)],
      ['Erfasst', fmtDateTime(consent.recorded_at_ms)],
      consent.withdrawn_at_ms ? ['Widerrufen', fmtDateTime(consent.withdrawn_at_ms)] : null,
    ], { 'data-testid': 'consent-facts' }),
    h('p', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'consent-print',
        on: { click: () => printConsent(consent) } }, 'Formular drucken'),
      usable && !ctx.readOnly ? link(`#/cases/${consent.case_id}/referrals/new?consent=${consent.id}`, 'Überweisung mit dieser Einwilligung',
        { class: 'button', 'data-testid': 'consent-referral-new' }) : null),
    h('section', { 'aria-labelledby': 'recipients-h' },
      h('h2', { id: 'recipients-h' }, 'Empfänger'),
      table({
        testid: 'consent-recipient-table', rowTestid: 'consent-recipient-row', rows: consent.recipients,
        columns: [
          ['Empfänger', (r) => addressText(r)],
          ['Stelle', (r) => nodeName(r.node)],
          ['Stand', (r) => (r.withdrawn_at_ms ? badge(`widerrufen am ${fmtDateTime(r.withdrawn_at_ms)}`, 'warn') : badge('erteilt', 'ok'))],
        ],
      })),
    open.length && !ctx.readOnly ? withdrawSection(consent, open, ctx) : null);
}

function withdrawSection(consent, open, ctx) {
  const errorBox = alertBox('consent-withdraw-alert');
  const recipients = choiceGroup({
    legend: 'Widerruf für diese Empfänger', name: 'withdraw-recipients', testid: 'consent-withdraw-recipients',
    options: open.map((r) => [`${r.ags}|${r.service}`, addressText(r)]),
  });
  const confirm = h('input', { type: 'checkbox', id: 'withdraw-confirm', 'data-testid': 'consent-withdraw-confirm' });
  const form = h('form', { class: 'stack', 'data-testid': 'consent-withdraw-form' },
    errorBox,
    h('p', {}, 'Ein Widerruf stoppt sofort alle laufenden Überweisungen auf Grundlage dieser Einwilligung an die betroffenen Empfänger; sie werden benachrichtigt. Der Widerruf kann nicht rückgängig gemacht werden.'),
    recipients,
    h('div', { class: 'choice' }, confirm,
      h('label', { for: 'withdraw-confirm' }, 'Der Widerruf der Familie liegt vor.')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', name: 'scope', value: 'selected', class: 'danger', 'data-testid': 'consent-withdraw-selected' },
        'Für ausgewählte Empfänger widerrufen'),
      h('button', { type: 'submit', name: 'scope', value: 'all', class: 'danger', 'data-testid': 'consent-withdraw-all' },
        'Für alle Empfänger widerrufen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const all = event.submitter && event.submitter.value === 'all';
    const chosen = checkedValues(recipients, 'withdraw-recipients');
    if (!confirm.checked) {
      showText(errorBox, 'Bitte bestätigen, dass der Widerruf der Familie vorliegt.');
      confirm.focus();
      return;
    }
    if (!all && !chosen.length) {
      showText(errorBox, 'Bitte mindestens einen Empfänger wählen oder „Für alle Empfänger widerrufen“.');
      return;
    }
    const body = all ? {} : {
      recipients: chosen.map((v) => {
        const [ags, service] = v.split('|');
        return { ags, service };
      }),
    };
    setBusy(form, true);
    try {
      await post(p`/v1/consents/${consent.id}/withdraw`, body);
      ctx.reload('Der Widerruf wurde gespeichert und an die Empfänger gesendet.');
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  return h('section', { 'aria-labelledby': 'withdraw-h' }, h('h2', { id: 'withdraw-h' }, 'Einwilligung widerrufen'), form);
}

// ---- Printing ----------------------------------------------------------------------------

// Fills the print area with the consent form and opens the print dialog.
// `data` is a recorded consent or what the form says so far; what is missing
// is printed as an empty line to fill in by hand.
export function printConsent(data) {
  const area = document.getElementById('print-area');
  const blank = (text) => (text ? text : h('span', { class: 'blank' }, ''));
  const status = cache.get('status');
  const town = status ? nodeName(status.node) : '';
  const until = data.valid_until_ms ? fmtDate(data.valid_until_ms) : '';
  replace(area, h('article', { class: 'consent-print' },
    h('p', { class: 'print-office' }, town ? `Stelle: ${town}` : ''),
    h('h1', {}, 'Einwilligung in die Übermittlung personenbezogener Daten'),
    h('p', {}, 'nach Art. 6 Abs. 1 lit. a und Art. 9 Abs. 2 lit. a DSGVO, § 67b SGB X'),
    h('dl', { class: 'print-facts' },
      h('dt', {}, 'Fallnummer'), h('dd', {}, data.case_id || blank()),
      h('dt', {}, 'Einwilligende Person'), h('dd', {}, blank(data.grantor)),
      h('dt', {}, 'Betroffene Personen'), h('dd', {}, data.subjects && data.subjects.length
        ? h('ul', {}, data.subjects.map((s) => h('li', {}, s))) : blank()),
      h('dt', {}, 'Zweck der Übermittlung'), h('dd', {}, data.purpose ? label(PURPOSES, data.purpose) : blank()),
      h('dt', {}, 'Daten, die übermittelt werden dürfen'), h('dd', {}, data.categories && data.categories.length
        ? h('ul', {}, data.categories.map((c) => h('li', {}, label(CATEGORIES, c)))) : blank()),
      h('dt', {}, 'Gesundheitsdaten'), h('dd', {}, data.health_data
        ? 'Die Einwilligung umfasst ausdrücklich auch Gesundheitsdaten.'
        : 'Gesundheitsdaten sind nicht umfasst.'),
      h('dt', {}, 'Empfänger'), h('dd', {}, data.recipients && data.recipients.length
        ? h('ul', {}, data.recipients.map((r) => h('li', {}, addressText(r)))) : blank()),
      h('dt', {}, 'Gültigkeit'), h('dd', {}, data.valid_from_ms
        ? `vom ${fmtDate(data.valid_from_ms)} bis einschließlich ${until}` : blank())),
    h('p', {}, 'Ich bin damit einverstanden, dass die oben genannten Daten zu dem genannten Zweck an die genannten Stellen übermittelt werden. Die Stellen dürfen die Daten nur für diesen Zweck verwenden.'),
    h('p', {}, 'Die Einwilligung ist freiwillig. Wenn ich sie nicht erteile, entstehen mir daraus keine Nachteile. Ich kann sie jederzeit ganz oder für einzelne Empfänger ohne Angabe von Gründen widerrufen, formlos bei der oben genannten Stelle. Der Widerruf gilt für die Zukunft; bis dahin übermittelte Daten bleiben davon unberührt.'),
    h('div', { class: 'signatures' },
      h('div', { class: 'signature' }, h('span', { class: 'line' }), h('span', {}, 'Ort, Datum')),
      h('div', { class: 'signature' }, h('span', { class: 'line' }), h('span', {}, 'Unterschrift der einwilligenden Person')),
      h('div', { class: 'signature' }, h('span', { class: 'line' }), h('span', {}, 'Name und Unterschrift der Mitarbeiterin / des Mitarbeiters'))),
    data.id ? h('p', { class: 'print-ref' }, `Erfasst unter Nr. ${data.id} am ${fmtDateTime(data.recorded_at_ms)}.`) : null));
  document.body.classList.add('print-consent');
  window.addEventListener('afterprint', () => document.body.classList.remove('print-consent'), { once: true });
  window.print();
}

