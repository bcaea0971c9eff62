#!/usr/bin/env python3
"""traffic.py - one town's traffic for the fault harness (tests/faults/run).

Runs inside the town's network namespace and talks only to its own node:
the JSON API on 127.0.0.1 and the control socket (an ipc:// file in the
node's state directory) through the `bruecke` CLI. It drives every kind of
message the network carries, continuously, until a stop file appears, its
time or operation budget is spent, or the orchestrator is gone:

  - test notes (`bruecke node send-test`) to the other towns;
  - casework: cases, consents, referrals to another town's service; the
    answers to what arrives (accept, progress, complete, decline); cancels
    of its own referrals; consent withdrawals; case transfers (SGB VIII
    section 86c) and the answers to incoming ones;
  - Transferbörse: offers, requests, withdrawals, and the steps of the
    agreements the county's matching proposes (accept, schedule, complete,
    sometimes cancel).

A refused or failed call (a node that is down, a full disk: 503
STORE_FULL, ...) is counted, never fatal. At the end the counts go to the
stats file as JSON. All data is invented.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request

HTTP_TIMEOUT_S = 5          # a paused node must not stall the driver for long
CLI_TIMEOUT_S = 10          # the same for a CLI call
UNAVAILABLE_BACKOFF_S = 0.5  # wait after a node that did not answer or said 503
HTTP_TRY_LATER = 503        # STORE_FULL, STORE_FAILED, BUSY, IO_ERROR
MAX_OPEN_CASES = 6          # cases kept open for referrals
MAX_OWN_BOARD_ITEMS = 6     # beyond this, withdraw instead of publishing
DAY_MS = 86400000
EVIDENCE = "5" * 64          # the SHA-256 of an invented scanned form

#   The county as the roster of tests/integration/lib.sh makes it: each
#   node's AGS and services, and which node serves (AGS, service).
TOWNS = {
    "luenen": {"ags": "05978024", "services": ["jobcenter", "jugendamt", "fruehe-hilfen"]},
    "unna": {"ags": "05978036", "services": ["fruehe-hilfen", "jugendamt"]},
    "kamen": {"ags": "05978020", "services": ["jugendamt", "fruehe-hilfen"]},
    "kreis-unna": {"ags": "05978", "services": ["gesundheitsamt", "jobcenter"]},
}
#   The service a town's cases belong to (one it offers)
CASE_SERVICE = {"luenen": "jobcenter", "unna": "fruehe-hilfen", "kamen": "jugendamt",
                "kreis-unna": "gesundheitsamt"}
#   The service a test note to a town is addressed to (one it offers)
NOTE_SERVICE = {"luenen": "jugendamt", "unna": "fruehe-hilfen", "kamen": "jugendamt",
                "kreis-unna": "gesundheitsamt"}
#   Towns with their own Jugendamt: case transfers go between them
JUGENDAMT_TOWNS = ["luenen", "unna", "kamen"]
#   Towns (role town) take part in the Transferbörse; the Kreis does not
EXCHANGE_TOWNS = ["luenen", "unna", "kamen"]
TOPICS = ["fruehe-hilfen", "sprachfoerderung", "elternbildung", "kinderschutz",
          "uebergang-kita-grundschule", "uebergang-schule-beruf", "gesundheitsfoerderung"]
CANCEL_REASONS = ["declined", "no-capacity", "schedule-conflict", "offer-changed", "other"]
CATEGORIES = ["household", "child-age", "language", "childcare"]
FIRST_NAMES = ["Aylin", "Deniz", "Mira", "Tom", "Lina", "Jonas", "Emre", "Sofia"]
FAMILY_NAMES = ["Beispiel", "Musterfrau", "Erfunden", "Probe", "Testmann"]


def routes():
    """Every (ags, service) address and the node that serves it."""
    table = {}
    for town in JUGENDAMT_TOWNS:
        for service in TOWNS[town]["services"]:
            if not (town == "luenen" and service == "jobcenter"):
                table[(TOWNS[town]["ags"], service)] = town
        for service in ("gesundheitsamt", "jobcenter"):
            table[(TOWNS[town]["ags"], service)] = "kreis-unna"
    return table


class Stats:
    """Counts per operation: ok, refused by reason, unavailable."""

    def __init__(self):
        self.ops = {}

    def count(self, op, outcome):
        entry = self.ops.setdefault(op, {})
        entry[outcome] = entry.get(outcome, 0) + 1

    def total(self):
        return sum(sum(entry.values()) for entry in self.ops.values())


class Driver:
    """The traffic of one town."""

    def __init__(self, args):
        self.args = args
        self.town = args.town
        self.random = random.Random(args.seed)
        self.stats = Stats()
        with open(args.token_file, encoding="utf-8") as handle:
            self.token = handle.read().strip()
        self.addresses = [(ags, service) for (ags, service), node in routes().items()
                          if node != self.town]
        self.transfer_cases = []   # open Jugendamt case ids that may move
        self.outgoing = {}         # referral id -> last state this side knows
        self.incoming = {}         # referral id -> state this side set or saw
        self.incoming_transfers = []
        self.outgoing_transfers = set()
        self.consents = {}         # consent id -> (case id, [addresses not withdrawn])
        self.events_after = 0
        self.unavailable_until = 0.0

    # ---- talking to the node -------------------------------------------------

    def api(self, op, method, path, body=None):
        """One API call; returns the JSON answer or None (counted either way)."""
        if time.monotonic() < self.unavailable_until:
            self.stats.count(op, "skipped")
            return None
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.args.api + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as answer:
                text = answer.read()
            self.stats.count(op, "ok")
            return json.loads(text) if text else {}
        except urllib.error.HTTPError as error:
            try:
                reason = json.loads(error.read()).get("error", str(error.code))
            except (ValueError, OSError):
                reason = str(error.code)
            self.stats.count(op, "%d %s" % (error.code, reason))
            if error.code == HTTP_TRY_LATER:
                self.unavailable_until = time.monotonic() + UNAVAILABLE_BACKOFF_S
            return None
        except (OSError, ValueError):
            #   Down, paused (timeout) or restarting: count it and back off
            self.stats.count(op, "unavailable")
            self.unavailable_until = time.monotonic() + UNAVAILABLE_BACKOFF_S
            return None

    def send_note(self):
        """A test note to another town, through the control socket."""
        peer = self.random.choice([town for town in TOWNS if town != self.town])
        command = [self.args.bruecke, "node", "send-test", "--state", self.args.state,
                   "--to", peer, "--service", NOTE_SERVICE[peer],
                   "--text", "Testnotiz %d von %s, erfunden" % (self.random.randrange(10 ** 6),
                                                                self.town),
                   "--purpose", "language-support", "--categories", "household,child-age",
                   "--consent-id", "00112233445566778899aabbccddeeff"]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=CLI_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            self.stats.count("note", "unavailable")
            return
        if done.returncode == 0:
            self.stats.count("note", "ok")
        else:
            words = done.stderr.split("refused: ")
            reason = words[1].split()[0] if len(words) > 1 else "exit %d" % done.returncode
            self.stats.count("note", reason)

    # ---- casework ------------------------------------------------------------

    def new_case(self):
        """An invented family, and (if it worked) the family's consent."""
        family = self.random.choice(FAMILY_NAMES)
        mother_first, child_first = self.random.sample(FIRST_NAMES, 2)
        mother = "%s %s" % (mother_first, family)
        child = "%s %s" % (child_first, family)
        service = CASE_SERVICE[self.town]
        transferable = self.town in JUGENDAMT_TOWNS and self.random.random() < 0.4
        if transferable:
            service = "jugendamt"
        case = self.api("case", "POST", "/v1/cases", {
            "kind": "family", "service": service,
            "members": [{"name": mother, "role": "mother", "age": self.random.randrange(20, 45),
                         "custody_for": [child]},
                        {"name": child, "role": "child", "age": self.random.randrange(1, 12)}],
            "needs": ["Kita-Platz"], "details": {"language": {"child": "spricht wenig Deutsch"},
                                                "childcare": {"kita": "kein Platz"}}})
        if not case:
            return
        if transferable:
            self.transfer_cases.append(case["id"])
            return
        chosen = self.random.sample(self.addresses, min(3, len(self.addresses)))
        now = int(time.time() * 1000)
        consent = self.api("consent", "POST", "/v1/consents", {
            "case_id": case["id"], "grantor": mother, "subjects": [mother, child],
            "purpose": "language-support", "categories": CATEGORIES,
            "recipients": [{"ags": ags, "service": service} for ags, service in chosen],
            "valid_from_ms": now, "valid_until_ms": now + 180 * DAY_MS,
            "form": "written", "evidence_sha256": EVIDENCE, "health_data": False})
        if consent:
            self.consents[consent["id"]] = (case["id"], list(chosen))
            while len(self.consents) > MAX_OPEN_CASES:
                del self.consents[next(iter(self.consents))]

    def refer(self):
        """A referral of a case to one of its consent's remaining recipients."""
        usable = [consent for consent, (_, left) in self.consents.items() if left]
        if not usable:
            self.new_case()
            return
        consent = self.random.choice(usable)
        case, left = self.consents[consent]
        ags, service = self.random.choice(left)
        referral = self.api("referral", "POST", "/v1/referrals", {
            "case_id": case, "service": CASE_SERVICE[self.town], "purpose": "language-support",
            "consent_id": consent, "recipient": {"ags": ags, "service": service},
            "categories": self.random.sample(CATEGORIES, self.random.randrange(1, 5)),
            "note": "Bitte um Kontakt (erfundener Fall)"})
        if referral:
            self.outgoing[referral["id"]] = referral.get("state", "requested")

    def cancel_referral(self):
        """The sender cancels one of its referrals that is not final."""
        open_ids = [rid for rid, state in self.outgoing.items()
                    if state not in ("cancelled", "declined", "completed", "failed")]
        if not open_ids:
            return
        rid = self.random.choice(open_ids)
        if self.api("cancel", "POST", "/v1/referrals/%s/status" % rid,
                    {"state": "cancelled", "text": "Familie zieht Anfrage zurück"}) is not None:
            self.outgoing[rid] = "cancelled"
        elif time.monotonic() >= self.unavailable_until:
            self.outgoing[rid] = "final"  # refused for good: do not try again

    def withdraw_consent(self):
        """The family withdraws its consent for one recipient."""
        usable = [consent for consent, (_, left) in self.consents.items() if left]
        if not usable:
            return
        consent = self.random.choice(usable)
        left = self.consents[consent][1]
        ags, service = left.pop(self.random.randrange(len(left)))
        self.api("withdraw", "POST", "/v1/consents/%s/withdraw" % consent,
                 {"recipients": [{"ags": ags, "service": service}]})

    def transfer_case(self):
        """A family moves: its Jugendamt case goes to another town."""
        if self.town not in JUGENDAMT_TOWNS:
            return
        if not self.transfer_cases:
            self.new_case()
            return
        case = self.transfer_cases.pop(0)
        target = self.random.choice([town for town in JUGENDAMT_TOWNS if town != self.town])
        transfer = self.api("transfer", "POST", "/v1/cases/%s/transfer" % case,
                            {"ags": TOWNS[target]["ags"]})
        if transfer:
            self.outgoing_transfers.add(transfer["id"])

    def read_events(self):
        """New referrals and transfers for this town, from GET /v1/events."""
        answer = self.api("events", "GET", "/v1/events?after=%d" % self.events_after)
        if not answer:
            return
        for event in answer.get("events", []):
            if event["kind"] == "referral" and event["id"] not in self.outgoing:
                if event["id"] not in self.incoming and event["state"] == "received":
                    self.incoming[event["id"]] = "received"
                elif event["id"] in self.incoming and event["state"] in (
                        "cancelled", "declined", "completed", "failed"):
                    self.incoming[event["id"]] = "final"
            elif event["kind"] == "referral" and event["id"] in self.outgoing:
                self.outgoing[event["id"]] = event["state"]
            elif (event["kind"] == "transfer" and event["state"] == "requested"
                  and event["id"] not in self.outgoing_transfers):
                self.incoming_transfers.append(event["id"])
        self.events_after = answer.get("next", self.events_after)

    def answer_incoming(self):
        """The recipient moves one received referral one step on."""
        steps = {"received": "accepted", "accepted": "in_progress", "in_progress": "completed"}
        pending = [rid for rid, state in self.incoming.items() if state in steps]
        if pending:
            rid = self.random.choice(pending)
            state = self.incoming[rid]
            target = steps[state]
            body = {"state": target}
            if state == "received" and self.random.random() < 0.2:
                body = {"state": "declined", "reason": "NO_ROUTE", "text": "Nicht zuständig"}
            elif target == "accepted":
                body["lotse"] = "Frau Lotse (erfunden)"
            elif target == "completed":
                body["text"] = "Kita-Platz gefunden (erfunden)"
            answer = self.api("referral-" + body["state"], "POST",
                              "/v1/referrals/%s/status" % rid, body)
            if answer is not None:
                self.incoming[rid] = answer.get("state", body["state"])
            elif time.monotonic() >= self.unavailable_until:
                self.incoming[rid] = "final"  # refused for good (cancelled, withdrawn)
        if self.incoming_transfers:
            tid = self.incoming_transfers.pop(0)
            if self.random.random() < 0.8:
                self.api("transfer-accept", "POST", "/v1/transfers/%s/accept" % tid, {})
            else:
                self.api("transfer-decline", "POST", "/v1/transfers/%s/decline" % tid,
                         {"reason": "NO_ROUTE"})

    # ---- Transferbörse -------------------------------------------------------

    def exchange(self):
        """An offer, a request or a withdrawal on the board."""
        if self.town not in EXCHANGE_TOWNS:
            return
        board = self.api("board", "GET", "/v1/exchange/board")
        if board is None:
            return
        mine = [item["id"] for item in board.get("offers", []) + board.get("requests", [])
                if item.get("mine")]
        choice = self.random.random()
        if len(mine) >= MAX_OWN_BOARD_ITEMS or (mine and choice < 0.2):
            self.api("ex-withdraw", "POST",
                     "/v1/exchange/items/%s/withdraw" % self.random.choice(mine), {})
        elif choice < 0.6:
            self.api("ex-offer", "POST", "/v1/exchange/offers", {
                "title": "Praxisbeispiel %d aus %s (erfunden)" % (self.random.randrange(1000),
                                                                   self.town),
                "topics": self.random.sample(TOPICS, self.random.randrange(1, 3)),
                "target_group": "Familien mit kleinen Kindern (erfunden)",
                "results": "Mehr Familien erreicht (erfundene Zahlen)",
                "success_factors": "Feste Ansprechpersonen", "pitfalls": "Datenschutz früh klären",
                "presentation": True, "documents": False,
                "coaching_hours": self.random.randrange(1, 4),
                "capacity_per_quarter": self.random.randrange(4, 12)})
        else:
            self.api("ex-request", "POST", "/v1/exchange/requests",
                     {"topic": self.random.choice(TOPICS), "note": "Start bald (erfunden)"})

    def agreements(self):
        """One step on an agreement of this town, where one is due."""
        if self.town not in EXCHANGE_TOWNS:
            return
        answer = self.api("agreements", "GET", "/v1/exchange/agreements")
        if not answer:
            return
        due = []
        for agreement in answer.get("agreements", []):
            role = agreement.get("role")
            state = agreement.get("state")
            if state == "proposed" and not agreement.get(role + "_accepted"):
                due.append((agreement["id"], "accept", {}))
            elif state == "accepted" and role == "provider":
                due.append((agreement["id"], "schedule",
                            {"scheduled_for_ms": int(time.time() * 1000) - DAY_MS}))
            elif state == "scheduled" and not agreement.get(role + "_signed"):
                due.append((agreement["id"], "complete", {}))
        if not due:
            return
        aid, step, body = self.random.choice(due)
        if self.random.random() < 0.1:
            step, body = "cancel", {"reason": self.random.choice(CANCEL_REASONS)}
        self.api("ag-" + step, "POST", "/v1/exchange/agreements/%s/%s" % (aid, step), body)

    # ---- the loop --------------------------------------------------------------

    def step(self):
        """One round: read events, one random action, answer what came in."""
        self.read_events()
        actions = [(self.send_note, 30), (self.new_case, 6), (self.refer, 20),
                   (self.cancel_referral, 3), (self.withdraw_consent, 3),
                   (self.transfer_case, 5), (self.exchange, 10), (self.agreements, 10)]
        pick = self.random.uniform(0, sum(weight for _, weight in actions))
        for action, weight in actions:
            pick -= weight
            if pick <= 0:
                action()
                break
        self.answer_incoming()

    def run(self):
        """Steps at the given rate until told to stop; writes the stats."""
        deadline = time.monotonic() + self.args.max_seconds
        interval = 1.0 / self.args.rate
        steps = 0
        while (time.monotonic() < deadline and steps < self.args.max_steps
               and not os.path.exists(self.args.stop_file) and parent_alive(self.args.parent)):
            started = time.monotonic()
            self.step()
            steps += 1
            rest = interval - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)
        self.write_stats(steps)

    def write_stats(self, steps):
        """The counts, as JSON, written atomically."""
        temporary = self.args.stats + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"town": self.town, "steps": steps, "ops": self.stats.ops}, handle,
                      indent=1, sort_keys=True)
        os.replace(temporary, self.args.stats)


def parent_alive(pid):
    """True while the orchestrator runs (the driver ends with it)."""
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--town", required=True, choices=sorted(TOWNS))
    parser.add_argument("--api", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--token-file", required=True)
    parser.add_argument("--state", required=True, help="the node's state directory")
    parser.add_argument("--bruecke", required=True, help="the bruecke CLI")
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--rate", type=float, default=3.0, help="steps per second")
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument("--max-steps", type=int, default=100000)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args()
    Driver(args).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
