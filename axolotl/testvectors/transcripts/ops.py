"""The transcript operations: what each step ``op`` does, and running one step.

Each ``_op_*`` function runs one call on one party -- create it, publish a
bundle, encrypt, decrypt, a sender-key call, or one
:class:`~axolotl.retry.RetryLayer` call -- from the step's inputs (read
through :class:`~axolotl.testvectors.transcripts.steps.Args`) and returns
what the call produced as JSON. :data:`OPS` maps each ``op`` name to its
function and its input fields. :func:`run_step` checks a step's shape, hands
the acting party's rng the recorded draws (replaying) or lets it record
(generating), runs the op and returns what it produced with the draws made;
both :func:`~axolotl.testvectors.transcripts.check` and the transcript
generator's builder (``vectors/generators/recording.py`` in the source tree)
go through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError, RemoteError, UsageError
from axolotl.framing import framing_named
from axolotl.keys import (
    generate_identity_key_pair,
    generate_pre_keys,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.receipts import (
    IncomingRetryReceipt,
    parse_text,
    receipt_from_node,
    receipt_from_proto,
)
from axolotl.retry import RetryLayer
from axolotl.retry.events import Action, DeliveryReceipt, Transmit
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
from axolotl.testvectors import MalformedVector, VectorMismatch
from axolotl.testvectors.transcripts.draws import Draw, Json, PartyRng, StepRng
from axolotl.testvectors.transcripts.stanzas import check_delivered, on_stanzas, stanzas_json
from axolotl.testvectors.transcripts.steps import Args, Party, World, actions_json, read_draws
from axolotl.wire import SenderKeyDistributionMessage

__all__ = ["OPS", "run_step"]

_COMMON = frozenset({"step", "op", "party", "draws", "expect", "note"})


# -- the ops ---------------------------------------------------------------------------


def _new_party_rng(a: Args) -> PartyRng:
    key = a.get("party", str)
    if key in a.world.parties:
        raise a.bad("party", f"{key!r} was created already")
    recorder = a.world.recorder
    return StepRng(key) if recorder is None else recorder(key)


def _op_create_party(a: Args) -> Json:
    assert a.new_rng is not None
    try:
        address = ProtocolAddress(a.get("name", str), a.get("device_id", int))
    except AxolotlError as exc:
        raise a.bad("name", str(exc)) from None
    identity = generate_identity_key_pair(a.new_rng)
    registration_id = generate_registration_id(a.new_rng)
    store = MemoryStore(identity, registration_id)
    party = Party(a.step["party"], address, a.new_rng, store)
    framing_name = a.opt("framing", str)
    if framing_name is not None and not a.opt("retry_layer", bool):
        raise a.bad("framing", "needs retry_layer")
    if a.opt("retry_layer", bool):
        try:
            framing = framing_named(framing_name or "native")
        except UsageError as exc:
            raise a.bad("framing", f"is not a framing ({exc})") from None
        party.layer = RetryLayer(store, address, rng=a.new_rng, framing=framing)
    a.world.parties[party.key] = party
    return {
        "identity_key": identity.public_key.serialize().hex(),
        "registration_id": registration_id,
    }


def _op_publish_bundle(a: Args) -> Json:
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


def _op_process_bundle(a: Args) -> Json:
    party, peer, bundle = a.party(), a.party("peer"), a.bundle()
    if party.layer is not None:
        party.layer.process_bundle(peer.address, bundle)
    else:
        process_prekey_bundle(party.store, peer.address, bundle, rng=party.rng)
    return {}


def _op_encrypt(a: Args) -> Json:
    party, peer = a.party(), a.party("peer")
    message = encrypt(party.store, peer.address, a.hex("plaintext"))
    return {"type": int(message.type), "body": message.body.hex()}


def _op_decrypt(a: Args) -> Json:
    party, peer = a.party(), a.party("peer")
    kind, body = a.get("type", int), a.hex("body")
    return {
        "plaintext": decrypt_message(
            party.store, peer.address, kind, body, rng=party.rng
        ).plaintext.hex()
    }


def _op_create_distribution(a: Args) -> Json:
    party = a.party()
    skdm = create_sender_key_distribution(
        party.store, a.get("group", str), party.address, rng=party.rng
    )
    return {"body": skdm.serialized.hex()}


def _op_process_distribution(a: Args) -> Json:
    party, sender = a.party(), a.party("sender")
    try:
        message = SenderKeyDistributionMessage.parse(a.hex("body"))
    except RemoteError as exc:
        raise a.bad("body", f"is not a sender key distribution message: {exc}") from None
    process_sender_key_distribution(party.store, a.get("group", str), sender.address, message)
    return {}


def _op_group_encrypt(a: Args) -> Json:
    party = a.party()
    body = group_encrypt(
        party.store, a.get("group", str), party.address, a.hex("plaintext"), rng=party.rng
    )
    return {"body": body.hex()}


def _op_group_decrypt(a: Args) -> Json:
    party, sender = a.party(), a.party("sender")
    plaintext = group_decrypt(party.store, a.get("group", str), sender.address, a.hex("body"))
    return {"plaintext": plaintext.hex()}


def _result(a: Args, party: Party, actions: list[Action]) -> Json:
    """A retry-layer call's ``{"actions"}``, and its ``stanzas`` when the party is on them."""
    out = actions_json(a.world, actions)
    if on_stanzas(party) and any(isinstance(action, Transmit) for action in actions):
        out["stanzas"] = stanzas_json(a.where, party, actions)
    return out


