"""A summary of the current session with a device, for the layers that judge requests about it."""

from __future__ import annotations

from dataclasses import dataclass

from axolotl.address import ProtocolAddress
from axolotl.session.state import SessionRecord
from axolotl.store.base import ProtocolStore

__all__ = ["SessionSummary", "current_session"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """What the current session with a device is, for layers that judge requests about it.

    Attributes:
        base_key: the X3DH base key that started it (the initiator's ephemeral).
        remote_registration_id: the peer's registration id as the session knows it.
        sending_chain: our current sending ratchet key (raw 32 bytes).
    """

    base_key: bytes
    remote_registration_id: int
    sending_chain: bytes


def current_session(store: ProtocolStore, address: ProtocolAddress) -> SessionSummary | None:
    """The current session with ``address`` in summary, or ``None`` when there is none.

    Raises:
        StorageError: the stored record is corrupt.
    """
    data = store.load_session(address)
    if data is None:
        return None
    current = SessionRecord.deserialize(data).current
    if current is None:
        return None
    return SessionSummary(
        base_key=current.alice_base_key,
        remote_registration_id=current.remote_registration_id,
        sending_chain=current.sender_chain.ratchet_key_pair.public_key.raw,
    )
