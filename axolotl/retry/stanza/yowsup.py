"""Message stanzas to and from yowsup's ``ProtocolTreeNode`` (yowsup is never imported).

The same duck-typed bridge as :mod:`axolotl.receipts.yowsup` uses for receipts,
for the ``<message>`` stanzas of :mod:`axolotl.retry.stanza`::

    from yowsup.structs import ProtocolTreeNode
    ptn = envelope_to_yowsup(transmit.envelope, ProtocolTreeNode)
    stanza = message_from_yowsup(incoming_ptn, local_address)  # what a peer sent
"""

from __future__ import annotations

from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.errors import DecodeError
from axolotl.receipts.yowsup import NodeFactory, node_from_yowsup, node_to_yowsup
from axolotl.retry.events import Envelope
from axolotl.retry.stanza._layout import MAX_INCOMING_NODES, MessageStanza
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


def message_from_yowsup(
    ptn: Any, local: ProtocolAddress, *, outgoing: bool = False
) -> MessageStanza:
    """Read a ``<message>`` straight from a yowsup ``ProtocolTreeNode``.

    By default the stanza is one a peer sent, as a yowsup layer receives it:
    its root names the sender (``from``), and the tree is converted only up
    to :data:`~axolotl.retry.stanza.MAX_INCOMING_NODES` nodes, so a hostile
    wide tree costs a few hundred nodes' work. ``outgoing=True`` reads one of
    ours (``to``, a fan-out's ``<participants>`` included) under the generic
    tree limits.

    Args:
        ptn: the node.
        local: this device (recipient of an incoming stanza, sender of an outgoing one).
        outgoing: read an outgoing stanza (``to``) instead of an incoming one.

    Returns:
        The parsed stanza.

    Raises:
        DecodeError: an incoming stanza has no ``from`` (``what`` =
            ``"message.from"``) or an outgoing one has ``from``; the tree
            does not convert (see :func:`~axolotl.receipts.yowsup.node_from_yowsup`)
            or the stanza is invalid (see :func:`~axolotl.retry.stanza.parse_message_node`).
    """
    attrs = getattr(ptn, "attributes", None)
    has_from = isinstance(attrs, dict) and "from" in attrs
    if outgoing:
        if has_from:
            raise DecodeError("message.from", "an outgoing stanza names no sender")
        node = node_from_yowsup(ptn)
    else:
        if not has_from:
            raise DecodeError("message.from", "missing: an incoming stanza names its sender")
        node = node_from_yowsup(ptn, max_nodes=MAX_INCOMING_NODES)
    return parse_message_node(node, local)
