"""Fuzz targets for the byte parsers: wire messages, DecryptionErrorMessage, stored records.

Each parser must raise only AxolotlError on any bytes; where it accepts its
input, what it returns must survive a round trip through its serializer.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from axolotl.keys import IdentityKeyPair, PreKeyRecord, SignedPreKeyRecord
from axolotl.receipts import DecryptionErrorMessage
from axolotl.session.group import SenderKeyRecord
from axolotl.session.state import SessionRecord
from axolotl.wire import (
    MessageType,
    PreKeySignalMessage,
    SenderKeyDistributionMessage,
    SenderKeyMessage,
    SignalMessage,
)
from tests.fuzz.engine import Harness, Target, Violation
from tests.fuzz.mutate_bytes import mutate_bytes
from tests.fuzz.mutate_pb import Nested, mutate_framed, mutate_message
from tests.fuzz.seeds import world

__all__ = ["TARGETS", "bytes_harness"]

_SIGNAL_IN_PREKEY = {4: Nested(framed=True, tail=8)}


def bytes_harness(
    seeds: Sequence[bytes],
    mutate: Callable[[random.Random, bytes, Sequence[bytes]], bytes],
    run: Callable[[bytes], object],
    *,
    remote: bool = True,
) -> Harness:
    """A harness whose inputs are plain bytes (saved as they are)."""

    def encode(value: Any) -> bytes:
        assert isinstance(value, bytes)
        return value

    return Harness(
        seeds=list(seeds), mutate=mutate, run=run, encode=encode, decode=bytes, remote=remote
    )


def _same(what: str, a: object, b: object) -> None:
    if a != b:
        raise Violation(f"{what}: {a!r} != {b!r}")


# -- wire messages -------------------------------------------------------------------------


def _signal() -> Harness:
    w = world()
    seeds = [b for t, b in w.pairwise if t == MessageType.SIGNAL]

    def run(data: bytes) -> None:
        message = SignalMessage.parse(data)
        _same("SignalMessage.serialized", message.serialized, data)
        DecryptionErrorMessage.for_original(data, MessageType.SIGNAL, 1, 1)

    return bytes_harness(
        seeds, lambda rng, d, pool: mutate_framed(rng, d, 8, None, pool, w.keys), run
    )


def _prekey() -> Harness:
    w = world()
    seeds = [b for t, b in w.pairwise if t == MessageType.PREKEY]

    def run(data: bytes) -> None:
        message = PreKeySignalMessage.parse(data)
        _same("PreKeySignalMessage.serialized", message.serialized, data)
        _same(
            "inner SignalMessage", SignalMessage.parse(message.message.serialized), message.message
        )
        DecryptionErrorMessage.for_original(data, MessageType.PREKEY, 1, 1)

    return bytes_harness(
        seeds, lambda rng, d, pool: mutate_framed(rng, d, 0, _SIGNAL_IN_PREKEY, pool, w.keys), run
    )


def _sender_key_message() -> Harness:
    w = world()
    signing = w.alice_signing.public_key

    def run(data: bytes) -> None:
        message = SenderKeyMessage.parse(data)
        _same("SenderKeyMessage.serialized", message.serialized, data)
        message.verify_signature(signing)

    return bytes_harness(w.group, lambda rng, d, pool: mutate_framed(rng, d, 64, None, pool), run)


def _distribution() -> Harness:
    w = world()

    def run(data: bytes) -> None:
        message = SenderKeyDistributionMessage.parse(data)
        again = SenderKeyDistributionMessage.create(
            key_id=message.key_id, iteration=message.iteration,
            chain_key=message.chain_key, signing_key=message.signing_key,
        )  # fmt: skip
        _same(
            "re-parsed distribution",
            SenderKeyDistributionMessage.parse(again.serialized).key_id,
            message.key_id,
        )

    return bytes_harness(
        w.distributions, lambda rng, d, pool: mutate_framed(rng, d, 0, None, pool, w.keys), run
    )


# -- DecryptionErrorMessage / PlaintextContent ---------------------------------------------


def _dem() -> Harness:
    w = world()

    def run(data: bytes) -> None:
        message = DecryptionErrorMessage.parse(data)
        _same(
            "DecryptionErrorMessage round trip",
            DecryptionErrorMessage.parse(message.serialize()),
            message,
        )

    return bytes_harness(
        [d.serialize() for d in w.dems],
        lambda rng, d, pool: mutate_message(rng, d, None, pool, w.keys),
        run,
    )


def _plaintext_content() -> Harness:
    w = world()
    inner = {8: Nested()}

    def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
        if len(data) >= 2 and rng.random() < 0.7:
            return data[:1] + mutate_message(rng, data[1:-1], inner, pool, w.keys) + data[-1:]
        return mutate_bytes(rng, data, pool)

    def run(data: bytes) -> None:
        message = DecryptionErrorMessage.from_plaintext_content(data)
        again = DecryptionErrorMessage.from_plaintext_content(message.to_plaintext_content())
        _same("PlaintextContent round trip", again, message)

    return bytes_harness([d.to_plaintext_content() for d in w.dems], mutate, run)


# -- stored records (keys.py and the session records) --------------------------------------

_RECORDS: tuple[tuple[str, Callable[[bytes], Any]], ...] = (
    ("IdentityKeyPair", IdentityKeyPair.deserialize),
    ("PreKeyRecord", PreKeyRecord.deserialize),
    ("SignedPreKeyRecord", SignedPreKeyRecord.deserialize),
    ("SessionRecord", SessionRecord.deserialize),
    ("SenderKeyRecord", SenderKeyRecord.deserialize),
)


def _record_seeds() -> list[bytes]:
    w = world()
    bob = w.bob_store
    sessions = [bob.load_session(w.alice.address)]
    sender_keys = [bob.load_sender_key("fuzz-group", w.alice.address)]
    pre_keys = [bob.load_pre_key(i).serialize() for i in range(1, 6) if bob.contains_pre_key(i)]
    by_kind: list[list[bytes]] = [
        [w.bob_identity.serialize(), w.mallory_identity.serialize()],
        pre_keys,
        [r.serialize() for r in bob.load_signed_pre_keys()],
        [s for s in sessions if s is not None],
        [s for s in sender_keys if s is not None],
    ]
    return [bytes([kind]) + data for kind, datas in enumerate(by_kind) for data in datas]


def _records() -> Harness:
    def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
        if not data or rng.random() < 0.05:
            return bytes([rng.randrange(len(_RECORDS))]) + data[1:]
        return data[:1] + mutate_message(rng, data[1:], None, [p[1:] for p in pool])

    def run(data: bytes) -> None:
        if not data:
            return
        name, parse = _RECORDS[data[0] % len(_RECORDS)]
        record = parse(data[1:])
        again = parse(record.serialize())
        _same(f"{name} round trip", again.serialize(), record.serialize())

    return bytes_harness(_record_seeds(), mutate, run)


TARGETS = (
    Target(name="signal_message", doc="SignalMessage.parse (+ DEM for_original)", build=_signal),
    Target(
        name="prekey_message", doc="PreKeySignalMessage.parse (+ DEM for_original)", build=_prekey
    ),
    Target(
        name="sender_key_message",
        doc="SenderKeyMessage.parse + verify_signature",
        build=_sender_key_message,
    ),
    Target(
        name="sender_key_distribution",
        doc="SenderKeyDistributionMessage.parse",
        build=_distribution,
    ),
    Target(name="decryption_error_message", doc="DecryptionErrorMessage.parse", build=_dem),
    Target(
        name="plaintext_content",
        doc="DecryptionErrorMessage.from_plaintext_content",
        build=_plaintext_content,
    ),
    Target(
        name="records",
        doc="keys.py records, SessionRecord, SenderKeyRecord .deserialize",
        build=_records,
    ),
)
