"""Checker for ``wire_message`` vectors (``data/wire_messages.json``).

A valid case gives a message's fields and its exact ``serialized`` bytes. The
checker

1. rebuilds the bytes from the fields with an encoder of its own (a few lines
   of protobuf varint / length-delimited encoding plus HMAC-SHA256), so the
   vectors are checked against the wire format and not only against
   :mod:`axolotl.wire`;
2. rebuilds them with ``axolotl.wire``'s ``create``;
3. parses the bytes back and compares every field, then checks the MAC or
   signature.

An invalid case gives ``bytes`` and the exact error class (``"error"``) that
parsing -- or, for ``BadMac`` / ``InvalidSignature``, verifying with the keys
in the case -- must raise.

Case fields (hex strings for bytes, public keys in their 33-byte form):

* ``message``: ``"signal"``, ``"prekey"``, ``"sender_key"`` or
  ``"sender_key_distribution"``.
* signal: ``mac_key``, ``sender_identity``, ``receiver_identity``,
  ``ratchet_key``, ``counter``, ``previous_counter``, ``ciphertext``.
* prekey: ``registration_id``, ``pre_key_id`` (integer or null),
  ``signed_pre_key_id``, ``base_key``, ``identity_key``, and ``inner``: a
  signal case (its ``sender_identity`` is ``identity_key``).
* sender_key: ``signing_private`` (32 bytes), ``signing_public``, ``key_id``,
  ``iteration``, ``ciphertext``, ``signature_random`` (the 64 bytes XEdDSA drew).
* sender_key_distribution: ``key_id``, ``iteration``, ``chain_key``,
  ``signing_key``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from axolotl import errors
from axolotl.crypto.cipher import hmac_sha256
from axolotl.crypto.curve import PrivateKey, PublicKey
from axolotl.testvectors import Case, VectorMismatch, expect_equal, unhex
from axolotl.wire import (
    PreKeySignalMessage,
    SenderKeyDistributionMessage,
    SenderKeyMessage,
    SignalMessage,
)

__all__ = ["check"]

_VERSION = b"\x33"


# -- an independent, minimal protobuf encoder (proto2 optional scalars only) ---


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _encode(fields: dict[int, int | bytes | None]) -> bytes:
    """Fields in ascending number order, as protobuf serializers write them."""
    out = bytearray()
    for number in sorted(fields):
        value = fields[number]
        if value is None:
            continue
        if isinstance(value, int):
            out += _varint(number << 3 | 0) + _varint(value)
        else:
            out += _varint(number << 3 | 2) + _varint(len(value)) + value
    return bytes(out)


# -- case accessors -----------------------------------------------------------------


def _int(case: Case, key: str) -> int:
    value = case.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise VectorMismatch(key, f"missing or not an integer: {value!r}")
    return value


def _optional_int(case: Case, key: str) -> int | None:
    if key not in case:
        raise VectorMismatch(key, "missing (use null for absent)")
    return None if case[key] is None else _int(case, key)


def _key(case: Case, key: str) -> PublicKey:
    return PublicKey.deserialize(unhex(case, key))


def _sub(case: Case, key: str) -> Case:
    value = case.get(key)
    if not isinstance(value, dict):
        raise VectorMismatch(key, "missing or not an object")
    return value


class _FixedRng:
    """Hands out pre-recorded bytes, so a signature can be reproduced."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def __call__(self, n: int) -> bytes:
        if n > len(self._data):
            raise VectorMismatch("signature_random", f"{n} bytes requested, {len(self._data)} left")
        out, self._data = self._data[:n], self._data[n:]
        return out


# -- valid cases --------------------------------------------------------------------


