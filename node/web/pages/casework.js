// Working a case on its page: the Vermerke (journal: notes that are never
// changed), corrections of its facts (Lotse, Sachbearbeitung, Wiedervorlage,
// Aktenzeichen, Bedarfe, Personen), its Verlauf (what changed, by whom), and
// closing and reopening it. The page itself is in cases.js.

import { post, patch, p } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, badge, fmtDate, fmtDateTime,
  berlinMidnight, isoDateBerlin, lines, oneLine, uid,
} from '../dom.js';
import { CASE_FIELDS, CLOSE_REASONS, label, options } from '../catalog.js';
import { memberEditor } from './members.js';

// Longest note of the journal and close or reopen text, in characters (BN_TEXT_MAX).
export const NOTE_MAX = 4000;
// Longest reference of the town's own software, in characters (BN_REF_MAX).
export const EXTERNAL_REF_MAX = 64;
// Longest name of a Lotse or caseworker, in characters (BN_NAME_MAX).
const NAME_MAX = 100;

export const EXTERNAL_REF_HINT = 'Das Aktenzeichen, unter dem Ihre Fachanwendung den Fall führt (optional).';
export const FOLLOW_UP_HINT = 'An diesem Tag erscheint der Fall unter „Wiedervorlagen“ als fällig (optional).';

// Text that may span lines, as the API takes it: line breaks as \n, no
// other control characters, no blank start or end.
export function noteText(text) {
  return text.replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '')
    .trim();
}

const characters = (text) => [...text].length;

// The follow-up date of a case, marked "fällig" once it has come.
export function followUpView(ms, now = Date.now()) {
  if (typeof ms !== 'number') return '–';
  return [fmtDate(ms), ms <= now ? [' ', badge('fällig', 'warn')] : null];
}

// ---- Closed ------------------------------------------------------------------------------

