"""Sender-key groups against python-axolotl 0.2.3's group cipher, both directions."""

from __future__ import annotations

import itertools
import random

import pytest

from axolotl.errors import DuplicateMessage
from axolotl.session import (
    create_sender_key_distribution,
    group_decrypt,
    group_encrypt,
    process_sender_key_distribution,
)
from axolotl.wire import SenderKeyDistributionMessage
from tests.parties import Party
from tests.peers.client import Peer, PeerError, h, unh

_n = itertools.count()


def _setup(peer: Peer) -> tuple[str, str, Party]:
    them = f"gpy{next(_n)}"
    peer.call("init", party=them)
    us = Party.memory(f"g-{them}")
    return f"group-{them}", them, us


def test_our_sender_their_receiver(pyaxolotl_peer: Peer) -> None:
    group, them, us = _setup(pyaxolotl_peer)
    skdm = create_sender_key_distribution(us.store, group, us.address, rng=us.rng)
    who = {"group_id": group, "sender_name": us.address.name, "sender_device": us.address.device_id}
    pyaxolotl_peer.call(
        "process_sender_key_distribution", party=them, body=h(skdm.serialized), **who
    )
    msgs = [
        group_encrypt(us.store, group, us.address, f"g{i}".encode() * (i % 5), rng=us.rng)
        for i in range(100)
    ]
    order = list(range(100))
    random.Random(7).shuffle(order)
    for i in order:
        r = pyaxolotl_peer.call("group_decrypt", party=them, body=h(msgs[i]), **who)
        assert unh(r["plaintext"]) == f"g{i}".encode() * (i % 5)
    with pytest.raises(PeerError) as info:
        pyaxolotl_peer.call("group_decrypt", party=them, body=h(msgs[order[0]]), **who)
    assert info.value.error == "DuplicateMessageException"


def test_their_sender_our_receiver(pyaxolotl_peer: Peer) -> None:
    group, them, us = _setup(pyaxolotl_peer)
    who = {"group_id": group, "sender_name": them, "sender_device": 1}
    skdm = unh(pyaxolotl_peer.call("create_sender_key_distribution", party=them, **who)["body"])
    sender = us.address.__class__(them, 1)
    process_sender_key_distribution(
        us.store, group, sender, SenderKeyDistributionMessage.parse(skdm)
    )
    msgs = [
        unh(
            pyaxolotl_peer.call(
                "group_encrypt", party=them, plaintext=h(f"p{i}".encode() * (i % 7)), **who
            )["body"]
        )
        for i in range(100)
    ]
    order = list(range(100))
    random.Random(8).shuffle(order)
    for i in order:
        assert group_decrypt(us.store, group, sender, msgs[i]) == f"p{i}".encode() * (i % 7)
    with pytest.raises(DuplicateMessage):
        group_decrypt(us.store, group, sender, msgs[order[0]])
