// The start of a form page about one case (a consent, a case transfer): the
// way back to the case, the title, and the case, read from the API.

import { get, p } from '../api.js';
import { h, replace, link } from '../dom.js';

// Returns {kase, body} with `body` the place for the form, or null after the
// page has shown why the case could not be read.
export async function caseFormPage(view, ctx, title) {
  const caseId = ctx.params.id;
  const body = h('div', {}, h('p', { class: 'loading' }, 'Fall wird geladen …'));
  view.append(
    h('p', { class: 'back' }, link(`#/cases/${caseId}`, 'Zurück zum Fall')),
    h('h1', {}, title),
    body);
  try {
    return { kase: await get(p`/v1/cases/${caseId}`), body };
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return null;
  }
}