def _check_signal(case: Case, step: str = "signal") -> SignalMessage:
    mac_key = unhex(case, "mac_key")
    sender, receiver = unhex(case, "sender_identity"), unhex(case, "receiver_identity")
    ratchet, ciphertext = unhex(case, "ratchet_key"), unhex(case, "ciphertext")
    counter, previous = _int(case, "counter"), _int(case, "previous_counter")
    want = unhex(case, "serialized")

    unsigned = _VERSION + _encode({1: ratchet, 2: counter, 3: previous, 4: ciphertext})
    mac = hmac_sha256(mac_key, sender + receiver + unsigned)[:8]
    expect_equal(f"{step}.independent_encoding", unsigned + mac, want)

    sender_key, receiver_key = PublicKey.deserialize(sender), PublicKey.deserialize(receiver)
    built = SignalMessage.create(
        mac_key=mac_key,
        sender_identity=sender_key,
        receiver_identity=receiver_key,
        ratchet_key=PublicKey.deserialize(ratchet),
        counter=counter,
        previous_counter=previous,
        ciphertext=ciphertext,
    )
    expect_equal(f"{step}.create", built.serialized, want)

    parsed = SignalMessage.parse(want)
    expect_equal(f"{step}.parse.ratchet_key", parsed.ratchet_key.serialize(), ratchet)
    expect_equal(f"{step}.parse.counter", parsed.counter, counter)
    expect_equal(f"{step}.parse.previous_counter", parsed.previous_counter, previous)
    expect_equal(f"{step}.parse.ciphertext", parsed.ciphertext, ciphertext)
    expect_equal(f"{step}.parse.serialized", parsed.serialized, want)
    parsed.verify_mac(sender_identity=sender_key, receiver_identity=receiver_key, mac_key=mac_key)
    return parsed


def _check_prekey(case: Case) -> None:
    inner_case = _sub(case, "inner")
    expect_equal("inner.sender_identity", inner_case.get("sender_identity"), case["identity_key"])
    inner = _check_signal(inner_case, "inner")
    registration_id, pre_key_id = _int(case, "registration_id"), _optional_int(case, "pre_key_id")
    signed_id = _int(case, "signed_pre_key_id")
    base_key, identity_key = unhex(case, "base_key"), unhex(case, "identity_key")
    want = unhex(case, "serialized")

    body = _encode(
        {
            5: registration_id,
            1: pre_key_id,
            6: signed_id,
            2: base_key,
            3: identity_key,
            4: inner.serialized,
        }
    )
    expect_equal("prekey.independent_encoding", _VERSION + body, want)

    built = PreKeySignalMessage.create(
        registration_id=registration_id,
        pre_key_id=pre_key_id,
        signed_pre_key_id=signed_id,
        base_key=PublicKey.deserialize(base_key),
        identity_key=PublicKey.deserialize(identity_key),
        message=inner,
    )
    expect_equal("prekey.create", built.serialized, want)

    parsed = PreKeySignalMessage.parse(want)
    expect_equal("prekey.parse.registration_id", parsed.registration_id, registration_id)
    expect_equal("prekey.parse.pre_key_id", parsed.pre_key_id, pre_key_id)
    expect_equal("prekey.parse.signed_pre_key_id", parsed.signed_pre_key_id, signed_id)
    expect_equal("prekey.parse.base_key", parsed.base_key.serialize(), base_key)
    expect_equal("prekey.parse.identity_key", parsed.identity_key.serialize(), identity_key)
    expect_equal("prekey.parse.message", parsed.message, inner)
    expect_equal("prekey.parse.serialized", parsed.serialized, want)


def _check_sender_key(case: Case) -> None:
    private = PrivateKey(unhex(case, "signing_private"))
    public = unhex(case, "signing_public")
    expect_equal("signing_public", private.public_key().serialize(), public)
    key_id, iteration = _int(case, "key_id"), _int(case, "iteration")
    ciphertext, drawn = unhex(case, "ciphertext"), unhex(case, "signature_random")
    want = unhex(case, "serialized")

    unsigned = _VERSION + _encode({1: key_id, 2: iteration, 3: ciphertext})
    expect_equal("sender_key.independent_encoding", want[:-64], unsigned)
    expect_equal("sender_key.length", len(want), len(unsigned) + 64)

    built = SenderKeyMessage.create(
        signing_key=private,
        key_id=key_id,
        iteration=iteration,
        ciphertext=ciphertext,
        rng=_FixedRng(drawn),
    )
    expect_equal("sender_key.create", built.serialized, want)

    parsed = SenderKeyMessage.parse(want)
    expect_equal("sender_key.parse.key_id", parsed.key_id, key_id)
    expect_equal("sender_key.parse.iteration", parsed.iteration, iteration)
    expect_equal("sender_key.parse.ciphertext", parsed.ciphertext, ciphertext)
    expect_equal("sender_key.parse.serialized", parsed.serialized, want)
    parsed.verify_signature(PublicKey.deserialize(public))


