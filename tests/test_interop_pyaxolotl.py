"""Pairwise sessions against the real python-axolotl 0.2.3, in its own process.

Our Alice with their Bob and their Alice with our Bob: prekey message first,
200 messages each way with ratchet turns, out-of-order delivery, and a
duplicate that both sides refuse as a duplicate.
"""

from __future__ import annotations

import itertools
import random

import pytest

from axolotl.crypto.curve import PublicKey
from axolotl.errors import DuplicateMessage
from axolotl.keys import PreKeyBundle
from axolotl.session import decrypt, encrypt, process_prekey_bundle
from axolotl.wire import MessageType
from tests.parties import Party
from tests.peers.client import Peer, PeerError, h, unh

_names = itertools.count()


def _their_party(peer: Peer, device: int = 1) -> str:
    name = f"py{next(_names)}"
    peer.call("init", party=name)
    return name


def _their_bundle(peer: Peer, name: str, device: int, pre_key_id: int | None) -> PreKeyBundle:
    b = peer.call(
        "bundle", party=name, device_id=device, pre_key_id=pre_key_id, signed_pre_key_id=7
    )
    return PreKeyBundle(
        registration_id=b["registration_id"],
        device_id=device,
        pre_key_id=b["pre_key_id"],
        pre_key_public=PublicKey.deserialize(unh(b["pre_key_public"]))
        if b["pre_key_public"]
        else None,
        signed_pre_key_id=b["signed_pre_key_id"],
        signed_pre_key_public=PublicKey.deserialize(unh(b["signed_pre_key_public"])),
        signed_pre_key_signature=unh(b["signed_pre_key_signature"]),
        identity_key=PublicKey.deserialize(unh(b["identity_key"])),
    )


def _bundle_json(bundle: PreKeyBundle) -> dict[str, object]:
    return {
        "registration_id": bundle.registration_id,
        "device_id": bundle.device_id,
        "pre_key_id": bundle.pre_key_id,
        "pre_key_public": h(bundle.pre_key_public.serialize()) if bundle.pre_key_public else None,
        "signed_pre_key_id": bundle.signed_pre_key_id,
        "signed_pre_key_public": h(bundle.signed_pre_key_public.serialize()),
        "signed_pre_key_signature": h(bundle.signed_pre_key_signature),
        "identity_key": h(bundle.identity_key.serialize()),
    }


class Conversation:
    """Our party ``us`` and their party ``them`` with helpers to send both ways."""

    def __init__(self, peer: Peer, us: Party, them: str) -> None:
        self.peer, self.us, self.them = peer, us, them

    def ours_to_theirs(self, text: bytes) -> tuple[int, bytes]:
        m = encrypt(self.us.store, self._their_address(), text)
        return int(m.type), m.body

    def theirs_decrypt(self, m: tuple[int, bytes]) -> bytes:
        r = self.peer.call(
            "decrypt",
            party=self.them,
            remote_name=self.us.address.name,
            remote_device=self.us.address.device_id,
            type=m[0],
            body=h(m[1]),
        )
        return unh(r["plaintext"])

    def theirs_to_ours(self, text: bytes) -> tuple[int, bytes]:
        r = self.peer.call(
            "encrypt",
            party=self.them,
            remote_name=self.us.address.name,
            remote_device=self.us.address.device_id,
            plaintext=h(text),
        )
        return r["type"], unh(r["body"])

    def ours_decrypt(self, m: tuple[int, bytes]) -> bytes:
        return decrypt(self.us.store, self._their_address(), m[0], m[1], rng=self.us.rng)

    def _their_address(self):  # type: ignore[no-untyped-def]
        from axolotl.address import ProtocolAddress

        return ProtocolAddress(self.them, 1)


