"""Identity trust: trust on first use, and an application policy for changed keys.

The first identity key seen for an address is stored and trusted. When a
peer shows a different key later, the session layer asks the application's
:data:`TrustPolicy`; unless it accepts, the operation raises
:class:`~axolotl.errors.UntrustedIdentity` and nothing is stored. Accepting
replaces the stored key.
"""

from __future__ import annotations

from collections.abc import Callable

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import UntrustedIdentity
from axolotl.store.base import IdentityKeyStore

__all__ = ["TrustPolicy", "reject_changed_identity", "accept_changed_identity", "check_identity"]

TrustPolicy = Callable[[ProtocolAddress, PublicKey, PublicKey], bool]
"""``policy(address, stored_key, new_key) -> accept?`` for an identity key that changed."""


def reject_changed_identity(address: ProtocolAddress, stored: PublicKey, new: PublicKey) -> bool:
    """The default policy: a changed identity key is never accepted silently."""
    return False


def accept_changed_identity(address: ProtocolAddress, stored: PublicKey, new: PublicKey) -> bool:
    """A policy that accepts every change (e.g. a bot that trusts its server)."""
    return True


def check_identity(
    store: IdentityKeyStore, address: ProtocolAddress, key: PublicKey, policy: TrustPolicy
) -> PublicKey | None:
    """Raise unless ``key`` is the stored identity for ``address``, the first, or accepted.

    Returns:
        The identity stored for ``address`` (``None``: none yet), so a caller
        that would save ``key`` knows whether there is anything to save.

    Raises:
        UntrustedIdentity: the stored key differs and ``policy`` refused the new one.
    """
    stored = store.get_identity(address)
    if stored is None or stored == key or policy(address, stored, key):
        return stored
    raise UntrustedIdentity(f"identity key of {address} changed and was not accepted", address)
