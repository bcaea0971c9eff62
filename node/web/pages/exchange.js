// Transferbörse: the county's exchange of prevention practice between towns.
// Board (with topic filter), own items, publishing offers and requests,
// submissions (what the broker made of them), agreements and the ledger.
// Nothing here is personal data.

import { get, post, p, cache, reasonText } from '../api.js';
import {
  h, replace, alertBox, statusBox, showError, showText, setBusy, field, select, choiceGroup,
  checkedValues, table, dl, link, badge, fmtDateTime, fmtDateUtc, fmtQuarter, shortId, oneLine,
  utcMidnight,
} from '../dom.js';
import {
  AGREEMENT_STATES, SUBMISSION_KINDS, SUBMISSION_STATES, label, nodeName,
} from '../catalog.js';

const TABS = [
  ['#/exchange', 'Börse', 'exchange-nav-board', ''],
  ['#/exchange/mine', 'Eigene Einträge', 'exchange-nav-mine', 'mine'],
  ['#/exchange/offer', 'Angebot veröffentlichen', 'exchange-nav-offer', 'offer'],
  ['#/exchange/request', 'Anfrage stellen', 'exchange-nav-request', 'request'],
  ['#/exchange/submissions', 'Übermittlungen', 'exchange-nav-submissions', 'submissions'],
  ['#/exchange/agreements', 'Vereinbarungen', 'exchange-nav-agreements', 'agreements'],
  ['#/exchange/ledger', 'Bilanz', 'exchange-nav-ledger', 'ledger'],
];

function frame(view, current, title) {
  view.append(
    h('h1', {}, title),
    h('nav', { class: 'subnav', 'aria-label': 'Transferbörse' },
      h('ul', {}, TABS.map(([href, text, testid, key]) => h('li', {},
        h('a', { href, 'data-testid': testid, 'aria-current': key === current ? 'page' : undefined }, text))))),
    h('p', { class: 'hint' }, 'In der Transferbörse stehen keine personenbezogenen Daten: keine Namen von Familien oder Mitarbeitenden in Titeln, Notizen und Texten.'));
}

// The catalogue: {topics: Map code -> label, topicList, cancelReasons}.
async function catalogue() {
  let cat = cache.get('exchange-catalogue');
  if (!cat) {
    const answer = await get('/v1/exchange/topics');
    cat = {
      topicList: (answer.topics || []).map((t) => [t.code, t.label]),
      cancelReasons: (answer.cancel_reasons || []).map((t) => [t.code, t.label]),
    };
    cat.topics = new Map(cat.topicList);
    cache.set('exchange-catalogue', cat);
  }
  return cat;
}

function topicText(cat, code) {
  return cat.topics.get(code) || code || '–';
}

const yesNo = (value) => (value ? 'ja' : 'nein');
const hours = (n) => `${n} ${n === 1 ? 'Stunde' : 'Stunden'}`;

// A submit answer (202): what to tell the user.
const SUBMITTED = 'An den Kreis übermittelt. Ob er es annimmt, steht unter „Übermittlungen“; die Börse zeigt die Änderung, sobald er sie bestätigt hat.';

// ---- Board ---------------------------------------------------------------------------------

export async function boardPage(view, ctx) {
  const topic = ctx.query.get('topic') || '';
  frame(view, '', 'Transferbörse');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Börse wird geladen …'));
  const filterArea = h('div', {});
  view.append(filterArea, area);
  let cat;
  let board;
  try {
    [cat, board] = await Promise.all([catalogue(), get('/v1/exchange/board', { topic })]);
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  const topicSelect = select({ 'data-testid': 'exchange-topic-filter' }, cat.topicList, { value: topic, placeholder: 'Alle Themen' });
  const filter = h('form', { class: 'filter inline', 'data-testid': 'exchange-filter-form' },
    field('Thema', topicSelect),
    h('button', { type: 'submit', 'data-testid': 'exchange-topic-apply' }, 'Anzeigen'));
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go(topicSelect.value ? `#/exchange?topic=${encodeURIComponent(topicSelect.value)}` : '#/exchange');
  });
  replace(filterArea, filter);
  renderBoard(area, cat, board, { topic });
}

