"""The simulated network's parts: its faults and its devices (what each one's user saw).

Also :func:`unknown_error_cause`, which names what the retry layer could only
report as ``UNKNOWN_ERROR``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from axolotl.address import ProtocolAddress
from axolotl.errors import RemoteError
from axolotl.retry import Envelope, Gap, LayerStats, RetryLayer, SendFailed, Undecryptable
from axolotl.store.base import ProtocolStore
from axolotl.wire import MessageType, PreKeySignalMessage, SenderKeyMessage, SignalMessage

__all__ = ["Device", "Faults", "unknown_error_cause"]


@dataclass
class Faults:
    """Per-item probabilities and delays of the network.

    Attributes:
        drop: an upload to the server, a server ack or a receipt is lost.
        lose: the server acks an envelope and then loses it (a gap).
        corrupt: an envelope arrives with one bit flipped.
        duplicate: an item arrives twice.
        corrupt_once: per (message, device): its first delivered copy is corrupted.
        min_delay_ms, max_delay_ms: travel time; a spread reorders.
    """

    drop: float = 0.0
    lose: float = 0.0
    corrupt: float = 0.0
    duplicate: float = 0.0
    corrupt_once: float = 0.0
    min_delay_ms: int = 10
    max_delay_ms: int = 50


@dataclass
class Device:
    """One device: its store, layer and what its application saw."""

    address: ProtocolAddress
    store: ProtocolStore
    layer: RetryLayer
    key: str  # names the store of this incarnation in the network's DeviceStores
    online: bool = True
    # What the user saw on this address, across reinstalls (the history).
    delivered: dict[tuple[ProtocolAddress, str], bytes] = field(default_factory=dict)
    delivered_at: dict[tuple[ProtocolAddress, str], int] = field(default_factory=dict)
    # What this incarnation delivered: it must never deliver one of these again.
    delivered_here: set[tuple[ProtocolAddress, str]] = field(default_factory=set)
    undecryptable: list[Undecryptable] = field(default_factory=list)
    send_failed: list[SendFailed] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    bundles_fetched: int = 0  # FetchBundle actions the directory answered
    receipts_sent: int = 0
    transmissions: int = 0
    receipts_by_message: Counter[str] = field(default_factory=Counter)
    transmissions_by_message: Counter[tuple[str, ProtocolAddress]] = field(default_factory=Counter)
    past_stats: list[LayerStats] = field(default_factory=list)  # of layers before restarts
    receipt_times: list[int] = field(default_factory=list)


def unknown_error_cause(env: Envelope) -> str:
    """Why an envelope the retry layer failed with ``UNKNOWN_ERROR`` could not be read.

    The layer's receipt reason has no code for a wire message that does not
    parse (``DecodeError``: a flipped bit broke its protobuf or a length) or
    that names a version we do not speak (``InvalidVersion``), and sends
    ``UNKNOWN_ERROR`` for them; parsing the envelope again names the error.
    """
    parse: Callable[[bytes], object]
    if env.type == MessageType.SIGNAL:
        parse = SignalMessage.parse
    elif env.type == MessageType.PREKEY:
        parse = PreKeySignalMessage.parse
    else:
        parse = SenderKeyMessage.parse
    try:
        parse(env.body)
    except RemoteError as exc:
        return type(exc).__name__
    return "unknown"