// On a closed case: when and why, and the form that takes it up again
// (not for `readOnly`, the administration under an emergency access).
export function closedNotice(kase, ctx, { readOnly = false } = {}) {
  const closing = [...(kase.history || [])].reverse().find((e) => e.change === 'closed');
  const errorBox = alertBox('case-reopen-alert');
  const text = h('textarea', { rows: '2', maxlength: String(NOTE_MAX), 'data-testid': 'case-reopen-text' });
  const form = h('form', { class: 'stack card', 'data-testid': 'case-reopen-form' },
    errorBox,
    field('Anlass der Wiederaufnahme (optional)', text),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'case-reopen' }, 'Fall wieder aufnehmen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    const given = noteText(text.value);
    if (characters(given) > NOTE_MAX) {
      showText(errorBox, `Der Text ist zu lang: höchstens ${NOTE_MAX} Zeichen.`);
      return;
    }
    if (given) body.text = given;
    setBusy(form, true);
    try {
      await post(p`/v1/cases/${kase.id}/reopen`, body);
      ctx.reload('Der Fall wurde wieder aufgenommen.');
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  return h('div', {},
    h('div', { class: 'note closed', 'data-testid': 'case-closed-notice' },
      h('p', {}, h('strong', {}, `Abgeschlossen am ${fmtDateTime(kase.closed_at_ms)}`),
        ` – ${label(CLOSE_REASONS, kase.close_reason)}`),
      closing && closing.text ? h('p', { class: 'journal-text quoted' }, closing.text) : null,
      h('p', { class: 'hint' }, 'Ein abgeschlossener Fall kann nicht geändert werden. Wird er wieder aufgenommen, ist er wieder offen.')),
    readOnly ? null : form);
}

// ---- Vermerke ----------------------------------------------------------------------------

export function journalSection(kase, ctx, open) {
  const entries = kase.journal || [];
  const list = entries.length
    ? h('ol', { class: 'journal', 'data-testid': 'case-journal' }, entries.map((entry) =>
      h('li', { 'data-testid': 'journal-entry' },
        h('p', { class: 'when' }, fmtDateTime(entry.at_ms), entry.by ? ` – ${entry.by}` : ''),
        h('p', { class: 'journal-text' }, entry.text))))
    : h('p', { class: 'empty', 'data-testid': 'case-journal-empty' }, 'Noch keine Vermerke.');
  let form = null;
  if (open) {
    const errorBox = alertBox('case-note-alert');
    const text = h('textarea', { rows: '4', required: true, maxlength: String(NOTE_MAX), 'data-testid': 'case-note-text' });
    form = h('form', { class: 'stack card', 'data-testid': 'case-note-form' },
      errorBox,
      field('Neuer Vermerk', text,
        'Zum Beispiel ein Gespräch, ein Anruf oder eine Absprache. Ein Vermerk bleibt mit Datum und Ihrem Namen im Fall stehen; er kann nicht geändert oder gelöscht werden.'),
      h('div', { class: 'actions' },
        h('button', { type: 'submit', 'data-testid': 'case-note-submit' }, 'Vermerk hinzufügen')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const given = noteText(text.value);
      if (!given) {
        showText(errorBox, 'Bitte einen Vermerk eingeben.');
        text.focus();
        return;
      }
      if (characters(given) > NOTE_MAX) {
        showText(errorBox, `Der Vermerk ist zu lang: höchstens ${NOTE_MAX} Zeichen.`);
        text.focus();
        return;
      }
      setBusy(form, true);
      try {
        await post(p`/v1/cases/${kase.id}/notes`, { text: given });
        ctx.reload('Der Vermerk wurde gespeichert.');
      } catch (error) {
        showError(errorBox, error);
      } finally {
        setBusy(form, false);
      }
    });
  }
  return h('section', { 'aria-labelledby': 'journal-h' },
    h('h2', { id: 'journal-h' }, 'Vermerke'),
    list,
    form);
}

// ---- Bearbeiten --------------------------------------------------------------------------

// A case's members as the API takes them back, to see whether they changed.
function membersKey(members) {
  return JSON.stringify((members || []).map((m) => ({
    name: m.name, role: m.role, age: m.age,
    ...(m.custody_for && m.custody_for.length ? { custody_for: m.custody_for } : {}),
  })));
}

// The button "Angaben ändern" and, once pressed, the form that changes what
// PATCH /v1/cases/{id} may change. Only what was changed is sent; an
// emptied field is sent as null (needs as an empty list).
export function editSection(kase, ctx) {
  const formId = uid('case-edit');
  const area = h('div', { id: formId });
  const toggle = h('button', {
    type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': formId,
    'data-testid': 'case-edit-open',
  }, 'Angaben ändern');
  const close = () => {
    replace(area);
    toggle.setAttribute('aria-expanded', 'false');
    toggle.hidden = false;
    toggle.focus();
  };
  toggle.addEventListener('click', () => {
    replace(area, editForm(kase, ctx, close));
    toggle.setAttribute('aria-expanded', 'true');
    toggle.hidden = true;
    area.querySelector('input').focus();
  });
  return h('section', { 'aria-labelledby': 'edit-h' },
    h('h2', { id: 'edit-h' }, 'Bearbeiten'),
    h('p', { class: 'hint' }, 'Lotse, Sachbearbeitung, Wiedervorlage, Aktenzeichen, Bedarfe und Personen ändern. Jede Änderung steht danach im Verlauf.'),
    h('p', { class: 'actions' }, toggle),
    area);
}

function editForm(kase, ctx, close) {
  const errorBox = alertBox('case-edit-alert');
  const textInput = (value, testid, max) => h('input', {
    type: 'text', maxlength: String(max), value: value || '', autocomplete: 'off', 'data-testid': testid,
  });
  const lotse = textInput(kase.lotse, 'case-edit-lotse', NAME_MAX);
  const caseworker = textInput(kase.caseworker, 'case-edit-caseworker', NAME_MAX);
  const externalRef = textInput(kase.external_ref, 'case-edit-external-ref', EXTERNAL_REF_MAX);
  externalRef.setAttribute('spellcheck', 'false');
  const followUpBefore = typeof kase.follow_up_ms === 'number' ? isoDateBerlin(kase.follow_up_ms) : '';
  const followUp = h('input', { type: 'date', value: followUpBefore, 'data-testid': 'case-edit-follow-up' });
  const needsBefore = (kase.needs || []).join('\n');
  const needs = h('textarea', { rows: '3', 'data-testid': 'case-edit-needs' });
  needs.value = needsBefore;
  const members = memberEditor(kase.members || []);

  const form = h('form', { class: 'stack card', 'data-testid': 'case-edit-form' },
    h('h3', {}, 'Angaben ändern'),
    errorBox,
    field('Lotse', lotse, 'Leer lassen, um den Lotsen zu entfernen.'),
    field('Zuständige Sachbearbeitung', caseworker),
    field('Wiedervorlage', followUp, 'Leer lassen, um die Wiedervorlage aufzuheben.'),
    field('Aktenzeichen der Fachanwendung', externalRef, EXTERNAL_REF_HINT),
    field('Bedarfe', needs, 'Ein Bedarf je Zeile.'),
    h('p', { class: 'hint' }, 'Personen nur berichtigen (zum Beispiel einen Schreibfehler im Namen oder das Alter). Einwilligungen nennen die Personen mit ihrem Namen.'),
    members.persons,
    members.custody,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'case-edit-submit' }, 'Änderungen speichern'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'case-edit-cancel', on: { click: close } },
        'Abbrechen')));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, input] of [['lotse', lotse], ['caseworker', caseworker], ['external_ref', externalRef]]) {
      const now = oneLine(input.value) || null;
      if (now !== (kase[key] || null)) body[key] = now;
    }
    if (followUp.value !== followUpBefore) {
      body.follow_up_ms = followUp.value ? berlinMidnight(followUp.value) : null;
    }
    if (needs.value !== needsBefore) {
      const list = lines(needs.value);
      if (JSON.stringify(list) !== JSON.stringify(kase.needs || [])) body.needs = list;
    }
    const collected = members.collect();
    if (collected.error) {
      showText(errorBox, collected.error);
      errorBox.scrollIntoView({ block: 'nearest' });
      return;
    }
    if (membersKey(collected.members) !== membersKey(kase.members)) body.members = collected.members;
    if (!Object.keys(body).length) {
      showText(errorBox, 'Sie haben nichts geändert.');
      return;
    }
    setBusy(form, true);
    try {
      await patch(p`/v1/cases/${kase.id}`, body);
      ctx.reload('Die Änderungen wurden gespeichert.');
    } catch (error) {
      showError(errorBox, error);
      errorBox.scrollIntoView({ block: 'nearest' });
    } finally {
      setBusy(form, false);
    }
  });
  return form;
}

