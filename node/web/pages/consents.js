// Einwilligung: record a consent for a case (its recipients from the
// county's directory, the SHA-256 of the signed form computed in the
// browser and the form stored right after), show it, store or download the
// signed form, withdraw it. The printed form is in consent-print.js.

import { get, post, p, directoryAddresses } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, choiceGroup, checkedValues,
  dl, link, table, fmtDateTime, shortId, oneLine, mapLimit, berlinMidnight, isoDateBerlin, addDaysIso,
  badge, uid,
} from '../dom.js';
import {
  CATEGORIES, CONSENT_PURPOSES, PURPOSES, SERVICES, CONSENT_FORMS, CONSENT_STATUS,
  label, options, addressText, nodeName,
} from '../catalog.js';
import { caseFormPage } from './casepage.js';
import { languageSelect, letterheadOf, printConsentForm } from './consent-print.js';
import {
  FORM_ACCEPT, canHash, formFileProblem, formSection, sha256Hex, sizeText, uploadErrorText, uploadForm,
} from './consent-evidence.js';

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

// The recipients a consent may name: the directory's addresses (GET
// /v1/directory), grouped by place, this node's first, without the case's
// own office. Checkboxes `consent-recipients-<ags>|<service>`.
function recipientChoices(addresses, ownService) {
  const offered = addresses.filter((a) => !(a.here && a.service === ownService));
  const container = h('fieldset', { class: 'choices recipients', 'data-testid': 'consent-recipients' },
    h('legend', {}, 'Empfänger (Stellen, an die Daten gehen dürfen)'),
    h('p', { class: 'hint' }, 'Angeboten werden die Stellen aus dem Verzeichnis des Kreises, die Daten empfangen können.'));
  if (!offered.length) {
    container.appendChild(h('p', { class: 'empty', 'data-testid': 'consent-recipients-empty' },
      'Im Verzeichnis des Kreises ist keine Stelle eingetragen, an die Daten gehen können.'));
    return container;
  }
  const places = new Map();
  for (const address of offered) {
    if (!places.has(address.ags)) places.set(address.ags, { ags: address.ags, place: address.place, here: false, items: [] });
    const group = places.get(address.ags);
    group.here = group.here || address.here;
    group.items.push(address);
  }
  const serviceOrder = Object.keys(SERVICES);
  const rank = (code) => (serviceOrder.includes(code) ? serviceOrder.indexOf(code) : serviceOrder.length);
  const groups = [...places.values()].sort((a, b) => (a.here === b.here
    ? (a.place || a.ags).localeCompare(b.place || b.ags, 'de') : (a.here ? -1 : 1)));
  for (const group of groups) {
    group.items.sort((a, b) => rank(a.service) - rank(b.service) || a.service.localeCompare(b.service));
    container.appendChild(h('fieldset', { class: 'place', 'data-testid': 'consent-recipients-place', 'data-ags': group.ags },
      h('legend', {}, `${group.place || nodeName(group.items[0].node)} (AGS ${group.ags})`),
      group.items.map((address) => {
        const value = `${address.ags}|${address.service}`;
        const id = uid('recipient');
        const other = address.node_name && address.node_name !== address.place ? ` (Stelle: ${address.node_name})` : '';
        return h('div', { class: 'choice' },
          h('input', { type: 'checkbox', id, name: 'recipients', value, 'data-testid': `consent-recipients-${value}` }),
          h('label', { for: id }, label(SERVICES, address.service), other,
            address.here ? h('span', { class: 'here' }, ' – in dieser Verwaltung') : null));
      })));
  }
  return container;
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
  const errorBox = alertBox('consent-form-alert');
  // The directory decides which recipients can be chosen; the letterhead is
  // for the printed form
  let addresses = [];
  let directoryError = null;
  let letterhead = { name: '', address: '', contact: '', dpo: '' };
  await Promise.all([
    directoryAddresses().then((list) => { addresses = list; }, (error) => { directoryError = error; }),
    letterheadOf().then((lh) => { letterhead = lh; }, () => {}),
  ]);
  if (directoryError) showError(errorBox, directoryError);

  const names = (kase.members || []).map((m) => m.name);
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
  const recipients = directoryError
    ? h('p', { class: 'note warn', 'data-testid': 'consent-recipients-unavailable' },
      'Das Verzeichnis der Stellen konnte nicht geladen werden, daher können keine Empfänger gewählt werden. Bitte die Seite neu laden.')
    : recipientChoices(addresses, kase.service);
  const today = isoDateBerlin(Date.now());
  const validFrom = h('input', { type: 'date', required: true, value: today, min: today, 'data-testid': 'consent-valid-from' });
  const validUntil = h('input', { type: 'date', required: true, value: addDaysIso(today, 365), 'data-testid': 'consent-valid-until' });
  const formKind = select({ required: true, 'data-testid': 'consent-form-kind' }, options(CONSENT_FORMS), { value: 'written' });
  const evidenceFile = h('input', { type: 'file', accept: FORM_ACCEPT, 'data-testid': 'consent-evidence-file' });
  // Only where the browser cannot hash (no secure connection): the
  // checksum typed by hand
  const evidenceHash = h('input', {
    type: 'text', pattern: '[0-9a-f]{64}', maxlength: '64', spellcheck: 'false', autocomplete: 'off',
    class: 'mono', title: '64 Zeichen 0–9 und a–f', 'data-testid': 'consent-evidence-sha256',
  });
  const hashField = field('Prüfsumme der Datei (SHA-256)', evidenceHash,
    'Dieser Browser kann die Prüfsumme hier nicht berechnen (keine sichere Verbindung). Bitte die Prüfsumme der Datei von Hand eintragen, zum Beispiel mit „sha256sum“ ermittelt.');
  hashField.hidden = true;
  const evidenceStatus = h('p', { class: 'hint', role: 'status', 'data-testid': 'consent-evidence-status' });
  const printLanguage = languageSelect('', 'consent-print-language');
  // The chosen file, if the node can keep it: stored right after the consent
  let uploadable = null;

  evidenceFile.addEventListener('change', async () => {
    const file = evidenceFile.files && evidenceFile.files[0];
    uploadable = null;
    evidenceHash.value = '';
    if (!file) {
      evidenceStatus.textContent = '';
      return;
    }
    const problem = formFileProblem(file);
    const keep = problem
      ? ` ${problem} Gespeichert wird dann nur die Prüfsumme; das Original gehört in die Fallakte.`
      : ' Die Datei wird mit der Einwilligung gespeichert.';
    if (!canHash()) {
      hashField.hidden = false;
      uploadable = problem ? null : file;
      evidenceStatus.textContent = `Die Prüfsumme kann hier nicht berechnet werden.${keep}`;
      return;
    }
    evidenceStatus.textContent = 'Prüfsumme wird berechnet …';
    try {
      const hash = await sha256Hex(file);
      if (evidenceFile.files[0] !== file) return; // another file was chosen meanwhile
      evidenceHash.value = hash;
      uploadable = problem ? null : file;
      evidenceStatus.textContent = `Prüfsumme von „${file.name}“ berechnet (${sizeText(file.size)}).${keep}`;
    } catch {
      evidenceStatus.textContent = 'Die Datei konnte nicht gelesen werden.';
    }
  });

  // What the form says now (for printing and for sending).
  const read = () => {
    const subjectList = checkedValues(subjects, 'subjects');
    const chosen = directoryError ? [] : checkedValues(recipients, 'recipients').map((value) => {
      const [ags, service] = value.split('|');
      return { ags, service };
    });
    return {
      case_id: caseId,
      grantor: oneLine(grantor.value),
      subjects: [...new Set(subjectList)],
      purpose: purpose.value,
      categories: checkedValues(categories, 'categories'),
      recipients: chosen,
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
    field('Einwilligende Person', grantor, 'Eine Person des Falls: volljährig, oder mit Sorgerecht für die betroffenen Kinder. Fehlt sie, bitte zuerst im Fall erfassen.'),
    subjects,
    field('Zweck', purpose),
    categories,
    h('div', { class: 'choice' }, health,
      h('label', { for: 'consent-health' }, 'Die Einwilligung umfasst ausdrücklich Gesundheitsdaten (Art. 9 DSGVO).')),
    recipients,
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Gültigkeit'),
      field('Gültig ab', validFrom),
      field('Gültig bis einschließlich', validUntil)),
    field('Form der Einwilligung', formKind),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Formular zur Unterschrift'),
      h('p', { class: 'hint' }, 'Drucken Sie das Formular aus, so wie es jetzt ausgefüllt ist, und lassen Sie es unterschreiben. Eine zweite Sprache steht neben dem verbindlichen deutschen Text.'),
      h('div', { class: 'actions' },
        field('Zweite Sprache', printLanguage),
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'consent-print',
          on: { click: () => printConsentForm({ ...read(), office: kase.service },
            { letterhead, directory: addresses, second: printLanguage.value }) } }, 'Formular drucken'))),
    h('fieldset', { class: 'group' },
      h('legend', {}, 'Unterschriebene Einwilligung'),
      h('p', { class: 'hint' }, 'Wählen Sie den Scan des unterschriebenen Formulars (PDF, PNG oder JPEG, höchstens 1 MiB). Seine Prüfsumme (SHA-256) wird hier berechnet und mit der Einwilligung gespeichert, die Datei selbst gleich danach.'),
      field('Scan des unterschriebenen Formulars', evidenceFile),
      evidenceStatus,
      hashField),
    h('div', { class: 'actions' },
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
    let consent;
    try {
      consent = await post('/v1/consents', data);
    } catch (error) {
      showError(errorBox, error);
      errorBox.scrollIntoView({ block: 'nearest' });
      setBusy(form, false);
      return;
    }
    // The signed form itself, right after: the consent stands without it
    let saved = 'Die Einwilligung wurde gespeichert.';
    if (uploadable) {
      try {
        await uploadForm(consent.id, uploadable);
        saved = 'Die Einwilligung wurde gespeichert, mit dem unterschriebenen Formular.';
      } catch (error) {
        saved = `Die Einwilligung wurde gespeichert, das unterschriebene Formular aber nicht: ${uploadErrorText(error)} Sie können es unten auf dieser Seite hochladen.`;
      }
    }
    setBusy(form, false);
    ctx.go(`#/consents/${consent.id}`, saved);
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
  if (!data.recipients.length) return 'Bitte mindestens einen Empfänger wählen.';
  if (!data.valid_from_ms || !data.valid_until_ms) return 'Bitte die Gültigkeit angeben.';
  if (fromDay < isoDateBerlin(Date.now())) {
    return 'Die Einwilligung kann nicht rückwirkend gelten. Bitte als Beginn heute oder einen späteren Tag wählen.';
  }
  if (data.valid_until_ms <= data.valid_from_ms) return 'Das Ende der Gültigkeit muss nach ihrem Beginn liegen.';
  if (!/^[0-9a-f]{64}$/.test(data.evidence_sha256)) {
    return 'Bitte den Scan des unterschriebenen Formulars wählen, damit seine Prüfsumme berechnet wird.';
  }
  return '';
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
      ['Prüfsumme des unterschriebenen Formulars', h('code', { class: 'mono wrap' }, consent.evidence_sha256)],
      ['Erfasst', fmtDateTime(consent.recorded_at_ms)],
      consent.withdrawn_at_ms ? ['Widerrufen', fmtDateTime(consent.withdrawn_at_ms)] : null,
    ], { 'data-testid': 'consent-facts' }),
    h('p', { class: 'actions' },
      link(`#/consents/${consent.id}/print`, 'Formular zum Drucken', { class: 'button secondary', 'data-testid': 'consent-print' }),
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
    formSection(consent, ctx),
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
