"""Batched steps (issue "durable throughput", item 1): many events, one commit, each alone.

A batch must keep every guarantee of single steps: the same actions in the
same order and the same stored state as the calls made one by one, a
failing event undoes only itself, nothing is durable (or readable as
actions) before the commit, and a crash before it loses and doubles nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from axolotl.address import ProtocolAddress
from axolotl.errors import UsageError
from axolotl.retry import (
    Batch,
    Deliver,
    Envelope,
    RetryPolicy,
    SendReceipt,
    Transmit,
    WakeAt,
)
from axolotl.retry.records import DELIVERED, INBOX, RECV
from axolotl.store.sqlite import SQLiteStore
from tests.test_retry_inbox import Pair

NOW = 1_700_000_000_000


class World(Pair):
    """Alice sends to Bob; Bob's layer is on SQLite (``bob.db`` in a folder of its own)."""

    def __init__(self, folder: Path, policy: RetryPolicy | None = None) -> None:
        folder.mkdir(exist_ok=True)
        super().__init__(folder, policy)

    def traffic(self) -> list[Envelope]:
        """Ten messages as the server hands them over: a duplicate, a corrupt one,
        junk, and one for another device among them."""
        envs = []
        for i in range(10):
            (t,) = [x for x in self.a.send([self.bob.address], f"M{i}", b"m%d" % i, NOW + i)
                    if isinstance(x, Transmit)]  # fmt: skip
            envs.append(t.envelope)
        body = bytearray(envs[4].body)
        body[-12] ^= 1
        junk = replace(envs[0], message_id="JUNK", body=b"\x33" + bytes(50))
        stray = replace(envs[0], message_id="STRAY", recipient=ProtocolAddress("carol", 1))
        return [*envs[:4], replace(envs[4], body=bytes(body)), envs[2], junk, stray, *envs[5:]]


def _records(store: SQLiteStore) -> dict[str, int]:
    return {kind: store.count_records(kind) for kind in (DELIVERED, INBOX, RECV)}


def test_a_batch_does_what_the_calls_one_by_one_do(tmp_path: Path) -> None:
    one, many = World(tmp_path / "one"), World(tmp_path / "many")
    singly: list[object] = []
    errors = []
    for i, env in enumerate(one.traffic()):
        try:
            singly += [a for a in one.b.receive(env, NOW + 100) if not isinstance(a, WakeAt)]
        except UsageError as exc:
            errors.append((i, type(exc)))
    traffic = many.traffic()
    batch = many.b.receive_many(traffic, NOW + 100)
    assert batch.events == len(traffic) == 13
    assert [a for a in batch.actions if not isinstance(a, WakeAt)] == singly
    assert [(i, type(e)) for i, e in batch.errors] == errors == [(7, UsageError)]
    assert isinstance(batch.actions[-1], WakeAt)
    assert _records(many.bob.store) == _records(one.bob.store)
    delivered = [a.message_id for a in batch.actions if isinstance(a, Deliver)]
    assert delivered == [f"M{i}" for i in range(10) if i != 4]
    assert any(isinstance(a, SendReceipt) for a in batch.actions)  # for the corrupt one


def test_nothing_is_durable_or_readable_before_the_commit(tmp_path: Path) -> None:
    w = World(tmp_path)
    envs = w.traffic()
    reader = SQLiteStore.open(w.path)
    with w.b.batch() as batch:
        for env in envs[:3]:
            batch.receive(env, NOW)
        assert reader.count_records(DELIVERED) == 0  # another connection sees nothing
        with pytest.raises(UsageError):
            batch.actions  # noqa: B018 - the property refuses before the commit
    assert reader.count_records(DELIVERED) == 3
    assert [a.message_id for a in batch.actions if isinstance(a, Deliver)] == ["M0", "M1", "M2"]
    reader.close()


def test_a_crash_before_the_commit_loses_and_doubles_nothing(tmp_path: Path) -> None:
    w = World(tmp_path)
    envs = w.traffic()[:4]

    class Killed(Exception):
        pass

    with pytest.raises(Killed), w.b.batch() as batch:
        for env in envs:
            batch.receive(env, NOW)
        raise Killed  # the process dies before the batch committed
    assert _records(w.bob.store) == {DELIVERED: 0, INBOX: 0, RECV: 0}
    # The server hands the same envelopes over again: each delivered once.
    again = w.b.receive_many(envs, NOW + 1)
    assert [a.message_id for a in again.actions if isinstance(a, Deliver)] == [
        "M0", "M1", "M2", "M3",
    ]  # fmt: skip
    assert w.b.receive_many(envs, NOW + 2).actions[:-1] == [
        a for a in again.actions if type(a).__name__ == "Ack"
    ]


def test_a_batch_is_bounded(tmp_path: Path) -> None:
    w = World(tmp_path)
    envs = w.traffic()
    first = w.b.receive_many(iter(envs), NOW, max_events=4)
    assert first.events == 4 and first.full
    rest = w.b.receive_many(envs[4:], NOW, max_events=100)
    assert rest.events == len(envs) - 4
    with w.b.batch(max_ms=1) as timed:
        while not timed.full:
            pass  # wall time alone fills it
    assert timed.events == 0
    for bad in ({"max_events": 0}, {"max_ms": 0}, {"max_events": 2.5}):
        with pytest.raises(UsageError), w.b.batch(**bad):  # type: ignore[arg-type]
            pass


def test_batches_do_not_nest(tmp_path: Path) -> None:
    w = World(tmp_path)
    with w.b.batch(), pytest.raises(UsageError), w.b.batch():
        pass
    assert isinstance(w.b.receive_many([], NOW), Batch)