function renderBoard(area, cat, board, { mineOnly = false, topic = '' } = {}) {
  const offers = (board.offers || []).filter((o) => !mineOnly || o.mine);
  const requests = (board.requests || []).filter((r) => !mineOnly || r.mine);
  const offerTitle = new Map((board.offers || []).map((o) => [o.id, `${o.title} (${nodeName(o.town)})`]));
  replace(area,
    h('p', { class: 'hint', 'data-testid': 'exchange-head' },
      `Stand der Börse: Änderung ${board.head || 0}.`, topic ? ` Gefiltert nach: ${topicText(cat, topic)}.` : ''),
    h('section', { 'aria-labelledby': 'offers-h' },
      h('h2', { id: 'offers-h' }, mineOnly ? 'Eigene Angebote' : 'Angebote'),
      offers.length ? h('div', { class: 'cards', 'data-testid': 'board-offers' }, offers.map((o) => offerCard(o, cat)))
        : h('p', { class: 'empty', 'data-testid': 'board-offers-empty' }, 'Keine Angebote.')),
    h('section', { 'aria-labelledby': 'requests-h' },
      h('h2', { id: 'requests-h' }, mineOnly ? 'Eigene Anfragen' : 'Anfragen'),
      table({
        testid: 'board-requests', rowTestid: 'board-request', rows: requests, rowAttrs: (r) => ({ 'data-id': r.id }),
        empty: 'Keine Anfragen.',
        columns: [
          ['Stadt', (r) => [nodeName(r.town), r.mine ? [' ', badge('eigene', 'ok')] : null]],
          ['Gesucht', (r) => (r.topic ? `Thema: ${topicText(cat, r.topic)}` : `Angebot: ${offerTitle.get(r.offer_id) || shortId(r.offer_id)}`)],
          ['Notiz', (r) => r.note || '–'],
          ['Veröffentlicht', (r) => fmtDateTime(r.published_at_ms)],
          ['Aktion', (r) => (r.mine ? withdrawControl(r.id, 'Anfrage zurückziehen') : '–')],
        ],
      })));
}

function offerCard(o, cat) {
  const headingId = `offer-${o.id}`;
  return h('article', { class: 'card', 'data-testid': 'board-offer', 'data-id': o.id, 'aria-labelledby': headingId },
    h('h3', { id: headingId }, o.title),
    h('p', {}, `${nodeName(o.town)}`, o.mine ? [' ', badge('eigenes Angebot', 'ok')] : null),
    dl([
      ['Themen', o.topics.map((t) => topicText(cat, t)).join(', ')],
      ['Zielgruppe', o.target_group],
      ['Ergebnisse', o.results],
      ['Erfolgsfaktoren', o.success_factors],
      ['Stolpersteine', o.pitfalls],
      ['Präsentation', yesNo(o.presentation)],
      ['Unterlagen', yesNo(o.documents)],
      ['Coaching', `${hours(o.coaching_hours)} je Transfer, ${hours(o.capacity_per_quarter)} je Quartal`],
      ['Veröffentlicht', fmtDateTime(o.published_at_ms)],
    ]),
    h('div', { class: 'actions' },
      o.mine
        ? [link(`#/exchange/offer/${o.id}`, 'Angebot bearbeiten', { class: 'button secondary', 'data-testid': 'exchange-offer-edit' }),
          withdrawControl(o.id, 'Angebot zurückziehen')]
        : link(`#/exchange/request?offer=${o.id}`, 'Dieses Angebot anfragen', { class: 'button', 'data-testid': 'exchange-offer-request' })));
}

