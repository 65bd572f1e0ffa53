"""Rebuild axolotl/testvectors/data/wire_messages.json (kind ``wire_message``) deterministically.

Usage: python vectors/generators/gen_wire_messages.py

Every key, ciphertext and XEdDSA nonce comes from a DeterministicRng, so the
file is identical on every run; tests/test_wire.py checks that. Valid cases
are made with axolotl.wire; invalid ones are valid messages mutated (or bodies
hand-encoded, with a correct MAC where the MAC would otherwise fail first) so
that each isolates one error. Before writing, every case is run through the
checker, so the file never states something the library does not do.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from axolotl.crypto.cipher import hmac_sha256  # noqa: E402
from axolotl.crypto.curve import KeyPair, PublicKey  # noqa: E402
from axolotl.crypto.kdf import derive_message_keys  # noqa: E402
from axolotl.rng import DeterministicRng  # noqa: E402
from axolotl.testvectors import default_vector_dir  # noqa: E402
from axolotl.testvectors.wire import check  # noqa: E402
from axolotl.wire import (  # noqa: E402
    PreKeySignalMessage,
    SenderKeyDistributionMessage,
    SenderKeyMessage,
    SignalMessage,
)

OUT = default_vector_dir() / "wire_messages.json"
Case = dict[str, Any]


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


def _pb(*fields: tuple[int, int | bytes]) -> bytes:
    """Hand-encode protobuf fields in the order given (for malformed bodies)."""
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += _varint(number << 3) + _varint(value)
        else:
            out += _varint(number << 3 | 2) + _varint(len(value)) + value
    return out


def _flip(data: bytes, index: int, bit: int = 0) -> bytes:
    out = bytearray(data)
    out[index] ^= 1 << bit
    return bytes(out)


class _Recorder:
    """Wraps an Rng and keeps what it handed out (the XEdDSA nonce bytes)."""

    def __init__(self, rng: DeterministicRng) -> None:
        self.rng = rng
        self.drawn = b""

    def __call__(self, n: int) -> bytes:
        out = self.rng(n)
        self.drawn += out
        return out


def _signal_fields(
    rng: DeterministicRng, sender: PublicKey, receiver: PublicKey, counter: int, previous: int
) -> Case:
    cipher_len = 16 * (1 + rng(1)[0] % 4)
    _, mac_key, _ = derive_message_keys(rng(32))
    return {
        "mac_key": mac_key.hex(),
        "sender_identity": sender.serialize().hex(),
        "receiver_identity": receiver.serialize().hex(),
        "ratchet_key": KeyPair.generate(rng).public_key.serialize().hex(),
        "counter": counter,
        "previous_counter": previous,
        "ciphertext": rng(cipher_len).hex(),
    }


def _make_signal(fields: Case) -> SignalMessage:
    return SignalMessage.create(
        mac_key=bytes.fromhex(fields["mac_key"]),
        sender_identity=PublicKey.deserialize(bytes.fromhex(fields["sender_identity"])),
        receiver_identity=PublicKey.deserialize(bytes.fromhex(fields["receiver_identity"])),
        ratchet_key=PublicKey.deserialize(bytes.fromhex(fields["ratchet_key"])),
        counter=fields["counter"],
        previous_counter=fields["previous_counter"],
        ciphertext=bytes.fromhex(fields["ciphertext"]),
    )


def _mac_keys(fields: Case) -> Case:
    return {k: fields[k] for k in ("mac_key", "sender_identity", "receiver_identity")}


def _signed(fields: Case, body: bytes, version: int = 0x33) -> bytes:
    """``version || body || mac8`` with a correct MAC under the case's keys."""
    unsigned = bytes([version]) + body
    ids = bytes.fromhex(fields["sender_identity"]) + bytes.fromhex(fields["receiver_identity"])
    return unsigned + hmac_sha256(bytes.fromhex(fields["mac_key"]), ids + unsigned)[:8]