// ---- Verlauf -----------------------------------------------------------------------------

// A value of a case's field in words, or '' for none.
function fieldText(change, value) {
  if (value === undefined || value === null) return '';
  switch (change) {
    case 'follow_up_ms': return fmtDate(value);
    case 'needs': return value.length ? value.join('; ') : '';
    case 'members': return value.map((m) => `${m.name} (${m.role}, ${m.age} Jahre)`).join('; ');
    default: return String(value);
  }
}

// What a history entry says: a title and, where it helps, the values
// before and after. `after` is the field's value once the change was made.
function describe(entry, after) {
  const before = fieldText(entry.change, entry.previous);
  const now = fieldText(entry.change, after);
  const name = label(CASE_FIELDS, entry.change);
  const quoted = (text) => `„${text}“`;
  switch (entry.change) {
    case 'closed':
      return { title: `Fall abgeschlossen: ${label(CLOSE_REASONS, entry.reason)}` };
    case 'reopened':
      return { title: 'Fall wieder aufgenommen' };
    case 'follow_up_ms':
      if (!now) return { title: 'Wiedervorlage aufgehoben', detail: before ? `vorher: ${before}` : '' };
      return { title: `Wiedervorlage gesetzt auf ${now}`, detail: before ? `vorher: ${before}` : '' };
    case 'needs':
      return { title: 'Bedarfe korrigiert', detail: `vorher: ${before || 'keine'} · jetzt: ${now || 'keine'}` };
    case 'members':
      return { title: 'Personen korrigiert', detail: `vorher: ${before || 'keine'} · jetzt: ${now || 'keine'}` };
    case 'lotse':
    case 'caseworker':
    case 'external_ref':
      if (!before) return { title: `${name} eingetragen`, detail: quoted(now) };
      if (!now) return { title: `${name} entfernt`, detail: `vorher: ${quoted(before)}` };
      return { title: `${name} geändert`, detail: `vorher: ${quoted(before)} · jetzt: ${quoted(now)}` };
    default:
      return { title: 'Angaben geändert' };
  }
}

