// The county's catalogue (codes from node/openapi.yaml) with the German words
// caseworkers read. The API speaks codes; the pages show these labels.

export const ROLES = {
  sachbearbeitung: 'Sachbearbeitung',
  leitung: 'Leitung',
  administration: 'Administration',
};

export const SERVICES = {
  jugendamt: 'Jugendamt',
  'fruehe-hilfen': 'Frühe Hilfen',
  familienbuero: 'Familienbüro',
  gesundheitsamt: 'Gesundheitsamt',
  jobcenter: 'Jobcenter',
  schulsozialarbeit: 'Schulsozialarbeit',
  erziehungsberatung: 'Erziehungsberatung',
  sozialamt: 'Sozialamt',
};

export const CATEGORIES = {
  household: 'Haushalt (Art des Falls, Personen)',
  'child-age': 'Alter der Kinder',
  language: 'Sprache',
  childcare: 'Kinderbetreuung',
  health: 'Gesundheit (besondere Daten, Art. 9 DSGVO)',
  employment: 'Arbeit und Beschäftigung',
  education: 'Schule und Bildung',
  contact: 'Kontaktdaten',
  'case-history': 'Fallverlauf (Bedarfe, Notizen)',
  'referral-outcome': 'Ergebnis von Vermittlungen',
};

// Categories whose case data can be entered as details (the others are built
// from the case: household, child-age, case-history; referral-outcome is what
// status updates carry).
export const DETAIL_CATEGORIES = ['language', 'childcare', 'health', 'employment', 'education',
  'contact'];

export const PURPOSES = {
  'language-support': 'Sprachförderung',
  'early-help': 'Frühe Hilfen',
  'parenting-support': 'Unterstützung in der Erziehung',
  'health-support': 'Gesundheitliche Unterstützung',
  'employment-support': 'Unterstützung bei Arbeit und Beschäftigung',
  'school-support': 'Unterstützung in der Schule',
  'child-protection': 'Kinderschutz',
  'case-transfer': 'Fallübergabe',
};

// Purposes a consent can cover (ConsentPurpose).
export const CONSENT_PURPOSES = ['language-support', 'early-help', 'parenting-support',
  'health-support', 'employment-support', 'school-support'];

// Statutes of the catalogue. Only those with `referral: true` can carry a
// referral; § 86c and § 86 allow only case transfers.
export const STATUTES = [
  { code: 'SGB VIII § 8a', label: 'SGB VIII § 8a – Schutzauftrag bei Kindeswohlgefährdung',
    purpose: 'child-protection', referral: true },
  { code: 'SGB VIII § 86c', label: 'SGB VIII § 86c – Fortdauernde Leistungsverpflichtung beim Zuständigkeitswechsel',
    purpose: 'case-transfer', referral: false },
  { code: 'SGB VIII § 86', label: 'SGB VIII § 86 – Örtliche Zuständigkeit',
    purpose: 'case-transfer', referral: false },
];

export const CASE_KINDS = { family: 'Familie', person: 'Einzelperson' };

export const CASE_STATES = {
  open: 'offen',
  closed: 'abgeschlossen',
  transferring: 'in Übergabe',
  transferred: 'übergeben',
};

// What PATCH /v1/cases/{id} may change (the `change` of a case's history
// entry, and the audit detail of case.update).
export const CASE_FIELDS = {
  members: 'Personen',
  needs: 'Bedarfe',
  lotse: 'Lotse',
  caseworker: 'Zuständige Sachbearbeitung',
  follow_up_ms: 'Wiedervorlage',
  external_ref: 'Aktenzeichen der Fachanwendung',
};

// Why an office closes a case (POST /v1/cases/{id}/close, `reason`).
export const CLOSE_REASONS = {
  'goal-reached': 'Ziel erreicht, Hilfe abgeschlossen',
  'moved-away': 'Familie ist verzogen',
  'other-office': 'Eine andere Stelle ist zuständig',
  'help-declined': 'Die Familie möchte keine Hilfe mehr',
  'no-contact': 'Kein Kontakt mehr',
  other: 'Anderer Grund',
};

