"""The SIGKILL crash test's own parts: its journal survives a torn line, its verdict finds
every loss and every double (so a green crash run means something)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from axolotl.retry import Priority
from tests.crash_checks import check
from tests.crash_child import envelope_from_json, envelope_to_json, policy
from tests.crash_journal import Journal, read

A, B, C = "alice:1@s.whatsapp.net", "bob:2@s.whatsapp.net", "carol:3@s.whatsapp.net"


def intent(n: int, message_id: str, to: list[str], group: str | None = None) -> dict[str, Any]:
    text = f"alice #{n}"
    return {"t": "intent", "n": n, "id": message_id, "to": to, "group": group, "text": text}


def shown(message_id: str, text: str, sender: str = A, via: str = "live") -> dict[str, Any]:
    return {
        "t": "deliver",
        "from": sender,
        "id": message_id,
        "text": text,
        "group": None,
        "via": via,
    }


def test_a_torn_last_line_is_ignored_and_cut_off_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    journal = Journal(path)
    journal.append({"t": "intent", "n": 0})
    journal.close()
    with path.open("ab") as f:
        f.write(b'{"t":"deliv')  # the kill came in the middle of the write
    assert read(path) == [{"t": "intent", "n": 0}]
    journal = Journal(path)
    assert journal.records == [{"t": "intent", "n": 0}]
    journal.append({"t": "intent", "n": 1})
    journal.close()
    assert path.read_bytes().count(b"\n") == 2
    assert [r["n"] for r in read(path)] == [0, 1]


def test_an_envelope_travels_through_the_relay_unchanged() -> None:
    env = {
        "id": "3EB0AB",
        "from": A,
        "to": B,
        "type": 4,
        "body": "AAEC",
        "ts": 17,
        "count": 2,
        "group": "g@g.us",
        "priority": 1,
    }
    assert envelope_to_json(envelope_from_json(json.loads(json.dumps(env)))) == env


def test_the_tight_policy_spends_its_budgets_sooner() -> None:
    tight, default = policy("tight"), policy("default")
    assert tight.max_retries < default.max_retries
    first = Priority.DEFAULT
    assert tight.classes[first].max_transmissions < default.classes[first].max_transmissions
    with pytest.raises(ValueError):
        policy("loose")


def test_every_copy_shown_once_or_reported_is_clean() -> None:
    verdict = check(
        {
            A: [intent(0, "m0", [B, C]), intent(1, "m1", [B]), intent(2, "m2", [C])],
            B: [shown("m0", "alice #0"), shown("m1", "alice #1", via="inbox")],
            C: [
                shown("m0", "alice #0"),
                {"t": "undecryptable", "from": A, "id": "m2", "reason": "BAD_MAC", "count": 5},
            ],
        }
    )
    assert verdict.problems == []
    assert (verdict.messages, verdict.copies, verdict.delivered) == (3, 4, 3)
    assert (verdict.undecryptable, verdict.reported_not_shown, verdict.from_inbox) == (1, 1, 1)


def test_a_copy_reported_by_its_sender_is_not_lost() -> None:
    failed = {"t": "send_failed", "id": "m0", "device": B, "reason": "UNACKNOWLEDGED"}
    verdict = check({A: [intent(0, "m0", [B]), failed], B: []})
    assert verdict.problems == []
    assert verdict.send_failed == {"UNACKNOWLEDGED": 1}


BAD = {
    "lost": (
        {A: [intent(0, "m0", [B, C])], B: [shown("m0", "alice #0")], C: []},
        "lost: m0 'alice #0' from alice:1@s.whatsapp.net to carol:3@s.whatsapp.net",
    ),
    "a report for another device": (
        {
            A: [
                intent(0, "m0", [B, C]),
                {"t": "send_failed", "id": "m0", "device": B, "reason": "EXPIRED"},
            ],
            B: [shown("m0", "alice #0")],
            C: [],
        },
        "lost: m0",
    ),
    "shown twice": (
        {A: [intent(0, "m0", [B])], B: [shown("m0", "alice #0"), shown("m0", "alice #0")]},
        "bob:2@s.whatsapp.net showed m0 from alice:1@s.whatsapp.net 2 times",
    ),
    "sent again under a new id": (
        {
            A: [intent(0, "m0", [B]), intent(0, "m9", [B])],
            B: [shown("m0", "alice #0"), shown("m9", "alice #0")],
        },
        "showed 'alice #0' from alice:1@s.whatsapp.net under 2 message ids",
    ),
    "a live repeat the application refused to show": (
        {
            A: [intent(0, "m0", [B])],
            B: [shown("m0", "alice #0"), {"t": "double", "from": A, "id": "m0"}],
        },
        "was handed m0 from alice:1@s.whatsapp.net live again",
    ),
    "the wrong text": (
        {A: [intent(0, "m0", [B])], B: [shown("m0", "alice #1")]},
        "as 'alice #1' in None, sent as 'alice #0' in None",
    ),
    "shown to a device it was not sent to": (
        {A: [intent(0, "m0", [B])], B: [shown("m0", "alice #0")], C: [shown("m0", "alice #0")]},
        "carol:3@s.whatsapp.net showed m0 from alice:1@s.whatsapp.net: not sent to it",
    ),
    "never sent": (
        {A: [], B: [shown("m7", "alice #7")]},
        "showed m7 from alice:1@s.whatsapp.net: never sent",
    ),
}


@pytest.mark.parametrize(("journals", "expected"), BAD.values(), ids=list(BAD))
def test_every_loss_and_double_is_a_problem(
    journals: dict[str, list[dict[str, Any]]], expected: str
) -> None:
    problems = check(journals).problems
    assert any(expected in p for p in problems), problems
