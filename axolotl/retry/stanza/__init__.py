"""Message stanzas: ``<message><enc/></message>`` nodes built from and parsed into Envelopes.

The WhatsApp layout (README.md, "Message stanzas"), as yowsup 3.3.0,
whatsmeow and Baileys build it, in the same :class:`~axolotl.receipts.Node`
form (and text form) as retry receipts::

    <message id=ID to=JID type="text" t=SECONDS [participant=DEVICE]>
      <enc v="2" type="pkmsg|msg|skmsg" [count=N] [mediatype=M]>bytes</enc>
      [<device-identity>bytes</device-identity>]
    </message>

* a single-recipient stanza (:func:`envelope_to_node`) carries its ``<enc>``
  directly: ``to`` is the device's JID, or, for a group, the group with
  ``participant`` naming the one device it is meant for (a directed group
  resend, whatsmeow ``retry.go`` and Baileys ``relayMessage``);
* a fan-out (:func:`envelopes_to_node`) holds one shared ``<enc type="skmsg">``
  and ``<participants><to jid=DEVICE><enc/></to>...</participants>`` for the
  devices that get a pairwise message (whatsmeow ``prepareMessageNode``,
  Baileys ``createParticipantNodes``; yowsup 3.3.0 sends the same to user JIDs);
* a resend's retry count rides on its ``<enc count=N>`` (whatsmeow sets
  ``encrypted.Attrs["count"]``, Baileys ``count: participant.count``);
  yowsup 3.3.0 writes none, which reads as 0;
* ``<device-identity>`` goes beside the ``<enc>``/``<participants>`` whenever
  the stanza carries a ``pkmsg`` and the stack supplies one (whatsmeow
  ``includeIdentity``, Baileys ``shouldIncludeDeviceIdentity``), never otherwise.

Incoming stanzas, as the server delivers them, carry ``from`` (the sender's
device, or the group with ``participant`` = the author) and the server's ``t``
stamp, and one pairwise ``<enc>`` and/or one ``skmsg`` (in any order).
:func:`parse_message_node` reads both directions; it is strict: the limits
below, one canonical integer syntax (no sign, no leading zero), ``v="2"`` and
the three known ``type`` values only, no duplicated ``<enc>``; anything else
raises :class:`~axolotl.errors.DecodeError` whose ``what`` is the dotted path
of the field (``"message.enc.count"``). Unknown attributes and children are
ignored, as the receipt codec does.

What the node cannot carry: ``t`` has second precision (``timestamp_ms`` is
``t * 1000`` on parse) and an envelope's ``priority`` is local (parsed
envelopes have the default). A shared ``skmsg`` of a fan-out is addressed to
the whole group: its parsed envelope's recipient is the group's address
(``address_from_jid(group)``), and :func:`envelopes_to_node` takes the
``skmsg`` envelopes of every device and writes their common body once.
"""

from axolotl.retry.stanza._layout import (
    MAX_ATTR_CHARS,
    MAX_ENC_BYTES,
    MAX_FANOUT,
    MAX_INCOMING_NODES,
    MAX_MESSAGE_CHILDREN,
    MessageStanza,
    is_group_jid,
)
from axolotl.retry.stanza.build import envelope_to_node, envelopes_to_node, stanza_to_node
from axolotl.retry.stanza.parse import parse_message_node

__all__ = [
    "MAX_ATTR_CHARS",
    "MAX_ENC_BYTES",
    "MAX_FANOUT",
    "MAX_INCOMING_NODES",
    "MAX_MESSAGE_CHILDREN",
    "MessageStanza",
    "envelope_to_node",
    "envelopes_to_node",
    "is_group_jid",
    "parse_message_node",
    "stanza_to_node",
]
