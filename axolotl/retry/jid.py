"""Device addresses as WhatsApp-style JIDs, for the ``to``/``from``/``participant`` of receipts.

A multi-device JID names a device as ``user:device@server`` (device 0, the
primary, is written without ``:0``). A :class:`ProtocolAddress` whose name is
a bare JID (``user@server``) maps to that form; any other name maps to
``name:device``. :func:`address_from_jid` is the inverse.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.errors import InvalidReceipt, UsageError

__all__ = ["address_to_jid", "address_from_jid"]


def address_to_jid(address: ProtocolAddress) -> str:
    """The device JID of ``address``."""
    user, at, server = address.name.partition("@")
    if address.device_id == 0:
        return address.name
    return f"{user}:{address.device_id}{at}{server}"


def address_from_jid(jid: str) -> ProtocolAddress:
    """The address of a device JID.

    Raises:
        InvalidReceipt: ``jid`` is empty or its device part is not a number.
    """
    user, at, server = jid.partition("@")
    name, colon, device = user.partition(":")
    if not name:
        raise InvalidReceipt("jid", f"{jid!r} has no user part")
    if colon and not device.isdigit():
        raise InvalidReceipt("jid", f"{jid!r} has a device part that is not a number")
    try:
        return ProtocolAddress(f"{name}{at}{server}", int(device) if colon else 0)
    except UsageError as exc:
        raise InvalidReceipt("jid", str(exc)) from None
