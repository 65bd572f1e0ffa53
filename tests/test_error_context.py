"""Errors carry what they are about (STYLE rule 6; issue 17, item 5).

Before: ``NoSession`` and ``UntrustedIdentity`` held the address as a string
defaulting to ``""``, ``BadMac`` held nothing, and no error named the
message id.
"""

from __future__ import annotations

import pytest

from axolotl.errors import BadMac, DecodeError, NoSenderKey, NoSession, RemoteError
from axolotl.retry import RetryLayer, Transmit
from axolotl.session import (
    create_sender_key_distribution,
    decrypt_message,
    group_decrypt,
    group_encrypt,
)
from axolotl.wire import MessageType, SignalMessage
from tests.parties import Party

NOW = 1_700_000_000_000


def test_a_decrypt_error_names_the_sender_and_a_bad_mac_its_counter() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(alice.store, alice.address, rng=alice.rng)
    a.process_bundle(bob.address, bob.bundle())
    (env,) = [x.envelope for x in a.send([bob.address], "M1", b"y", NOW) if isinstance(x, Transmit)]
    body = bytearray(env.body)
    body[-12] ^= 1  # inside the inner SignalMessage's MAC
    with pytest.raises(BadMac) as info:
        decrypt_message(bob.store, alice.address, env.type, bytes(body))
    assert info.value.address == alice.address
    assert info.value.counter == 0


def test_no_session_names_the_address_as_an_address() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    junk = bytes([0x33]) + bytes(60)
    with pytest.raises(RemoteError) as info:
        decrypt_message(bob.store, alice.address, MessageType.SIGNAL, junk)
    assert info.value.address == alice.address
    with pytest.raises(NoSenderKey) as group_info:
        group_decrypt(bob.store, "g1", alice.address, _sender_key_message(alice))
    assert group_info.value.address == alice.address


def test_a_parser_alone_names_no_address() -> None:
    with pytest.raises(DecodeError) as info:
        SignalMessage.parse(b"\x00")
    assert info.value.address is None and info.value.message_id is None


def test_the_retry_layer_names_the_message_id_of_what_it_lets_out() -> None:
    alice, bob = Party.memory("alice"), Party.memory("bob")
    a = RetryLayer(alice.store, alice.address, rng=alice.rng)
    with pytest.raises(NoSession) as info:
        a.send([bob.address], "M9", b"no session yet", NOW)
    assert info.value.message_id == "M9"
    assert info.value.address == bob.address


def _sender_key_message(sender: Party) -> bytes:
    create_sender_key_distribution(sender.store, "g1", sender.address, rng=sender.rng)
    return group_encrypt(sender.store, "g1", sender.address, b"hi", rng=sender.rng)
