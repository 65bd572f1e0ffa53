"""Signal protocol v3 wire messages: parse, serialize, MAC and signature checks.

The four messages libsignal-protocol-java and python-axolotl exchange, each a
version byte (``0x33``) followed by a protobuf body (``proto/wire.proto``) and,
for two of them, a MAC or signature:

* :mod:`.pairwise`: :class:`SignalMessage` (type 2, ``version || body ||
  mac8``; Double Ratchet spec 3.5) and :class:`PreKeySignalMessage` (type 3,
  ``version || body``, the X3DH parameters of X3DH spec 3.3 around a first
  SignalMessage).
* :mod:`.sender_key`: :class:`SenderKeyMessage` (type 4, ``version || body ||
  sig64``, XEdDSA-signed) and :class:`SenderKeyDistributionMessage` (type 5,
  ``version || body``).
* :mod:`._framing` (private): what they share -- :class:`MessageType`, the
  version byte and how it is read, body parsing and the field checks.

Every message keeps the exact bytes it was parsed from or serialized to
(``serialized``), so a MAC or signature is always checked over what was on the
wire. Build messages with ``create`` or ``parse``; the constructor only
validates field values and trusts ``serialized`` to match them.
"""

from axolotl.wire._framing import CURRENT_VERSION, MessageType
from axolotl.wire.pairwise import MAC_LENGTH, PreKeySignalMessage, SignalMessage
from axolotl.wire.sender_key import (
    CHAIN_KEY_LENGTH,
    SIGNATURE_LENGTH,
    SenderKeyDistributionMessage,
    SenderKeyMessage,
)

__all__ = [
    "CURRENT_VERSION",
    "MAC_LENGTH",
    "SIGNATURE_LENGTH",
    "CHAIN_KEY_LENGTH",
    "MessageType",
    "SignalMessage",
    "PreKeySignalMessage",
    "SenderKeyMessage",
    "SenderKeyDistributionMessage",
]
