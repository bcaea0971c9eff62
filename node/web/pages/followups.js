// Wiedervorlagen: the open cases of the user's offices with a follow-up
// date, earliest first, those due marked "fällig" (GET /v1/follow-ups). The
// list holds no names of the families: case numbers, dates and staff.

import { get } from '../api.js';
import { h, replace, uid, table, badge, link, fmtDate, fmtDateTime, shortId } from '../dom.js';
import { CASE_KINDS, SERVICES, label } from '../catalog.js';

export async function followUpsPage(view, ctx) {
  const user = ctx.session.user;
  // "Nur meine": the cases whose caseworker is the logged-in user's name
  const mine = h('input', {
    type: 'checkbox', id: uid('mine'), checked: ctx.query.get('mine') === '1', 'data-testid': 'follow-ups-mine',
  });
  const count = h('p', { class: 'count', role: 'status', 'data-testid': 'follow-ups-count' });
  const area = h('div', { 'data-testid': 'follow-ups' }, h('p', { class: 'loading' }, 'Wiedervorlagen werden geladen …'));
  const mineField = h('div', { class: 'choice' }, mine,
    h('label', { for: mine.id }, `Nur meine (als Sachbearbeitung ist „${user}“ eingetragen)`));
  view.append(
    h('h1', {}, 'Wiedervorlagen'),
    h('p', {}, 'Die offenen Fälle Ihrer Stellen mit einem Datum zur Wiedervorlage, das früheste zuerst. Ein Fall ist fällig, sobald sein Tag gekommen ist.'),
    h('form', { class: 'filter', on: { submit: (e) => e.preventDefault() } }, mineField),
    count,
    area);

  let seq = 0; // the latest load; older answers are dropped
  const load = async () => {
    const mySeq = ++seq;
    let answer;
    try {
      answer = await get('/v1/follow-ups', mine.checked ? { caseworker: user } : undefined);
    } catch (error) {
      if (mySeq !== seq) return;
      replace(area);
      ctx.fail(error);
      return;
    }
    if (mySeq !== seq) return;
    const list = answer.follow_ups || [];
    const due = list.filter((f) => f.due).length;
    count.textContent = `${list.length} ${list.length === 1 ? 'Wiedervorlage' : 'Wiedervorlagen'}, davon ${due} fällig (Stand: ${fmtDateTime(answer.at_ms)})`;
    replace(area, table({
      caption: mine.checked ? 'Ihre Wiedervorlagen' : 'Wiedervorlagen Ihrer Stellen',
      testid: 'follow-up-table',
      rowTestid: 'follow-up-row',
      rowAttrs: (f) => ({ 'data-id': f.id, 'data-due': f.due ? 'true' : 'false', class: f.due ? 'due' : undefined }),
      empty: mine.checked ? 'Keine Wiedervorlagen für Sie.' : 'Keine Wiedervorlagen.',
      rows: list,
      columns: [
        ['Wiedervorlage', (f) => [fmtDate(f.follow_up_ms), f.due ? [' ', badge('fällig', 'warn')] : null]],
        ['Fall', (f) => link(`#/cases/${f.id}`, `Fall ${shortId(f.id)}`, { 'data-testid': 'follow-up-open' })],
        ['Art', (f) => label(CASE_KINDS, f.kind)],
        ['Stelle', (f) => label(SERVICES, f.office)],
        ['Aktenzeichen', (f) => f.external_ref || '–'],
        ['Sachbearbeitung', (f) => f.caseworker || '–'],
        ['Lotse', (f) => f.lotse || '–'],
      ],
    }));
  };
  mine.addEventListener('change', () => {
    // Kept in the address, so that going back shows the same list
    history.replaceState(null, '', mine.checked ? '#/follow-ups?mine=1' : '#/follow-ups');
    load();
  });
  await load();
}
