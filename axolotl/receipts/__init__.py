"""Retry receipts: entities, the node (tree) and protobuf codecs, DecryptionErrorMessage.

See README.md, "Retry receipts", for the node layout; :mod:`.entities` for the
receipts (plain frozen values) and :mod:`.fields` for their field values and
checks; :mod:`.node` for the tree, :mod:`.text` for reading its text form and
:mod:`.tree` for the receipt <-> node functions; :mod:`.pb` for
``proto/retry.proto``; :mod:`.dem` for libsignal's DecryptionErrorMessage;
:mod:`.yowsup` for the bridge to yowsup's ``ProtocolTreeNode``; :mod:`.limits`
for every limit the constructors and parsers enforce (lengths, depth,
children, sizes, the one integer syntax); :mod:`.jid` for device addresses as
JIDs; :mod:`.bundles` for a receipt's key bundle as a prekey bundle and back.

Imports run one way: ``limits`` and ``fields`` below ``entities``, ``node``
below ``text``; the codecs (``tree``, ``pb``, ``yowsup``) import the values and
the tree, never the reverse (tests/test_receipts_imports.py).
"""

from axolotl.receipts.bundles import key_bundle_from_prekey_bundle, prekey_bundle_from_key_bundle
from axolotl.receipts.dem import DecryptionErrorMessage
from axolotl.receipts.entities import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    RetryReason,
    RetryReceipt,
)
from axolotl.receipts.node import Node
from axolotl.receipts.pb import parse_receipt_proto, receipt_from_proto, receipt_to_proto
from axolotl.receipts.text import parse_text
from axolotl.receipts.tree import parse_receipt_node, receipt_from_node, receipt_to_node
from axolotl.receipts.yowsup import (
    node_from_yowsup,
    node_to_yowsup,
    receipt_from_yowsup,
    receipt_to_yowsup,
)

__all__ = [
    "key_bundle_from_prekey_bundle",
    "prekey_bundle_from_key_bundle",
    "DecryptionErrorMessage",
    "IncomingRetryReceipt",
    "KeyBundle",
    "Node",
    "OutgoingRetryReceipt",
    "RetryReason",
    "RetryReceipt",
    "node_from_yowsup",
    "node_to_yowsup",
    "parse_receipt_node",
    "parse_receipt_proto",
    "parse_text",
    "receipt_from_node",
    "receipt_from_proto",
    "receipt_from_yowsup",
    "receipt_to_node",
    "receipt_to_proto",
    "receipt_to_yowsup",
]