def _invalid(name: str, message: str, data: bytes, error: str, **extra: Any) -> Case:
    return {"name": name, "message": message, "bytes": data.hex(), "error": error, **extra}


def signal_cases(rng: DeterministicRng) -> list[Case]:
    alice, bob = KeyPair.generate(rng).public_key, KeyPair.generate(rng).public_key
    cases: list[Case] = []
    for name, counter, previous in (
        ("signal_first", 0, 0),
        ("signal_typical", 5, 3),
        ("signal_multibyte_varints", 300, 128),
        ("signal_max_counters", 0xFFFFFFFF, 0xFFFFFFFF),
    ):
        fields = _signal_fields(rng, alice, bob, counter, previous)
        message = _make_signal(fields)
        cases.append(
            {"name": name, "message": "signal", **fields, "serialized": message.serialized.hex()}
        )

    fields = _signal_fields(rng, alice, bob, 7, 2)
    good = _make_signal(fields).serialized
    keys = _mac_keys(fields)
    ratchet = bytes.fromhex(fields["ratchet_key"])
    ciphertext = bytes.fromhex(fields["ciphertext"])
    cases += [
        _invalid("signal_version_2", "signal", b"\x22" + good[1:], "InvalidVersion"),
        _invalid("signal_version_byte_0x23", "signal", b"\x23" + good[1:], "InvalidVersion"),
        _invalid("signal_version_byte_0x43", "signal", b"\x43" + good[1:], "InvalidVersion"),
        _invalid("signal_version_byte_0x03", "signal", b"\x03" + good[1:], "InvalidVersion"),
        # The low nibble is not checked on parse (libsignal ignores it) but is under the MAC.
        _invalid("signal_version_low_nibble", "signal", b"\x32" + good[1:], "BadMac", **keys),
        _invalid(
            "signal_mac_bit_flipped", "signal", _flip(good, len(good) - 1, 7), "BadMac", **keys
        ),
        _invalid(
            "signal_ciphertext_bit_flipped", "signal", _flip(good, len(good) - 9), "BadMac", **keys
        ),
        _invalid(
            "signal_counter_changed",
            "signal",
            b"\x33" + _pb((1, ratchet), (2, 8), (3, 2), (4, ciphertext)) + good[-8:],
            "BadMac",
            **keys,
        ),
        _invalid(
            "signal_wrong_mac_key", "signal", good, "BadMac", **{**keys, "mac_key": bytes(32).hex()}
        ),
        _invalid(
            "signal_identities_swapped",
            "signal",
            good,
            "BadMac",
            **{
                **keys,
                "sender_identity": keys["receiver_identity"],
                "receiver_identity": keys["sender_identity"],
            },
        ),
        _invalid("signal_empty", "signal", b"", "DecodeError"),
        _invalid("signal_version_only", "signal", b"\x33", "DecodeError"),
        _invalid("signal_no_body", "signal", good[:1] + good[-8:], "DecodeError"),
        _invalid("signal_truncated_mac", "signal", good[:-1], "DecodeError"),
        _invalid(
            "signal_malformed_protobuf", "signal", _signed(fields, b"\x0a\xff\xff"), "DecodeError"
        ),
        _invalid(
            "signal_missing_ratchet_key",
            "signal",
            _signed(fields, _pb((2, 7), (3, 2), (4, ciphertext))),
            "DecodeError",
        ),
        _invalid(
            "signal_missing_counter",
            "signal",
            _signed(fields, _pb((1, ratchet), (3, 2), (4, ciphertext))),
            "DecodeError",
        ),
        _invalid(
            "signal_missing_ciphertext",
            "signal",
            _signed(fields, _pb((1, ratchet), (2, 7), (3, 2))),
            "DecodeError",
        ),
        _invalid(
            "signal_empty_ciphertext",
            "signal",
            _signed(fields, _pb((1, ratchet), (2, 7), (3, 2), (4, b""))),
            "DecodeError",
        ),
        _invalid(
            "signal_ratchet_key_type_0x06",
            "signal",
            _signed(fields, _pb((1, b"\x06" + ratchet[1:]), (2, 7), (3, 2), (4, ciphertext))),
            "InvalidKey",
        ),
        _invalid(
            "signal_ratchet_key_without_type_byte",
            "signal",
            _signed(fields, _pb((1, ratchet[1:]), (2, 7), (3, 2), (4, ciphertext))),
            "InvalidKey",
        ),
    ]
    # Absent previous_counter reads as 0 (libsignal's behaviour); the MAC still holds.
    absent_prev = _signed(fields, _pb((1, ratchet), (2, 7), (4, ciphertext)))
    parsed = SignalMessage.parse(absent_prev)
    assert parsed.previous_counter == 0
    return cases