export const CONSENT_STATUS = { active: 'gültig', withdrawn: 'widerrufen', expired: 'abgelaufen' };

export const CONSENT_FORMS = { written: 'schriftlich', electronic: 'elektronisch' };

export const REFERRAL_STATES = {
  requested: 'gesendet',
  received: 'eingegangen',
  accepted: 'angenommen',
  declined: 'abgelehnt',
  in_progress: 'in Bearbeitung',
  completed: 'abgeschlossen',
  failed: 'gescheitert',
  cancelled: 'zurückgezogen',
};

export const REFERRAL_FINAL = new Set(['declined', 'completed', 'failed', 'cancelled']);

export const TRANSFER_STATES = { requested: 'angefragt', accepted: 'angenommen', declined: 'abgelehnt' };

export const DIRECTIONS = { incoming: 'eingehend', outgoing: 'ausgehend' };

// Reason codes offered when declining a referral or a case transfer.
export const DECLINE_REASONS = {
  NO_ROUTE: 'Nicht zuständig',
  PURPOSE_MISMATCH: 'Zweck passt nicht zu unserem Angebot',
  CATEGORY_NOT_COVERED: 'Übermittelte Angaben reichen nicht aus',
  CONSENT_MISSING: 'Rechtsgrundlage fehlt oder reicht nicht',
};

export const AGREEMENT_STATES = {
  proposed: 'vorgeschlagen',
  accepted: 'angenommen',
  scheduled: 'terminiert',
  completed: 'abgeschlossen',
  cancelled: 'abgesagt',
};

export const SUBMISSION_KINDS = {
  offer: 'Angebot',
  request: 'Anfrage',
  withdraw: 'Zurückziehen',
  accept: 'Zusage',
  schedule: 'Termin',
  complete: 'Abschluss bestätigt',
  cancel: 'Absage',
};

export const SUBMISSION_STATES = {
  queued: 'wartet auf Versand',
  accepted: 'vom Kreis angenommen',
  receipted: 'vom Kreis bestätigt',
  refused: 'vom Kreis abgelehnt',
  dead: 'nicht zugestellt (abgelaufen)',
  unknown: 'unbekannt',
};

export const AUDIT_ACTIONS = {
  'case.create': 'Fall angelegt',
  'case.read': 'Fall gelesen',
  'case.note': 'Vermerk zum Fall geschrieben',
  'case.update': 'Fall geändert',
  'case.close': 'Fall abgeschlossen',
  'case.reopen': 'Fall wieder aufgenommen',
  'followups.list': 'Wiedervorlagen gelesen',
  'cases.list': 'Fallliste gelesen',
  'cases.search': 'Fälle nach Namen gesucht',
  'consents.list': 'Einwilligungsliste gelesen',
  'reports.read': 'Berichte gelesen',
  'consent.record': 'Einwilligung erfasst',
  'consent.read': 'Einwilligung gelesen',
  'consent.withdraw': 'Einwilligung widerrufen',
  'consent.withdrawn': 'Widerruf empfangen',
  'consent.form.store': 'Unterschriebene Einwilligung abgelegt',
  'consent.form.read': 'Unterschriebene Einwilligung heruntergeladen',
  'referral.send': 'Überweisung gesendet',
  'referral.read': 'Überweisung gelesen',
  'referrals.list': 'Überweisungsliste gelesen',
  'referral.status': 'Überweisung fortgeschrieben',
  'referral.receive': 'Überweisung empfangen',
  'referral.update': 'Rückmeldung empfangen',
  'transfer.send': 'Fallübergabe gesendet',
  'transfer.repeat': 'Fallübergabe wiederholt',
  'transfer.read': 'Fallübergabe gelesen',
  'transfers.list': 'Übergabeliste gelesen',
  'transfer.accept': 'Fallübergabe angenommen',
  'transfer.decline': 'Fallübergabe abgelehnt',
  'transfer.receive': 'Fallübergabe empfangen',
  'transfer.answer': 'Antwort auf Fallübergabe empfangen',
  'emergency.request': 'Notfallzugriff beantragt',
  'emergency.approve': 'Notfallzugriff freigegeben',
  'emergency.end': 'Notfallzugriff beendet',
  'emergency.list': 'Notfallzugriffe angesehen',
};

