#!/usr/bin/env python3
"""check.py - the fault harness's history checker (tests/faults/run).

Reads what each node itself recorded, as the operator CLI prints it:

  sent-NODE.txt   `bruecke node sent`:  <sequence> <id> <recipient> <state> <reason>
  inbox-NODE.txt  `bruecke node inbox`: <counter> <sender> <type> <sequence> <id> <text...>

and decides, for one scenario:

  sent              every sent record (content to a town, Transferbörse to the broker)
  delivered         content found in its recipient's inbox, plus Transferbörse
                    messages the broker accepted (it applies them, no inbox)
  refused, dead     sent records in that state (with their reasons, in the details)
  lost              content the broker accepted (sender state accepted or receipted)
                    that is not in the recipient's inbox and did not end refused or
                    dead. While the system is not quiescent (--hang), content still
                    `accepted` may just be stuck in a queue: it is reported as
                    `undelivered`, not lost; `receipted` and absent is lost always.
  duplicated        the same (sender, message id) more than once in one inbox
  reordered         in an inbox, in arrival (counter) order, a sender's sequence
                    numbers not strictly increasing among the messages that carry
                    an order (PROTOCOL.md 9, step 4): a town's content (what it
                    keeps in its outbox) and the broker's notices (DEAD_LETTER,
                    AGREEMENT). Every sender.
  answers-unordered (information, no finding) answers (RECEIPT, REFUSAL) that came
                    after a higher-numbered message of their sender: allowed, since
                    answers are sent without an outbox and again when refused
  receipts-missing  content in a recipient's inbox that its sender does not
                    record `receipted`
  pending           sent records still `queued` (or content still `accepted`)

Prints one JSON object with the counts and the first examples of each
finding; exit status 0.
"""

import argparse
import collections
import glob
import json
import os
import sys

#   Content from town to town: receipted by the recipient (PROTOCOL.md 9, 15)
CONTENT_TYPES = {"TEST_NOTE", "REFERRAL", "REFERRAL_UPDATE", "CONSENT_WITHDRAWAL",
                 "CASE_TRANSFER", "CASE_TRANSFER_ANSWER"}
EXAMPLES = 5  # findings shown per kind
#   Answers a town sends without its outbox (PROTOCOL.md 9, step 5)
ANSWER_TYPES = {"RECEIPT", "REFUSAL"}
BROKER_RECIPIENT = "(broker)"  # how a sent record to the broker is shown here


def read_sent(path):
    """Sent records: (id) -> dict, from one node's `node sent` listing."""
    records = {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            #   Single spaces: the recipient is empty for a message to the broker
            words = line.rstrip("\n").split(" ")
            if len(words) != 5 or not words[0].isdigit():
                continue
            records[words[1]] = {"sequence": int(words[0]), "id": words[1],
                                 "recipient": words[2] or BROKER_RECIPIENT,
                                 "state": words[3], "reason": words[4]}
    return records


def read_inbox(path):
    """Inbox entries in arrival order, from one node's `node inbox` listing."""
    entries = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            words = line.split(None, 5)
            if len(words) < 5:
                continue
            entries.append({"counter": int(words[0]), "sender": words[1], "type": words[2],
                            "sequence": int(words[3]), "id": words[4]})
    entries.sort(key=lambda entry: entry["counter"])
    return entries


def check(directory, broker, hang):
    """All counts for the listings in DIRECTORY."""
    sent, inbox = {}, {}
    for path in glob.glob(os.path.join(directory, "sent-*.txt")):
        sent[os.path.basename(path)[5:-4]] = read_sent(path)
    for path in glob.glob(os.path.join(directory, "inbox-*.txt")):
        inbox[os.path.basename(path)[6:-4]] = read_inbox(path)
    counts = collections.Counter()
    examples = collections.defaultdict(list)
    reasons = {"refused": collections.Counter(), "dead": collections.Counter()}

    def finding(kind, text):
        counts[kind] += 1
        if len(examples[kind]) < EXAMPLES:
            examples[kind].append(text)

    #   What each inbox holds: (sender, id) -> how often
    held = {node: collections.Counter((entry["sender"], entry["id"]) for entry in entries)
            for node, entries in inbox.items()}
    for node, entries in inbox.items():
        for (sender, mid), times in held[node].items():
            if times > 1:
                finding("duplicated", "%s holds %s from %s %d times" % (node, mid, sender, times))
        last = {}  # sender -> (sequence, counter, type) of its highest ordered message
        highest = collections.Counter()  # sender -> its highest sequence of any type
        for entry in entries:
            if entry["type"] == "UNVERIFIABLE":
                finding("unverifiable", "%s inbox counter %d" % (node, entry["counter"]))
                continue
            sender = entry["sender"]
            if entry["type"] in ANSWER_TYPES:
                if entry["sequence"] < highest[sender]:
                    counts["answers-unordered"] += 1
            else:
                before = last.get(sender)
                if before and entry["sequence"] <= before[0]:
                    finding("reordered", "%s: from %s %s sequence %d (counter %d) after %s %d "
                            "(counter %d)" % (node, sender, entry["type"], entry["sequence"],
                                              entry["counter"], before[2], before[0], before[1]))
                if not before or entry["sequence"] > before[0]:
                    last[sender] = (entry["sequence"], entry["counter"], entry["type"])
            highest[sender] = max(highest[sender], entry["sequence"])
            if entry["type"] in CONTENT_TYPES and sender != broker:
                record = sent.get(sender, {}).get(entry["id"])
                if record is None or record["state"] != "receipted":
                    finding("receipts-missing", "%s holds %s %s from %s; the sender records %s"
                            % (node, entry["type"], entry["id"], sender,
                               "nothing" if record is None else
                               record["state"] + " " + record["reason"]))

    for node, records in sent.items():
        for record in records.values():
            counts["sent"] += 1
            state, recipient = record["state"], record["recipient"]
            if state in ("refused", "dead"):
                counts[state] += 1
                reasons[state][record["reason"]] += 1
                if recipient in held and held[recipient][(node, record["id"])]:
                    finding("refused-but-delivered", "%s's %s to %s ended %s %s but arrived"
                            % (node, record["id"], recipient, state, record["reason"]))
                continue
            if state == "queued":
                finding("pending", "%s's %s to %s still queued" % (node, record["id"], recipient))
                continue
            if recipient == BROKER_RECIPIENT:
                counts["delivered"] += 1  # applied by the broker: accepted is final
                continue
            if recipient in held and held[recipient][(node, record["id"])]:
                counts["delivered"] += 1
                continue
            text = "%s's %s (sequence %d) to %s is %s but not in the recipient's inbox" % (
                node, record["id"], record["sequence"], recipient, state)
            if state == "accepted" and hang:
                finding("undelivered", text)
            else:
                finding("lost", text)
    return {"counts": dict(counts), "examples": dict(examples),
            "reasons": {state: dict(counter) for state, counter in reasons.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="where sent-NODE.txt and inbox-NODE.txt are")
    parser.add_argument("--broker", default="broker", help="the broker's node id")
    parser.add_argument("--hang", action="store_true", help="the system did not go quiet")
    args = parser.parse_args()
    json.dump(check(args.directory, args.broker, args.hang), sys.stdout, indent=1,
              sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
