"""What a transcript step runs in, reads and writes: the parties, the inputs, the actions as JSON.

:class:`World` holds the parties made so far (each a :class:`Party`: address,
rng, memory store and optional retry layer). :class:`Args` gives an op typed
access to its step's inputs -- hex fields, public keys, bundles, envelopes,
party references -- and turns anything wrong into a
:class:`~axolotl.testvectors.MalformedVector` naming the step;
:func:`read_draws` reads a step's recorded draws. :func:`actions_json` writes
the retry layer's actions in the transcript's JSON form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import AxolotlError
from axolotl.keys import PreKeyBundle
from axolotl.receipts import receipt_to_node, receipt_to_proto
from axolotl.retry import RetryLayer
from axolotl.retry.events import (
    Ack,
    Action,
    Deliver,
    Envelope,
    Gap,
    SendFailed,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.policy import Priority
from axolotl.store.memory import MemoryStore
from axolotl.testvectors import MalformedVector
from axolotl.testvectors.transcripts.draws import Draw, Json, PartyRng
from axolotl.wire import MessageType

__all__ = ["Party", "World", "Args", "read_draws", "actions_json"]


# -- reading steps -----------------------------------------------------------------


@dataclass(slots=True)
class Party:
    """One party of a transcript: its step key, address, rng, store and retry layer."""

    key: str
    address: ProtocolAddress
    rng: PartyRng
    store: MemoryStore
    layer: RetryLayer | None = None


@dataclass(slots=True)
class World:
    """The parties of a transcript being run, by step key.

    Attributes:
        recorder: makes the rng of a new party (from its step key) when a
            generator records a transcript; None when replaying one, where
            every party gets a :class:`~axolotl.testvectors.transcripts.draws.StepRng`.
        parties: the parties created so far.
    """

    recorder: Callable[[str], PartyRng] | None = None
    parties: dict[str, Party] = field(default_factory=dict)

    def key_of(self, address: ProtocolAddress) -> str:
        """The step key of the party at ``address`` (the address itself if none)."""
        for key, party in self.parties.items():
            if party.address == address:
                return key
        return str(address)


class Args:
    """Typed access to a step's inputs; anything wrong is a :class:`MalformedVector`."""

    def __init__(self, world: World, step: Json, where: str) -> None:
        self.world = world
        self.step = step
        self.where = where
        self.new_rng: PartyRng | None = None  # set for create_party

    def bad(self, key: str, why: str) -> MalformedVector:
        return MalformedVector(self.where, f"field {key!r} {why}")

    def get(self, key: str, kind: type | tuple[type, ...], obj: Json | None = None) -> Any:
        src = self.step if obj is None else obj
        if key not in src:
            raise self.bad(key, "is missing")
        value = src[key]
        if isinstance(value, bool) and kind is int:
            raise self.bad(key, "must be an integer")
        if not isinstance(value, kind):
            raise self.bad(key, f"must be {getattr(kind, '__name__', kind)}")
        return value

    def opt(self, key: str, kind: type, obj: Json | None = None) -> Any:
        src = self.step if obj is None else obj
        return None if src.get(key) is None else self.get(key, kind, obj)

    def hex(self, key: str, obj: Json | None = None) -> bytes:
        text = self.get(key, str, obj)
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise self.bad(key, f"is not hex: {text[:40]!r}") from None

    def key(self, text: str, what: str) -> PublicKey:
        try:
            return PublicKey.deserialize(self.hex(what, {what: text}))
        except AxolotlError as exc:
            raise self.bad(what, f"is not a public key: {exc}") from None

    def party(self, key: str = "party", obj: Json | None = None) -> Party:
        name = self.get(key, str, obj)
        party = self.world.parties.get(name)
        if party is None:
            raise self.bad(key, f"names party {name!r}, which no earlier create_party step made")
        return party

    def layer(self) -> tuple[Party, RetryLayer]:
        party = self.party()
        if party.layer is None:
            raise self.bad("party", f"{party.key!r} was created without retry_layer")
        return party, party.layer

    def bundle(self) -> PreKeyBundle:
        b = self.get("bundle", dict)
        pre_key = b.get("pre_key_public")
        try:
            return PreKeyBundle(
                registration_id=self.get("registration_id", int, b),
                device_id=self.get("device_id", int, b),
                pre_key_id=self.opt("pre_key_id", int, b),
                pre_key_public=None if pre_key is None else self.key(pre_key, "pre_key_public"),
                signed_pre_key_id=self.get("signed_pre_key_id", int, b),
                signed_pre_key_public=self.key(
                    self.get("signed_pre_key_public", str, b), "signed_pre_key_public"
                ),
                signed_pre_key_signature=self.hex("signed_pre_key_signature", b),
                identity_key=self.key(self.get("identity_key", str, b), "identity_key"),
            )
        except AxolotlError as exc:
            if isinstance(exc, MalformedVector):
                raise
            raise self.bad("bundle", str(exc)) from None

    def envelope(self) -> Envelope:
        e = self.get("envelope", dict)
        try:
            return Envelope(
                message_id=self.get("message_id", str, e),
                sender=self.party("sender", e).address,
                recipient=self.party("recipient", e).address,
                type=MessageType(self.get("type", int, e)),
                body=self.hex("body", e),
                timestamp_ms=self.get("timestamp_ms", int, e),
                retry_count=self.get("retry_count", int, e),
                group_id=self.opt("group_id", str, e),
                priority=Priority(self.get("priority", int, e)),
            )
        except (AxolotlError, ValueError) as exc:
            if isinstance(exc, MalformedVector):
                raise
            raise self.bad("envelope", str(exc)) from None


