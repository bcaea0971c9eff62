#!/usr/bin/env python3
"""access.py - the access matrix of a node's /v1 API, driven by access.sh.

Reads the route table from node/bn_routes.c (the s_routes[] entries, their
role macros) and sends, for every route, every role and, where the route
touches one office's records, a record of the caller's own office and one
of another office, a request as valid as the test can make it:

  - a role the route does not list: 403 FORBIDDEN;
  - a record of another office: 403 OFFICE_NOT_PERMITTED;
  - else the operation: 2xx for casework (each changing request gets a
    fresh record of its own, so that every role really does it), for the
    Transferbörse (exchange) anything but a 403 or a 5xx.

Around every expected 403 the node's records are compared: the lists of
cases, consents, referrals and transfers (all offices), the events and the
audit log must be the same. Lists, events, follow-ups and reports a caller
reads hold only its own office's records.

Usage: access.py CONFIG.json RESULTS.tsv
CONFIG names the node's URL, a token for all offices, a readonly token for
all offices, the callers (role -> token or web session) and Unna's API (to
transfer cases to Lünen). RESULTS gets one line per request:
  verdict  role  method  pattern  variant  status  error  expected  note
with verdict "ok" or "FAIL". Fixture failures end the script with status 2.
"""

import http.client
import base64
import hashlib
import json
import re
import sys
import time
import urllib.parse

ROLES = ["caseworker", "integration", "readonly", "sachbearbeitung", "leitung", "administration"]
OWN, OTHER = "jobcenter", "jugendamt"
LUENEN_AGS, UNNA_AGS = "05978024", "05978036"
DAY_MS = 86400000
EVIDENCE = "5f" * 32
#   A signed consent form (invented), and its digest for the consents that name it
FORM = b"%PDF-1.4 Einwilligung, unterschrieben (erfunden)"
FORM_EVIDENCE = hashlib.sha256(FORM).hexdigest()
FORM_BODY = {"content_type": "application/pdf", "data": base64.b64encode(FORM).decode()}
#   Names of the invented families: no refusal may show them
FAMILY_NAMES = ["Ausgedacht", "Beispielhaft"]
SETTLE_TIMEOUT_S = 20


#   Routes the administration may call but where, without an emergency
#   access, it finds nothing: records refused, lists empty
ADMIN_BLIND = {"/v1/cases/{id}", "/v1/consents/{id}", "/v1/referrals/{id}", "/v1/transfers/{id}",
               "/v1/consents/{id}/form"}
ADMIN_LISTS = {"/v1/cases": "cases", "/v1/consents": "consents", "/v1/referrals": "referrals",
               "/v1/transfers": "transfers"}

def log(text):
    print("[access.py] " + text, file=sys.stderr, flush=True)


class FixtureError(Exception):
    """The test could not build what it needs: not a finding about access."""


# ---- The route table ------------------------------------------------------------


