"""Pairwise (X3DH + Double Ratchet) and group (sender key) sessions over a protocol store."""

from axolotl.session.builder import new_bundle, process_prekey_bundle
from axolotl.session.cipher import (
    CiphertextMessage,
    DecryptedMessage,
    decrypt,
    decrypt_message,
    encrypt,
)
from axolotl.session.config import DEFAULT_CONFIG, SessionConfig
from axolotl.session.group import (
    create_sender_key_distribution,
    group_decrypt,
    group_encrypt,
    process_sender_key_distribution,
)
from axolotl.session.state import SessionRecord
from axolotl.session.summary import SessionSummary, current_session
from axolotl.session.trust import TrustPolicy, accept_changed_identity, reject_changed_identity

__all__ = [
    "CiphertextMessage",
    "DEFAULT_CONFIG",
    "DecryptedMessage",
    "SessionConfig",
    "SessionRecord",
    "SessionSummary",
    "TrustPolicy",
    "accept_changed_identity",
    "create_sender_key_distribution",
    "current_session",
    "decrypt",
    "decrypt_message",
    "encrypt",
    "group_decrypt",
    "group_encrypt",
    "new_bundle",
    "process_prekey_bundle",
    "process_sender_key_distribution",
    "reject_changed_identity",
]
