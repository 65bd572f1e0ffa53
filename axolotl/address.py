"""The address of one remote device: a name (user id or JID user part) and a device id."""

from __future__ import annotations

from dataclasses import dataclass

from axolotl.errors import UsageError

__all__ = ["ProtocolAddress"]

_MAX_DEVICE_ID = 0xFFFFFFFF


@dataclass(frozen=True, slots=True, order=True)
class ProtocolAddress:
    """A remote device, as libsignal's ``ProtocolAddress(name, device_id)``.

    Attributes:
        name: the account name (user id, phone number, JID user).
        device_id: the device number within the account (0 allowed, as in
            WhatsApp's primary device).
    """

    name: str
    device_id: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise UsageError("address name must be a non-empty string")
        if not isinstance(self.device_id, int) or not 0 <= self.device_id <= _MAX_DEVICE_ID:
            raise UsageError(f"device id {self.device_id!r} out of range 0..2^32-1")

    def __str__(self) -> str:
        return f"{self.name}.{self.device_id}"
