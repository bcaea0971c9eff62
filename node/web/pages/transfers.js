// Fallübergabe: hand a case over to the town a family moves to (SGB VIII
// § 86c), and answer the cases other towns hand over to this one.

import { get, post, p, reasonText } from '../api.js';
import {
  h, replace, alertBox, showError, showText, setBusy, field, select, table, dl, link, badge,
  fmtDateTime, shortId, jsonView,
} from '../dom.js';
import {
  SERVICES, CATEGORIES, TRANSFER_STATES, DIRECTIONS, DECLINE_REASONS, PLACES, label, options,
  nodeName, peerText,
} from '../catalog.js';
import { caseFormPage } from './casepage.js';

function stateBadge(state) {
  return badge(label(TRANSFER_STATES, state), state === 'requested' ? 'new' : state === 'declined' ? 'warn' : 'ok');
}

function targetText(to) {
  if (!to) return '–';
  const where = PLACES.find((pl) => pl.ags && pl.ags === to.ags);
  return `${label(SERVICES, to.service)} – ${nodeName(to.node)}${to.ags ? ` (AGS ${to.ags}${where ? `, ${where.name}` : ''})` : ''}`;
}

// ---- Hand a case over -------------------------------------------------------------------

export async function newPage(view, ctx) {
  const opened = await caseFormPage(view, ctx, 'Fall übergeben');
  if (!opened) return;
  const { kase, body } = opened;
  const caseId = ctx.params.id;
  if (kase.state !== 'open') {
    replace(body, h('p', { class: 'note' }, kase.state === 'transferring'
      ? 'Dieser Fall wird bereits übergeben. Die Antwort der anderen Stelle steht unter „Fallübergabe“.'
      : 'Dieser Fall wird nicht mehr hier geführt.'),
    h('p', {}, link('#/transfers', 'Zur Fallübergabe')));
    return;
  }
  const errorBox = alertBox('transfer-form-alert');
  const ags = h('input', {
    type: 'text', required: true, pattern: '[0-9]{8}', maxlength: '8', inputmode: 'numeric', list: 'transfer-ags-list',
    title: '8 Ziffern', 'data-testid': 'transfer-ags',
  });
  const service = select({ required: true, 'data-testid': 'transfer-service' }, options(SERVICES), { value: 'jugendamt' });
  const form = h('form', { class: 'stack', 'data-testid': 'transfer-form' },
    errorBox,
    h('datalist', { id: 'transfer-ags-list' }, PLACES.filter((pl) => pl.ags).map((pl) => h('option', { value: pl.ags }, pl.name))),
    field('Gemeinde, in die die Familie zieht (AGS, 8 Ziffern)', ags),
    field('Dienst, der den Fall übernimmt', service, 'In der Regel das Jugendamt. Die zuständige Stelle ergibt sich aus dem Verzeichnis des Kreises.'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'transfer-submit' }, 'Fall übergeben'),
      link(`#/cases/${caseId}`, 'Abbrechen', { class: 'button secondary' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = ags.value.trim();
    if (!/^[0-9]{8}$/.test(value)) {
      showText(errorBox, 'Der Gemeindeschlüssel (AGS) hat 8 Ziffern.');
      ags.focus();
      return;
    }
    setBusy(form, true);
    try {
      const transfer = await post(p`/v1/cases/${caseId}/transfer`, { ags: value, service: service.value });
      ctx.go(`#/transfers/${transfer.id}`, transfer.httpStatus === 200
        ? 'Diese Übergabe war bereits angefragt; es wurde nichts erneut gesendet.'
        : 'Die Übergabe wurde angefragt. Der Fall ist bis zur Antwort gesperrt.');
    } catch (error) {
      showError(errorBox, error);
    } finally {
      setBusy(form, false);
    }
  });
  replace(body,
    h('p', {}, `Fall ${shortId(caseId)} geht an die zuständige Stelle der neuen Gemeinde (Zuständigkeitswechsel, § 86c SGB VIII). Es wird der ganze Fall übermittelt: Haushalt, Fallverlauf und alle Angaben. Nimmt die Stelle an, bleiben hier nur Vermerke über die Übergabe; lehnt sie ab, bleibt der Fall hier offen.`),
    form);
}

