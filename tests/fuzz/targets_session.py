"""Stateful fuzz targets: decrypt, group_decrypt and session building on established stores.

Each input meets the same stored state: the harness restores the store's
byte-exact snapshot (:mod:`.store_state`) before every input, and after every
failure asserts the store is byte-identical to it (DESIGN.md principle 4: a
failed decrypt, a rejected receipt or bad input never changes stored state).
A success must not change what is stored as the peer's identity: the only
identity an established session accepts is the one it already trusts
(issue 13, item 1; the default trust policy refuses a changed key).

The mutators act as a hostile peer would: besides mutating bytes and fields,
the group and bundle mutators re-sign what they changed with the key the
peer owns (a group member signs its own sender-key messages; a device signs
its own signed prekey), so mutants reach the code behind the signature check.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import AxolotlError
from axolotl.keys import IdentityKeyPair, PreKeyBundle
from axolotl.receipts import (
    IncomingRetryReceipt,
    Node,
    prekey_bundle_from_key_bundle,
    receipt_from_node,
    receipt_to_node,
)
from axolotl.rng import DeterministicRng
from axolotl.session import (
    decrypt,
    group_decrypt,
    process_prekey_bundle,
    process_sender_key_distribution,
)
from axolotl.store.memory import MemoryStore
from axolotl.wire import SenderKeyDistributionMessage
from tests.fuzz.engine import Harness, Target, Violation
from tests.fuzz.mutate_bytes import key_like_values
from tests.fuzz.mutate_node import Flat, build_node, flatten
from tests.fuzz.mutate_pb import Nested, mutate_framed
from tests.fuzz.seeds import GROUP, world
from tests.fuzz.store_state import Snapshot, diff, restore, snapshot
from tests.fuzz.targets_receipts import flat_harness
from tests.fuzz.targets_wire import bytes_harness

__all__ = ["TARGETS", "Guard", "resign_keys"]

_PREKEY_NESTED = {4: Nested(framed=True, tail=8)}


class Guard:
    """Runs operations on a store from one baseline, checking that failures change nothing."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.baseline: Snapshot = snapshot(store)

    def run(self, what: str, operation: Callable[[], object]) -> None:
        """Restore the baseline, run ``operation``; on any exception, require the baseline.

        Raises:
            Violation: the operation failed and the store is not as it was.
            AxolotlError, Exception: what the operation raised.
        """
        restore(self.store, self.baseline)
        try:
            operation()
        except BaseException as exc:
            after = snapshot(self.store)
            if after != self.baseline:
                changed = "; ".join(diff(self.baseline, after))
                raise Violation(
                    f"{what} failed ({exc!r}) but changed the store: {changed}"
                ) from exc
            raise

    def identity(self, address: ProtocolAddress, expected: PublicKey | None) -> None:
        """After a success: the stored identity of ``address`` must still be ``expected``.

        Raises:
            Violation: it changed.
        """
        stored = self.store.get_identity(address)
        if stored != expected:
            raise Violation(
                f"a success changed the stored identity of {address}: "
                f"{None if expected is None else expected.raw.hex()} -> "
                f"{None if stored is None else stored.raw.hex()}"
            )


# -- decrypt -------------------------------------------------------------------------------


def _decrypt() -> Harness:
    w = world()
    guard = Guard(w.bob_store)
    alice = w.alice.address
    trusted = guard.store.get_identity(alice)
    seeds = [bytes([kind]) + body for kind, body in w.pairwise]

    def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
        kind, body = data[:1], data[1:]
        if rng.random() < 0.05:
            kind = bytes([rng.choice((2, 3, 4, 5, 0, 1, 255))])
        bodies = [p[1:] for p in pool]
        if kind == b"\x03":
            return kind + mutate_framed(rng, body, 0, _PREKEY_NESTED, bodies, w.keys)
        return kind + mutate_framed(rng, body, 8, None, bodies, w.keys)

    def run(data: bytes) -> None:
        if not data:
            return
        rng = DeterministicRng(data[:16])
        guard.run("decrypt", lambda: decrypt(guard.store, alice, data[0], data[1:], rng=rng))
        guard.identity(alice, trusted)

    return bytes_harness(seeds, mutate, run)


# -- group_decrypt ----------------------------------------------------------------------------


def _resign(signing: IdentityKeyPair, data: bytes, rng: random.Random) -> bytes:
    unsigned = data[:-64] if len(data) > 64 else data
    return unsigned + signing.sign(unsigned, DeterministicRng(rng.getrandbits(64)))


def _group_decrypt() -> Harness:
    w = world()
    guard = Guard(w.bob_store)
    alice = w.alice.address

    def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
        out = mutate_framed(rng, data, 64, None, pool)
        # Alice is a member: she can sign whatever she likes.
        return _resign(w.alice_signing, out, rng) if rng.random() < 0.5 else out

    def run(data: bytes) -> None:
        guard.run("group_decrypt", lambda: group_decrypt(guard.store, GROUP, alice, data))

    return bytes_harness(w.group, mutate, run)


# -- sender-key distribution -------------------------------------------------------------------