def read_draws(args: Args) -> list[Draw]:
    """The step's recorded ``draws``, checked (each ``hex`` is ``n`` bytes)."""
    raw = args.get("draws", list)
    out = []
    for i, d in enumerate(raw):
        if not isinstance(d, dict):
            raise args.bad(f"draws[{i}]", "must be an object")
        n = args.get("n", int, d)
        data = args.hex("hex", d)
        if len(data) != n:
            raise args.bad(f"draws[{i}]", f"has {len(data)} bytes but n = {n}")
        out.append(Draw(n, data, str(d.get("use", ""))))
    return out


# -- actions as JSON -----------------------------------------------------------------


def _envelope_json(world: World, e: Envelope) -> Json:
    return {
        "message_id": e.message_id,
        "sender": world.key_of(e.sender),
        "recipient": world.key_of(e.recipient),
        "type": int(e.type),
        "body": e.body.hex(),
        "timestamp_ms": e.timestamp_ms,
        "retry_count": e.retry_count,
        "group_id": e.group_id,
        "priority": int(e.priority),
    }


def _action_json(world: World, a: Action) -> Json:
    if isinstance(a, Transmit):
        return {"action": "transmit", "envelope": _envelope_json(world, a.envelope)}
    if isinstance(a, SendReceipt):
        return {
            "action": "send_receipt",
            "to": world.key_of(a.device),
            "node_text": receipt_to_node(a.receipt).to_text(),
            "proto": receipt_to_proto(a.receipt).hex(),
        }
    if isinstance(a, Deliver):
        return {
            "action": "deliver",
            "message_id": a.message_id,
            "sender": world.key_of(a.sender),
            "plaintext": a.plaintext.hex(),
            "group_id": a.group_id,
        }
    if isinstance(a, Ack):
        return {"action": "ack", "message_id": a.message_id, "sender": world.key_of(a.sender)}
    if isinstance(a, Undecryptable):
        return {
            "action": "undecryptable",
            "message_id": a.message_id,
            "sender": world.key_of(a.sender),
            "reason": a.reason.name,
            "count": a.count,
        }
    if isinstance(a, SendFailed):
        return {
            "action": "send_failed",
            "message_id": a.message_id,
            "device": world.key_of(a.device),
        }
    if isinstance(a, Gap):
        return {"action": "gap", "sender": world.key_of(a.sender), "missing": list(a.missing)}
    if isinstance(a, WakeAt):
        return {"action": "wake_at", "ms": a.ms}
    raise TypeError(f"unknown action {type(a).__name__}")  # pragma: no cover


def actions_json(world: World, actions: list[Action]) -> Json:
    """A retry-layer call's result: ``{"actions": [...]}`` with parties named by step key."""
    return {"actions": [_action_json(world, a) for a in actions]}
