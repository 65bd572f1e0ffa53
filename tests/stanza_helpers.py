"""What the stanza codec tests share: telling whether the parser's fast path read a stanza."""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.receipts import Node
from axolotl.retry.stanza import MessageStanza, parse_message_node
from axolotl.retry.stanza import parse as stanza_parse


class _HandedOver(Exception):
    """Raised in place of the full parser, to see that the fast path let go."""


def _hand_over(node: object, local: object) -> MessageStanza:
    raise _HandedOver


def fast_path(node: Node, local: ProtocolAddress) -> MessageStanza | None:
    """What ``parse_message_node`` answers by itself; None when it hands the node to ``_parse``."""
    full = stanza_parse._parse
    stanza_parse._parse = _hand_over
    try:
        return parse_message_node(node, local)
    except _HandedOver:
        return None
    finally:
        stanza_parse._parse = full
