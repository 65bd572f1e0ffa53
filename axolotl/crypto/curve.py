"""Curve25519 keys as Signal serialises them, X25519 agreement, XEdDSA signatures.

Public keys travel with a one-byte type prefix, ``0x05`` (``DJB_TYPE``), as in
libsignal and python-axolotl, giving 33 bytes on the wire. Private keys are 32
clamped bytes. Signatures are XEdDSA (Signal's XEdDSA and VXEdDSA spec,
section 2.5): Ed25519-style signatures made with the Montgomery key.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from axolotl.crypto import xeddsa
from axolotl.errors import InvalidKey, UsageError
from axolotl.rng import Rng, default_rng

__all__ = ["DJB_TYPE", "PublicKey", "PrivateKey", "KeyPair", "calculate_agreement"]

DJB_TYPE = 0x05
_DJB_PREFIX = bytes([DJB_TYPE])
KEY_LEN = 32


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A Curve25519 (Montgomery u-coordinate) public key.

    Attributes:
        raw: the 32-byte u-coordinate, without the type byte.
    """

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes):
            raise InvalidKey(f"Curve25519 public key must be bytes, got {type(self.raw).__name__}")
        if len(self.raw) != KEY_LEN:
            raise InvalidKey(f"Curve25519 public key must be 32 bytes, got {len(self.raw)}")

    def serialize(self) -> bytes:
        """The 33-byte wire form: ``0x05`` followed by the 32-byte key."""
        return _DJB_PREFIX + self.raw

    @classmethod
    def deserialize(cls, data: bytes) -> PublicKey:
        """Read the 33-byte wire form.

        Raises:
            InvalidKey: empty input, a type byte other than 0x05, or a length
                other than 33.
        """
        if not data:
            raise InvalidKey("empty public key")
        if data[0] != DJB_TYPE:
            raise InvalidKey(f"unknown public key type byte 0x{data[0]:02x} (expected 0x05)")
        if len(data) != KEY_LEN + 1:
            raise InvalidKey(f"public key must be 33 bytes with its type byte, got {len(data)}")
        return cls(bytes(data[1:]))

    def verify(self, message: bytes, signature: bytes) -> None:
        """Verify an XEdDSA signature made by the matching private key.

        Raises:
            InvalidSignature: the signature is malformed or does not verify.
        """
        xeddsa.verify(self.raw, message, signature)


_LOADED: OrderedDict[bytes, X25519PrivateKey] = OrderedDict()
_LOADED_MAX = 256
_LOADED_LOCK = Lock()


def _loaded_key(raw: bytes) -> X25519PrivateKey:
    """cryptography's key object for ``raw``, from a small LRU.

    Loading costs ~30 µs (a scalar multiplication), and stores hand out the
    same long-lived keys (identity, signed prekey) as fresh objects on every
    read, so a handful of keys would otherwise be loaded over and over.
    """
    with _LOADED_LOCK:
        key = _LOADED.get(raw)
        if key is not None:
            _LOADED.move_to_end(raw)
            return key
    key = X25519PrivateKey.from_private_bytes(raw)
    with _LOADED_LOCK:
        _LOADED[raw] = key
        if len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return key


@dataclass(frozen=True, slots=True)
class PrivateKey:
    """A clamped Curve25519 private scalar (32 bytes)."""

    raw: bytes = field(repr=False)
    # Built on first use: loading a key costs ~20 µs in cryptography, and a
    # session record loads keys (the sending ratchet key) that most
    # operations never use.
    _key: X25519PrivateKey | None = field(init=False, repr=False, compare=False, default=None)
    # The Edwards form XEdDSA signs with, computed on the first signature only
    # (it costs a scalar multiplication that agreement-only keys never need).
    _edwards: xeddsa.EdwardsKeyPair | None = field(
        init=False, repr=False, compare=False, default=None
    )

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes):
            raise InvalidKey(f"Curve25519 private key must be bytes, got {type(self.raw).__name__}")
        if len(self.raw) != KEY_LEN:
            raise InvalidKey(f"Curve25519 private key must be 32 bytes, got {len(self.raw)}")

    def _x25519(self) -> X25519PrivateKey:
        key = self._key
        if key is None:
            key = _loaded_key(self.raw)
            object.__setattr__(self, "_key", key)
        return key

    def public_key(self) -> PublicKey:
        """Derive the public key."""
        return PublicKey(self._x25519().public_key().public_bytes_raw())

    def agree(self, public: PublicKey) -> bytes:
        """X25519 with ``public``: the 32-byte shared secret.

        Raises:
            InvalidKey: the result is all zeros (a low-order public key).
        """
        try:
            return self._x25519().exchange(X25519PublicKey.from_public_bytes(public.raw))
        except ValueError as exc:  # cryptography refuses the all-zero output
            raise InvalidKey(f"X25519 agreement failed: {exc}") from None

    def sign(self, message: bytes, rng: Rng = default_rng) -> bytes:
        """XEdDSA-sign ``message``; 64 random bytes come from ``rng``.

        Returns:
            The 64-byte XEdDSA signature (see :mod:`axolotl.crypto.xeddsa`).
        """
        edwards = self._edwards
        if edwards is None:
            edwards = xeddsa.calculate_key_pair(self.raw)
            object.__setattr__(self, "_edwards", edwards)
        return xeddsa.sign_with_key_pair(edwards, message, rng(64))


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A Curve25519 key pair."""

    public_key: PublicKey
    private_key: PrivateKey

    @classmethod
    def generate(cls, rng: Rng = default_rng) -> KeyPair:
        """Draw 32 bytes from ``rng``, clamp them and derive the public key."""
        return cls.from_private(rng(KEY_LEN))

    @classmethod
    def from_private(cls, raw: bytes) -> KeyPair:
        """Build a pair from 32 private bytes (clamped here, as libsignal does)."""
        if len(raw) != KEY_LEN:
            raise UsageError(f"private key must be 32 bytes, got {len(raw)}")
        clamped = bytearray(raw)
        clamped[0] &= 248
        clamped[31] &= 127
        clamped[31] |= 64
        private = PrivateKey(bytes(clamped))
        return cls(private.public_key(), private)


def calculate_agreement(public: PublicKey, private: PrivateKey) -> bytes:
    """X25519(private, public), libsignal's ``Curve.calculateAgreement``."""
    return private.agree(public)
