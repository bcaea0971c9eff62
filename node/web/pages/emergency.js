// Notfallzugriff (emergency access, "break-glass"): the administration reads
// no family's data, but in an emergency one administrator may ask to read
// one office's cases for a limited time. A second administrator approves
// it; everything read under it is logged and shown to the office's Leitung.
// Here: the section on the administration page (ask, approve, end, what was
// read), the Leitung's page, and the texts the banner and the case pages use.

import { get, post, p, nodeOffices } from '../api.js';
import {
  h, replace, table, field, fmtDateTime, fmtClock, shortId, alertBox, statusBox, showError,
  showText, setBusy, select, badge, link,
} from '../dom.js';
import {
  SERVICES, EMERGENCY_STATES, EMERGENCY_RECORDS, EMERGENCY_LISTS, AUDIT_ACTIONS, label, options,
  officesText,
} from '../catalog.js';
import { noteText } from './casework.js';

// Longest reason, in characters (BN_EMERGENCY_REASON_MAX).
const REASON_MAX = 1000;
// The durations offered, in minutes (at most BN_EMERGENCY_MINUTES_MAX).
const DURATIONS = [
  [15, '15 Minuten'],
  [30, '30 Minuten'],
  [60, '60 Minuten (1 Stunde)'],
  [120, '120 Minuten (2 Stunden)'],
  [240, '240 Minuten (4 Stunden)'],
];
const DEFAULT_MINUTES = 30;
// How long a request waits for approval (BN_EMERGENCY_APPROVAL_MS).
const APPROVAL_MS = 60 * 60 * 1000;

const characters = (text) => [...text].length;

// The accesses of `list` (GET /v1/emergency) that `user` holds now:
// approved for them and not yet over.
export function activeFor(list, user, now = Date.now()) {
  return (list || []).filter((grant) => grant.requested_by === user && grant.state === 'active'
    && typeof grant.until_ms === 'number' && grant.until_ms > now);
}

// "Jobcenter bis 14:35 Uhr und Jugendamt bis 15:00 Uhr"
export function accessesText(active) {
  return active.map((grant) => `${label(SERVICES, grant.office)} bis ${fmtClock(grant.until_ms)}`)
    .join(' und ');
}

// The offices of the accesses in force.
export function accessOffices(active) {
  return [...new Set(active.map((grant) => grant.office))];
}

// The state of an access in words, with what ended it.
function stateView(grant) {
  let text = label(EMERGENCY_STATES, grant.state);
  let kind = '';
  let more = '';
  switch (grant.state) {
    case 'requested':
      kind = 'new';
      more = `Freigabe möglich bis ${fmtClock(grant.requested_at_ms + APPROVAL_MS)}`;
      break;
    case 'active':
      text = `aktiv bis ${fmtClock(grant.until_ms)}`;
      kind = 'warn';
      break;
    case 'ended':
      if (!grant.approved_by) text = grant.ended_by === grant.requested_by ? 'zurückgezogen' : 'abgelehnt';
      more = grant.ended_by ? `von ${grant.ended_by} am ${fmtDateTime(grant.ended_at_ms)}` : '';
      break;
    case 'expired':
      more = grant.approved_by ? `um ${fmtClock(grant.until_ms)}` : 'ohne Freigabe';
      break;
    default:
      break;
  }
  return h('span', { 'data-testid': 'emergency-state' }, badge(text, kind),
    more ? h('span', { class: 'hint' }, ` ${more}`) : null);
}

// One thing read under an access, in words: "Fall 1a2b3c4d angesehen".
// `links`: whether records link to their page (for the office's Leitung).
function actionView(action, links) {
  const noun = EMERGENCY_RECORDS[action.action];
  const when = h('span', { class: 'when' }, `${fmtClock(action.at_ms)} `);
  let what;
  if (noun && action.object) {
    const name = `${noun} ${shortId(action.object)}`;
    const paths = { 'case.read': 'cases', 'consent.read': 'consents', 'referral.read': 'referrals', 'transfer.read': 'transfers' };
    what = [links ? link(`#/${paths[action.action]}/${action.object}`, name) : name, ' angesehen'];
  } else {
    what = EMERGENCY_LISTS[action.action] || label(AUDIT_ACTIONS, action.action);
  }
  return h('li', { 'data-testid': 'emergency-action', 'data-action': action.action, 'data-object': action.object || '' },
    when, what);
}

