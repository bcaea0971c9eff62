// Rendering helpers. Every element is built with document.createElement and
// every text goes in through textContent (never innerHTML), so data from the
// API can never become markup.

import { messageFor } from './api.js';

// h('p', {class: 'x', 'data-testid': 'y', on: {click: fn}}, 'text', child, ...)
// Attributes: class, for, on (event listeners), the boolean properties listed
// below, anything else through setAttribute. Children: strings, numbers,
// nodes, arrays of them; null, undefined and false are left out.
const BOOLEAN_PROPS = new Set(['hidden', 'disabled', 'required', 'checked', 'selected',
  'multiple', 'readOnly', 'open']);

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false && !BOOLEAN_PROPS.has(key)) continue;
    if (key === 'class') el.className = value;
    else if (key === 'for') el.htmlFor = value;
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (BOOLEAN_PROPS.has(key)) el[key] = Boolean(value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// ---- Dates: German format, Berlin time ---------------------------------------

const TZ = 'Europe/Berlin';
const dateTimeFormat = new Intl.DateTimeFormat('de-DE',
  { timeZone: TZ, dateStyle: 'medium', timeStyle: 'short' });
const dateFormat = new Intl.DateTimeFormat('de-DE', { timeZone: TZ, dateStyle: 'medium' });
const timeFormat = new Intl.DateTimeFormat('de-DE', { timeZone: TZ, timeStyle: 'short' });
const dateFormatUtc = new Intl.DateTimeFormat('de-DE', { timeZone: 'UTC', dateStyle: 'medium' });

export function fmtDateTime(ms) {
  return typeof ms === 'number' && ms > 0 ? dateTimeFormat.format(new Date(ms)) : '–';
}

export function fmtDate(ms) {
  return typeof ms === 'number' && ms > 0 ? dateFormat.format(new Date(ms)) : '–';
}

// '14:35 Uhr' for an instant of today (Berlin), else '13.03.2026, 14:35 Uhr'.
export function fmtClock(ms, now = Date.now()) {
  if (typeof ms !== 'number' || ms <= 0) return '–';
  const time = `${timeFormat.format(new Date(ms))} Uhr`;
  return isoDateBerlin(ms) === isoDateBerlin(now) ? time : `${dateFormat.format(new Date(ms))}, ${time}`;
}

// A date chosen as a UTC midnight (the Transferbörse's scheduled_for_ms).
export function fmtDateUtc(ms) {
  return typeof ms === 'number' && ms > 0 ? dateFormatUtc.format(new Date(ms)) : '–';
}

// Offset of Berlin time from UTC at the instant `ms`, in milliseconds.
function berlinOffset(ms) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: TZ, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'),
    get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// 'YYYY-MM-DD' (an <input type=date> value) -> ms of that day's 00:00 in Berlin.
export function berlinMidnight(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  const guess = Date.UTC(y, m - 1, d);
  let ms = guess - berlinOffset(guess);
  ms = guess - berlinOffset(ms);
  return ms;
}

// 'YYYY-MM-DD' -> ms of that day's 00:00 UTC.
export function utcMidnight(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return Date.UTC(y, m - 1, d);
}

// ms -> 'YYYY-MM-DD' of that instant in Berlin (for date inputs).
export function isoDateBerlin(ms) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function addDaysIso(isoDate, days) {
  const ms = utcMidnight(isoDate) + days * 86400000;
  return new Date(ms).toISOString().slice(0, 10);
}

// 20264 -> '4. Quartal 2026'
export function fmtQuarter(yyyyq) {
  if (typeof yyyyq !== 'number') return '–';
  return `${yyyyq % 10}. Quartal ${Math.floor(yyyyq / 10)}`;
}

export function shortId(id) {
  return typeof id === 'string' ? id.slice(0, 8) : '';
}

// ---- Messages ------------------------------------------------------------------

// A region for refusals. It exists (empty) from the start, so screen readers
// announce what is put into it later.
export function alertBox(testid) {
  return h('div', { class: 'alert', role: 'alert', 'data-testid': testid });
}

// A region for confirmations ("Gespeichert.").
export function statusBox(testid) {
  return h('div', { class: 'status', role: 'status', 'data-testid': testid });
}

// Puts the German message for an error into `box`, with the English detail in
// small print where it helps (MALFORMED and the like).
export function showError(box, err, context) {
  const { text, detail } = messageFor(err, context);
  replace(box, h('p', {}, text),
    detail ? h('p', { class: 'detail', lang: 'en' }, 'Technischer Hinweis: ', detail) : null);
}

export function showText(box, text) {
  replace(box, text ? h('p', {}, text) : null);
}

// Disables a form's buttons while a request runs.
export function setBusy(form, busy) {
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
  for (const button of form.querySelectorAll('button')) {
    if (busy) {
      button.dataset.wasDisabled = button.disabled ? '1' : '';
      button.disabled = true;
    } else {
      button.disabled = button.dataset.wasDisabled === '1';
      delete button.dataset.wasDisabled;
    }
  }
}

// ---- Building blocks -------------------------------------------------------------

let idCounter = 0;
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A labelled control: field('Benutzername', input, 'Hinweis').
export function field(labelText, control, hint) {
  if (!control.id) control.id = uid('f');
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${control.id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: control.id }, labelText), hintEl, control);
}

