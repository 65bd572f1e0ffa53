"""The pairwise and group transcripts replayed against python-axolotl 0.2.3.

python-axolotl plays one party of a transcript at a time; the other parties'
messages come from the transcript file, not from this project's code. Before
each of its steps the peer's randomness is seeded (``seed_rng``) with the
draws the transcript records for that step, in python-axolotl's draw order,
and afterwards every seeded byte must have been used. Its keys, bundles,
wire bytes, plaintexts and errors must equal the transcript's.

Draw-order facts this relies on (vectors/README.md, "python-axolotl"):

- every step draws in the same order as ours, sizes included: identity key
  (32) then registration id (4, ``randrange(16380)`` = 4 bytes big-endian mod
  16380 in the peer's stream, as ours); one-time prekey, signed prekey, its
  signature (32, 32, 64); base key then sending ratchet key (32, 32); a DH
  ratchet step on receive (32); sender key id, chain key, signing key (4, 32,
  32); a SenderKeyMessage signature (64);
- the sender key id maps: ours is ``uint32 & 0x7fffffff``, python-axolotl's is
  ``randrange(2**31 - 1)`` (the peer's stream: ``uint32 mod (2**31 - 1)``), so
  the peer is fed the id itself as 4 bytes (impossible only for id 2**31 - 1);
- python-axolotl-curve25519 0.4.1 signs with the pre-XEdDSA ``curve25519_sign``,
  which equals XEdDSA when the key's Edwards sign bit is 0 and differs
  otherwise; for such a key the signature is checked by verification and the
  rest of the bytes compared exactly.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from axolotl.crypto import xeddsa
from axolotl.crypto.curve import KeyPair
from axolotl.testvectors import default_vector_dir
from tests.peers.client import Peer, PeerError

VECTORS = default_vector_dir()
ERRORS = {"DuplicateMessage": "DuplicateMessageException"}
_run = itertools.count()

Json = dict[str, Any]


def _steps(filename: str) -> list[Json]:
    steps: list[Json] = json.loads((VECTORS / filename).read_text())["cases"][0]["steps"]
    return steps


def _sign_bit(private_raw: bytes) -> int:
    clamped = bytearray(private_raw)
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    return 0 if xeddsa.calculate_key_pair(private_raw).nonce_scalar == bytes(clamped) else 1


class _Replay:
    """python-axolotl playing ``role``; the transcript supplies everyone else."""

    def __init__(self, peer: Peer, role: str) -> None:
        self.peer = peer
        self.role = role
        self.tag = f"tx{next(_run)}-"
        self.signing_private: bytes | None = None  # the role's sender signing key
        self.identity_private: bytes | None = None
        self.exact_signatures = 0
        self.verified_signatures = 0

    def name(self, party: str) -> str:
        return self.tag + party

    def stream(self, step: Json) -> bytes:
        draws = [bytes.fromhex(d["hex"]) for d in step["draws"]]
        if step["op"] == "create_distribution" and draws:
            key_id = int.from_bytes(draws[0], "big") & 0x7FFFFFFF
            assert key_id != 0x7FFFFFFF, "randrange(2**31 - 1) cannot produce this key id"
            draws[0] = key_id.to_bytes(4, "big")
            self.signing_private = draws[2]
        if step["op"] == "create_party":
            self.identity_private = draws[0]
        return b"".join(draws)

    def run(self, steps: list[Json]) -> None:
        for step in steps:
            if step["party"] != self.role:
                continue
            where = f"step {step['step']} ({step['op']}) as {self.role}"
            self.peer.call("seed_rng", hex_stream=self.stream(step).hex())
            got = self.execute(step, where)
            left = self.peer.call("rng_position")["remaining"]
            assert left == 0, f"{where}: python-axolotl left {left} seeded bytes unused"
            self.compare(step, where, got)

    def execute(self, step: Json, where: str) -> Json:
        op, call, me = step["op"], self.peer.call, self.name(self.role)
        try:
            if op == "create_party":
                return call("init", party=me)
            if op == "publish_bundle":
                return {
                    "bundle": call(
                        "bundle",
                        party=me,
                        device_id=1,
                        pre_key_id=step["pre_key_id"],
                        signed_pre_key_id=step["signed_pre_key_id"],
                    )
                }
            if op == "process_bundle":
                call(
                    "process_bundle",
                    party=me,
                    remote_name=self.name(step["peer"]),
                    remote_device=1,
                    **step["bundle"],
                )
                return {}
            if op == "encrypt":
                return call(
                    "encrypt",
                    party=me,
                    remote_name=self.name(step["peer"]),
                    remote_device=1,
                    plaintext=step["plaintext"],
                )
            if op == "decrypt":
                return call(
                    "decrypt",
                    party=me,
                    remote_name=self.name(step["peer"]),
                    remote_device=1,
                    type=step["type"],
                    body=step["body"],
                )
            sender = self.name(step.get("sender", self.role))
            who = {"group_id": step["group"], "sender_name": sender, "sender_device": 1}
            if op == "create_distribution":
                return call("create_sender_key_distribution", party=me, **who)
            if op == "process_distribution":
                call("process_sender_key_distribution", party=me, body=step["body"], **who)
                return {}
            if op == "group_encrypt":
                return call("group_encrypt", party=me, plaintext=step["plaintext"], **who)
            if op == "group_decrypt":
                return call("group_decrypt", party=me, body=step["body"], **who)
        except PeerError as exc:
            return {"error": exc.error, "message": exc.message}
        raise AssertionError(f"{where}: no python-axolotl mapping for this op")

    def compare(self, step: Json, where: str, got: Json) -> None:
        want = step["expect"]
        if "error" in want:
            assert got.get("error") == ERRORS[want["error"]], f"{where}: {got} != {want}"
            return
        assert "error" not in got, f"{where}: python-axolotl raised {got}"
        op = step["op"]
        if op == "create_party":
            assert got["identity_key"] == want["identity_key"], where
            assert got["registration_id"] == want["registration_id"], where
        elif op == "publish_bundle":
            g, w = dict(got["bundle"]), dict(want["bundle"])
            self.check_signature(
                where,
                bytes.fromhex(g.pop("signed_pre_key_signature")),
                bytes.fromhex(w.pop("signed_pre_key_signature")),
                bytes.fromhex(w["identity_key"]),
                bytes.fromhex(w["signed_pre_key_public"]),
                self.identity_private,
            )
            assert g == w, f"{where}: {g} != {w}"
        elif op == "group_encrypt":
            mine, theirs = bytes.fromhex(got["body"]), bytes.fromhex(want["body"])
            assert mine[:-64] == theirs[:-64], f"{where}: differs before the signature"
            self.check_signature(
                where, mine[-64:], theirs[-64:], None, mine[:-64], self.signing_private
            )
        else:
            assert got == want, f"{where}: {got} != {want}"

    def check_signature(
        self,
        where: str,
        got: bytes,
        want: bytes,
        public: bytes | None,
        message: bytes,
        private: bytes | None,
    ) -> None:
        """Exact for a sign-bit-0 key; otherwise python-axolotl's signature must verify."""
        assert private is not None, f"{where}: no signing key drawn before"
        if _sign_bit(private) == 0:
            assert got == want, f"{where}: signature differs from python-axolotl's"
            self.exact_signatures += 1
            return
        key = public[1:] if public is not None else KeyPair.from_private(private).public_key.raw
        xeddsa.verify(key, message, got)
        self.verified_signatures += 1


@pytest.fixture
def fresh_rng(pyaxolotl_peer: Peer) -> Any:
    yield pyaxolotl_peer
    pyaxolotl_peer.call("seed_rng", hex_stream=None)


@pytest.mark.parametrize("role", ["alice", "bob"])
def test_pairwise_transcript(fresh_rng: Peer, role: str) -> None:
    replay = _Replay(fresh_rng, role)
    replay.run(_steps("transcript_pairwise.json"))
    if role == "bob":
        assert replay.exact_signatures == 1  # the signed prekey, byte for byte


@pytest.mark.parametrize("role", ["alice", "bob", "carol", "dave"])
def test_group_transcript(fresh_rng: Peer, role: str) -> None:
    replay = _Replay(fresh_rng, role)
    replay.run(_steps("transcript_group.json"))
    if role == "alice":
        assert replay.exact_signatures == 5  # every SenderKeyMessage, byte for byte
