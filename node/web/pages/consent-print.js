// The consent form on paper: the town's letterhead, the consent in plain
// words, the signature lines and the information of Art. 13 DSGVO, in German
// and, side by side, in a second language the family reads (the texts are in
// consent-texts.js). A recorded consent has its own page for it
// (#/consents/<id>/print, "Drucken"); the form for a new consent prints what
// has been filled in so far through the print area (printConsentForm).

import { get, p, nodeStatus, directoryAddresses } from '../api.js';
import { h, replace, fmtDate, fmtDateTime, shortId, link, select, field } from '../dom.js';
import { CATEGORIES, PURPOSES, SERVICES, PLACES, label, nodeName } from '../catalog.js';
import { CONSENT_TEXTS, SECOND_LANGUAGES, AUTHORITY_DE, AUTHORITY_WHERE } from '../consent-texts.js';

// The town's letterhead for printed forms (GET /v1/status, from the node's
// configuration): {name, address, contact, dpo, missing}. Without a
// configured name the town's name stands in; `missing` says that something
// is not configured.
export async function letterheadOf() {
  const status = await nodeStatus();
  const configured = status.letterhead || {};
  const text = (key) => (typeof configured[key] === 'string' ? configured[key].trim() : '');
  const letterhead = { name: text('name'), address: text('address'), contact: text('contact'), dpo: text('dpo') };
  letterhead.missing = !letterhead.name || !letterhead.address || !letterhead.dpo;
  if (!letterhead.name) letterhead.name = nodeName(status.node);
  return letterhead;
}

// ---- Filling in the texts -------------------------------------------------------------------

// An empty line to fill in by hand.
function blank() {
  return h('span', { class: 'blank' }, '');
}

// A variable part (a name, a date, a German label): isolated from the text
// around it, so that it keeps its own direction inside an Arabic sentence.
function variable(value) {
  if (value === undefined || value === null || value === '') return blank();
  return value instanceof Node ? value : h('bdi', {}, value);
}

// 'vom {from} bis {until}' with values -> strings and nodes.
function fill(template, values) {
  return template.split(/\{(\w+)\}/).map((part, index) => (index % 2 ? variable(values[part]) : part));
}

// A catalogue label in a column: German, and in the second column also its
// translation where consent-texts.js has one: "Sprachförderung / Dil desteği".
function term(kind, map, code, lang) {
  const german = label(map, code);
  const labels = CONSENT_TEXTS[lang].labels;
  const translated = labels && labels[kind] && labels[kind][code];
  if (!translated) return h('bdi', { lang: 'de' }, german);
  return h('span', {}, h('bdi', { lang: 'de' }, german), ' / ', h('bdi', {}, translated));
}

// The supervisory authority: its German name, translated in the second
// column, and where it is.
function authority(t) {
  return h('span', {}, h('bdi', { lang: 'de' }, AUTHORITY_DE), t.authority ? [' (', t.authority, ')'] : null,
    ', ', h('bdi', { lang: 'de' }, AUTHORITY_WHERE));
}

// Where an address {ags, service} is: the directory's place, else the
// county's list, else the AGS.
function placeOf(address, directory) {
  const entry = directory.find((d) => d.ags === address.ags && d.service === address.service)
    || directory.find((d) => d.ags === address.ags);
  if (entry && entry.place) return entry.place;
  const place = PLACES.find((pl) => pl.ags && pl.ags === address.ags);
  return place ? place.name : `AGS ${address.ags}`;
}

function recipientTerm(address, directory, lang) {
  return h('span', {}, term('services', SERVICES, address.service, lang), ' – ',
    h('bdi', { lang: 'de' }, placeOf(address, directory)));
}

function list(items) {
  return items.length ? h('ul', {}, items.map((item) => h('li', {}, item))) : blank();
}

// ---- The document ---------------------------------------------------------------------------