def _check_distribution(case: Case) -> None:
    key_id, iteration = _int(case, "key_id"), _int(case, "iteration")
    chain_key, signing_key = unhex(case, "chain_key"), unhex(case, "signing_key")
    want = unhex(case, "serialized")

    body = _encode({1: key_id, 2: iteration, 3: chain_key, 4: signing_key})
    expect_equal("distribution.independent_encoding", _VERSION + body, want)

    built = SenderKeyDistributionMessage.create(
        key_id=key_id,
        iteration=iteration,
        chain_key=chain_key,
        signing_key=PublicKey.deserialize(signing_key),
    )
    expect_equal("distribution.create", built.serialized, want)

    parsed = SenderKeyDistributionMessage.parse(want)
    expect_equal("distribution.parse.key_id", parsed.key_id, key_id)
    expect_equal("distribution.parse.iteration", parsed.iteration, iteration)
    expect_equal("distribution.parse.chain_key", parsed.chain_key, chain_key)
    expect_equal("distribution.parse.signing_key", parsed.signing_key.serialize(), signing_key)
    expect_equal("distribution.parse.serialized", parsed.serialized, want)


# -- invalid cases ------------------------------------------------------------------


def _parse_and_verify(message: str, data: bytes, case: Case) -> None:
    if message == "signal":
        signal = SignalMessage.parse(data)
        if "mac_key" in case:
            signal.verify_mac(
                sender_identity=_key(case, "sender_identity"),
                receiver_identity=_key(case, "receiver_identity"),
                mac_key=unhex(case, "mac_key"),
            )
    elif message == "prekey":
        prekey = PreKeySignalMessage.parse(data)
        if "mac_key" in case:
            prekey.message.verify_mac(
                sender_identity=prekey.identity_key,
                receiver_identity=_key(case, "receiver_identity"),
                mac_key=unhex(case, "mac_key"),
            )
    elif message == "sender_key":
        sender_key = SenderKeyMessage.parse(data)
        if "signing_public" in case:
            sender_key.verify_signature(_key(case, "signing_public"))
    elif message == "sender_key_distribution":
        SenderKeyDistributionMessage.parse(data)
    else:
        raise VectorMismatch("message", f"unknown message kind {message!r}")


def _check_invalid(message: str, case: Case) -> None:
    name = case.get("error")
    wanted: Any = getattr(errors, name, None) if isinstance(name, str) else None
    if not (isinstance(wanted, type) and issubclass(wanted, errors.AxolotlError)):
        raise VectorMismatch("error", f"not an axolotl error class: {name!r}")
    data = unhex(case, "bytes")
    try:
        _parse_and_verify(message, data, case)
    except errors.AxolotlError as exc:
        if type(exc) is not wanted:
            raise VectorMismatch(
                "error", f"raised {type(exc).__name__} ({exc}), expected {name}"
            ) from None
    else:
        raise VectorMismatch("error", f"accepted, expected {name}")


_VALID: dict[str, Callable[[Case], object]] = {
    "signal": _check_signal,
    "prekey": _check_prekey,
    "sender_key": _check_sender_key,
    "sender_key_distribution": _check_distribution,
}


def check(case: Case) -> None:
    """Check one ``wire_message`` case.

    Args:
        case: a valid case (fields and ``serialized``) or an invalid one
            (``bytes`` and ``error``).

    Raises:
        VectorMismatch: the bytes, a parsed field or the raised error differ.
        AxolotlError: an unexpected error from the code under test.
    """
    message = case.get("message")
    if not isinstance(message, str) or message not in _VALID:
        raise VectorMismatch("message", f"unknown message kind {message!r}")
    if "error" in case:
        _check_invalid(message, case)
    else:
        _VALID[message](case)
