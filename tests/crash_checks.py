"""The verdict of a SIGKILL crash run, from the devices' journals (:mod:`tests.crash_journal`).

Every message a device's user sent (its ``intent``) must show up in the
journal of each of its recipients exactly once, with the text that was sent,
or be reported: ``Undecryptable`` at that recipient or ``SendFailed`` for that
recipient at the sender. Nothing may be shown twice -- neither the same id
twice, nor the same message under two ids (a send made again under a new id
after a kill), nor a live ``Deliver`` of a message already shown -- and
nothing may be shown that nobody sent to that device.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Verdict", "check"]

Record = dict[str, Any]


@dataclass
class Verdict:
    """What a run's journals say.

    Attributes:
        problems: every message lost, doubled or wrong, one line each.
        messages: messages the users sent (intents).
        copies: (message, recipient) pairs.
        delivered: copies shown exactly once.
        undecryptable: copies reported ``Undecryptable`` by their recipient.
        send_failed: copies reported ``SendFailed`` by their sender, by reason.
        reported_not_shown: reported copies that were never shown.
        reported_and_shown: copies shown once and reported too (a late resend after
            ``Undecryptable``; a ``SendFailed`` whose delivery receipt never came).
        gaps: ``Gap`` reports (the journal keeps them; a false one costs a re-fetch).
        from_inbox: deliveries journaled when the inbox handed them out at start-up.
        relay: the relay's own statistics (:class:`tests.crash_relay.Stats`), if any.
    """

    problems: list[str] = field(default_factory=list)
    messages: int = 0
    copies: int = 0
    delivered: int = 0
    undecryptable: int = 0
    send_failed: Counter[str] = field(default_factory=Counter)
    reported_not_shown: int = 0
    reported_and_shown: int = 0
    gaps: int = 0
    from_inbox: int = 0
    relay: Any = None

    def summary(self) -> str:
        """One paragraph for a person."""
        lines = [
            f"{self.messages} messages, {self.copies} copies: {self.delivered} shown once, "
            f"{self.reported_not_shown} reported and not shown, {self.reported_and_shown} "
            f"shown and reported (undecryptable {self.undecryptable}, send failed "
            f"{dict(self.send_failed)}); {self.from_inbox} shown from the inbox after a "
            f"restart; {self.gaps} gaps"
        ]
        if self.relay is not None:
            r = self.relay
            lines.append(
                f"{r.kills} kills by the relay {dict(r.kill_phases.most_common())}, "
                f"{r.armed_kills} at armed points {dict(r.kill_points.most_common())}, "
                f"{r.starts} starts, {r.torn_lines} torn lines"
            )
            lines.append(
                f"uploads {dict(r.uploads)}, resends {r.resends}, faults {dict(r.faults)}, "
                f"stanzas handed over at a restart {r.handed_at_restart}, "
                f"taken in batches {r.batched}"
            )
            lines.append(
                f"recovery {dict(r.recovery)}, {r.settle_rounds} settle rounds, {r.wall_s:.1f} s"
            )
        verdict = "OK" if not self.problems else f"{len(self.problems)} PROBLEMS"
        lines.append(verdict + "".join(f"\n  {p}" for p in self.problems[:20]))
        return "\n  ".join(lines)


def check(journals: dict[str, list[Record]]) -> Verdict:
    """Judge the journals (device JID -> its records) of one run."""
    verdict = Verdict()
    problems = verdict.problems
    intents: dict[tuple[str, str], Record] = {}
    for sender, records in journals.items():
        numbers: Counter[int] = Counter()
        for r in records:
            if r["t"] != "intent":
                continue
            numbers[r["n"]] += 1
            if (sender, r["id"]) in intents:
                problems.append(f"{sender} used message id {r['id']} for two intents")
            intents[(sender, r["id"])] = r
        problems += [f"{sender} wrote intent #{n} {k} times" for n, k in numbers.items() if k > 1]
    verdict.messages = len(intents)

    shown: dict[str, Counter[tuple[str, str]]] = {}
    undecryptable: dict[str, set[tuple[str, str]]] = {}
    failed: dict[str, dict[tuple[str, str], str]] = {}
    for device, records in journals.items():
        shown[device] = Counter()
        texts: Counter[tuple[str, str]] = Counter()
        undecryptable[device] = set()
        failed[device] = {}
        for r in records:
            kind = r["t"]
            if kind == "deliver":
                key = (r["from"], r["id"])
                shown[device][key] += 1
                texts[(r["from"], r["text"])] += 1
                verdict.from_inbox += r["via"] == "inbox"
                intent = intents.get(key)
                if intent is None:
                    problems.append(f"{device} showed {r['id']} from {r['from']}: never sent")
                elif device not in intent["to"]:
                    problems.append(f"{device} showed {r['id']} from {r['from']}: not sent to it")
                elif (r["text"], r["group"]) != (intent["text"], intent["group"]):
                    problems.append(
                        f"{device} showed {r['id']} from {r['from']} as {r['text']!r} "
                        f"in {r['group']}, sent as {intent['text']!r} in {intent['group']}"
                    )
            elif kind == "double":
                problems.append(f"{device} was handed {r['id']} from {r['from']} live again")
            elif kind == "undecryptable":
                undecryptable[device].add((r["from"], r["id"]))
            elif kind == "send_failed":
                failed[device][(r["id"], r["device"])] = r["reason"]
            elif kind == "gap":
                verdict.gaps += 1
        problems += [
            f"{device} showed {m} from {s} {k} times"
            for (s, m), k in shown[device].items()
            if k > 1
        ]
        problems += [
            f"{device} showed {text!r} from {s} under {k} message ids"
            for (s, text), k in texts.items()
            if k > 1
        ]

    for (sender, message_id), intent in intents.items():
        for recipient in intent["to"]:
            verdict.copies += 1
            times = shown.get(recipient, Counter())[(sender, message_id)]
            at_recipient = (sender, message_id) in undecryptable.get(recipient, set())
            reason = failed[sender].get((message_id, recipient))
            verdict.undecryptable += at_recipient
            if reason is not None:
                verdict.send_failed[reason] += 1
            if times == 1:
                verdict.delivered += 1
                verdict.reported_and_shown += at_recipient or reason is not None
            elif times == 0 and (at_recipient or reason is not None):
                verdict.reported_not_shown += 1
            elif times == 0:
                problems.append(
                    f"lost: {message_id} {intent['text']!r} from {sender} to {recipient}: "
                    "never shown, never reported"
                )
    return verdict
