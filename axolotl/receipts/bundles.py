"""A receipt's key bundle and a published prekey bundle: the same keys, two shapes.

A retry receipt carries the receiver's keys (:class:`~axolotl.receipts.KeyBundle`,
raw key bytes, the ``<keys>`` node) so the sender can rebuild the session as
from a published bundle (:class:`~axolotl.keys.PreKeyBundle`, what
:func:`~axolotl.session.process_prekey_bundle` takes). The receipt has no
registration id or device id of its own in the bundle: they come from the
receipt and the device it came from.
"""

from __future__ import annotations

from axolotl.keys import PreKeyBundle
from axolotl.receipts.fields import KeyBundle

__all__ = ["key_bundle_from_prekey_bundle", "prekey_bundle_from_key_bundle"]


def key_bundle_from_prekey_bundle(
    bundle: PreKeyBundle, *, device_identity: bytes | None = None
) -> KeyBundle:
    """The receipt form of ``bundle`` (its registration and device ids are not carried).

    Raises:
        UsageError: a value is out of range (as :class:`KeyBundle` checks).
    """
    return KeyBundle.from_public_keys(
        identity=bundle.identity_key,
        signed_pre_key_id=bundle.signed_pre_key_id,
        signed_pre_key=bundle.signed_pre_key_public,
        signed_pre_key_signature=bundle.signed_pre_key_signature,
        pre_key_id=bundle.pre_key_id,
        pre_key=bundle.pre_key_public,
        device_identity=device_identity,
    )


def prekey_bundle_from_key_bundle(
    keys: KeyBundle, registration_id: int, device_id: int
) -> PreKeyBundle:
    """The prekey bundle a receipt's ``keys`` stand for (``device_id``, ``registration_id``).

    Raises:
        UsageError: a value is out of range (as :class:`PreKeyBundle` checks).
    """
    return PreKeyBundle(
        registration_id=registration_id,
        device_id=device_id,
        pre_key_id=keys.pre_key_id,
        pre_key_public=keys.pre_key_public,
        signed_pre_key_id=keys.signed_pre_key_id,
        signed_pre_key_public=keys.signed_pre_key_public,
        signed_pre_key_signature=keys.signed_pre_key_signature,
        identity_key=keys.identity_public,
    )
