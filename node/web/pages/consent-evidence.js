// The signed consent form (Nachweis): its SHA-256 when a consent is
// recorded (evidence_sha256, computed in the browser), the file itself
// stored with the consent (POST /v1/consents/{id}/form: PDF, PNG or JPEG,
// at most 1 MiB, once), and downloading it again (GET …/form).

import { get, post, p, messageFor, ApiError } from '../api.js';
import { h, replace, alertBox, showError, showText, setBusy, field, shortId } from '../dom.js';

// The file types the node keeps, with the word the page shows.
export const FORM_TYPES = { 'application/pdf': 'PDF', 'image/png': 'PNG', 'image/jpeg': 'JPEG' };
const FORM_EXTENSIONS = { 'application/pdf': 'pdf', 'image/png': 'png', 'image/jpeg': 'jpg' };
export const FORM_ACCEPT = Object.keys(FORM_TYPES).join(',');

// The largest form the node keeps (1 MiB).
export const FORM_MAX_BYTES = 1024 * 1024;

// The content type of `file` if the node keeps that type, else ''. Some
// systems give no type; then the name's ending decides.
export function formTypeOf(file) {
  if (FORM_TYPES[file.type]) return file.type;
  if (file.type) return '';
  const name = file.name.toLowerCase();
  if (name.endsWith('.pdf')) return 'application/pdf';
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.jpg') || name.endsWith('.jpeg')) return 'image/jpeg';
  return '';
}

// Why the node would not keep `file`, in German, or ''.
export function formFileProblem(file) {
  if (!formTypeOf(file)) return 'Gespeichert werden nur PDF-, PNG- und JPEG-Dateien.';
  if (file.size > FORM_MAX_BYTES) {
    return `Die Datei ist ${sizeText(file.size)} groß; gespeichert werden höchstens 1 MiB. Bitte kleiner scannen (zum Beispiel in Graustufen mit 150 dpi).`;
  }
  if (file.size === 0) return 'Die Datei ist leer.';
  return '';
}

// "123 KB" (1 KB = 1024 Byte), "800 Byte", "1,2 MB".
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} Byte`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024).toLocaleString('de-DE')} KB`;
  return `${(bytes / (1024 * 1024)).toLocaleString('de-DE', { maximumFractionDigits: 1 })} MB`;
}

// The SHA-256 of `file` as 64 hex digits (crypto.subtle: only over HTTPS or
// on localhost; the caller checks `canHash()` first).
export async function sha256Hex(file) {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function canHash() {
  return Boolean(window.crypto && crypto.subtle && typeof crypto.subtle.digest === 'function');
}

// The file's bytes as base64 (RFC 4648, with padding).
function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    };
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

// Stores `file` as the signed form of consent `consentId`; returns the
// consent. Throws an ApiError when the node refuses (EVIDENCE_MISMATCH,
// INVALID_STATE once stored, TOO_LARGE).
export async function uploadForm(consentId, file) {
  return post(p`/v1/consents/${consentId}/form`, { content_type: formTypeOf(file), data: await base64Of(file) });
}

// The German sentence for a refused upload.
export function uploadErrorText(error) {
  if (error instanceof ApiError && error.code === 'INVALID_STATE') {
    return 'Für diese Einwilligung ist bereits ein unterschriebenes Formular gespeichert. Es kann nicht ersetzt werden.';
  }
  if (error instanceof ApiError && error.code === 'TOO_LARGE') {
    return 'Die Datei ist zu groß. Gespeichert werden höchstens 1 MiB.';
  }
  return messageFor(error).text;
}

// ---- On the page of a consent -------------------------------------------------------------

// "Unterschriebene Einwilligung": once stored, what is stored and
// "Herunterladen"; before, the upload (not for the administration, which
// only reads).
export function formSection(consent, ctx) {
  return h('section', { 'aria-labelledby': 'signed-form-h', 'data-testid': 'consent-form-section' },
    h('h2', { id: 'signed-form-h' }, 'Unterschriebene Einwilligung'),
    consent.form_stored ? storedPart(consent) : uploadPart(consent, ctx));
}

function storedPart(consent) {
  const errorBox = alertBox('consent-form-download-alert');
  const kind = FORM_TYPES[consent.form_type] || consent.form_type || 'Datei';
  const size = typeof consent.form_size === 'number' ? `, ${sizeText(consent.form_size)}` : '';
  const saveLink = h('a', { class: 'file-link', hidden: true, 'data-testid': 'consent-form-file' });
  const button = h('button', { type: 'button', class: 'secondary', 'data-testid': 'consent-form-download' }, 'Herunterladen');
  let objectUrl = '';
  button.addEventListener('click', async () => {
    showText(errorBox, '');
    button.disabled = true;
    try {
      const form = await get(p`/v1/consents/${consent.id}/form`);
      const bytes = Uint8Array.from(atob(form.data), (c) => c.charCodeAt(0));
      if (objectUrl) URL.revokeObjectURL(objectUrl);
      objectUrl = URL.createObjectURL(new Blob([bytes], { type: form.content_type }));
      const name = `einwilligung-${shortId(consent.id)}.${FORM_EXTENSIONS[form.content_type] || 'bin'}`;
      saveLink.href = objectUrl;
      saveLink.download = name;
      saveLink.textContent = `${name} speichern`;
      saveLink.hidden = false;
      saveLink.click();
    } catch (error) {
      showError(errorBox, error);
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'stack' },
    errorBox,
    h('p', { 'data-testid': 'consent-form-stored' },
      `Unterschriebene Einwilligung gespeichert (${kind}${size}).`),
    h('p', { class: 'actions' }, button, saveLink));
}

function uploadPart(consent, ctx) {
  const missing = h('p', { 'data-testid': 'consent-form-missing' },
    'Das unterschriebene Formular ist noch nicht gespeichert.');
  if (ctx.readOnly) return missing;
  const errorBox = alertBox('consent-form-upload-alert');
  const file = h('input', { type: 'file', accept: FORM_ACCEPT, required: true, 'data-testid': 'consent-form-upload-file' });
  const form = h('form', { class: 'stack', 'data-testid': 'consent-form-upload-form' },
    errorBox,
    missing,
    field('Unterschriebene Einwilligung hochladen', file,
      'PDF, PNG oder JPEG, höchstens 1 MiB. Es muss genau die Datei sein, deren Prüfsumme bei der Erfassung gespeichert wurde.'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', 'data-testid': 'consent-form-upload' }, 'Hochladen')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = file.files && file.files[0];
    if (!chosen) {
      showText(errorBox, 'Bitte die Datei mit der unterschriebenen Einwilligung wählen.');
      file.focus();
      return;
    }
    const problem = formFileProblem(chosen);
    if (problem) {
      showText(errorBox, problem);
      return;
    }
    setBusy(form, true);
    try {
      await uploadForm(consent.id, chosen);
      ctx.reload('Die unterschriebene Einwilligung wurde gespeichert.');
    } catch (error) {
      showText(errorBox, uploadErrorText(error));
    } finally {
      setBusy(form, false);
    }
  });
  return form;
}