// The case's history, oldest first, starting with its creation.
export function historySection(kase) {
  const history = kase.history || [];
  const items = history.map((entry, index) => {
    let after = null;
    if (Object.prototype.hasOwnProperty.call(CASE_FIELDS, entry.change)) {
      // The value this change set: what the next change of the field found
      // before it, or else what the case holds now
      const next = history.slice(index + 1).find((later) => later.change === entry.change);
      after = next ? next.previous : kase[entry.change];
    }
    const { title, detail } = describe(entry, after);
    return h('li', { 'data-testid': 'case-history-entry', 'data-change': entry.change },
      h('span', { class: 'when' }, fmtDateTime(entry.at_ms)), ' ',
      h('strong', {}, title),
      entry.by ? ` – ${entry.by}` : '',
      detail ? h('span', { class: 'previous' }, ` (${detail})`) : null,
      entry.text ? h('span', { class: 'journal-text quoted' }, entry.text) : null);
  });
  return h('section', { 'aria-labelledby': 'case-history-h' },
    h('h2', { id: 'case-history-h' }, 'Verlauf'),
    h('ol', { class: 'timeline', 'data-testid': 'case-history' },
      h('li', { 'data-testid': 'case-history-entry', 'data-change': 'created' },
        h('span', { class: 'when' }, fmtDateTime(kase.created_at_ms)), ' ', h('strong', {}, 'Fall angelegt')),
      items));
}

// ---- Abschließen -------------------------------------------------------------------------

export function closeSection(kase, ctx) {
  const errorBox = alertBox('case-close-alert');
  const reason = select({ required: true, 'data-testid': 'case-close-reason' }, options(CLOSE_REASONS),
    { placeholder: 'Bitte wählen' });
  const text = h('textarea', { rows: '2', maxlength: String(NOTE_MAX), 'data-testid': 'case-close-text' });
  const form = h('form', { class: 'stack card', 'data-testid': 'case-close-form' },
    errorBox,
    field('Grund', reason),
    field('Bemerkung (optional)', text),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'danger', 'data-testid': 'case-close' }, 'Fall abschließen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!reason.value) {
      showText(errorBox, 'Bitte einen Grund wählen.');
      reason.focus();
      return;
    }
    const body = { reason: reason.value };
    const given = noteText(text.value);
    if (characters(given) > NOTE_MAX) {
      showText(errorBox, `Die Bemerkung ist zu lang: höchstens ${NOTE_MAX} Zeichen.`);
      return;
    }
    if (given) body.text = given;
    setBusy(form, true);
    try {
      await post(p`/v1/cases/${kase.id}/close`, body);
      ctx.reload('Der Fall wurde abgeschlossen.');
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  return h('section', { 'aria-labelledby': 'close-h' },
    h('h2', { id: 'close-h' }, 'Fall abschließen'),
    h('p', { class: 'hint' }, 'Wenn Ihre Stelle die Arbeit mit der Familie beendet. Der Fall bleibt gespeichert und kann wieder aufgenommen werden.'),
    form);
}