// The form for `consent` (a recorded consent, or what the new-consent form
// says so far: missing parts print as empty lines). `letterhead` is
// {name, address, contact, dpo}, `directory` the addresses of GET
// /v1/directory (for the places' names), `second` a language code of
// SECOND_LANGUAGES or '' for German alone.
export function consentDocument(consent, { letterhead, directory = [], second = '' }) {
  const langs = second && CONSENT_TEXTS[second] ? ['de', second] : ['de'];
  const rtl = (code) => SECOND_LANGUAGES.some((l) => l.code === code && l.rtl);
  const cell = (code, content) => h('div', {
    class: code === 'de' ? 'col col-de' : 'col col-second',
    lang: code,
    dir: rtl(code) ? 'rtl' : 'ltr',
    'data-testid': code === 'de' ? 'consent-print-german' : 'consent-print-second',
  }, content);
  // One row: the same text in each language, side by side
  const pair = (make, cls = '') => h('div', { class: `pair ${cls}`.trim() },
    langs.map((code) => cell(code, make(CONSENT_TEXTS[code], code))));
  // A labelled fact: the label above its value
  const fact = (key, value) => pair((t, code) => [h('div', { class: 'term' }, t[key]),
    h('div', { class: 'value' }, value(t, code))], 'fact');

  const recipients = consent.recipients || [];
  const categories = consent.categories || [];
  const subjects = consent.subjects || [];
  const controller = letterhead.name;
  const sender = (code) => (consent.office
    ? h('span', {}, term('services', SERVICES, consent.office, code), ' – ', h('bdi', { lang: 'de' }, controller))
    : h('bdi', { lang: 'de' }, controller));
  const purpose = (code) => (consent.purpose ? term('purposes', PURPOSES, consent.purpose, code) : '');
  const dates = {
    from: consent.valid_from_ms ? fmtDate(consent.valid_from_ms) : '',
    until: consent.valid_until_ms ? fmtDate(consent.valid_until_ms) : '',
  };

  return h('article', { class: `consent-print ${langs.length > 1 ? 'bilingual' : 'monolingual'}`,
    'data-testid': 'consent-print-sheet', 'data-second': second || 'none' },
    h('header', { class: 'letterhead', lang: 'de', 'data-testid': 'consent-print-letterhead' },
      h('p', { class: 'letterhead-name' }, controller || blank()),
      letterhead.address ? h('p', {}, letterhead.address) : null,
      letterhead.contact ? h('p', {}, letterhead.contact) : null,
      consent.case_id ? h('p', { class: 'letterhead-ref' }, `Fall ${shortId(consent.case_id)}`) : null),
    pair((t) => h('h2', { class: 'doc-title' }, t.title), 'title'),
    pair((t) => h('p', { class: 'basis' }, t.basis)),
    langs.length > 1 ? pair((t) => h('p', { class: 'binding' }, t.binding)) : null,

    h('section', { class: 'facts' },
      fact('grantor', () => variable(consent.grantor)),
      fact('subjects', () => list(subjects.map((name) => h('bdi', {}, name)))),
      fact('sender', (t, code) => sender(code)),
      fact('recipients', (t, code) => list(recipients.map((r) => recipientTerm(r, directory, code)))),
      fact('purpose', (t, code) => purpose(code) || blank()),
      fact('categories', (t, code) => list(categories.map((c) => term('categories', CATEGORIES, c, code)))),
      fact('health', (t) => (consent.health_data ? t.healthYes : t.healthNo)),
      fact('validity', (t) => fill(t.validityText, dates))),

    h('section', { class: 'declaration' },
      pair((t) => h('h3', {}, t.declarationHeading), 'heading'),
      pair((t) => h('p', {}, t.declaration)),
      pair((t) => h('p', {}, consent.health_data ? t.healthYesText : t.healthNoText)),
      pair((t) => h('p', {}, t.voluntary)),
      pair((t) => h('p', { class: 'withdraw' }, fill(t.withdraw, { controller })))),

    h('section', { class: 'signatures' },
      h('div', { class: 'signature-row' },
        signature(langs, 'signPlace'),
        signature(langs, 'signGrantor')),
      h('div', { class: 'signature-row' }, signature(langs, 'signStaff'))),
    consent.id ? h('p', { class: 'print-ref', lang: 'de' },
      fill(CONSENT_TEXTS.de.recorded, { id: consent.id, date: fmtDateTime(consent.recorded_at_ms) })) : null,

    h('section', { class: 'information' },
      pair((t) => h('h3', {}, t.infoHeading), 'heading'),
      fact('controllerLabel', () => [
        h('bdi', { class: 'address-line' }, controller || blank()),
        letterhead.address ? h('bdi', { class: 'address-line' }, letterhead.address) : null,
        letterhead.contact ? h('bdi', { class: 'address-line' }, letterhead.contact) : null]),
      fact('dpoLabel', () => variable(letterhead.dpo)),
      fact('purposeLabel', (t, code) => fill(t.purposeText, { purpose: purpose(code) })),
      fact('legalLabel', (t) => (consent.health_data ? `${t.legalText} ${t.legalHealth}` : t.legalText)),
      fact('recipientsLabel', (t, code) => list(recipients.map((r) => recipientTerm(r, directory, code)))),
      fact('storageLabel', (t) => t.storageText),
      fact('rightsLabel', (t) => [h('p', {}, t.rightsIntro), h('ul', {}, t.rights.map((r) => h('li', {}, r))),
        h('p', {}, fill(t.rightsContact, { controller }))]),
      fact('complaintLabel', (t) => fill(t.complaintText, { authority: authority(t) }))));
}