// ---- Lists --------------------------------------------------------------------------------

export async function listPage(view, ctx) {
  const inArea = h('div', {}, h('p', { class: 'loading' }, 'Wird geladen …'));
  const outArea = h('div', {});
  view.append(
    h('h1', {}, 'Fallübergabe'),
    h('p', {}, 'Einen Fall übergeben Sie auf der Seite des Falls mit „Fall übergeben“.'),
    h('section', { 'aria-labelledby': 'tin-h' }, h('h2', { id: 'tin-h' }, 'Angebotene Fälle (eingehend)'), inArea),
    h('section', { 'aria-labelledby': 'tout-h' }, h('h2', { id: 'tout-h' }, 'Abgegebene Fälle (ausgehend)'), outArea));
  let all;
  try {
    all = (await get('/v1/transfers')).transfers || [];
  } catch (error) {
    replace(inArea);
    ctx.fail(error);
    return;
  }
  all.sort((a, b) => (b.created_at_ms || 0) - (a.created_at_ms || 0));
  replace(inArea, table({
    testid: 'transfer-in-table', rowTestid: 'transfer-in-row', rowAttrs: (t) => ({ 'data-id': t.id }),
    rows: all.filter((t) => t.direction === 'incoming'), empty: 'Keine angebotenen Fälle.',
    columns: [
      ['Angefragt', (t) => link(`#/transfers/${t.id}`, fmtDateTime(t.created_at_ms), { 'data-testid': 'transfer-open' })],
      ['Von', (t) => peerText(t.peer)],
      ['Für', (t) => label(SERVICES, t.to && t.to.service)],
      ['Stand', (t) => stateBadge(t.state)],
      ['Fall hier', (t) => (t.case_id ? link(`#/cases/${t.case_id}`, `Fall ${shortId(t.case_id)}`) : '–')],
    ],
  }));
  replace(outArea, table({
    testid: 'transfer-out-table', rowTestid: 'transfer-out-row', rowAttrs: (t) => ({ 'data-id': t.id }),
    rows: all.filter((t) => t.direction === 'outgoing'), empty: 'Keine abgegebenen Fälle.',
    columns: [
      ['Angefragt', (t) => link(`#/transfers/${t.id}`, fmtDateTime(t.created_at_ms), { 'data-testid': 'transfer-open' })],
      ['Fall', (t) => (t.case_id ? link(`#/cases/${t.case_id}`, `Fall ${shortId(t.case_id)}`) : '–')],
      ['An', (t) => targetText(t.to)],
      ['Stand', (t) => stateBadge(t.state)],
    ],
  }));
}

// ---- One transfer --------------------------------------------------------------------------