// A button that withdraws one of this town's items, with its own messages.
function withdrawControl(id, text) {
  const errorBox = alertBox('exchange-withdraw-alert');
  const status = statusBox('exchange-withdraw-status');
  const form = h('form', { class: 'inline-action', 'data-testid': 'exchange-withdraw-form' },
    errorBox, status,
    h('button', { type: 'submit', class: 'danger small', 'data-testid': 'exchange-withdraw' }, text));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setBusy(form, true);
    let done = false;
    try {
      await post(p`/v1/exchange/items/${id}/withdraw`, {});
      showText(errorBox, '');
      showText(status, 'Zurückziehen übermittelt. Der Eintrag verschwindet, sobald der Kreis es bestätigt hat.');
      done = true;
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
      if (done) form.querySelector('button').disabled = true;
    }
  });
  return form;
}

export async function minePage(view, ctx) {
  frame(view, 'mine', 'Eigene Einträge');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(area);
  try {
    const [cat, board] = await Promise.all([catalogue(), get('/v1/exchange/board')]);
    renderBoard(area, cat, board, { mineOnly: true });
  } catch (error) {
    replace(area);
    ctx.fail(error);
  }
}

// ---- Publishing an offer ---------------------------------------------------------------------

export async function offerPage(view, ctx) {
  const id = ctx.params.id || '';
  frame(view, 'offer', id ? 'Angebot bearbeiten' : 'Angebot veröffentlichen');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(area);
  let cat;
  let existing = null;
  try {
    cat = await catalogue();
    if (id) {
      const board = await get('/v1/exchange/board');
      existing = (board.offers || []).find((o) => o.id === id && o.mine) || null;
      if (!existing) {
        replace(area, h('p', { class: 'note' }, 'Dieses Angebot ist nicht (mehr) als eigenes Angebot auf der Börse.'));
        return;
      }
    }
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  const e = existing || {};
  const errorBox = alertBox('offer-form-alert');
  const title = h('input', { type: 'text', required: true, maxlength: '200', value: e.title || '', 'data-testid': 'offer-title' });
  const topics = choiceGroup({
    legend: 'Themen (1 bis 8)', name: 'offer-topics', options: cat.topicList, checked: e.topics || [], testid: 'offer-topics',
  });
  const text = (testid, value) => h('textarea', { rows: '3', maxlength: '4000', 'data-testid': testid, value: value || '' });
  const targetGroup = text('offer-target-group', e.target_group);
  const results = text('offer-results', e.results);
  const successFactors = text('offer-success-factors', e.success_factors);
  const pitfalls = text('offer-pitfalls', e.pitfalls);
  const presentation = h('input', { type: 'checkbox', id: 'offer-presentation', checked: Boolean(e.presentation), 'data-testid': 'offer-presentation' });
  const documents = h('input', { type: 'checkbox', id: 'offer-documents', checked: Boolean(e.documents), 'data-testid': 'offer-documents' });
  const coachingHours = h('input', { type: 'number', required: true, min: '1', max: '1000', step: '1', inputmode: 'numeric',
    value: e.coaching_hours !== undefined ? String(e.coaching_hours) : '', 'data-testid': 'offer-hours' });
  const capacity = h('input', { type: 'number', required: true, min: '0', max: '10000', step: '1', inputmode: 'numeric',
    value: e.capacity_per_quarter !== undefined ? String(e.capacity_per_quarter) : '0', 'data-testid': 'offer-capacity' });
  const form = h('form', { class: 'stack', 'data-testid': 'offer-form' },
    errorBox,
    field('Titel', title),
    topics,
    field('Zielgruppe', targetGroup, 'Für wen ist die Maßnahme?'),
    field('Ergebnisse', results, 'Was ist daraus geworden?'),
    field('Erfolgsfaktoren', successFactors, 'Was hat es gelingen lassen?'),
    field('Stolpersteine', pitfalls, 'Worauf sollte man achten?'),
    h('div', { class: 'choice' }, presentation, h('label', { for: 'offer-presentation' }, 'Wir stellen die Maßnahme vor.')),
    h('div', { class: 'choice' }, documents, h('label', { for: 'offer-documents' }, 'Wir geben Unterlagen weiter.')),
    field('Stunden je Coaching', coachingHours, 'Wie viele Stunden ein Transfer dauert (1 bis 1000).'),
    field('Stunden je Quartal', capacity, 'Wie viele Stunden Coaching Sie mit diesem Angebot je Quartal leisten können.'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'offer-submit' }, existing ? 'Angebot ersetzen' : 'Angebot veröffentlichen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = checkedValues(topics, 'offer-topics');
    const body = {
      title: oneLine(title.value),
      topics: chosen,
      presentation: presentation.checked,
      documents: documents.checked,
      coaching_hours: Number(coachingHours.value),
      capacity_per_quarter: Number(capacity.value),
    };
    // The texts keep their paragraphs; an empty one is left out
    [['target_group', targetGroup], ['results', results], ['success_factors', successFactors],
      ['pitfalls', pitfalls]].forEach(([name, input]) => {
      const text = input.value.trim();
      if (text) body[name] = text;
    });
    if (existing) body.id = existing.id;
    const inRange = (n, low, high) => Number.isInteger(n) && n >= low && n <= high;
    let problem = null;
    if (!body.title) problem = ['Bitte einen Titel angeben.', title];
    else if (chosen.length < 1 || chosen.length > 8) problem = ['Bitte 1 bis 8 Themen wählen.', null];
    else if (!inRange(body.coaching_hours, 1, 1000)) problem = ['Die Stunden je Coaching sind eine ganze Zahl von 1 bis 1000.', coachingHours];
    else if (!inRange(body.capacity_per_quarter, 0, 10000)) problem = ['Die Stunden je Quartal sind eine ganze Zahl von 0 bis 10000.', capacity];
    if (problem) {
      showText(errorBox, problem[0]);
      if (problem[1]) problem[1].focus();
      return;
    }
    setBusy(form, true);
    try {
      await post('/v1/exchange/offers', body);
      ctx.go('#/exchange/submissions', `Angebot: ${SUBMITTED}`);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  replace(area, form);
}

// ---- Publishing a request ---------------------------------------------------------------------

export async function requestPage(view, ctx) {
  const wanted = ctx.query.get('offer') || '';
  frame(view, 'request', 'Anfrage stellen');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(area);
  let cat;
  let board;
  try {
    [cat, board] = await Promise.all([catalogue(), get('/v1/exchange/board')]);
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  const others = (board.offers || []).filter((o) => !o.mine);
  const errorBox = alertBox('request-form-alert');
  const mode = choiceGroup({
    legend: 'Wonach fragen Sie?', name: 'request-mode', type: 'radio', testid: 'request-mode',
    options: [['topic', 'Nach einem Thema (jedes passende Angebot)'], ['offer', 'Nach einem bestimmten Angebot']],
    checked: [wanted ? 'offer' : 'topic'],
  });
  const topic = select({ 'data-testid': 'request-topic' }, cat.topicList, { placeholder: 'Bitte wählen' });
  const offer = select({ 'data-testid': 'request-offer' },
    others.map((o) => [o.id, `${o.title} – ${nodeName(o.town)}`]),
    { value: others.some((o) => o.id === wanted) ? wanted : undefined, placeholder: others.length ? 'Bitte wählen' : 'Keine Angebote anderer Städte' });
  const topicField = field('Thema', topic);
  const offerField = field('Angebot', offer);
  const note = h('textarea', { rows: '2', maxlength: '1000', 'data-testid': 'request-note' });
  const switchMode = () => {
    const m = checkedValues(mode, 'request-mode')[0];
    topicField.hidden = m !== 'topic';
    offerField.hidden = m !== 'offer';
  };
  mode.addEventListener('change', switchMode);
  switchMode();
  const form = h('form', { class: 'stack', 'data-testid': 'request-form' },
    errorBox, mode, topicField, offerField,
    field('Notiz', note, 'Optional, zum Beispiel der gewünschte Zeitraum.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': 'request-submit' }, 'Anfrage veröffentlichen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const m = checkedValues(mode, 'request-mode')[0];
    const body = {};
    if (m === 'offer') {
      if (!offer.value) { showText(errorBox, 'Bitte ein Angebot wählen.'); offer.focus(); return; }
      body.offer_id = offer.value;
    } else {
      if (!topic.value) { showText(errorBox, 'Bitte ein Thema wählen.'); topic.focus(); return; }
      body.topic = topic.value;
    }
    const text = note.value.trim();
    if (text) body.note = text;
    setBusy(form, true);
    try {
      await post('/v1/exchange/requests', body);
      ctx.go('#/exchange/submissions', `Anfrage: ${SUBMITTED}`);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  replace(area, form);
}

// ---- Submissions ----------------------------------------------------------------------------

function submissionBadge(state) {
  const kind = state === 'refused' || state === 'dead' ? 'warn' : state === 'queued' || state === 'unknown' ? 'new' : 'ok';
  return badge(label(SUBMISSION_STATES, state), kind);
}

export async function submissionsPage(view, ctx) {
  frame(view, 'submissions', 'Übermittlungen an den Kreis');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(
    h('p', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', 'data-testid': 'exchange-refresh',
      on: { click: () => ctx.reload() } }, 'Aktualisieren')),
    area);
  let list;
  try {
    list = ((await get('/v1/exchange/submissions')).submissions || []).slice().reverse();
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  replace(area, table({
    caption: 'Neueste zuerst', testid: 'submission-table', rowTestid: 'submission-row', rows: list,
    rowAttrs: (s) => ({ 'data-id': s.message_id, 'data-state': s.state, 'data-subject': s.subject_id }),
    empty: 'Noch nichts übermittelt.',
    columns: [
      ['Gesendet', (s) => fmtDateTime(s.at_ms)],
      ['Art', (s) => label(SUBMISSION_KINDS, s.kind)],
      ['Betrifft', (s) => h('code', {}, shortId(s.subject_id))],
      ['Stand', (s) => submissionBadge(s.state)],
      ['Grund', (s) => (s.reason ? reasonText(s.reason) : '–')],
    ],
  }));
}

// ---- Agreements --------------------------------------------------------------------------------

export async function agreementsPage(view, ctx) {
  const state = ctx.query.get('state') || '';
  frame(view, 'agreements', 'Vereinbarungen');
  const stateSelect = select({ 'data-testid': 'agreement-state-filter' },
    Object.entries(AGREEMENT_STATES), { value: state, placeholder: 'Alle' });
  const filter = h('form', { class: 'filter inline' },
    field('Stand', stateSelect),
    h('button', { type: 'submit', 'data-testid': 'agreement-state-apply' }, 'Anzeigen'),
    h('button', { type: 'button', class: 'secondary', 'data-testid': 'exchange-refresh', on: { click: () => ctx.reload() } }, 'Aktualisieren'));
  filter.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.go(stateSelect.value ? `#/exchange/agreements?state=${encodeURIComponent(stateSelect.value)}` : '#/exchange/agreements');
  });
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(
    h('p', {}, 'Der Kreis schlägt Transfers vor. Beide Städte sagen zu, eine setzt den Termin, nach dem Coaching bestätigen beide den Abschluss; dann steht der Transfer in der Bilanz.'),
    filter, area);
  let cat;
  let list;
  try {
    [cat, list] = await Promise.all([catalogue(), get('/v1/exchange/agreements', { state })]);
    list = list.agreements || [];
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  if (!list.length) {
    replace(area, h('p', { class: 'empty', 'data-testid': 'agreements-empty' }, 'Keine Vereinbarungen.'));
    return;
  }
  replace(area, h('div', { class: 'cards', 'data-testid': 'agreements' }, list.map((a) => agreementCard(a, cat))));
}

function agreementCard(a, cat) {
  const headingId = `agr-${a.id}`;
  const provider = a.role === 'provider';
  const iAccepted = provider ? a.provider_accepted : a.receiver_accepted;
  const iSigned = provider ? a.provider_signed : a.receiver_signed;
  const anySigned = a.provider_signed || a.receiver_signed;
  const errorBox = alertBox('agreement-alert');
  const status = statusBox('agreement-status');
  const actions = [];

  const act = (form, path, body) => async (event) => {
    event.preventDefault();
    const payload = typeof body === 'function' ? body() : body;
    if (!payload) return;
    setBusy(form, true);
    try {
      await post(path, payload);
      showText(errorBox, '');
      showText(status, SUBMITTED);
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  };

  if (a.state === 'proposed' && !iAccepted) {
    const form = h('form', { class: 'inline-action' },
      h('button', { type: 'submit', 'data-testid': 'agreement-accept' }, 'Zusagen'));
    form.addEventListener('submit', act(form, p`/v1/exchange/agreements/${a.id}/accept`, {}));
    actions.push(form);
  }
  if ((a.state === 'accepted' || a.state === 'scheduled') && !anySigned) {
    const date = h('input', { type: 'date', required: true, 'data-testid': 'agreement-schedule-date',
      value: a.scheduled_for_ms ? new Date(a.scheduled_for_ms).toISOString().slice(0, 10) : '' });
    const form = h('form', { class: 'inline-action' },
      field('Termin', date),
      h('button', { type: 'submit', 'data-testid': 'agreement-schedule' }, a.scheduled_for_ms ? 'Termin ändern' : 'Termin setzen'));
    form.addEventListener('submit', act(form, p`/v1/exchange/agreements/${a.id}/schedule`, () => {
      if (!date.value) {
        showText(errorBox, 'Bitte ein Datum wählen.');
        date.focus();
        return null;
      }
      return { scheduled_for_ms: utcMidnight(date.value) };
    }));
    actions.push(form);
  }
  if (a.state === 'scheduled' && !iSigned) {
    const form = h('form', { class: 'inline-action' },
      h('p', { class: 'hint' }, 'Erst am Tag des Termins oder danach möglich. Ihre Stelle unterschreibt den Abschluss digital.'),
      h('button', { type: 'submit', 'data-testid': 'agreement-complete' }, 'Coaching hat stattgefunden'));
    form.addEventListener('submit', act(form, p`/v1/exchange/agreements/${a.id}/complete`, {}));
    actions.push(form);
  }
  if (a.state === 'proposed' || a.state === 'accepted' || a.state === 'scheduled') {
    const reason = select({ required: true, 'data-testid': 'agreement-cancel-reason' }, cat.cancelReasons, { placeholder: 'Bitte wählen' });
    const form = h('form', { class: 'inline-action' },
      field('Grund der Absage', reason),
      h('button', { type: 'submit', class: 'danger', 'data-testid': 'agreement-cancel' }, 'Absagen'));
    form.addEventListener('submit', act(form, p`/v1/exchange/agreements/${a.id}/cancel`, () => {
      if (!reason.value) {
        showText(errorBox, 'Bitte einen Grund für die Absage wählen.');
        reason.focus();
        return null;
      }
      return { reason: reason.value };
    }));
    actions.push(form);
  }
  const cancelLabel = new Map(cat.cancelReasons).get(a.cancel_reason) || a.cancel_reason;

  return h('article', { class: 'card', 'data-testid': 'agreement-row', 'data-id': a.id, 'data-state': a.state, 'aria-labelledby': headingId },
    h('h3', { id: headingId }, `${topicText(cat, a.topic)}: ${nodeName(a.provider)} coacht ${nodeName(a.receiver)}`),
    h('p', {}, badge(label(AGREEMENT_STATES, a.state), a.state === 'cancelled' ? 'warn' : a.state === 'completed' ? 'final' : 'ok'),
      ' ', provider ? 'Ihre Stadt coacht.' : 'Ihre Stadt wird gecoacht.',
      a.reciprocal ? [' ', badge('im Gegenzug', 'ok')] : null),
    dl([
      ['Umfang', hours(a.hours)],
      ['Quartal', fmtQuarter(a.quarter)],
      ['Zusagen', `${nodeName(a.provider)}: ${yesNo(a.provider_accepted)}, ${nodeName(a.receiver)}: ${yesNo(a.receiver_accepted)}`],
      ['Termin', a.scheduled_for_ms ? fmtDateUtc(a.scheduled_for_ms) : '–'],
      ['Abschluss bestätigt', `${nodeName(a.provider)}: ${yesNo(a.provider_signed)}, ${nodeName(a.receiver)}: ${yesNo(a.receiver_signed)}`],
      a.completed_ms ? ['Abgeschlossen am', fmtDateTime(a.completed_ms)] : null,
      a.ledger_sequence ? ['Bilanz-Eintrag', `Nr. ${a.ledger_sequence}`] : null,
      a.state === 'cancelled' ? ['Abgesagt', `${cancelLabel || '–'} (von ${nodeName(a.cancelled_by)})`] : null,
      ['Vorgeschlagen', fmtDateTime(a.proposed_at_ms)],
      ['Begründung des Vorschlags', h('span', { lang: 'en' }, a.why)],
    ]),
    errorBox, status,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

// ---- Ledger ----------------------------------------------------------------------------------------

export async function ledgerPage(view, ctx) {
  frame(view, 'ledger', 'Bilanz der Transferbörse');
  const area = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  view.append(area);
  let cat;
  let ledger;
  try {
    [cat, ledger] = await Promise.all([catalogue(), get('/v1/exchange/ledger')]);
  } catch (error) {
    replace(area);
    ctx.fail(error);
    return;
  }
  const status = cache.get('status');
  const own = status ? status.node : '';
  const balances = Object.entries(ledger.balances || {}).sort(([a], [b]) => nodeName(a).localeCompare(nodeName(b), 'de'));
  const signed = (n) => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');
  replace(area,
    h('div', { class: ledger.verified ? 'verify ok' : 'verify warn', 'data-testid': 'ledger-verified', 'data-verified': String(Boolean(ledger.verified)) },
      ledger.verified
        ? h('p', {}, `Die Bilanz ist geprüft und stimmt: ${ledger.checked} Einträge geprüft (Prüfkette, beide Unterschriften, Salden). Summe aller Salden: ${signed(ledger.total)}.`)
        : [h('p', {}, 'Die Prüfung der Bilanz ist fehlgeschlagen. Bitte den Kreis informieren.'),
          h('p', { class: 'detail', lang: 'en' }, ledger.problem || ''),
          h('p', {}, `Geprüft: ${ledger.checked} Einträge. Summe aller Salden: ${signed(ledger.total)}.`)]),
    h('section', { 'aria-labelledby': 'bal-h' },
      h('h2', { id: 'bal-h' }, 'Salden'),
      h('p', { class: 'hint' }, 'Geleistete minus erhaltene Coaching-Stunden.'),
      table({
        testid: 'ledger-balances', rowTestid: 'ledger-balance', rows: balances,
        rowAttrs: ([node]) => ({ 'data-id': node, class: node === own ? 'own' : undefined }),
        empty: 'Noch keine abgeschlossenen Transfers.',
        columns: [
          ['Stadt', ([node]) => [nodeName(node), node === own ? ' (eigene Stadt)' : '']],
          ['Saldo', ([, n]) => `${signed(n)} h`],
        ],
      })),
    h('section', { 'aria-labelledby': 'rec-h' },
      h('h2', { id: 'rec-h' }, 'Abgeschlossene Transfers'),
      table({
        testid: 'ledger-records', rowTestid: 'ledger-record', rows: ledger.records || [],
        rowAttrs: (r) => ({ 'data-id': r.transfer_id }),
        empty: 'Noch keine Einträge.',
        columns: [
          ['Nr.', (r) => String(r.sequence)],
          ['Coaching durch', (r) => nodeName(r.provider)],
          ['Für', (r) => nodeName(r.receiver)],
          ['Thema', (r) => topicText(cat, r.topic)],
          ['Stunden', (r) => String(r.hours)],
          ['Abgeschlossen', (r) => fmtDateTime(r.completed_ms)],
          ['Eingetragen', (r) => fmtDateTime(r.recorded_ms)],
          ['Prüfsumme', (r) => h('code', { class: 'mono' }, `${r.hash.slice(0, 16)}…`)],
        ],
      })));
}