function actionsView(grant, links) {
  const actions = grant.actions || [];
  if (!actions.length) {
    let text = 'Nichts – der Zugriff wurde nie freigegeben.';
    if (grant.approved_by) text = 'Nichts gelesen.';
    else if (grant.state === 'requested') text = 'Noch nichts: Der Zugriff gilt erst nach der Freigabe.';
    return h('p', { class: 'empty', 'data-testid': 'emergency-actions-empty' }, text);
  }
  return h('ol', { class: 'timeline', 'data-testid': 'emergency-actions' },
    actions.map((action) => actionView(action, links)));
}

// The accesses, newest first. `controls(grant)` gives the buttons of a row
// (the administration), or is null (the Leitung).
function accessTable(list, { controls = null, links = false } = {}) {
  const rows = (list || []).slice().sort((a, b) => b.requested_at_ms - a.requested_at_ms);
  const columns = [
    ['Stelle', (g) => label(SERVICES, g.office)],
    ['Beantragt', (g) => [h('span', { 'data-testid': 'emergency-requested-by' }, g.requested_by), h('br'),
      h('span', { class: 'when' }, fmtDateTime(g.requested_at_ms)), h('br'),
      h('span', { class: 'hint' }, `für ${g.minutes} Minuten`)]],
    ['Begründung', (g) => h('p', { class: 'journal-text', 'data-testid': 'emergency-reason' }, g.reason)],
    ['Zustand', (g) => stateView(g)],
    ['Freigegeben', (g) => (g.approved_by
      ? [h('span', { 'data-testid': 'emergency-approved-by' }, g.approved_by), h('br'),
        h('span', { class: 'when' }, fmtDateTime(g.approved_at_ms))]
      : '–')],
    ['Was gelesen wurde', (g) => actionsView(g, links)],
  ];
  if (controls) columns.push(['Aktionen', (g) => controls(g)]);
  return h('div', { class: 'emergency-list' }, table({
    testid: 'emergency-table', rowTestid: 'emergency-row', rows,
    rowAttrs: (g) => ({ 'data-id': g.id, 'data-state': g.state }),
    empty: 'Bisher gab es keinen Notfallzugriff.',
    columns,
  }));
}

// ---- Administration --------------------------------------------------------------------

