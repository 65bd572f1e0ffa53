"""Interop with yowsup 3.3.0's retry receipt entities, in the peer process.

* Our outgoing receipt node, after the server's ``to`` -> ``from`` rewrite (and
  its ``t`` stamp), is read by yowsup's ``RetryIncomingReceiptProtocolEntity``:
  every field it extracts must match, and the fields it ignores (``retry@id``,
  ``retry@error``, ``<keys>``) must be in the node where yowsup's own get-keys
  parsing reads the bundle back intact.
* A node built by yowsup's ``RetryOutgoingReceiptProtocolEntity`` is read by us.

Nodes travel as ``{"tag", "attrs", "children", "data"}`` (see tests/peers).
"""

from __future__ import annotations

from typing import Any

import pytest

from axolotl.receipts import (
    IncomingRetryReceipt,
    KeyBundle,
    Node,
    OutgoingRetryReceipt,
    RetryReason,
    receipt_from_node,
    receipt_to_node,
)
from tests.peers.client import Peer
from tests.test_receipts_entities import BUNDLE

SERVER_T = 1432833777


def relayed(receipt: OutgoingRetryReceipt, sender: str) -> dict[str, Any]:
    """The node the addressee gets: ``to`` becomes the sender's ``from``, the server adds ``t``."""
    node = receipt_to_node(receipt)
    attrs = {
        ("from" if k == "to" else k): (sender if k == "to" else v) for k, v in node.attrs.items()
    }
    attrs["t"] = str(SERVER_T)
    return Node(node.tag, attrs, node.children).to_dict()


@pytest.mark.parametrize(
    "receipt",
    [
        OutgoingRetryReceipt(
            message_id="3EB0A1B2C3",
            to="4915225256022@s.whatsapp.net",
            count=1,
            timestamp=1432833266,
            registration_id=12345,
        ),
        OutgoingRetryReceipt(
            message_id="3EB0A1B2C4",
            to="120363040000000000@g.us",
            count=3,
            timestamp=1700000000,
            registration_id=0xFFFFFFFF,
            participant="4915225256023@s.whatsapp.net",
            reason=RetryReason.BAD_MAC,
            keys=BUNDLE,
        ),
        OutgoingRetryReceipt(
            message_id="3EB0A1B2C5",
            to="4915225256022@s.whatsapp.net",
            count=2,
            timestamp=1,
            registration_id=1,
            keys=KeyBundle(
                identity=BUNDLE.identity,
                signed_pre_key_id=0xFFFFFF,
                signed_pre_key=BUNDLE.signed_pre_key,
                signed_pre_key_signature=BUNDLE.signed_pre_key_signature,
                device_identity=b"\x0a\x02\x08\x01",
            ),
        ),
    ],
    ids=["minimal", "group-keys-error", "no-prekey-device-identity"],
)
def test_yowsup_reads_our_receipt(pyaxolotl_peer: Peer, receipt: OutgoingRetryReceipt) -> None:
    sender = "4915225256099.0:3@s.whatsapp.net"
    got = pyaxolotl_peer.call("yowsup_parse_incoming_retry", node=relayed(receipt, sender))
    assert got["message_id"] == receipt.message_id
    assert got["from"] == sender
    assert got["participant"] == receipt.participant
    assert int(got["t"]) == SERVER_T
    assert got["type"] == "retry"
    assert int(got["count"]) == receipt.count
    assert int(got["v"]) == receipt.version
    assert int(got["retry_t"]) == receipt.timestamp
    assert got["registration_id"] == receipt.registration_id
    assert got["retry_id"] == receipt.message_id
    assert got["retry_error"] == (None if receipt.reason is None else str(int(receipt.reason)))
    keys = receipt.keys
    if keys is None:
        assert got["keys"] is None
        return
    assert got["keys"]["type"] == "05"
    assert got["keys"]["identity"] == "05" + keys.identity.hex()
    if keys.pre_key is None:
        assert got["keys"]["key"] is None
    else:
        assert got["keys"]["key"] == {"id": keys.pre_key_id, "value": "05" + keys.pre_key.hex()}
    assert got["keys"]["skey"] == {
        "id": keys.signed_pre_key_id,
        "value": "05" + keys.signed_pre_key.hex(),
        "signature": keys.signed_pre_key_signature.hex(),
    }
    expected_device = None if keys.device_identity is None else keys.device_identity.hex()
    assert got["keys"]["device_identity"] == expected_device


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            {
                "message_id": "1415389947-12",
                "to": "4915225256022@s.whatsapp.net",
                "registration_id": 12345,
                "t": "1432833266",
            },
            {"count": 1, "version": 1, "participant": None},
        ),
        (
            {
                "message_id": "1415389947-13",
                "to": "120363040000000000@g.us",
                "registration_id": 7,
                "t": 1432833267,
                "count": 4,
                "v": 1,
                "participant": "4915225256023@s.whatsapp.net",
            },
            {"count": 4, "version": 1, "participant": "4915225256023@s.whatsapp.net"},
        ),
    ],
)
def test_we_read_yowsups_receipt(
    pyaxolotl_peer: Peer, args: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = pyaxolotl_peer.call("yowsup_build_outgoing_retry", **args)
    node = Node.from_dict(answer["node"])
    receipt = receipt_from_node(node, OutgoingRetryReceipt)
    assert receipt.message_id == args["message_id"]
    assert receipt.to == args["to"]
    assert receipt.registration_id == args["registration_id"]
    assert receipt.timestamp == int(args["t"])
    assert receipt.count == expected["count"]
    assert receipt.version == expected["version"]
    assert receipt.participant == expected["participant"]
    assert receipt.reason is None and receipt.keys is None and receipt.receipt_timestamp is None
    # and it is the node we would have built ourselves, up to attribute order
    assert receipt_to_node(receipt) == node
    # the relayed form reads as an incoming receipt: the server names the
    # device that sent the receipt in `from` (pairwise) or `participant` (group)
    asker = "4915225256099:2@s.whatsapp.net"
    attrs = {("from" if k == "to" else k): v for k, v in node.attrs.items()}
    attrs["participant" if "participant" in attrs else "from"] = asker
    incoming = receipt_from_node(Node(node.tag, attrs, node.children), IncomingRetryReceipt)
    assert incoming == receipt.received_from(asker)