// The states of an emergency access (Notfallzugriff, GET /v1/emergency).
export const EMERGENCY_STATES = {
  requested: 'wartet auf Freigabe',
  active: 'aktiv',
  ended: 'beendet',
  expired: 'abgelaufen',
};

// What can be read under an emergency access (its `actions`), in words: a
// record ("Fall 1a2b3c4d angesehen") or a list.
export const EMERGENCY_RECORDS = {
  'case.read': 'Fall',
  'consent.read': 'Einwilligung',
  'referral.read': 'Überweisung',
  'transfer.read': 'Fallübergabe',
};
export const EMERGENCY_LISTS = {
  'cases.list': 'Fallliste angesehen',
  'cases.search': 'Fälle nach Namen gesucht',
  'consents.list': 'Einwilligungen aufgelistet',
  'referrals.list': 'Überweisungen aufgelistet',
  'transfers.list': 'Fallübergaben aufgelistet',
};

// Suggestions for AGS fields and names for node ids: the reference county,
// Kreis Unna. The API has no roster listing yet, so any 8-digit AGS may be
// typed; these only help and are shown as the node id where unknown.
export const PLACES = [
  { node: 'kreis-unna', name: 'Kreis Unna', ags: '' },
  { node: 'bergkamen', name: 'Bergkamen', ags: '05978004' },
  { node: 'boenen', name: 'Bönen', ags: '05978008' },
  { node: 'froendenberg', name: 'Fröndenberg/Ruhr', ags: '05978012' },
  { node: 'holzwickede', name: 'Holzwickede', ags: '05978016' },
  { node: 'kamen', name: 'Kamen', ags: '05978020' },
  { node: 'luenen', name: 'Lünen', ags: '05978024' },
  { node: 'schwerte', name: 'Schwerte', ags: '05978028' },
  { node: 'selm', name: 'Selm', ags: '05978032' },
  { node: 'unna', name: 'Unna', ags: '05978036' },
  { node: 'werne', name: 'Werne', ags: '05978040' },
];

export function label(map, code) {
  if (code === undefined || code === null || code === '') return '–';
  return Object.prototype.hasOwnProperty.call(map, code) ? map[code] : code;
}

export function options(map, codes) {
  return (codes || Object.keys(map)).map((code) => [code, label(map, code)]);
}

// "Jobcenter, Frühe Hilfen" for a list of offices (service codes); '' for none.
export function officesText(codes) {
  return (codes || []).map((code) => label(SERVICES, code)).join(', ');
}

export function nodeName(node) {
  const place = PLACES.find((p) => p.node === node);
  return place ? place.name : node || '–';
}

// "Frühe Hilfen, Unna (05978036)" for an address {ags, service[, node]}.
export function addressText(address) {
  if (!address) return '–';
  const service = label(SERVICES, address.service);
  const place = PLACES.find((p) => p.ags && p.ags === address.ags);
  const where = place ? `${place.name} (AGS ${address.ags})` : `AGS ${address.ags}`;
  return address.ags ? `${service}, ${where}` : `${service}, ${nodeName(address.node)}`;
}

// "Frühe Hilfen in Unna" for a peer {node, service[, ags]}.
export function peerText(peer) {
  if (!peer) return '–';
  return `${label(SERVICES, peer.service)} – ${nodeName(peer.node)}`;
}
