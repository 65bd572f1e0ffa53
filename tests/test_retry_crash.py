"""Crash safety: a scripted conversation with a crash injected at every store write in turn.

The crashing device restarts from its SQLite database and goes on; the
server hands over again whatever the device had not acknowledged, and the
application repeats a send call that failed. In every run every message
reaches every recipient exactly once. The SQLite store takes a crash at every
write; the other persistent backends (PostgreSQL) at every fourth, for time.
Under the native framing and the WhatsApp one (texts as ``Message{conversation}``).
"""

from __future__ import annotations

import pytest

from tests.framing_helpers import FRAMINGS
from tests.framing_helpers import FramedNetwork as Network
from tests.helpers import Faults
from tests.store_fixtures import PERSISTENT_BACKENDS, StoreBackend


def scenario(
    crash_at: int | None, backend: StoreBackend | None = None, framing: str = "native"
) -> Network:
    net = Network(
        ["alice", "bob", "carol"],
        seed=11,
        sqlite=True,
        crash_at=[crash_at] if crash_at else (),
        backend=backend,
        framing=FRAMINGS[framing],
    )
    net.send("alice", ["bob"], b"plain")
    net.faults = Faults(corrupt=1.0)
    net.send("bob", ["alice"], b"corrupted once")  # a receipt and a resend
    net.faults = Faults()
    net.send("carol", ["alice", "bob"], b"group", group="g@g.example")
    net.run(until_ms=net.now + 20)
    net.wipe_session("alice", "carol")
    net.send("carol", ["alice"], b"after a wipe")  # a rebuild from the key bundle
    net.run()
    net.send("alice", ["bob", "carol"], b"group two", group="g@g.example")
    net.run()
    return net


def _writes(framing: str) -> int:
    net = scenario(None, framing=framing)
    try:
        net.check_exactly_once()
        return net.counter.writes
    finally:
        net.close()


WRITES = {framing: _writes(framing) for framing in sorted(FRAMINGS)}


def test_the_scenario_writes_enough_to_matter() -> None:
    assert min(WRITES.values()) > 50


CASES = [
    pytest.param(backend, crash_at, framing, id=f"{framing}-{backend}-{crash_at}")
    for framing, writes in WRITES.items()
    for backend in PERSISTENT_BACKENDS
    for crash_at in range(1, writes + 1)
    if backend.name == "sqlite" or crash_at % 4 == 1
]


@pytest.mark.parametrize(("backend", "crash_at", "framing"), CASES)
def test_crash_at_every_write(backend: StoreBackend, crash_at: int, framing: str) -> None:
    net = scenario(crash_at, backend, framing)
    try:
        assert net.counter.crashes == 1
        net.check_exactly_once()
        for message_id, (src, recipients, text, _) in net.sent.items():
            for r in recipients:
                got = net.devices[r].delivered.get((src, message_id))
                assert got == text, f"crash at {crash_at}: {message_id} to {r} not delivered"
    finally:
        net.close()