// options: [[value, label], ...]
export function select(attrs, options, { value, placeholder } = {}) {
  const el = h('select', attrs);
  if (placeholder !== undefined) el.appendChild(h('option', { value: '' }, placeholder));
  for (const [val, label] of options) {
    el.appendChild(h('option', { value: val, selected: val === value }, label));
  }
  if (value !== undefined) el.value = value;
  return el;
}

// A fieldset of checkboxes (or radios with type 'radio').
export function choiceGroup({ legend, name, options, checked = [], type = 'checkbox', testid,
  hint, required }) {
  const set = new Set(checked);
  const items = options.map(([value, label], index) => {
    const id = uid(name);
    return h('div', { class: 'choice' },
      h('input', {
        type, id, name, value, checked: set.has(value),
        required: type === 'radio' && required && index === 0,
        'data-testid': testid ? `${testid}-${value}` : undefined,
      }),
      h('label', { for: id }, label));
  });
  return h('fieldset', { class: 'choices', 'data-testid': testid },
    h('legend', {}, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    items);
}

export function checkedValues(container, name) {
  return [...container.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

// A description list from [[term, value], ...]; values may be nodes.
export function dl(pairs, attrs = {}) {
  return h('dl', { class: 'facts', ...attrs },
    pairs.filter((p) => p).map(([term, value]) =>
      [h('dt', {}, term), h('dd', {}, value === undefined || value === null || value === ''
        ? '–' : value)]));
}

// A table. columns: [[header, (row) => cell], ...]. On narrow screens the CSS
// shows each row as a block, each cell labelled with its header (data-label).
export function table({ caption, columns, rows, testid, rowTestid, rowAttrs, empty }) {
  if (!rows.length) {
    return h('p', { class: 'empty', 'data-testid': testid ? `${testid}-empty` : undefined },
      empty || 'Keine Einträge.');
  }
  // Explicit roles keep the table's meaning for screen readers when the CSS
  // turns rows into blocks.
  return h('table', { class: 'data', role: 'table', 'data-testid': testid },
    caption ? h('caption', {}, caption) : null,
    h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' },
      columns.map(([header]) => h('th', { scope: 'col', role: 'columnheader' }, header)))),
    h('tbody', { role: 'rowgroup' }, rows.map((row) =>
      h('tr', { role: 'row', 'data-testid': rowTestid, ...(rowAttrs ? rowAttrs(row) : {}) },
        columns.map(([header, cell]) => h('td', { role: 'cell', 'data-label': header }, cell(row)))))));
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}`.trim() }, text);
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}

// Texts the API stores have no line breaks: fold them into spaces.
export function oneLine(text) {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
}

// One entry per non-empty line.
export function lines(text) {
  return text.split(/\r?\n/).map(oneLine).filter((l) => l.length > 0);
}

// Runs fn over items with at most `limit` at a time; results in order.
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await fn(items[index], index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// Shows any JSON value (a received data section) as nested lists, as text.
export function jsonView(value) {
  if (value === null || value === undefined) return h('span', {}, '–');
  if (Array.isArray(value)) {
    return h('ul', { class: 'json' }, value.map((v) => h('li', {}, jsonView(v))));
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (!entries.length) return h('span', {}, '–');
    return h('dl', { class: 'json' }, entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, jsonView(v))]));
  }
  if (typeof value === 'boolean') return h('span', {}, value ? 'ja' : 'nein');
  return h('span', {}, String(value));
}