export async function detailPage(view, ctx) {
  const { id } = ctx.params;
  const body = h('div', {}, h('p', { class: 'loading' }, 'Übergabe wird geladen …'));
  // The administration (emergency access) has no list of transfers: back to the cases
  view.append(h('p', { class: 'back' }, ctx.readOnly ? link('#/cases', 'Zurück zu den Fällen')
    : link('#/transfers', 'Zurück zur Fallübergabe')),
  h('h1', {}, `Fallübergabe ${shortId(id)}`), body);
  let t;
  try {
    t = await get(p`/v1/transfers/${id}`);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  const incoming = t.direction === 'incoming';
  replace(body,
    dl([
      ['Richtung', label(DIRECTIONS, t.direction)],
      ['Stand', h('span', { 'data-testid': 'transfer-state' }, stateBadge(t.state))],
      incoming ? ['Von', peerText(t.peer)] : ['An', targetText(t.to)],
      incoming ? ['Für (eigener Dienst)', label(SERVICES, t.to && t.to.service)] : null,
      t.case_id ? ['Fall hier', link(`#/cases/${t.case_id}`, `Fall ${shortId(t.case_id)}`, { 'data-testid': 'transfer-case' })] : null,
      t.statute ? ['Rechtsgrundlage', t.statute] : ['Rechtsgrundlage', 'SGB VIII § 86c'],
      t.categories ? ['Übermittelte Daten', t.categories.map((c) => label(CATEGORIES, c)).join(', ')] : null,
      ['Angefragt', fmtDateTime(t.created_at_ms)],
    ], { 'data-testid': 'transfer-facts' }),
    incoming && t.sections ? h('section', { 'aria-labelledby': 'tsec-h' },
      h('h2', { id: 'tsec-h' }, 'Übermittelte Angaben'),
      h('div', { 'data-testid': 'transfer-sections' }, Object.entries(t.sections).map(([category, value]) =>
        h('div', { class: 'section-data' }, h('h3', {}, label(CATEGORIES, category)), jsonView(value))))) : null,
    incoming && t.state === 'requested' && !ctx.readOnly ? answerForms(t, ctx) : null,
    h('section', { 'aria-labelledby': 'thist-h' },
      h('h2', { id: 'thist-h' }, 'Verlauf'),
      (t.history || []).length ? h('ol', { class: 'timeline', 'data-testid': 'transfer-history' }, t.history.map((e) =>
        h('li', { 'data-testid': 'history-entry', 'data-state': e.state },
          h('span', { class: 'when' }, fmtDateTime(e.at_ms)), ' ',
          h('strong', {}, label(TRANSFER_STATES, e.state)),
          e.by ? ` – ${nodeName(e.by)}` : '',
          e.reason && e.reason !== 'OK' ? ` (Grund: ${DECLINE_REASONS[e.reason] || reasonText(e.reason)})` : '',
          e.text ? h('q', {}, e.text) : null))) : h('p', { class: 'empty' }, 'Noch keine Einträge.')));
}

function answerForms(t, ctx) {
  const acceptAlert = alertBox('transfer-accept-alert');
  const accept = h('form', { class: 'stack card', 'data-testid': 'transfer-accept-form' },
    h('h3', {}, 'Annehmen'),
    acceptAlert,
    h('p', {}, 'Der Fall wird hier als neuer Fall angelegt; die abgebende Stelle erfährt es.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': 'transfer-accept' }, 'Fall übernehmen')));
  accept.addEventListener('submit', async (event) => {
    event.preventDefault();
    setBusy(accept, true);
    try {
      const answer = await post(p`/v1/transfers/${t.id}/accept`, {});
      ctx.go(answer.case_id ? `#/cases/${answer.case_id}` : `#/transfers/${t.id}`, 'Der Fall wurde übernommen.');
    } catch (error) {
      showError(acceptAlert, error);
    } finally {
      setBusy(accept, false);
    }
  });
  const declineAlert = alertBox('transfer-decline-alert');
  const reason = select({ 'data-testid': 'transfer-decline-reason' }, options(DECLINE_REASONS), { placeholder: 'Ohne Angabe' });
  const decline = h('form', { class: 'stack card', 'data-testid': 'transfer-decline-form' },
    h('h3', {}, 'Ablehnen'),
    declineAlert,
    h('p', {}, 'Der Fall bleibt bei der abgebenden Stelle; die übermittelten Angaben werden hier gelöscht.'),
    field('Grund', reason),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger', 'data-testid': 'transfer-decline' }, 'Übernahme ablehnen')));
  decline.addEventListener('submit', async (event) => {
    event.preventDefault();
    setBusy(decline, true);
    try {
      await post(p`/v1/transfers/${t.id}/decline`, reason.value ? { reason: reason.value } : {});
      ctx.reload('Die Übernahme wurde abgelehnt.');
    } catch (error) {
      showError(declineAlert, error);
    } finally {
      setBusy(decline, false);
    }
  });
  return h('section', { 'aria-labelledby': 'tans-h' }, h('h2', { id: 'tans-h' }, 'Antworten'), accept, decline);
}
