"""The fuzz machinery itself: the oracle, the snapshot, the codecs and the mutators.

A fuzzer whose oracle misses a crash, whose snapshot misses a write or whose
mutants never change anything finds nothing and looks clean: these tests
make sure each part can fail.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from axolotl.errors import DecodeError, UsageError
from axolotl.receipts import parse_text, receipt_to_node
from tests.fuzz.engine import Harness, Target, Violation, execute, fuzz
from tests.fuzz.mutate_bytes import mutate_bytes
from tests.fuzz.mutate_node import build_node, flat_from_json, flat_to_json, flatten, render_text
from tests.fuzz.mutate_pb import Field, decode_fields, encode_fields, mutate_framed, varint
from tests.fuzz.seeds import world
from tests.fuzz.store_state import restore, snapshot
from tests.fuzz.targets import TARGETS


def _harness(run: Any, *, remote: bool = True) -> Harness:
    return Harness(
        seeds=[b"seed"],
        mutate=lambda rng, v, pool: mutate_bytes(rng, v, pool),
        run=run,
        encode=lambda v: v,
        decode=bytes,
        remote=remote,
    )


def _raise(exc: BaseException) -> Any:
    def run(_: bytes) -> None:
        raise exc

    return run


def test_oracle_accepts_remote_errors_only() -> None:
    assert execute(_harness(_raise(DecodeError("x", "bad"))), b"").kind is None
    assert execute(_harness(lambda _: None), b"").result == "ok"
    crash = execute(_harness(_raise(ValueError("boom"))), b"")
    assert (crash.kind, crash.result) == ("crash", "ValueError")
    assert execute(_harness(_raise(RecursionError())), b"").kind == "crash"
    assert execute(_harness(_raise(UsageError("misuse"))), b"").kind == "family"
    assert execute(_harness(_raise(UsageError("misuse")), remote=False), b"").kind is None
    assert execute(_harness(_raise(Violation("changed"))), b"").kind == "invariant"


def test_oracle_flags_slow_inputs_measured_three_times() -> None:
    calls: list[int] = []

    def run(_: bytes) -> None:
        calls.append(1)
        total = 0
        for i in range(200_000):
            total += i

    outcome = execute(_harness(run), b"", slow_ms=0.001)
    assert outcome.kind == "slow" and len(calls) == 3
    assert execute(_harness(run), b"", slow_ms=1e9).kind is None


def test_a_local_target_may_allow_an_input_its_size_in_time() -> None:
    def run(value: bytes) -> None:
        total = 0
        for i in range(200_000):
            total += i

    # The allowance sees the prepared input and raises the limit, never lowers it.
    seen: list[object] = []

    def allowance(prepared: object) -> float:
        seen.append(prepared)
        return 1e9 if prepared == b"BIG" else 0.0

    harness = dataclasses.replace(
        _harness(run, remote=False), prepare=bytes.upper, allowance_ms=allowance
    )
    assert execute(harness, b"big", slow_ms=0.001).kind is None
    assert seen == [b"BIG"]
    slow = execute(harness, b"small", slow_ms=0.001)
    assert slow.kind == "slow" and slow.allowed_ms == 0.0
    assert execute(harness, b"small", slow_ms=1e9).kind is None


def test_check_sees_what_run_returned_and_runs_untimed() -> None:
    seen: list[object] = []

    def check(value: object, result: object) -> None:
        seen.append((value, result))
        total = 0
        for i in range(200_000):  # slow, but the clock has stopped
            total += i
        if value == b"bad":
            raise Violation("round trip")
        if value == b"typed":
            raise DecodeError("x", "a check's own error")

    harness = dataclasses.replace(_harness(lambda v: len(v)), check=check)
    assert execute(harness, b"ok", slow_ms=1).kind is None
    assert seen == [(b"ok", 2)]
    assert execute(harness, b"bad").kind == "invariant"
    assert execute(harness, b"typed").kind == "invariant"  # not an outcome of run


def test_fuzz_is_deterministic_and_reports_findings() -> None:
    def run(data: bytes) -> None:
        if b"\xff" in data:
            raise KeyError("ff")
        raise DecodeError("x", "no")

    target = Target(name="t", doc="", build=lambda: _harness(run))
    first, second = fuzz(target, 400, seed=3), fuzz(target, 400, seed=3)
    assert first.results == second.results
    assert [f.data for f in first.findings] == [f.data for f in second.findings]
    assert first.findings and all(f.outcome.result == "KeyError" for f in first.findings)
    assert sum(first.signatures.values()) == first.results["KeyError"]


def test_snapshot_sees_every_write_and_restore_undoes_it() -> None:
    w = world()
    store = w.bob_store
    before = snapshot(store)
    try:
        store.remove_pre_key(max(i for i in range(1, 100) if store.contains_pre_key(i)))
        assert snapshot(store) != before
        restore(store, before)
        assert snapshot(store) == before
        store.put_record("fuzz", "k", b"v", 5)
        assert snapshot(store) != before
        restore(store, before)
        store.save_identity(w.alice.address, w.mallory_identity.public_key)
        assert snapshot(store) != before
    finally:
        restore(store, before)
    assert snapshot(store) == before


@pytest.mark.parametrize("name", list(TARGETS))
def test_seeds_survive_encode_and_decode(name: str) -> None:
    harness = TARGETS[name].build()
    assert harness.seeds
    for seed in harness.seeds:
        assert harness.decode(harness.encode(seed)) == seed
    harness.decode(b"\xff\x00 not an input")  # any bytes decode (atheris hands over anything)


@pytest.mark.parametrize("name", list(TARGETS))
def test_mutants_differ_from_their_seed(name: str) -> None:
    harness = TARGETS[name].build()
    rng = random.Random(0)
    changed = sum(
        harness.mutate(rng, seed, harness.seeds) != seed
        for seed in harness.seeds
        for _ in range(20)
    )
    assert changed > len(harness.seeds) * 10


def test_protobuf_fields_round_trip_and_overlong_varints() -> None:
    body = encode_fields([Field(1, 0, 300), Field(2, 2, b"abc"), Field(3, 5, 7), Field(4, 1, 9)])
    assert encode_fields(decode_fields(body) or []) == body
    assert varint(300) == b"\xac\x02"
    assert decode_fields(b"\x08") is None  # truncated varint
    assert decode_fields(b"\x0b") is None  # a group: not supported, reported as not decodable
    signal = next(b for t, b in world().pairwise if t == 2)
    rng = random.Random(1)
    mutants = {mutate_framed(rng, signal, 8) for _ in range(200)}
    assert len(mutants) > 150


def test_flat_trees_of_any_depth_build_render_and_serialise() -> None:
    node = receipt_to_node(world().receipts[1])
    flat = flatten(node)
    assert build_node(flat) == node
    assert parse_text(render_text(flat)) == node
    assert flat_from_json(flat_to_json(flat)) == flat
    deep = tuple(("x", (), None, i - 1) for i in range(5000))
    # Node() refuses nesting past receipts' depth limit; the harness itself
    # renders such trees without recursion, so a mutator can still make them.
    with pytest.raises(UsageError, match="nests deeper"):
        build_node(deep)
    assert render_text(deep, None).count("<x>") == 4999