def prekey_cases(rng: DeterministicRng) -> list[Case]:
    alice, bob = KeyPair.generate(rng).public_key, KeyPair.generate(rng).public_key
    cases: list[Case] = []
    for name, registration_id, pre_key_id, signed_id in (
        ("prekey_with_one_time_prekey", 12345, 42, 7),
        ("prekey_without_one_time_prekey", 16380, None, 1),
        ("prekey_large_ids", 1, 0xFFFFFF, 0xFFFFFE),
        ("prekey_zero_ids", 0, 0, 0),
    ):
        inner = _signal_fields(rng, alice, bob, 0, 0)
        base_key = KeyPair.generate(rng).public_key
        message = PreKeySignalMessage.create(
            registration_id=registration_id,
            pre_key_id=pre_key_id,
            signed_pre_key_id=signed_id,
            base_key=base_key,
            identity_key=alice,
            message=_make_signal(inner),
        )
        inner["serialized"] = message.message.serialized.hex()
        cases.append(
            {
                "name": name,
                "message": "prekey",
                "registration_id": registration_id,
                "pre_key_id": pre_key_id,
                "signed_pre_key_id": signed_id,
                "base_key": base_key.serialize().hex(),
                "identity_key": alice.serialize().hex(),
                "inner": inner,
                "serialized": message.serialized.hex(),
            }
        )

    inner_fields = _signal_fields(rng, alice, bob, 0, 0)
    inner = _make_signal(inner_fields).serialized
    base = KeyPair.generate(rng).public_key.serialize()
    ident = alice.serialize()

    def body(*skip: int, **override: int | bytes) -> bytes:
        values: dict[int, int | bytes] = {5: 99, 1: 3, 6: 4, 2: base, 3: ident, 4: inner}
        names = {
            "registration_id": 5,
            "pre_key_id": 1,
            "signed_pre_key_id": 6,
            "base_key": 2,
            "identity_key": 3,
            "message": 4,
        }
        for key, value in override.items():
            values[names[key]] = value
        return b"\x33" + _pb(*[(n, values[n]) for n in sorted(values) if n not in skip])

    good = body()
    receiver = {
        "receiver_identity": inner_fields["receiver_identity"],
        "mac_key": inner_fields["mac_key"],
    }
    cases += [
        _invalid("prekey_version_byte_0x23", "prekey", b"\x23" + good[1:], "InvalidVersion"),
        _invalid("prekey_version_byte_0x43", "prekey", b"\x43" + good[1:], "InvalidVersion"),
        _invalid("prekey_empty", "prekey", b"", "DecodeError"),
        _invalid("prekey_version_only", "prekey", b"\x33", "DecodeError"),
        _invalid("prekey_truncated", "prekey", good[:-40], "DecodeError"),
        _invalid("prekey_malformed_protobuf", "prekey", b"\x33\xff", "DecodeError"),
        _invalid("prekey_missing_signed_pre_key_id", "prekey", body(6), "DecodeError"),
        _invalid("prekey_missing_base_key", "prekey", body(2), "DecodeError"),
        _invalid("prekey_missing_identity_key", "prekey", body(3), "DecodeError"),
        _invalid("prekey_missing_message", "prekey", body(4), "DecodeError"),
        _invalid(
            "prekey_base_key_type_0x06", "prekey", body(base_key=b"\x06" + base[1:]), "InvalidKey"
        ),
        _invalid(
            "prekey_identity_key_31_bytes", "prekey", body(identity_key=ident[:-1]), "InvalidKey"
        ),
        _invalid(
            "prekey_inner_version_byte_0x23",
            "prekey",
            body(message=b"\x23" + inner[1:]),
            "InvalidVersion",
        ),
        _invalid("prekey_inner_truncated", "prekey", body(message=inner[:5]), "DecodeError"),
        _invalid(
            "prekey_inner_mac_bit_flipped",
            "prekey",
            body(message=_flip(inner, len(inner) - 1)),
            "BadMac",
            **receiver,
        ),
    ]
    return cases


