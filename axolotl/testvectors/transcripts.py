"""Replayable transcripts: whole conversations, every random draw and every wire byte.

A transcript (``vectors/README.md`` documents the format) is a list of
*steps*. Each step is one call on one party -- create it, publish a bundle,
encrypt, decrypt, or one :class:`~axolotl.retry.RetryLayer` call -- with its
inputs, the random draws the party made during the call (size and bytes, in
order) and what the call must produce: wire bytes, a plaintext, an error
class, or the retry layer's actions (receipts as node text and protobuf).

:func:`check` replays a transcript: every party draws its randomness from the
recorded draws of the step being run (a draw of another size, a missing or a
left-over draw is a mismatch), so the replay recomputes every key, MAC,
signature and ciphertext from the recorded inputs and compares byte for
byte. :class:`TranscriptBuilder` runs the same step code in recording mode
for the generators in ``vectors/generators/``.

A transcript that cannot be read (unknown op, a field that is not hex, a
missing input, a reference to a party never created) raises
:class:`~axolotl.testvectors.MalformedVector` naming the step.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import AxolotlError, RemoteError, UsageError
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_pre_keys,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.receipts import IncomingRetryReceipt, Node, OutgoingRetryReceipt
from axolotl.retry import RetryLayer
from axolotl.retry.events import (
    Ack,
    Action,
    Deliver,
    DeliveryReceipt,
    Envelope,
    Gap,
    SendFailed,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
)
from axolotl.retry.jid import address_to_jid
from axolotl.retry.policy import Priority
from axolotl.rng import DeterministicRng, Rng
from axolotl.session import (
    create_sender_key_distribution,
    decrypt_message,
    encrypt,
    group_decrypt,
    group_encrypt,
    process_prekey_bundle,
    process_sender_key_distribution,
)
from axolotl.store.memory import MemoryStore
from axolotl.testvectors import MalformedVector, VectorMismatch, expect_equal
from axolotl.wire import MessageType, SenderKeyDistributionMessage

__all__ = ["Draw", "RecordingRng", "TranscriptBuilder", "check", "OPS", "HEX_FIELDS"]

Json = dict[str, Any]

HEX_FIELDS = frozenset(
    {
        "body",
        "plaintext",
        "proto",
        "hex",
        "identity_key",
        "pre_key_public",
        "signed_pre_key_public",
        "signed_pre_key_signature",
    }
)
"""Keys whose string values are lowercase hex bytes (compared byte by byte)."""

_COMMON = frozenset({"step", "op", "party", "draws", "expect", "note"})


# -- randomness ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Draw:
    """One ``rng(n)`` call.

    Attributes:
        n: bytes asked for.
        data: the bytes returned.
        use: the library call path that drew them (for readers; not replayed).
    """

    n: int
    data: bytes
    use: str = ""

    def to_json(self) -> Json:
        """``{"n", "hex", "use"}``."""
        return {"n": self.n, "hex": self.data.hex(), "use": self.use}


_SKIP_FRAMES = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "__call__")


def _call_path() -> str:
    """The ``axolotl`` functions on the stack that led to a draw, outermost first.

    The recorder's own frames (innermost) and the transcript runner's
    (outermost) are left out, as are comprehension frames.
    """
    names: list[str] = []
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "axolotl.testvectors"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("axolotl.testvectors") or not module.startswith("axolotl."):
            break
        if frame.f_code.co_name not in _SKIP_FRAMES:
            names.append(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))
        frame = frame.f_back  # type: ignore[assignment]
    names.reverse()
    return ">".join(names)


class RecordingRng:
    """An :data:`~axolotl.rng.Rng` that logs every call: size, bytes and who drew.

    Args:
        source: where the bytes come from (a
            :class:`~axolotl.rng.DeterministicRng` for vectors).
    """

    __slots__ = ("_source", "draws")

    def __init__(self, source: Rng) -> None:
        self._source = source
        self.draws: list[Draw] = []

    def __call__(self, n: int) -> bytes:
        data = self._source(n)
        self.draws.append(Draw(n, data, _call_path()))
        return data

    def take(self) -> list[Draw]:
        """The draws logged since the last call, and forget them."""
        out, self.draws = self.draws, []
        return out


class _StepRng:
    """A party's rng: records (generating) or serves the current step's draws (replaying)."""

    __slots__ = ("_party", "_queue", "_recorder", "_where")

    def __init__(self, party: str, source: Rng | None) -> None:
        self._party = party
        self._recorder = RecordingRng(source) if source is not None else None
        self._queue: list[Draw] = []
        self._where = ""

    def __call__(self, n: int) -> bytes:
        if self._recorder is not None:
            return self._recorder(n)
        if not self._queue:
            raise VectorMismatch(
                self._where,
                f"{self._party} drew {n} bytes, but the transcript records no further draw here",
            )
        draw = self._queue.pop(0)
        if draw.n != n:
            raise VectorMismatch(
                self._where, f"{self._party} drew {n} bytes where the transcript records {draw.n}"
            )
        return draw.data

    def begin(self, where: str, draws: list[Draw]) -> None:
        self._where = where
        self._queue = list(draws)

    def end(self) -> list[Draw]:
        if self._recorder is not None:
            return self._recorder.take()
        if self._queue:
            raise VectorMismatch(
                self._where,
                f"{self._party} made {len(self._queue)} draw(s) fewer than recorded "
                f"(next unused: {self._queue[0].n} bytes)",
            )
        return []


# -- reading steps -----------------------------------------------------------------


@dataclass(slots=True)
class _Party:
    key: str
    address: ProtocolAddress
    rng: _StepRng
    store: MemoryStore
    layer: RetryLayer | None = None


@dataclass(slots=True)
class _World:
    seed: str | None  # None: replaying
    parties: dict[str, _Party] = field(default_factory=dict)

    def key_of(self, address: ProtocolAddress) -> str:
        for key, party in self.parties.items():
            if party.address == address:
                return key
        return str(address)


class _Args:
    """Typed access to a step's inputs; anything wrong is a :class:`MalformedVector`."""

    def __init__(self, world: _World, step: Json, where: str) -> None:
        self.world = world
        self.step = step
        self.where = where
        self.new_rng: _StepRng | None = None  # set for create_party

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

    def opt_hex(self, key: str, obj: Json | None = None) -> bytes | None:
        src = self.step if obj is None else obj
        return None if src.get(key) is None else self.hex(key, obj)

    def key(self, text: str, what: str) -> PublicKey:
        try:
            return PublicKey.deserialize(self.hex(what, {what: text}))
        except AxolotlError as exc:
            raise self.bad(what, f"is not a public key: {exc}") from None

    def party(self, key: str = "party", obj: Json | None = None) -> _Party:
        name = self.get(key, str, obj)
        party = self.world.parties.get(name)
        if party is None:
            raise self.bad(key, f"names party {name!r}, which no earlier create_party step made")
        return party

    def layer(self) -> tuple[_Party, RetryLayer]:
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


