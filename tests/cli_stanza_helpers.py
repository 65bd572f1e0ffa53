"""What the stanza inspector tests share: real ciphertexts from real sessions, CLI runners."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from axolotl.address import ProtocolAddress
from axolotl.cli import main
from axolotl.receipts import Node
from axolotl.retry import Envelope
from axolotl.session import (
    SessionRecord,
    create_sender_key_distribution,
    decrypt,
    encrypt,
    group_encrypt,
    process_prekey_bundle,
)
from axolotl.wire import MessageType
from tests.parties import Party, talking_pair

ALICE = "491700000001@s.whatsapp.net"
BOB = "491700000002@s.whatsapp.net"
CAROL = "491700000003@s.whatsapp.net"
GROUP = "491700000001-1600000000@g.us"
T = 1_700_000_000
MSG_ID = "3EB0A1B2C3D4"


@dataclass(frozen=True)
class Keys:
    """What each real ciphertext must show, taken from the parties, not from its bytes."""

    alice: ProtocolAddress
    bob: ProtocolAddress
    carol: ProtocolAddress
    pkmsg: bytes
    pkmsg_fields: dict[str, Any]
    msg: bytes
    msg_fields: dict[str, Any]
    skmsg: bytes
    skmsg_fields: dict[str, Any]


def make_keys() -> Keys:
    # alice -> bob:2 starts a session (pkmsg); alice <-> carol:1 have one (msg); alice's group key.
    alice, bob = Party.memory(ALICE, 1), Party.memory(BOB, 2)
    bundle = bob.bundle()
    process_prekey_bundle(alice.store, bob.address, bundle, rng=alice.rng)
    first = encrypt(alice.store, bob.address, b"hello bob")
    assert first.type == MessageType.PREKEY
    session = alice.store.load_session(bob.address)
    assert session is not None
    pending = SessionRecord.deserialize(session).current
    assert pending is not None and pending.pending_pre_key is not None
    # alice <-> carol: three messages on one chain, carol answers, then alice's second
    # message on her next chain: counter 1, previous counter 2 (libsignal: last index).
    sender, carol = talking_pair(ALICE, CAROL)
    sent = [encrypt(sender.store, carol.address, b"chain two") for _ in range(3)]
    decrypt(carol.store, sender.address, sent[0].type, sent[0].body, rng=carol.rng)
    answer = encrypt(carol.store, sender.address, b"ok")
    decrypt(sender.store, carol.address, answer.type, answer.body, rng=sender.rng)
    encrypt(sender.store, carol.address, b"first on chain three")
    reply = encrypt(sender.store, carol.address, b"hello carol")
    assert reply.type == MessageType.SIGNAL
    distribution = create_sender_key_distribution(alice.store, GROUP, alice.address, rng=alice.rng)
    skmsg = group_encrypt(alice.store, GROUP, alice.address, b"hello group", rng=alice.rng)
    return Keys(
        alice=alice.address,
        bob=bob.address,
        carol=carol.address,
        pkmsg=first.body,
        pkmsg_fields={
            "registration_id": alice.store.get_local_registration_id(),
            "pre_key_id": bundle.pre_key_id,
            "signed_pre_key_id": bundle.signed_pre_key_id,
            "base_key": pending.pending_pre_key.base_key.serialize().hex(),
            "identity_key": alice.store.get_identity_key_pair().public_key.serialize().hex(),
            "ratchet_key": first.ratchet_key.serialize().hex(),
            "counter": first.counter,
            "previous_counter": 0,
        },
        msg=reply.body,
        msg_fields={
            "ratchet_key": reply.ratchet_key.serialize().hex(),
            "counter": reply.counter,
            "previous_counter": 2,
        },
        skmsg=skmsg,
        skmsg_fields={"key_id": distribution.key_id, "iteration": distribution.iteration},
    )


def envelope(keys: Keys, kind: MessageType, recipient: ProtocolAddress, **kw: Any) -> Envelope:
    body = {MessageType.PREKEY: keys.pkmsg, MessageType.SIGNAL: keys.msg}.get(kind, keys.skmsg)
    fields: dict[str, Any] = {
        "message_id": MSG_ID,
        "sender": keys.alice,
        "recipient": recipient,
        "type": kind,
        "body": body,
        "timestamp_ms": T * 1000,
        **kw,
    }
    return Envelope(**fields)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["receipt", "inspect", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def text_of(capsys: pytest.CaptureFixture[str], node: Node) -> list[str]:
    status, out, err = run(capsys, node.to_text())
    assert status == 0 and err == "", err
    return out.splitlines()


def json_of(capsys: pytest.CaptureFixture[str], node: Node) -> dict[str, Any]:
    status, out, err = run(capsys, "--json", node.to_text(indent=None))
    assert status == 0 and err == "", err
    assert out.count("\n") == 1
    doc: dict[str, Any] = json.loads(out)
    return doc


def field_lines(fields: dict[str, Any]) -> list[str]:
    labels = {
        "registration_id": "registration id:  ",
        "pre_key_id": "prekey id:        ",
        "signed_pre_key_id": "signed prekey id: ",
        "base_key": "base key:         ",
        "identity_key": "identity key:     ",
        "ratchet_key": "ratchet key:      ",
        "counter": "counter:          ",
        "previous_counter": "previous counter: ",
        "key_id": "sender key id:    ",
        "iteration": "iteration:        ",
    }
    return [f"    {labels[name]}{value}" for name, value in fields.items()]


V3 = "    version byte:     0x33 (message version 3, sender speaks up to 3)"
