"""Message stanzas to and from yowsup's ``ProtocolTreeNode`` (yowsup is never imported).

The same duck-typed bridge as :mod:`axolotl.receipts.yowsup` uses for receipts,
for the ``<message>`` stanzas of :mod:`axolotl.retry.stanza`::

    from yowsup.structs import ProtocolTreeNode
    ptn = envelope_to_yowsup(transmit.envelope, ProtocolTreeNode)
    stanza = message_from_yowsup(incoming_ptn, local_address)
"""

from __future__ import annotations

from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.receipts.yowsup import NodeFactory, node_from_yowsup, node_to_yowsup
from axolotl.retry.events import Envelope
from axolotl.retry.stanza._layout import MessageStanza
from axolotl.retry.stanza.build import envelope_to_node
from axolotl.retry.stanza.parse import parse_message_node

__all__ = ["envelope_to_yowsup", "message_from_yowsup"]


def envelope_to_yowsup(
    envelope: Envelope,
    factory: NodeFactory,
    *,
    kind: str = "text",
    media_type: str | None = None,
    device_identity: bytes | None = None,
) -> Any:
    """``node_to_yowsup(envelope_to_node(envelope, ...), factory)``.

    Args:
        envelope: the envelope to send.
        factory: ``ProtocolTreeNode`` (called as ``factory(tag, attrs, children, data)``).
        kind: the message ``type``.
        media_type: the ``<enc mediatype>``.
        device_identity: written beside a ``pkmsg``.

    Returns:
        What ``factory`` built for the ``<message>``.

    Raises:
        UsageError: as :func:`~axolotl.retry.stanza.envelope_to_node`.
    """
    node = envelope_to_node(
        envelope, kind=kind, media_type=media_type, device_identity=device_identity
    )
    return node_to_yowsup(node, factory)


def message_from_yowsup(ptn: Any, local: ProtocolAddress) -> MessageStanza:
    """Read a ``<message>`` straight from a yowsup ``ProtocolTreeNode``.

    Args:
        ptn: the node (incoming: ``from``; outgoing: ``to``).
        local: this device (recipient of an incoming stanza, sender of an outgoing one).

    Returns:
        The parsed stanza.

    Raises:
        DecodeError: the tree does not convert (see
            :func:`~axolotl.receipts.yowsup.node_from_yowsup`) or the stanza is
            invalid (see :func:`~axolotl.retry.stanza.parse_message_node`).
    """
    return parse_message_node(node_from_yowsup(ptn), local)
