"""A receipt's key bundle and a prekey bundle carry the same keys (issue 17, item 5)."""

from __future__ import annotations

from axolotl.receipts import key_bundle_from_prekey_bundle, prekey_bundle_from_key_bundle
from tests.parties import Party


def test_a_prekey_bundle_survives_the_receipt_form() -> None:
    bob = Party.memory("bob", 3)
    bundle = bob.bundle()
    keys = key_bundle_from_prekey_bundle(bundle, device_identity=b"adv")
    assert keys.device_identity == b"adv" and keys.pre_key_id == bundle.pre_key_id
    back = prekey_bundle_from_key_bundle(keys, bundle.registration_id, bundle.device_id)
    assert back == bundle
