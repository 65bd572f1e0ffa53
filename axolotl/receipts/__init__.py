"""Retry receipts: entities, the node (tree) and protobuf codecs, DecryptionErrorMessage.

See DESIGN.md, "Wire formats", for the node layout; :mod:`.entities` for the
receipts and :mod:`.fields` for their field values and checks; :mod:`.node` for
the tree, :mod:`.text` for its text form and :mod:`.tree` for the receipt <->
node mapping; :mod:`.pb` for ``proto/retry.proto``; :mod:`.dem` for libsignal's
DecryptionErrorMessage; :mod:`.yowsup` for the bridge to yowsup's
``ProtocolTreeNode``; :mod:`.limits` for every limit the constructors and
parsers enforce (lengths, depth, children, sizes, the one integer syntax).
"""

from axolotl.receipts.dem import DecryptionErrorMessage
from axolotl.receipts.entities import (
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    RetryReason,
    RetryReceipt,
)
from axolotl.receipts.node import Node, parse_receipt_node, parse_text
from axolotl.receipts.pb import parse_receipt_proto
from axolotl.receipts.yowsup import (
    node_from_yowsup,
    node_to_yowsup,
    receipt_from_yowsup,
    receipt_to_yowsup,
)

__all__ = [
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
    "receipt_from_yowsup",
    "receipt_to_yowsup",
]