def _distribution() -> Harness:
    w = world()
    guard = Guard(w.bob_store)
    senders = (w.alice.address, w.mallory.address)

    def operation(data: bytes) -> None:
        message = SenderKeyDistributionMessage.parse(data)
        sender = senders[data[-1] % 2]
        process_sender_key_distribution(guard.store, GROUP, sender, message)
        # A hostile chain (iteration near 2^32, say) must still fail cleanly later.
        for body in w.group[:: max(1, len(w.group) // 3)]:
            before = snapshot(guard.store)
            try:
                group_decrypt(guard.store, GROUP, sender, body)
            except AxolotlError as exc:
                if snapshot(guard.store) != before:
                    changed = "; ".join(diff(before, snapshot(guard.store)))
                    text = f"group_decrypt failed ({exc!r}) but changed: {changed}"
                    raise Violation(text) from exc

    def run(data: bytes) -> None:
        guard.run("process_sender_key_distribution", lambda: operation(data))

    return bytes_harness(
        w.distributions, lambda rng, d, pool: mutate_framed(rng, d, 0, None, pool, w.keys), run
    )


# -- bundles: from a receipt's <keys>, and PreKeyBundle itself -------------------------------------


def _bundle_from_receipt(receipt: IncomingRetryReceipt, device_id: int) -> PreKeyBundle | None:
    # As the retry layer's sender does when a receipt carries keys.
    if receipt.keys is None:
        return None
    return prekey_bundle_from_key_bundle(receipt.keys, receipt.registration_id, device_id)


def resign_keys(rng: random.Random, flat: Flat, signers: dict[bytes, IdentityKeyPair]) -> Flat:
    """Re-sign the <skey> value with the identity named in <identity>, if we hold that key."""
    rows = list(flat)
    tags = [row[0] for row in rows]

    def child(parent: int, tag: str) -> int | None:
        for i, row in enumerate(rows):
            if row[3] == parent and row[0] == tag:
                return i
        return None

    keys = tags.index("keys") if "keys" in tags else None
    if keys is None:
        return flat
    identity = child(keys, "identity")
    skey = child(keys, "skey")
    if identity is None or skey is None:
        return flat
    value, signature = child(skey, "value"), child(skey, "signature")
    if rng.random() < 0.3:  # claim another identity we can sign for
        raw = rng.choice(list(signers))
        tag, attrs, _, parent = rows[identity]
        rows[identity] = (tag, attrs, raw, parent)
    signer = signers.get(rows[identity][2] or b"")
    if signer is None or value is None or signature is None:
        return tuple(rows)
    spk = rows[value][2] or b""
    if rng.random() < 0.5:
        spk = rng.choice([k[1:] for k in key_like_values() if len(k) == 33])
        tag, attrs, _, parent = rows[value]
        rows[value] = (tag, attrs, spk, parent)
    sig = signer.sign(b"\x05" + spk, DeterministicRng(rng.getrandbits(64)))
    tag, attrs, _, parent = rows[signature]
    rows[signature] = (tag, attrs, sig, parent)
    return tuple(rows)


def _key_bundle() -> Harness:
    w = world()
    guard = Guard(w.alice_store)
    bob = w.bob.address
    trusted = guard.store.get_identity(bob)
    signers = {p.public_key.raw: p for p in (w.bob_identity, w.mallory_identity)}
    seeds = [
        flatten(receipt_to_node(r))
        for r in w.receipts
        if isinstance(r, IncomingRetryReceipt) and r.keys
    ]
    base = flat_harness(seeds, None)

    def mutate(rng: random.Random, flat: Flat, pool: Sequence[Flat]) -> Flat:
        out = base.mutate(rng, flat, pool)
        return resign_keys(rng, out, signers) if rng.random() < 0.4 else out

    def operation(node: Node) -> None:
        bundle = _bundle_from_receipt(receipt_from_node(node, IncomingRetryReceipt), bob.device_id)
        if bundle is not None:
            process_prekey_bundle(guard.store, bob, bundle, rng=DeterministicRng(0))

    def run(node: Node) -> None:
        guard.run("bundle from a receipt", lambda: operation(node))
        guard.identity(bob, trusted)

    return Harness(
        seeds=seeds, mutate=mutate, run=run, encode=base.encode, decode=base.decode,
        prepare=build_node,
    )  # fmt: skip


_Typed = list[Any]  # ["int", 5], ["none"], ["bytes", hex], ["key", hex], ...
_FIELDS = (
    "registration_id",
    "device_id",
    "pre_key_id",
    "pre_key_public",
    "signed_pre_key_id",
    "signed_pre_key_public",
    "signed_pre_key_signature",
    "identity_key",
)


def _typed(value: object) -> _Typed:
    if value is None:
        return ["none"]
    if isinstance(value, PublicKey):
        return ["key", value.raw.hex()]
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, bool):
        return ["bool", value]
    return ["int", value]


def _value(typed: _Typed) -> object:
    kind = typed[0]
    if kind == "none":
        return None
    if kind == "key":
        return PublicKey(bytes.fromhex(typed[1]))  # InvalidKey for a bad length: typed
    if kind == "bytes":
        return bytes.fromhex(typed[1])
    if kind == "str":
        return str(typed[1])
    if kind == "float":
        return float(typed[1])
    return typed[1]


def _well_typed(typed: object) -> bool:
    """Whether ``typed`` is a value :func:`_value` can turn into a Python value."""
    if not isinstance(typed, list) or not typed:
        return False
    kind, rest = typed[0], typed[1:]
    if kind == "none":
        return not rest
    if len(rest) != 1:
        return False
    value = rest[0]
    if kind in ("key", "bytes"):
        return (
            isinstance(value, str)
            and len(value) % 2 == 0
            and all(c in "0123456789abcdef" for c in value)
        )
    expected = {"int": int, "bool": bool, "str": str, "float": float}.get(kind)
    return expected is not None and isinstance(value, expected)


_INT_FIELDS = {
    "registration_id": (0, 1, 16380, 16381, 2**32 - 1),
    "device_id": (0, 1, 2**31, 2**32 - 1),
    "pre_key_id": (0, 1, 0xFFFFFE, 0xFFFFFF),
    "signed_pre_key_id": (0, 1, 0xFFFFFE, 0xFFFFFF),
}


def _random_typed(
    rng: random.Random, name: str, keys: Sequence[bytes], signatures: Sequence[bytes]
) -> _Typed:
    """A value for field ``name``: mostly plausible for its type (so X3DH runs), else anything."""
    if rng.random() < 0.8:
        if name in _INT_FIELDS:
            return ["int", rng.choice(_INT_FIELDS[name])]
        if name == "signed_pre_key_signature":
            return ["bytes", rng.choice(signatures).hex()]
        return ["key", rng.choice(keys).hex()]
    roll = rng.random()
    if roll < 0.35:
        n = rng.choice(
            (-1, 0, 1, 16380, 16381, 0xFFFFFF, 0x1000000, 2**31, 2**32 - 1, 2**32, 2**64)
        )
        return ["int", n]
    if roll < 0.45:
        return ["none"]
    if roll < 0.5:
        return ["bool", rng.random() < 0.5]
    if roll < 0.55:
        return rng.choice((["str", "1"], ["float", 1.0], ["float", float("nan")]))
    if roll < 0.75:
        return ["key", rng.choice(keys).hex()]
    return ["bytes", bytes(rng.choice((0, 1, 32, 33, 63, 64, 65))).hex()]


def _prekey_bundle() -> Harness:
    w = world()
    guard = Guard(w.alice_store)
    bob = w.bob.address
    trusted = guard.store.get_identity(bob)
    keys = [k[1:] for k in w.keys] + [k for k in key_like_values() if len(k) == 32]
    mallory = w.mallory.bundle()  # another identity: Alice must refuse it (UntrustedIdentity)
    signatures = [
        w.bob_bundle.signed_pre_key_signature,
        mallory.signed_pre_key_signature,
        bytes(64),
    ]
    seeds = [
        json.dumps({name: _typed(getattr(b, name)) for name in _FIELDS}, sort_keys=True).encode()
        for b in (w.bob_bundle, mallory)
    ]

    def mutate(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
        current = json.loads(data)
        if rng.random() < 0.2:
            a, b = rng.sample(_FIELDS, 2)
            current[a], current[b] = current[b], current[a]
        else:
            name = rng.choice(_FIELDS)
            current[name] = _random_typed(rng, name, keys, signatures)
        return json.dumps(current, sort_keys=True).encode()

    def operation(data: bytes) -> None:
        raw = json.loads(data)
        values: dict[str, Any] = {name: _value(raw[name]) for name in _FIELDS}
        bundle = PreKeyBundle(**values)
        process_prekey_bundle(guard.store, bob, bundle, rng=DeterministicRng(0))

    def run(data: bytes) -> None:
        guard.run("PreKeyBundle + process_prekey_bundle", lambda: operation(data))
        guard.identity(bob, trusted)

    def decode(data: bytes) -> bytes:
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return seeds[0]
        ok = isinstance(raw, dict) and all(_well_typed(raw.get(name)) for name in _FIELDS)
        return data if ok else seeds[0]

    harness = bytes_harness(seeds, mutate, run)
    # The application builds the bundle: UsageError is the right answer to bad values.
    return Harness(
        seeds=seeds, mutate=mutate, run=run, encode=harness.encode, decode=decode, remote=False
    )


TARGETS = (
    Target(
        name="decrypt", doc="decrypt() on Bob's established sessions (types 2/3)", build=_decrypt
    ),
    Target(
        name="group_decrypt",
        doc="group_decrypt() on Bob's sender key, re-signed mutants",
        build=_group_decrypt,
    ),
    Target(
        name="process_distribution",
        doc="process_sender_key_distribution + group_decrypt",
        build=_distribution,
    ),
    Target(
        name="key_bundle",
        doc="receipt <keys> -> PreKeyBundle -> process_prekey_bundle",
        build=_key_bundle,
    ),
    Target(
        name="prekey_bundle",
        doc="PreKeyBundle(...) typed fields -> process_prekey_bundle",
        build=_prekey_bundle,
    ),
)