def parse_routes(source_path, header_path):
    """The routes of s_routes[] as dicts: method, pattern, roles (a set of
    role names), scope ("offices" or "node"). Fails on any form it does not
    know, so that a changed table cannot slip past the matrix."""
    with open(source_path, encoding="utf-8") as file:
        source = file.read()
    with open(header_path, encoding="utf-8") as file:
        header = file.read()
    source = re.sub(r"/\*.*?\*/", " ", source, flags=re.S)
    source = re.sub(r"//[^\n]*", " ", source)
    role_bits = {
        name: name[len("BN_ROLE_"):].lower()
        for name in re.findall(r"#define\s+(BN_ROLE_\w+)\s+\(1u", header)
    }
    if sorted(role_bits.values()) != sorted(ROLES):
        raise FixtureError("bn_routes.h defines roles %s, the test knows %s"
                           % (sorted(role_bits.values()), ROLES))
    defines = {}
    for match in re.finditer(r"^#define\s+(S_\w+)((?:[^\n]*\\\n)*[^\n]*)", source, re.M):
        defines[match.group(1)] = match.group(2).replace("\\\n", " ")
    #   The macros' meaning, checked against their text
    casework = defines.get("S_CASEWORK", "")
    exchange = defines.get("S_EXCHANGE", "")
    if "BN_SCOPE_OFFICES" not in casework or "BN_SCOPE_NODE" not in exchange or \
            '"/v1/exchange/"' not in exchange:
        raise FixtureError("S_CASEWORK or S_EXCHANGE in bn_routes.c changed; update access.py")

    def roles_of(expression, depth=0):
        if depth > 8 or not re.fullmatch(r"[\s()|A-Z_0-9]+", expression):
            raise FixtureError("cannot read the roles expression '%s'" % expression)
        roles = set()
        for name in re.findall(r"[A-Z_0-9]+", expression):
            if name in role_bits:
                roles.add(role_bits[name])
            elif name in defines:
                roles |= roles_of(defines[name], depth + 1)
            else:
                raise FixtureError("unknown name %s in a roles expression" % name)
        return roles

    table = re.search(r"s_routes\[\]\s*=\s*\{(.*?)\n\};", source, re.S)
    if not table:
        raise FixtureError("no s_routes[] in bn_routes.c")
    body = table.group(1)
    entry = re.compile(r"\s*(?:(S_CASEWORK|S_EXCHANGE)\s*\(((?:[^()]|\([^()]*\))*)\)|"
                       r"\{((?:\"[^\"]*\"|[^{}\"])*)\})\s*,?")
    routes = []
    position = 0
    while position < len(body) and body[position:].strip():
        match = entry.match(body, position)
        if not match:
            raise FixtureError("cannot read the route table near: %s"
                               % body[position:position + 80])
        position = match.end()
        macro = match.group(1)
        inside = match.group(2) if macro else match.group(3)
        arguments = [part.strip() for part in inside.split(",")]
        method = arguments[0].strip('"')
        if macro == "S_CASEWORK":
            pattern, roles, scope = arguments[1].strip('"'), arguments[2], "offices"
        elif macro == "S_EXCHANGE":
            pattern, roles, scope = "/v1/exchange/" + arguments[1].strip('"'), arguments[2], "node"
        else:
            pattern, roles = arguments[1].strip('"'), arguments[2]
            scope = {"BN_SCOPE_OFFICES": "offices", "BN_SCOPE_NODE": "node"}.get(arguments[3])
            if not scope:
                raise FixtureError("unknown scope %s" % arguments[3])
        routes.append({"method": method, "pattern": pattern, "roles": roles_of(roles),
                       "scope": scope})
    operations = re.search(r"typedef enum \{([^}]*)\} bn_operation_t;", header, re.S)
    count = len([name for name in re.findall(r"\b(BN_OP_\w+)", operations.group(1))
                 if name != "BN_OP_COUNT"]) if operations else -1
    if count != len(routes):
        raise FixtureError("bn_routes.h has %d operations, the table read has %d routes"
                           % (count, len(routes)))
    return routes


# ---- HTTP ---------------------------------------------------------------------------