def _op_new_message_id(a: Args) -> Json:
    return {"message_id": a.layer()[1].new_message_id()}


def _op_send(a: Args) -> Json:
    party, layer = a.layer()
    names = a.get("recipients", list)
    recipients = [a.party("r", {"r": n}).address for n in names]
    actions = layer.send(
        recipients,
        a.get("message_id", str),
        a.hex("plaintext"),
        a.get("now_ms", int),
        group=a.opt("group", str),
    )
    return _result(a, party, actions)


def _op_receive(a: Args) -> Json:
    party, layer = a.layer()
    envelope = a.envelope()
    check_delivered(a, party, envelope)
    return _result(a, party, layer.receive(envelope, a.get("now_ms", int)))


def _op_receive_receipt(a: Args) -> Json:
    party, layer = a.layer()
    r = a.get("receipt", dict)
    text, proto = a.get("node_text", str, r), a.hex("proto", r)
    try:
        from_node = receipt_from_node(parse_text(text), IncomingRetryReceipt)
        from_proto = receipt_from_proto(proto, IncomingRetryReceipt)
    except AxolotlError as exc:
        raise a.bad("receipt", f"does not parse: {type(exc).__name__}: {exc}") from None
    if from_node != from_proto:
        raise VectorMismatch(a.where, "the receipt's node text and protobuf bytes disagree")
    device = a.party("from").address
    return _result(a, party, layer.receive_receipt(from_node, a.get("now_ms", int), device))


def _op_delivery_receipt(a: Args) -> Json:
    party, layer = a.layer()
    receipt = DeliveryReceipt(message_id=a.get("message_id", str), device=a.party("from").address)
    return _result(a, party, layer.receive_receipt(receipt, a.get("now_ms", int)))


def _op_server_ack(a: Args) -> Json:
    party, layer = a.layer()
    actions = layer.server_ack(
        a.get("message_id", str), a.party("device").address, a.get("now_ms", int)
    )
    return _result(a, party, actions)


def _op_tick(a: Args) -> Json:
    party, layer = a.layer()
    return _result(a, party, layer.tick(a.get("now_ms", int)))


def _op_wipe_session(a: Args) -> Json:
    party, peer = a.party(), a.party("peer")
    party.store.delete_session(peer.address)
    return {}


def _op_forget_sender_keys(a: Args) -> Json:
    party, sender = a.party(), a.party("sender")
    party.store.delete_sender_key(a.get("group", str), sender.address)
    return {}


@dataclass(frozen=True, slots=True)
class _Op:
    run: Callable[[Args], Json]
    inputs: frozenset[str]


def _op(run: Callable[[Args], Json], *inputs: str) -> _Op:
    return _Op(run, frozenset(inputs))


OPS: dict[str, _Op] = {
    "create_party": _op(_op_create_party, "name", "device_id", "retry_layer", "framing"),
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
    "receive": _op(_op_receive, "envelope", "now_ms", "stanza"),
    "receive_receipt": _op(_op_receive_receipt, "from", "receipt", "now_ms"),
    "delivery_receipt": _op(_op_delivery_receipt, "from", "message_id", "now_ms"),
    "server_ack": _op(_op_server_ack, "device", "message_id", "now_ms"),
    "tick": _op(_op_tick, "now_ms"),
    "wipe_session": _op(_op_wipe_session, "peer"),
    "forget_sender_keys": _op(_op_forget_sender_keys, "sender", "group"),
}
"""Step ``op`` -> how to run it and which input fields it takes."""


# -- running a step -----------------------------------------------------------------------


def run_step(world: World, step: object, index: int) -> tuple[Json, list[Draw], str]:
    """Run one step; return (what it produced, the draws it made, its name for messages)."""
    where = f"step {index}"
    if not isinstance(step, dict):
        raise MalformedVector(where, "is not an object")
    op_name = step.get("op")
    where = f"step {index} ({op_name})"
    op = OPS.get(op_name) if isinstance(op_name, str) else None
    if op is None:
        raise MalformedVector(where, f"unknown op {op_name!r}")
    args = Args(world, step, where)
    if step.get("step") != index:
        raise args.bad("step", f"is {step.get('step')!r}, expected {index}")
    unknown = set(step) - _COMMON - op.inputs
    if unknown:
        raise args.bad(sorted(unknown)[0], f"is not an input of {op_name}")
    replaying = world.recorder is None
    recorded = read_draws(args) if replaying else []
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