def _draws(args: _Args) -> list[Draw]:
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


def _envelope_json(world: _World, e: Envelope) -> Json:
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


def _action_json(world: _World, a: Action) -> Json:
    if isinstance(a, Transmit):
        return {"action": "transmit", "envelope": _envelope_json(world, a.envelope)}
    if isinstance(a, SendReceipt):
        return {
            "action": "send_receipt",
            "to": world.key_of(a.device),
            "node_text": a.receipt.to_node().to_text(),
            "proto": a.receipt.to_proto_bytes().hex(),
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


def _actions(world: _World, actions: list[Action]) -> Json:
    return {"actions": [_action_json(world, a) for a in actions]}


# -- the steps -------------------------------------------------------------------------


def _new_party_rng(a: _Args) -> _StepRng:
    key = a.get("party", str)
    if key in a.world.parties:
        raise a.bad("party", f"{key!r} was created already")
    seed = a.world.seed
    return _StepRng(key, DeterministicRng(f"{seed}/{key}") if seed is not None else None)


def _op_create_party(a: _Args) -> Json:
    assert a.new_rng is not None
    try:
        address = ProtocolAddress(a.get("name", str), a.get("device_id", int))
    except AxolotlError as exc:
        raise a.bad("name", str(exc)) from None
    identity = generate_identity_key_pair(a.new_rng)
    registration_id = generate_registration_id(a.new_rng)
    store = MemoryStore(identity, registration_id)
    party = _Party(a.step["party"], address, a.new_rng, store)
    if a.opt("retry_layer", bool):
        party.layer = RetryLayer(store, address, rng=a.new_rng)
    a.world.parties[party.key] = party
    return {
        "identity_key": identity.public_key.serialize().hex(),
        "registration_id": registration_id,
    }


def _op_publish_bundle(a: _Args) -> Json:
    party = a.party()
    pre_key_id = a.opt("pre_key_id", int)
    signed_id = a.get("signed_pre_key_id", int)
    pre_key = None
    if pre_key_id is not None:
        (pre_key,) = generate_pre_keys(pre_key_id, 1, party.rng)
        party.store.store_pre_key(pre_key)
    identity = party.store.get_identity_key_pair()
    signed = generate_signed_pre_key(identity, signed_id, a.get("timestamp_ms", int), party.rng)
    party.store.store_signed_pre_key(signed)
    return {
        "bundle": {
            "registration_id": party.store.get_local_registration_id(),
            "device_id": party.address.device_id,
            "pre_key_id": pre_key_id,
            "pre_key_public": None
            if pre_key is None
            else pre_key.key_pair.public_key.serialize().hex(),
            "signed_pre_key_id": signed_id,
            "signed_pre_key_public": signed.key_pair.public_key.serialize().hex(),
            "signed_pre_key_signature": signed.signature.hex(),
            "identity_key": identity.public_key.serialize().hex(),
        }
    }


def _op_process_bundle(a: _Args) -> Json:
    party, peer, bundle = a.party(), a.party("peer"), a.bundle()
    if party.layer is not None:
        party.layer.process_bundle(peer.address, bundle)
    else:
        process_prekey_bundle(party.store, peer.address, bundle, rng=party.rng)
    return {}


def _op_encrypt(a: _Args) -> Json:
    party, peer = a.party(), a.party("peer")
    message = encrypt(party.store, peer.address, a.hex("plaintext"))
    return {"type": int(message.type), "body": message.body.hex()}


def _op_decrypt(a: _Args) -> Json:
    party, peer = a.party(), a.party("peer")
    kind, body = a.get("type", int), a.hex("body")
    return {
        "plaintext": decrypt_message(
            party.store, peer.address, kind, body, rng=party.rng
        ).plaintext.hex()
    }


def _op_create_distribution(a: _Args) -> Json:
    party = a.party()
    skdm = create_sender_key_distribution(
        party.store, a.get("group", str), party.address, rng=party.rng
    )
    return {"body": skdm.serialized.hex()}


def _op_process_distribution(a: _Args) -> Json:
    party, sender = a.party(), a.party("sender")
    try:
        message = SenderKeyDistributionMessage.parse(a.hex("body"))
    except RemoteError as exc:
        raise a.bad("body", f"is not a sender key distribution message: {exc}") from None
    process_sender_key_distribution(party.store, a.get("group", str), sender.address, message)
    return {}


def _op_group_encrypt(a: _Args) -> Json:
    party = a.party()
    body = group_encrypt(
        party.store, a.get("group", str), party.address, a.hex("plaintext"), rng=party.rng
    )
    return {"body": body.hex()}


def _op_group_decrypt(a: _Args) -> Json:
    party, sender = a.party(), a.party("sender")
    plaintext = group_decrypt(party.store, a.get("group", str), sender.address, a.hex("body"))
    return {"plaintext": plaintext.hex()}


def _op_new_message_id(a: _Args) -> Json:
    return {"message_id": a.layer()[1].new_message_id()}


def _op_send(a: _Args) -> Json:
    _, layer = a.layer()
    names = a.get("recipients", list)
    recipients = [a.party("r", {"r": n}).address for n in names]
    actions = layer.send(
        recipients,
        a.get("message_id", str),
        a.hex("plaintext"),
        a.get("now_ms", int),
        group=a.opt("group", str),
    )
    return _actions(a.world, actions)


def _op_receive(a: _Args) -> Json:
    _, layer = a.layer()
    return _actions(a.world, layer.receive(a.envelope(), a.get("now_ms", int)))


def _op_receive_receipt(a: _Args) -> Json:
    _, layer = a.layer()
    r = a.get("receipt", dict)
    text, proto = a.get("node_text", str, r), a.hex("proto", r)
    try:
        from_node = IncomingRetryReceipt.from_node(Node.parse_text(text))
        from_proto = IncomingRetryReceipt.from_proto_bytes(proto)
    except AxolotlError as exc:
        raise a.bad("receipt", f"does not parse: {type(exc).__name__}: {exc}") from None
    if from_node != from_proto:
        raise VectorMismatch(a.where, "the receipt's node text and protobuf bytes disagree")
    device = a.party("from").address
    return _actions(a.world, layer.receive_receipt(from_node, a.get("now_ms", int), device))


def _op_delivery_receipt(a: _Args) -> Json:
    _, layer = a.layer()
    receipt = DeliveryReceipt(message_id=a.get("message_id", str), device=a.party("from").address)
    return _actions(a.world, layer.receive_receipt(receipt, a.get("now_ms", int)))


def _op_server_ack(a: _Args) -> Json:
    _, layer = a.layer()
    actions = layer.server_ack(
        a.get("message_id", str), a.party("device").address, a.get("now_ms", int)
    )
    return _actions(a.world, actions)


def _op_tick(a: _Args) -> Json:
    _, layer = a.layer()
    return _actions(a.world, layer.tick(a.get("now_ms", int)))


def _op_wipe_session(a: _Args) -> Json:
    party, peer = a.party(), a.party("peer")
    party.store.delete_session(peer.address)
    return {}


def _op_forget_sender_keys(a: _Args) -> Json:
    party, sender = a.party(), a.party("sender")
    party.store.delete_sender_key(a.get("group", str), sender.address)
    return {}


@dataclass(frozen=True, slots=True)
class _Op:
    run: Callable[[_Args], Json]
    inputs: frozenset[str]


def _op(run: Callable[[_Args], Json], *inputs: str) -> _Op:
    return _Op(run, frozenset(inputs))


OPS: dict[str, _Op] = {
    "create_party": _op(_op_create_party, "name", "device_id", "retry_layer"),
    "publish_bundle": _op(_op_publish_bundle, "pre_key_id", "signed_pre_key_id", "timestamp_ms"),
    "process_bundle": _op(_op_process_bundle, "peer", "bundle"),
    "encrypt": _op(_op_encrypt, "peer", "plaintext"),
    "decrypt": _op(_op_decrypt, "peer", "type", "body"),
    "create_distribution": _op(_op_create_distribution, "group"),
    "process_distribution": _op(_op_process_distribution, "sender", "group", "body"),
    "group_encrypt": _op(_op_group_encrypt, "group", "plaintext"),
    "group_decrypt": _op(_op_group_decrypt, "sender", "group", "body"),
    "new_message_id": _op(_op_new_message_id),
    "send": _op(_op_send, "recipients", "message_id", "plaintext", "now_ms", "group"),
    "receive": _op(_op_receive, "envelope", "now_ms"),
    "receive_receipt": _op(_op_receive_receipt, "from", "receipt", "now_ms"),
    "delivery_receipt": _op(_op_delivery_receipt, "from", "message_id", "now_ms"),
    "server_ack": _op(_op_server_ack, "device", "message_id", "now_ms"),
    "tick": _op(_op_tick, "now_ms"),
    "wipe_session": _op(_op_wipe_session, "peer"),
    "forget_sender_keys": _op(_op_forget_sender_keys, "sender", "group"),
}
"""Step ``op`` -> how to run it and which input fields it takes."""


def _run_step(world: _World, step: object, index: int) -> tuple[Json, list[Draw], str]:
    """Run one step; return (what it produced, the draws it made, its name for messages)."""
    where = f"step {index}"
    if not isinstance(step, dict):
        raise MalformedVector(where, "is not an object")
    op_name = step.get("op")
    where = f"step {index} ({op_name})"
    op = OPS.get(op_name) if isinstance(op_name, str) else None
    if op is None:
        raise MalformedVector(where, f"unknown op {op_name!r}")
    args = _Args(world, step, where)
    if step.get("step") != index:
        raise args.bad("step", f"is {step.get('step')!r}, expected {index}")
    unknown = set(step) - _COMMON - op.inputs
    if unknown:
        raise args.bad(sorted(unknown)[0], f"is not an input of {op_name}")
    replaying = world.seed is None
    recorded = _draws(args) if replaying else []
    if op_name == "create_party":
        rng = args.new_rng = _new_party_rng(args)
    else:
        rng = args.party().rng
    rng.begin(where, recorded)
    produced = _guard(where, lambda: op.run(args))
    return produced, rng.end(), where


def _guard(where: str, run: Callable[[], Json]) -> Json:
    """Run a step; an error from the peer's data becomes the step's result ``{"error": class}``.

    Raises:
        MalformedVector: the library refused the step's inputs as misuse
            (:class:`~axolotl.errors.UsageError`: an empty message id, a
            repeated recipient, ...).
    """
    try:
        return run()
    except RemoteError as exc:
        return {"error": type(exc).__name__}
    except UsageError as exc:
        raise MalformedVector(where, f"inputs refused by the library: {exc}") from None


# -- comparing -----------------------------------------------------------------------------


def _compare(where: str, path: str, got: Any, want: Any) -> None:
    """Raise on the first difference between what a step produced and its ``expect``."""
    shown = path or "result"
    if isinstance(want, dict):
        if not isinstance(got, dict):
            raise VectorMismatch(where, f"{shown}: got {got!r}, expected an object")
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing or extra:
            raise VectorMismatch(where, f"{shown}: fields {sorted(got)} != expected {sorted(want)}")
        for key, value in want.items():
            _compare(where, f"{path}.{key}" if path else key, got[key], value)
        return
    if isinstance(want, list):
        if not isinstance(got, list):
            raise VectorMismatch(where, f"{shown}: got {got!r}, expected a list")
        for i, (g, w) in enumerate(zip(got, want, strict=False)):
            _compare(where, f"{path}[{i}]", g, w)
        if len(got) != len(want):
            raise VectorMismatch(where, f"{shown}: {len(got)} items, expected {len(want)}")
        return
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    if leaf in HEX_FIELDS and isinstance(want, str) and isinstance(got, str):
        try:
            want_bytes = bytes.fromhex(want)
        except ValueError:
            raise MalformedVector(where, f"expected {shown} is not hex") from None
        expect_equal(f"{where} {shown}", bytes.fromhex(got), want_bytes)
        return
    expect_equal(f"{where} {shown}", got, want)


# -- public entry points --------------------------------------------------------------------


def check(case: Json) -> None:
    """Replay one transcript case and compare every step (the ``transcript`` checker).

    Raises:
        VectorMismatch: a step produced other bytes, another error or another
            number or size of draws than recorded (the message names the step
            and the first differing byte).
        MalformedVector: the case cannot be read (unknown op, bad hex, missing field).
    """
    steps = case.get("steps")
    if not isinstance(steps, list) or not steps:
        raise MalformedVector("steps", "must be a non-empty list")
    world = _World(seed=None)
    for index, step in enumerate(steps, 1):
        produced, _, where = _run_step(world, step, index)
        want = step.get("expect")
        if not isinstance(want, dict):
            raise MalformedVector(where, "field 'expect' is missing or not an object")
        _compare(where, "", produced, want)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class TranscriptBuilder:
    """Record a transcript by running steps (the generators' side of :func:`check`).

    Every party draws from its own :class:`~axolotl.rng.DeterministicRng`
    seeded with ``f"{seed}/{party}"``, through a :class:`RecordingRng`.

    Args:
        name: the case name.
        seed: the seed string.
        description: what the conversation shows.
    """

    def __init__(self, name: str, seed: str, description: str) -> None:
        self.name = name
        self.seed = seed
        self.description = description
        self._world = _World(seed=seed)
        self.steps: list[Json] = []

    def step(self, op: str, party: str, *, note: str | None = None, **inputs: Any) -> Json:
        """Run and record one step.

        Args:
            op: a key of :data:`OPS`.
            party: the acting party.
            note: a comment kept in the file.
            **inputs: the op's inputs (bytes are written as hex).

        Returns:
            What the step produced (its ``expect``).

        Raises:
            MalformedVector: bad inputs.
        """
        step: Json = {"step": len(self.steps) + 1, "op": op, "party": party}
        if note is not None:
            step["note"] = note
        step.update(_jsonable(inputs))
        produced, draws, _ = _run_step(self._world, step, step["step"])
        step["draws"] = [d.to_json() for d in draws]
        step["expect"] = produced
        self.steps.append(step)
        return produced

    def jid(self, party: str) -> str:
        """The device JID of a party (``to``/``from`` of its receipts)."""
        return address_to_jid(self._world.parties[party].address)

    def relay_receipt(self, action: Json, sender: str) -> Json:
        """The incoming form of a ``send_receipt`` action, as the server relays it.

        ``to`` becomes ``from`` (the JID of ``sender``, the party that sent
        the receipt); every other field arrives as sent.
        """
        outgoing = OutgoingRetryReceipt.from_node(Node.parse_text(action["node_text"]))
        incoming = outgoing.received_from(self.jid(sender))
        return {"node_text": incoming.to_node().to_text(), "proto": incoming.to_proto_bytes().hex()}

    def case(self) -> Json:
        """The finished case, ready for the vector file."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "parties": {
                key: {"name": p.address.name, "device_id": p.address.device_id}
                for key, p in self._world.parties.items()
            },
            "steps": self.steps,
        }