class Caller:
    """One identity at a node's API: a token (with the person an integration
    token acts for) or a web session (cookie and CSRF token)."""

    def __init__(self, url, token=None, on_behalf=None, cookie=None, csrf=None):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.headers = {}
        if token:
            self.headers["Authorization"] = "Bearer " + token
        if on_behalf:
            self.headers["X-On-Behalf-Of"] = on_behalf
        if cookie:
            self.headers["Cookie"] = "bruecke_session=" + cookie
        self.csrf = csrf

    def call(self, method, path, body=None):
        """Returns (status, parsed JSON or None, raw text); the headers of
        the answer in self.answered."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read().decode("utf-8", "replace")
            status = response.status
            self.answered = response.headers
        finally:
            connection.close()
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        return status, answer, raw

    def must(self, method, path, body=None, what=""):
        """A fixture call that must succeed; returns the answer."""
        status, answer, raw = self.call(method, path, body)
        if status // 100 != 2:
            raise FixtureError("%s: %s %s answered %d %s" % (what, method, path, status, raw[:300]))
        return answer


# ---- Fixtures --------------------------------------------------------------------------


def family(office, surname, mother, child):
    return {"kind": "family", "service": office,
            "members": [{"name": "%s %s" % (mother, surname), "role": "mother", "age": 31,
                         "custody_for": ["%s %s" % (child, surname)]},
                        {"name": "%s %s" % (child, surname), "role": "child", "age": 2}],
            "needs": ["Unterstützung nach der Geburt (erfunden)"],
            "follow_up_ms": int(time.time() * 1000) + 7 * DAY_MS}


class Node:
    """Lünen's node, as the all-offices caseworker sees it, and the
    fixtures of the matrix."""

    def __init__(self, config):
        self.url = config["url"]
        self.admin = Caller(self.url, token=config["admin_token"])
        self.audit = Caller(self.url, token=config["audit_token"])
        self.unna = Caller(config["unna_url"], token=config["unna_token"])
        self.second_admin = Caller(self.url, cookie=config["second_admin"]["cookie"],
                                   csrf=config["second_admin"]["csrf"])
        self.surnames = {OWN: "Ausgedacht", OTHER: "Beispielhaft"}
        self.cases = {}  # office -> a case of that office

    # -- records

    def new_case(self, office, closed=False):
        surname = self.surnames[office]
        case = self.admin.must("POST", "/v1/cases",
                               family(office, surname, "Lina" if office == OWN else "Sonja",
                                      "Paul" if office == OWN else "Emil"), "case")
        if closed:
            self.admin.must("POST", "/v1/cases/%s/close" % case["id"],
                            {"reason": "goal-reached", "text": "Ziel erreicht (erfunden)"}, "close")
        return case

    def case_of(self, office):
        """The family's case of `office`, made once."""
        if office not in self.cases:
            self.cases[office] = self.new_case(office)
        return self.cases[office]

    def consent_body(self, case):
        now = int(time.time() * 1000)
        members = [member["name"] for member in case["members"]]
        return {"case_id": case["id"], "grantor": members[0], "subjects": members,
                "purpose": "early-help", "categories": ["household", "child-age"],
                "recipients": [{"ags": LUENEN_AGS, "service": "fruehe-hilfen"}],
                "valid_from_ms": now, "valid_until_ms": now + 90 * DAY_MS,
                "form": "written", "evidence_sha256": EVIDENCE}

    def new_consent(self, case, signed=False):
        body = self.consent_body(case)
        if signed:
            body["evidence_sha256"] = FORM_EVIDENCE
        return self.admin.must("POST", "/v1/consents", body, "consent")

    def new_signed_consent(self, case):
        """A consent with its signed form stored."""
        consent = self.new_consent(case, signed=True)
        self.admin.must("POST", "/v1/consents/%s/form" % consent["id"], FORM_BODY, "form")
        return consent

    def referral_body(self, case, consent):
        return {"case_id": case["id"], "service": case["service"], "purpose": "early-help",
                "consent_id": consent["id"],
                "recipient": {"ags": LUENEN_AGS, "service": "fruehe-hilfen"},
                "categories": ["household", "child-age"], "note": "Bitte um Kontakt (erfunden)."}

    def new_referral(self, case, consent):
        return self.admin.must("POST", "/v1/referrals", self.referral_body(case, consent),
                               "referral")

    def new_grant(self):
        """An emergency access to the own office, asked for by the second
        administrator: the matrix's administrator may approve or end it."""
        return self.second_admin.must("POST", "/v1/emergency", {
            "office": OWN, "reason": "Erprobung der Notfallzugriffe (erfunden)", "minutes": 5},
            "emergency access")["id"]

    def new_outgoing_transfer(self, office):
        case = self.new_case(office)
        return self.admin.must("POST", "/v1/cases/%s/transfer" % case["id"],
                               {"ags": UNNA_AGS, "service": "jugendamt"}, "transfer")

    def incoming_transfers(self, office, count):
        """`count` transfers from Unna to Lünen's `office`, waiting to be
        answered; returns their ids once Lünen has them all."""
        wanted = []
        for index in range(count):
            case = self.unna.must("POST", "/v1/cases", family("jugendamt", "Wandernd",
                                                               "Ida%d" % index, "Ole%d" % index),
                                  "Unna's case")
            wanted.append(self.unna.must("POST", "/v1/cases/%s/transfer" % case["id"],
                                         {"ags": LUENEN_AGS, "service": office},
                                         "Unna's transfer")["id"])
        deadline = time.time() + 30
        while True:
            listed = self.admin.must("GET", "/v1/transfers", None, "transfers")["transfers"]
            waiting = {item["id"] for item in listed
                       if item.get("direction") == "incoming" and item.get("state") == "requested"}
            if all(identifier in waiting for identifier in wanted):
                return wanted
            if time.time() > deadline:
                raise FixtureError("Lünen did not receive Unna's transfers to %s in 30 s" % office)
            time.sleep(0.2)

    # -- what the node holds

    def settle(self):
        """Waits until the node has nothing in its local queue and outbox:
        no delivery changes its records any more."""
        deadline = time.time() + SETTLE_TIMEOUT_S
        while True:
            status = self.admin.must("GET", "/v1/status", None, "status")
            if status.get("local") == 0 and status.get("outbox") == 0:
                return
            if time.time() > deadline:
                raise FixtureError("the node did not settle: %s" % status)
            time.sleep(0.05)

    def records(self):
        """The four lists of all offices, as comparable text."""
        snapshot = {}
        for name in ("cases", "consents", "referrals", "transfers"):
            listed = self.admin.must("GET", "/v1/" + name, None, name)[name]
            snapshot[name] = sorted(json.dumps(entry, sort_keys=True) for entry in listed)
        return snapshot

    def log_position(self):
        """(events after which nothing is, audit records), read without
        adding to either."""
        events = 0
        while True:
            answer = self.admin.must("GET", "/v1/events?after=%d" % events, None, "events")
            if answer["next"] == events:
                break
            events = answer["next"]
        audit = 0
        while True:
            answer = self.audit.must("GET", "/v1/audit?after=%d" % audit, None, "audit")
            if answer["next"] == audit:
                break
            audit = answer["next"]
        return events, audit