def sender_key_cases(rng: DeterministicRng) -> list[Case]:
    cases: list[Case] = []
    for name, key_id, iteration, cipher_len in (
        ("sender_key_first", 1, 0, 16),
        ("sender_key_typical", 0x7A3B1C2D, 17, 48),
        ("sender_key_max_values", 0xFFFFFFFF, 0xFFFFFFFF, 32),
    ):
        signing = KeyPair.generate(rng)
        ciphertext = rng(cipher_len)
        recorder = _Recorder(rng)
        message = SenderKeyMessage.create(
            signing_key=signing.private_key,
            key_id=key_id,
            iteration=iteration,
            ciphertext=ciphertext,
            rng=recorder,
        )
        cases.append(
            {
                "name": name,
                "message": "sender_key",
                "signing_private": signing.private_key.raw.hex(),
                "signing_public": signing.public_key.serialize().hex(),
                "key_id": key_id,
                "iteration": iteration,
                "ciphertext": ciphertext.hex(),
                "signature_random": recorder.drawn.hex(),
                "serialized": message.serialized.hex(),
            }
        )

    signing = KeyPair.generate(rng)
    other = KeyPair.generate(rng)
    good = SenderKeyMessage.create(
        signing_key=signing.private_key, key_id=9, iteration=3, ciphertext=rng(32), rng=rng
    ).serialized
    public = {"signing_public": signing.public_key.serialize().hex()}

    def signed(body: bytes) -> bytes:
        unsigned = b"\x33" + body
        return unsigned + signing.private_key.sign(unsigned, rng)

    cases += [
        _invalid(
            "sender_key_version_byte_0x23", "sender_key", b"\x23" + good[1:], "InvalidVersion"
        ),
        _invalid(
            "sender_key_version_byte_0x43", "sender_key", b"\x43" + good[1:], "InvalidVersion"
        ),
        _invalid("sender_key_empty", "sender_key", b"", "DecodeError"),
        _invalid("sender_key_signature_only", "sender_key", good[:1] + good[-64:], "DecodeError"),
        _invalid("sender_key_truncated_signature", "sender_key", good[:-1], "DecodeError"),
        _invalid(
            "sender_key_missing_iteration",
            "sender_key",
            signed(_pb((1, 9), (3, rng(16)))),
            "DecodeError",
        ),
        _invalid(
            "sender_key_empty_ciphertext",
            "sender_key",
            signed(_pb((1, 9), (2, 3), (3, b""))),
            "DecodeError",
        ),
        _invalid(
            "sender_key_signature_bit_flipped",
            "sender_key",
            _flip(good, len(good) - 40),
            "InvalidSignature",
            **public,
        ),
        _invalid(
            "sender_key_ciphertext_bit_flipped",
            "sender_key",
            _flip(good, len(good) - 65),
            "InvalidSignature",
            **public,
        ),
        _invalid(
            "sender_key_other_signer",
            "sender_key",
            good,
            "InvalidSignature",
            signing_public=other.public_key.serialize().hex(),
        ),
    ]
    return cases