// The section "Notfallzugriff" of the administration page. `ctx.emergency`
// holds GET /v1/emergency as the router read it for this page;
// `ctx.emergencyChanged(list)` tells the frame (banner, navigation) after a
// change. Returns {element, loaded}.
export function adminSection(ctx) {
  const me = ctx.session.user;
  const alert = alertBox('emergency-alert');
  const status = statusBox('emergency-status');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Notfallzugriffe werden geladen …'));
  const office = select({ required: true, 'data-testid': 'emergency-office' }, [],
    { placeholder: 'Bitte wählen' });
  const reason = h('textarea', {
    rows: '3', required: true, maxlength: String(REASON_MAX), 'data-testid': 'emergency-reason-input',
  });
  const minutes = select({ required: true, 'data-testid': 'emergency-minutes' },
    DURATIONS.map(([value, text]) => [String(value), text]), { value: String(DEFAULT_MINUTES) });
  const form = h('form', { class: 'stack card', 'data-testid': 'emergency-form' },
    h('h3', {}, 'Notfallzugriff beantragen'),
    field('Stelle', office, 'Die Stelle, deren Fälle Sie lesen müssen.'),
    field('Begründung', reason, 'Warum ist der Zugriff nötig, und warum jetzt? Die Leitung der Stelle liest diese Begründung.'),
    field('Dauer', minutes, 'Nach dieser Zeit endet der Zugriff von selbst. Sie können ihn auch früher beenden.'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'emergency-submit' }, 'Notfallzugriff beantragen')));

  const show = (list) => {
    replace(area, accessTable(list, { controls: (grant) => controlsFor(grant) }));
  };
  //  The table shows every access; the frame (banner, navigation) only
  //  follows one's own
  const reload = async () => {
    try {
      const answer = await get('/v1/emergency');
      show(answer.emergency || []);
      await ctx.emergencyChanged();
    } catch (error) {
      showError(alert, error);
    }
  };
  const step = async (grant, action, button) => {
    showText(alert, '');
    showText(status, '');
    button.disabled = true;
    try {
      const answer = await post(p`/v1/emergency/${grant.id}/${action}`, {});
      showText(status, action === 'approve'
        ? `Der Notfallzugriff von ${grant.requested_by} auf ${label(SERVICES, grant.office)} ist freigegeben bis ${fmtClock(answer.until_ms)}.`
        : `Der Notfallzugriff auf ${label(SERVICES, grant.office)} wurde beendet.`);
    } catch (error) {
      showError(alert, error);
    }
    await reload();
  };
  // "Freigeben" for the requests of others, "Beenden" for what is not over.
  const controlsFor = (grant) => {
    const buttons = [];
    const what = `Notfallzugriff von ${grant.requested_by} auf ${label(SERVICES, grant.office)}`;
    if (grant.state === 'requested' && grant.requested_by !== me) {
      const approve = h('button', { type: 'button', 'data-testid': 'emergency-approve', 'aria-label': `${what} freigeben` },
        'Freigeben');
      approve.addEventListener('click', () => step(grant, 'approve', approve));
      buttons.push(approve, ' ');
    }
    if (grant.state === 'requested' || grant.state === 'active') {
      let text = 'Beenden';
      if (grant.state === 'requested') text = grant.requested_by === me ? 'Zurückziehen' : 'Ablehnen';
      const end = h('button', { type: 'button', class: 'secondary', 'data-testid': 'emergency-end', 'aria-label': `${what} ${text.toLowerCase()}` },
        text);
      end.addEventListener('click', () => step(grant, 'end', end));
      buttons.push(end);
    }
    if (grant.state === 'requested' && grant.requested_by === me) {
      buttons.unshift(h('p', { class: 'hint' }, 'Eine zweite Person der Administration muss freigeben.'));
    }
    return buttons.length ? h('div', { class: 'row-actions' }, buttons) : '–';
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showText(status, '');
    const given = noteText(reason.value);
    if (!office.value) {
      showText(alert, 'Bitte die Stelle wählen.');
      office.focus();
      return;
    }
    if (!given) {
      showText(alert, 'Bitte begründen Sie den Notfallzugriff.');
      reason.focus();
      return;
    }
    if (characters(given) > REASON_MAX) {
      showText(alert, `Die Begründung ist zu lang: höchstens ${REASON_MAX} Zeichen.`);
      reason.focus();
      return;
    }
    showText(alert, '');
    setBusy(form, true);
    try {
      const grant = await post('/v1/emergency', {
        office: office.value, reason: given, minutes: Number(minutes.value),
      });
      showText(status, `Der Notfallzugriff auf ${label(SERVICES, grant.office)} ist beantragt. Er gilt erst, wenn eine zweite Person der Administration ihn bis ${fmtClock(grant.requested_at_ms + APPROVAL_MS)} freigibt.`);
      reason.value = '';
      await reload();
    } catch (error) {
      showError(alert, error);
    } finally {
      setBusy(form, false);
    }
  });

  const loaded = (async () => {
    try {
      const hosted = await nodeOffices();
      for (const [code, text] of options(SERVICES, hosted)) office.appendChild(h('option', { value: code }, text));
      if (hosted.length === 1) office.value = hosted[0];
    } catch (error) {
      showError(alert, error);
    }
    await reload(); //  all accesses; the frame holds only one's own
  })();

  const element = h('section', { 'aria-labelledby': 'emergency-h', 'data-testid': 'emergency-section' },
    h('h2', { id: 'emergency-h' }, 'Notfallzugriff'),
    h('p', { 'data-testid': 'emergency-note' },
      'Die Administration sieht keine Fälle. Nur im Notfall – etwa wenn ein Kind in Gefahr und die Stelle nicht erreichbar ist – darf sie die Fälle einer Stelle lesen: erst nach Freigabe durch eine zweite Person der Administration, nur für kurze Zeit und ohne etwas zu ändern. Jeder Zugriff wird protokolliert, und die Leitung der Stelle sieht, wer wann warum was gelesen hat.'),
    status,
    alert,
    form,
    h('h3', {}, 'Beantragte und gewährte Zugriffe'),
    area);
  return { element, loaded };
}

// ---- Leitung -------------------------------------------------------------------------------

// "Notfallzugriffe auf Ihre Stellen": who read the cases of the Leitung's
// offices under an emergency access, when, why, and what.
export async function leitungPage(view, ctx) {
  const area = h('div', {}, h('p', { class: 'loading' }, 'Notfallzugriffe werden geladen …'));
  const offices = ctx.session.offices || [];
  view.append(
    h('h1', {}, 'Notfallzugriffe auf Ihre Stellen'),
    h('p', { 'data-testid': 'emergency-note' },
      `Im Notfall kann die Administration die Fälle einer Stelle für kurze Zeit lesen, wenn eine zweite Person der Administration das freigibt. Hier sehen Sie jeden solchen Zugriff auf ${offices.length ? officesText(offices) : 'Ihre Stellen'}: wer ihn beantragt und freigegeben hat, warum, wie lange er galt und was dabei gelesen wurde.`),
    area);
  try {
    const answer = await get('/v1/emergency');
    replace(area, accessTable(answer.emergency || [], { links: true }));
  } catch (error) {
    replace(area);
    ctx.fail(error);
  }
}