# ---- The requests --------------------------------------------------------------------


class Matrix:
    def __init__(self, config, routes, results):
        self.node = Node(config)
        self.routes = routes
        self.results = results
        self.callers = {}
        for role, entry in config["callers"].items():
            self.callers[role] = Caller(config["url"], token=entry.get("token"),
                                        on_behalf=entry.get("on_behalf"),
                                        cookie=entry.get("cookie"), csrf=entry.get("csrf"))
        self.dirty = True
        self.requests = 0
        self.failures = 0
        self.other_ids = set()  # every record of the other office the test made

    def record(self, verdict, role, route, variant, status, error, expected, note=""):
        self.requests += 1
        if verdict != "ok":
            self.failures += 1
            log("FAIL %s %s %s (%s): %s %s, expected %s %s" % (
                role, route["method"], route["pattern"], variant or "-", status, error or "",
                expected, note))
        fields = [verdict, role, route["method"], route["pattern"], variant or "-", str(status),
                  error or "-", expected, note.replace("\t", " ").replace("\n", " ")]
        self.results.write("\t".join(fields) + "\n")
        self.results.flush()

    # -- fixtures

    def prepare(self):
        node = self.node
        count = sum(len(route["roles"]) for route in self.routes
                    if route["pattern"] in ("/v1/transfers/{id}/accept",
                                            "/v1/transfers/{id}/decline"))
        #   Incoming transfers: one per allowed request, one for the roles
        #   that may not answer, one of the other office
        self.pool = node.incoming_transfers(OWN, count + 1)
        self.waiting_own = self.pool.pop()
        self.waiting_other = node.incoming_transfers(OTHER, 1)[0]
        own, other = node.case_of(OWN), node.case_of(OTHER)
        self.fixtures = {
            OWN: {"case": own, "closed": node.new_case(OWN, closed=True)},
            OTHER: {"case": other, "closed": node.new_case(OTHER, closed=True)},
        }
        for office in (OWN, OTHER):
            fixtures = self.fixtures[office]
            fixtures["consent"] = node.new_consent(fixtures["case"])
            fixtures["signed"] = node.new_signed_consent(fixtures["case"])
            fixtures["unsigned"] = node.new_consent(fixtures["case"], signed=True)
            fixtures["referral"] = node.new_referral(fixtures["case"], fixtures["consent"])
            fixtures["transfer"] = node.new_outgoing_transfer(office)
        self.fixtures[OWN]["incoming"] = self.waiting_own
        self.fixtures[OTHER]["incoming"] = self.waiting_other
        for fixtures in self.fixtures[OTHER].values():
            self.other_ids.add(fixtures if isinstance(fixtures, str) else fixtures["id"])
        self.other_ids.add(self.fixtures[OTHER]["transfer"]["case_id"])
        node.settle()
        log("fixtures: %s" % json.dumps({office: {name: value if isinstance(value, str) else
                                                  value["id"] for name, value in items.items()}
                                         for office, items in self.fixtures.items()}))

    def target(self, route, variant, fresh):
        """(path, body, expect_2xx) for `route`; `variant` picks the office
        of the record, `fresh` asks for a record this request may use up."""
        node = self.node
        office = OTHER if variant == "other" else OWN
        fixtures = self.fixtures[office]
        case = fixtures["case"]
        pattern = route["pattern"]
        key = (route["method"], pattern)
        path = lambda identifier: pattern.replace("{id}", identifier)  # noqa: E731
        transfer_to_unna = {"ags": UNNA_AGS, "service": "jugendamt"}
        if pattern.startswith("/v1/exchange/"):
            #   Role only: an item or agreement nobody has
            return path("0123456789abcdef0123456789abcdef"), \
                ({} if route["method"] != "GET" else None), False
        builders = {
            ("GET", "/v1/status"): lambda: ("/v1/status", None),
            ("POST", "/v1/cases"): lambda: ("/v1/cases", family(
                office, node.surnames[office], "Neu", "Klein")),
            ("GET", "/v1/cases"): lambda: ("/v1/cases", None),
            ("GET", "/v1/cases/{id}"): lambda: (path(case["id"]), None),
            ("POST", "/v1/cases/{id}/transfer"): lambda: (
                path(node.new_case(OWN)["id"] if fresh else case["id"]), transfer_to_unna),
            ("POST", "/v1/cases/{id}/notes"): lambda: (
                path(case["id"]), {"text": "Telefonat mit der Mutter (erfunden)."}),
            ("PATCH", "/v1/cases/{id}"): lambda: (
                path(case["id"]), {"caseworker": "Frau Muster", "lotse": None}),
            ("POST", "/v1/cases/{id}/close"): lambda: (
                path(node.new_case(OWN)["id"] if fresh else case["id"]),
                {"reason": "goal-reached", "text": "Ziel erreicht (erfunden)."}),
            ("POST", "/v1/cases/{id}/reopen"): lambda: (
                path(node.new_case(OWN, closed=True)["id"] if fresh else fixtures["closed"]["id"]),
                {"text": "Die Familie meldet sich wieder (erfunden)."}),
            ("GET", "/v1/follow-ups"): lambda: ("/v1/follow-ups", None),
            ("POST", "/v1/consents"): lambda: ("/v1/consents", node.consent_body(case)),
            ("GET", "/v1/consents"): lambda: ("/v1/consents", None),
            ("GET", "/v1/consents/{id}"): lambda: (path(fixtures["consent"]["id"]), None),
            ("POST", "/v1/consents/{id}/form"): lambda: (
                path(node.new_consent(case, signed=True)["id"] if fresh
                     else fixtures["unsigned"]["id"]), FORM_BODY),
            ("GET", "/v1/consents/{id}/form"): lambda: (path(fixtures["signed"]["id"]), None),
            ("POST", "/v1/consents/{id}/withdraw"): lambda: (
                path(node.new_consent(case)["id"] if fresh else fixtures["consent"]["id"]), {}),
            ("POST", "/v1/referrals"): lambda: (
                "/v1/referrals", node.referral_body(case, fixtures["consent"])),
            ("GET", "/v1/referrals"): lambda: ("/v1/referrals", None),
            ("GET", "/v1/referrals/{id}"): lambda: (path(fixtures["referral"]["id"]), None),
            ("POST", "/v1/referrals/{id}/status"): lambda: (
                path(node.new_referral(case, fixtures["consent"])["id"] if fresh
                     else fixtures["referral"]["id"]),
                {"state": "cancelled", "text": "Die Familie zieht weg (erfunden)."}),
            ("GET", "/v1/transfers"): lambda: ("/v1/transfers", None),
            ("GET", "/v1/transfers/{id}"): lambda: (path(fixtures["transfer"]["id"]), None),
            ("POST", "/v1/transfers/{id}/accept"): lambda: (
                path(self.pool.pop() if fresh else fixtures["incoming"]), {}),
            ("POST", "/v1/transfers/{id}/decline"): lambda: (
                path(self.pool.pop() if fresh else fixtures["incoming"]),
                {"reason": "INVALID_STATE"}),
            ("GET", "/v1/directory"): lambda: ("/v1/directory", None),
            ("GET", "/v1/events"): lambda: ("/v1/events", None),
            ("GET", "/v1/reports"): lambda: ("/v1/reports", None),
            ("GET", "/v1/audit"): lambda: ("/v1/audit", None),
            ("GET", "/v1/audit/verify"): lambda: ("/v1/audit/verify", None),
            ("POST", "/v1/emergency"): lambda: ("/v1/emergency", {
                "office": OWN, "reason": "Erprobung (erfunden)", "minutes": 1}),
            ("GET", "/v1/emergency"): lambda: ("/v1/emergency", None),
            ("POST", "/v1/emergency/{id}/approve"): lambda: (path(node.new_grant()), {}),
            ("POST", "/v1/emergency/{id}/end"): lambda: (path(node.new_grant()), {}),
        }
        if key not in builders:
            return None
        built = builders[key]()
        if fresh:
            node.settle()  # what making the record queued is done
        return built[0], built[1], True

    # -- checks of what a caller of the own office reads

    def only_own(self, route, answer):
        """A note on what in a 2xx answer is not the caller's office's, or ""."""
        pattern = route["pattern"]
        lists = {"/v1/cases": "cases", "/v1/consents": "consents", "/v1/referrals": "referrals",
                 "/v1/transfers": "transfers", "/v1/follow-ups": "follow_ups",
                 "/v1/events": "events"}
        if pattern in lists:
            entries = answer.get(lists[pattern]) if isinstance(answer, dict) else None
            if not isinstance(entries, list):
                return "no list %s in the answer" % lists[pattern]
            for entry in entries:
                office = entry.get("office") or entry.get("service")
                if not office and entry.get("direction") == "incoming":
                    office = (entry.get("to") or {}).get("service")
                if office != OWN or entry.get("id") in self.other_ids:
                    return "lists a record of office %s: %s" % (office, entry.get("id"))
            own = {"cases": self.fixtures[OWN]["case"]["id"],
                   "follow_ups": self.fixtures[OWN]["case"]["id"],
                   "consents": self.fixtures[OWN]["consent"]["id"],
                   "referrals": self.fixtures[OWN]["referral"]["id"],
                   "transfers": self.fixtures[OWN]["transfer"]["id"]}.get(lists[pattern])
            if own and own not in {entry.get("id") for entry in entries}:
                return "the own office's record %s is missing" % own
        if pattern == "/v1/reports":
            for key in (answer.get("cases") or {}):
                if not key.startswith(OWN + " "):
                    return "reports count cases of %s" % key
        return ""

    # -- one request

    def one(self, route, role, variant):
        allowed = role in route["roles"]
        exchange = route["pattern"].startswith("/v1/exchange/")
        #   The administration may call the reading routes of casework, but
        #   without an approved emergency access reads no record there
        record_read = route["method"] == "GET" and route["pattern"] in ADMIN_BLIND
        if not allowed:
            expected = "FORBIDDEN"
        elif variant == "other" or (role == "administration" and record_read):
            expected = "OFFICE_NOT_PERMITTED"
        else:
            expected = "2xx" if not exchange else "not-403"
        built = self.target(route, variant, fresh=allowed and variant == "own")
        if built is None:
            self.record("FAIL", role, route, variant, "-", "-", expected,
                        "access.py has no request for this route: add one")
            return
        path, body, strict = built
        if not strict and expected == "2xx":
            expected = "not-403"
        refusal = expected in ("FORBIDDEN", "OFFICE_NOT_PERMITTED")
        if refusal:
            if self.dirty:
                self.node.settle()
                self.dirty = False
            records = self.node.records()
            position = self.node.log_position()
        status, answer, raw = self.callers[role].call(route["method"], path, body)
        error = answer.get("error") if isinstance(answer, dict) else None
        note = ""
        if status >= 500:
            note = "a server error: %s" % raw[:200]
        elif refusal:
            if status != 403 or error != expected:
                note = "answer: %s" % raw[:200]
        elif status == 403:
            note = "refused: %s" % raw[:200]
        elif expected == "2xx" and status // 100 != 2:
            note = "answer: %s" % raw[:200]
        if not note and status == 403 and any(name in raw for name in FAMILY_NAMES):
            note = "the refusal shows a family's name: %s" % raw[:200]
        if not note and status // 100 == 2 and route["method"] == "GET" and allowed and \
                role != "administration":
            note = self.only_own(route, answer)
        if not note and status // 100 == 2 and role == "administration" and \
                route["pattern"] in ADMIN_LISTS:
            listed = answer.get(ADMIN_LISTS[route["pattern"]]) if isinstance(answer, dict) else None
            if listed != []:
                note = "the administration is listed records: %s" % raw[:200]
        if status // 100 == 2 and route["method"] != "GET":
            self.dirty = True
        if refusal:
            #   Nothing changed: lists, events, audit log
            self.node.settle()
            after = self.node.log_position()
            if after != position:
                note = note or "the refusal changed the events or the audit log: %s -> %s" % (
                    position, after)
            if self.node.records() != records:
                note = note or "the refusal changed the node's records"
        self.record("FAIL" if note else "ok", role, route, variant, status, error, expected, note)

    def methods(self):
        """Every path of the table with each method it does not take: 405
        METHOD_NOT_ALLOWED naming exactly the table's methods; a segment
        more or an unknown path: 404 NOT_FOUND. For every role; nothing
        changes."""
        self.node.settle()
        records = self.node.records()
        position = self.node.log_position()
        allowed = {}
        for route in self.routes:
            allowed.setdefault(route["pattern"], []).append(route["method"])
        own_case = self.fixtures[OWN]["case"]["id"]
        for pattern, methods in allowed.items():
            path = pattern.replace("{id}", own_case)
            route = {"method": "*", "pattern": pattern}
            for role in ROLES:
                caller = self.callers[role]
                for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                    if method in methods:
                        continue
                    body = {} if method in ("POST", "PATCH") else None
                    status, answer, raw = caller.call(method, path, body)
                    error = answer.get("error") if isinstance(answer, dict) else None
                    allow = sorted(part.strip() for part in
                                   (caller.answered.get("Allow") or "").split(",") if part.strip())
                    note = "" if status == 405 and error == "METHOD_NOT_ALLOWED" else raw[:200]
                    if not note and allow != sorted(methods):
                        note = "Allow: %s, the table has %s" % (allow, sorted(methods))
                    self.record("FAIL" if note else "ok", role, dict(route, method=method),
                                "method", status, error, "METHOD_NOT_ALLOWED", note)
                for method in methods:
                    body = {} if method in ("POST", "PATCH") else None
                    for wrong in (path + "/extra", path.replace("/v1/", "/v2/", 1)):
                        status, answer, raw = caller.call(method, wrong, body)
                        error = answer.get("error") if isinstance(answer, dict) else None
                        note = "" if status == 404 and error == "NOT_FOUND" else \
                            "%s: %s" % (wrong, raw[:200])
                        self.record("FAIL" if note else "ok", role, dict(route, method=method),
                                    "path", status, error, "NOT_FOUND", note)
        self.node.settle()
        if self.node.log_position() != position or self.node.records() != records:
            self.record("FAIL", "-", {"method": "*", "pattern": "*"}, "method", "-", "-",
                        "unchanged", "a 404 or 405 changed the node's records or logs")

    def run(self, fixtures_path):
        self.prepare()
        with open(fixtures_path, "w", encoding="utf-8") as file:
            json.dump({office: {name: value if isinstance(value, str) else value["id"]
                                for name, value in items.items()}
                       for office, items in self.fixtures.items()}, file)
        self.methods()
        for route in self.routes:
            has_id = "{id}" in route["pattern"]
            scoped = route["scope"] == "offices" and (
                has_id or route["pattern"] in ("/v1/cases", "/v1/consents", "/v1/referrals")
                and route["method"] == "POST")
            for role in ROLES:
                for variant in (["own", "other"] if scoped else [None]):
                    try:
                        self.one(route, role, variant)
                    except FixtureError as problem:
                        self.record("FAIL", role, route, variant, "-", "-", "-",
                                    "fixture: %s" % problem)
        if self.pool:
            log("%d incoming transfers were not used" % len(self.pool))


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as file:
        config = json.load(file)
    try:
        routes = parse_routes(config["routes_c"], config["routes_h"])
        log("route table: %d routes" % len(routes))
        with open(sys.argv[2], "w", encoding="utf-8") as results:
            matrix = Matrix(config, routes, results)
            matrix.run(config["fixtures"])
    except FixtureError as problem:
        log("cannot run the matrix: %s" % problem)
        return 2
    print("%d %d" % (len(routes), matrix.requests))
    return 0


if __name__ == "__main__":
    sys.exit(main())
