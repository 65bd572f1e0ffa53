"""Device addresses as WhatsApp-style JIDs (``to``, ``from``, ``participant``; receipts, stanzas).

A multi-device JID names a device as ``user:device@server`` (device 0, the
primary, is written without ``:0``). A :class:`ProtocolAddress` whose name is
a bare JID (``user@server``) maps to that form; any other name maps to
``name:device``. :func:`address_from_jid` is the inverse.
"""

from __future__ import annotations

from axolotl.address import ProtocolAddress
from axolotl.errors import InvalidReceipt, UsageError
from axolotl.receipts.fields import jid_ok
from axolotl.receipts.limits import MAX_JID_LENGTH, excerpt, parse_uint

_MAX_DEVICE_ID = 0xFFFFFFFF

__all__ = ["address_to_jid", "address_from_jid"]


def address_to_jid(address: ProtocolAddress) -> str:
    """The device JID of ``address``."""
    user, at, server = address.name.partition("@")
    if address.device_id == 0:
        return address.name
    return f"{user}:{address.device_id}{at}{server}"


def address_from_jid(jid: str) -> ProtocolAddress:
    """The address of a device JID.

    A JID is 1..:data:`~axolotl.receipts.limits.MAX_JID_LENGTH` printable
    characters, as every receipt field; the device part is a canonical
    decimal (ASCII digits, no leading zero) within a device id's range.

    Raises:
        InvalidReceipt: ``jid`` is not such a JID, has no user part, or its
            device part is not a device number.
    """
    if type(jid) is not str or not jid_ok(jid):
        raise InvalidReceipt(
            "jid", f"{excerpt(jid)} is not 1..{MAX_JID_LENGTH} printable characters"
        )
    user, at, server = jid.partition("@")
    name, colon, device = user.partition(":")
    if not name:
        raise InvalidReceipt("jid", f"{excerpt(jid)} has no user part")
    device_id = parse_uint(device, _MAX_DEVICE_ID) if colon else 0
    if device_id is None:
        raise InvalidReceipt("jid", f"{excerpt(jid)} has a device part that is not a device number")
    try:
        return ProtocolAddress(f"{name}{at}{server}", device_id)
    except UsageError as exc:
        raise InvalidReceipt("jid", str(exc)) from None
