"""XEdDSA over Curve25519 (placeholder module body is written by the crypto task)."""

from __future__ import annotations


def sign(private_raw: bytes, message: bytes, random64: bytes) -> bytes:
    raise NotImplementedError


def verify(public_raw: bytes, message: bytes, signature: bytes) -> None:
    raise NotImplementedError