def distribution_cases(rng: DeterministicRng) -> list[Case]:
    cases: list[Case] = []
    for name, key_id, iteration in (
        ("distribution_first", 1, 0),
        ("distribution_typical", 0x12345678, 250),
        ("distribution_max_values", 0xFFFFFFFF, 0xFFFFFFFF),
    ):
        chain_key, signing = rng(32), KeyPair.generate(rng).public_key
        message = SenderKeyDistributionMessage.create(
            key_id=key_id, iteration=iteration, chain_key=chain_key, signing_key=signing
        )
        cases.append(
            {
                "name": name,
                "message": "sender_key_distribution",
                "key_id": key_id,
                "iteration": iteration,
                "chain_key": chain_key.hex(),
                "signing_key": signing.serialize().hex(),
                "serialized": message.serialized.hex(),
            }
        )

    chain_key, signing = rng(32), KeyPair.generate(rng).public_key.serialize()
    good = b"\x33" + _pb((1, 5), (2, 6), (3, chain_key), (4, signing))
    kind = "sender_key_distribution"
    cases += [
        _invalid("distribution_version_byte_0x23", kind, b"\x23" + good[1:], "InvalidVersion"),
        _invalid("distribution_version_byte_0x43", kind, b"\x43" + good[1:], "InvalidVersion"),
        _invalid("distribution_version_byte_0x03", kind, b"\x03" + good[1:], "InvalidVersion"),
        _invalid("distribution_empty", kind, b"", "DecodeError"),
        _invalid("distribution_truncated", kind, good[:-1], "DecodeError"),
        _invalid(
            "distribution_missing_chain_key",
            kind,
            b"\x33" + _pb((1, 5), (2, 6), (4, signing)),
            "DecodeError",
        ),
        _invalid(
            "distribution_missing_signing_key",
            kind,
            b"\x33" + _pb((1, 5), (2, 6), (3, chain_key)),
            "DecodeError",
        ),
        _invalid(
            "distribution_chain_key_31_bytes",
            kind,
            b"\x33" + _pb((1, 5), (2, 6), (3, chain_key[:31]), (4, signing)),
            "DecodeError",
        ),
        _invalid(
            "distribution_signing_key_type_0x06",
            kind,
            b"\x33" + _pb((1, 5), (2, 6), (3, chain_key), (4, b"\x06" + signing[1:])),
            "InvalidKey",
        ),
    ]
    return cases


def build() -> dict[str, Any]:
    """The whole vector document, built from fixed seeds."""
    cases = (
        signal_cases(DeterministicRng("wire-vectors/signal"))
        + prekey_cases(DeterministicRng("wire-vectors/prekey"))
        + distribution_cases(DeterministicRng("wire-vectors/distribution"))
        + sender_key_cases(DeterministicRng("wire-vectors/sender-key"))
    )
    for case in cases:
        check(case)
    return {
        "provenance": {
            "source": "axolotl (own vectors)",
            "url": None,
            "generator": "vectors/generators/gen_wire_messages.py",
            "notes": (
                "Signal v3 wire framing of SignalMessage (version 0x33 || protobuf || "
                "8-byte truncated HMAC-SHA256 over senderIdentity || receiverIdentity || "
                "version || protobuf), PreKeySignalMessage, SenderKeyMessage (64-byte "
                "XEdDSA signature; signature_random is the 64 bytes XEdDSA drew) and "
                "SenderKeyDistributionMessage. Field numbers follow libsignal's "
                "WhisperTextProtocol.proto (signalapp/libsignal-protocol-java, "
                "protobuf/WhisperTextProtocol.proto). Keys and bytes are deterministic, "
                "not real conversations. Invalid cases name the exact axolotl.errors "
                "class that parsing (or verifying with the keys given) must raise."
            ),
        },
        "kind": "wire_message",
        "cases": cases,
    }


def render() -> str:
    """The file's exact text."""
    return json.dumps(build(), indent=2) + "\n"


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")