// A signature line, labelled in each language ("Ort, Datum / Yer, tarih").
function signature(langs, key) {
  return h('div', { class: 'signature' },
    h('span', { class: 'line' }),
    langs.map((code) => h('span', {
      class: 'signature-label', lang: code, dir: SECOND_LANGUAGES.some((l) => l.code === code && l.rtl) ? 'rtl' : 'ltr',
    }, CONSENT_TEXTS[code][key])));
}

// The select "Zweite Sprache": none, or one of SECOND_LANGUAGES.
export function languageSelect(value, testid) {
  return select({ 'data-testid': testid },
    [['', 'keine (nur Deutsch)'], ...SECOND_LANGUAGES.map((l) => [l.code, `${l.german} – ${CONSENT_TEXTS[l.code].name}`])],
    { value: SECOND_LANGUAGES.some((l) => l.code === value) ? value : '' });
}

// ---- Printing from the form for a new consent -------------------------------------------------

// Fills the print area with the form for `consent` (what the form says so
// far) and opens the print dialog; only the print area is printed.
export function printConsentForm(consent, options) {
  const area = document.getElementById('print-area');
  replace(area, consentDocument(consent, options));
  document.body.classList.add('print-consent');
  window.addEventListener('afterprint', () => {
    document.body.classList.remove('print-consent');
    replace(area);
  }, { once: true });
  window.print();
}

// ---- The page of a recorded consent's form ---------------------------------------------------

// #/consents/<id>/print[?lang=tr]: the form on screen as it will print, with
// the choice of the second language and "Drucken".
export async function printPage(view, ctx) {
  const { id } = ctx.params;
  // Printed from here, the page prints (not a print area filled before)
  document.body.classList.remove('print-consent');
  const body = h('div', {}, h('p', { class: 'loading' }, 'Formular wird geladen …'));
  const back = h('p', { class: 'back no-print' }, link(`#/consents/${id}`, 'Zurück zur Einwilligung'));
  view.append(back, h('h1', { class: 'no-print' }, `Einwilligungsformular ${shortId(id)}`), body);
  let consent;
  let letterhead;
  let directory;
  try {
    [consent, letterhead, directory] = await Promise.all([
      get(p`/v1/consents/${id}`),
      letterheadOf(),
      // Only for the places' names: the form prints without it
      directoryAddresses().catch(() => []),
    ]);
  } catch (error) {
    replace(body);
    ctx.fail(error);
    return;
  }
  const language = languageSelect(ctx.query.get('lang') || '', 'consent-print-language');
  const sheet = h('div', { class: 'print-sheet' });
  const render = () => replace(sheet, consentDocument(consent, { letterhead, directory, second: language.value }));
  language.addEventListener('change', () => {
    render();
    // Keep the choice in the address (for reloading) without loading again
    const query = language.value ? `?lang=${language.value}` : '';
    history.replaceState(null, '', `#/consents/${id}/print${query}`);
  });
  render();
  replace(body,
    h('div', { class: 'no-print' },
      h('p', {}, 'Die Familie unterschreibt dieses Formular und erhält eine Kopie, auch wegen der Informationen zum Datenschutz. Wählen Sie eine zweite Sprache, die die Familie gut lesen kann; verbindlich ist der deutsche Text. Den Scan des unterschriebenen Formulars laden Sie auf der Seite der Einwilligung hoch.'),
      letterhead.missing ? h('p', { class: 'note warn', 'data-testid': 'consent-print-no-letterhead' },
        'Für diese Stelle ist kein Briefkopf eingerichtet (Name, Anschrift, Kontakt, Datenschutzbeauftragte). Bitte die Administration informieren; bis dahin enthält das Formular Leerzeilen zum Ausfüllen.') : null,
      h('div', { class: 'actions' },
        field('Zweite Sprache', language),
        h('button', { type: 'button', 'data-testid': 'consent-print-button', on: { click: () => window.print() } }, 'Drucken'))),
    sheet);
}