def test_our_alice_their_bob(pyaxolotl_peer: Peer) -> None:
    them = _their_party(pyaxolotl_peer)
    us = Party.memory(f"alice-{them}")
    c = Conversation(pyaxolotl_peer, us, them)
    bundle = _their_bundle(pyaxolotl_peer, them, 1, 31)
    process_prekey_bundle(us.store, c._their_address(), bundle, rng=us.rng)
    first = c.ours_to_theirs(b"hello from axolotl")
    assert first[0] == MessageType.PREKEY
    assert c.theirs_decrypt(first) == b"hello from axolotl"
    _exchange(c, rounds=200)


@pytest.mark.parametrize("one_time", [True, False])
def test_their_alice_our_bob(pyaxolotl_peer: Peer, one_time: bool) -> None:
    them = _their_party(pyaxolotl_peer)
    us = Party.memory(f"bob-{them}")
    c = Conversation(pyaxolotl_peer, us, them)
    pyaxolotl_peer.call(
        "process_bundle",
        party=them,
        remote_name=us.address.name,
        remote_device=us.address.device_id,
        **_bundle_json(us.bundle(with_one_time=one_time)),
    )
    first = c.theirs_to_ours(b"hello from python-axolotl")
    assert first[0] == MessageType.PREKEY
    assert c.ours_decrypt(first) == b"hello from python-axolotl"
    assert not us.store.contains_pre_key(1)
    _exchange(c, rounds=200)


def test_their_bob_refuses_prekey_messages_without_one_time_prekey(pyaxolotl_peer: Peer) -> None:
    """A python-axolotl 0.2.3 bug, pinned so we notice if it changes.

    Its PreKeyWhisperMessage reads the absent ``preKeyId`` as 0 (no HasField
    check) and looks up prekey 0, so a session built from a bundle without a
    one-time prekey never starts with it as the responder -- whoever the
    initiator is. We omit the field, as libsignal does; our responder reads
    the absence correctly (the test above).
    """
    them = _their_party(pyaxolotl_peer)
    us = Party.memory(f"alice-nopk-{them}")
    c = Conversation(pyaxolotl_peer, us, them)
    process_prekey_bundle(
        us.store, c._their_address(), _their_bundle(pyaxolotl_peer, them, 1, None), rng=us.rng
    )
    with pytest.raises(PeerError) as info:
        c.theirs_decrypt(c.ours_to_theirs(b"x"))
    assert info.value.error == "InvalidKeyIdException"


def _exchange(c: Conversation, rounds: int) -> None:
    rnd = random.Random(rounds)
    for i in range(rounds):
        # runs of 1-3 messages in one direction make the ratchet turn often
        text = bytes(rnd.getrandbits(8) for _ in range(rnd.choice([0, 1, 15, 16, 17, 31, 32, 200])))
        if (i // 3) % 2 == 0:
            assert c.theirs_decrypt(c.ours_to_theirs(text)) == text
        else:
            assert c.ours_decrypt(c.theirs_to_ours(text)) == text


def test_out_of_order_and_duplicates_both_ways(pyaxolotl_peer: Peer) -> None:
    them = _their_party(pyaxolotl_peer)
    us = Party.memory(f"ooo-{them}")
    c = Conversation(pyaxolotl_peer, us, them)
    process_prekey_bundle(
        us.store, c._their_address(), _their_bundle(pyaxolotl_peer, them, 1, 5), rng=us.rng
    )
    c.theirs_decrypt(c.ours_to_theirs(b"setup"))
    c.ours_decrypt(c.theirs_to_ours(b"ack"))
    for _ in range(2):
        ours = [c.ours_to_theirs(f"o{i}".encode()) for i in range(12)]
        theirs = [c.theirs_to_ours(f"t{i}".encode()) for i in range(12)]
        order = list(range(12))
        random.Random(3).shuffle(order)
        for i in order:
            assert c.theirs_decrypt(ours[i]) == f"o{i}".encode()
            assert c.ours_decrypt(theirs[i]) == f"t{i}".encode()
        with pytest.raises(PeerError) as info:
            c.theirs_decrypt(ours[order[0]])
        assert info.value.error == "DuplicateMessageException"
        with pytest.raises(DuplicateMessage):
            c.ours_decrypt(theirs[order[0]])
