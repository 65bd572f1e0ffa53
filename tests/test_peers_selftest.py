"""Self-test of the peer harness: python-axolotl against itself, yowsup round trips.

Proves the peer venv, the JSON-lines process and the client work before any of
our own session code is involved. Party names carry a ``selftest-`` prefix because
the peer process is shared by the whole session.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.peers.client import Peer, PeerError, h, unh

ALICE, BOB, CAROL = "selftest-alice", "selftest-bob", "selftest-carol"


def _pairwise(peer: Peer, src: str, dst: str, plaintext: bytes) -> dict[str, Any]:
    msg = peer.call("encrypt", party=src, remote_name=dst, remote_device=1, plaintext=h(plaintext))
    got = peer.call("decrypt", party=dst, remote_name=src, remote_device=1, **msg)
    assert unh(got["plaintext"]) == plaintext
    return msg


def test_pairwise_session_both_ways(pyaxolotl_peer: Peer) -> None:
    peer = pyaxolotl_peer
    a = peer.call("init", party=ALICE, registration_id=12345)
    assert a["registration_id"] == 12345
    assert len(unh(a["identity_key"])) == 33 and a["identity_key"].startswith("05")
    peer.call("init", party=BOB)

    bundle = peer.call("bundle", party=BOB, device_id=1, pre_key_id=31, signed_pre_key_id=7)
    assert len(unh(bundle["pre_key_public"])) == 33
    assert len(unh(bundle["signed_pre_key_signature"])) == 64
    peer.call("process_bundle", party=ALICE, remote_name=BOB, remote_device=1, **bundle)

    # Until Bob answers, Alice keeps sending PreKeySignalMessages (type 3).
    first = _pairwise(peer, ALICE, BOB, b"hello bob")
    assert first["type"] == 3
    for i in range(20):
        # 16-byte multiples included: python-axolotl 0.2.3 pads them (0.2.2 did not).
        ab = _pairwise(peer, ALICE, BOB, bytes([i]) * (i * 8))
        ba = _pairwise(peer, BOB, ALICE, f"reply {i}".encode())
        assert ba["type"] == 2
        assert ab["type"] == (3 if i == 0 else 2)

    last = _pairwise(peer, ALICE, BOB, b"once")
    with pytest.raises(PeerError) as dup:
        peer.call("decrypt", party=BOB, remote_name=ALICE, remote_device=1, **last)
    assert dup.value.error == "DuplicateMessageException"

    with pytest.raises(PeerError) as nosession:
        peer.call("decrypt", party=BOB, remote_name="selftest-nobody", remote_device=1, **last)
    assert nosession.value.error == "NoSessionException"


def test_group_messages(pyaxolotl_peer: Peer) -> None:
    peer = pyaxolotl_peer
    for party in (ALICE + "-g", CAROL):
        peer.call("init", party=party)
    group = {"group_id": "selftest-group", "sender_name": ALICE + "-g", "sender_device": 1}
    skdm = peer.call("create_sender_key_distribution", party=ALICE + "-g", **group)
    peer.call("process_sender_key_distribution", party=CAROL, body=skdm["body"], **group)
    bodies = []
    for i in range(10):
        enc = peer.call("group_encrypt", party=ALICE + "-g", plaintext=h(b"g%d" % i), **group)
        dec = peer.call("group_decrypt", party=CAROL, body=enc["body"], **group)
        assert unh(dec["plaintext"]) == b"g%d" % i
        bodies.append(enc["body"])
    with pytest.raises(PeerError) as dup:
        peer.call("group_decrypt", party=CAROL, body=bodies[-1], **group)
    assert dup.value.error == "DuplicateMessageException"


def test_yowsup_retry_receipt_round_trip(pyaxolotl_peer: Peer) -> None:
    peer = pyaxolotl_peer
    built = peer.call(
        "yowsup_build_outgoing_retry",
        message_id="3EB0C1D2",
        to="4915225256022@s.whatsapp.net",
        participant="4915225256023@s.whatsapp.net",
        t=1432833266,
        v=1,
        count=2,
        registration_id=12345,
    )["node"]
    assert built["tag"] == "receipt"
    assert built["attrs"] == {
        "id": "3EB0C1D2",
        "to": "4915225256022@s.whatsapp.net",
        "participant": "4915225256023@s.whatsapp.net",
        "type": "retry",
    }
    assert [c["tag"] for c in built["children"]] == ["retry", "registration"]
    retry, registration = built["children"]
    assert retry["attrs"] == {"count": "2", "id": "3EB0C1D2", "v": "1", "t": "1432833266"}
    assert registration["data"] == "00003039"

    # The server turns the sender's `to` into the receiver's `from` and stamps `t`.
    incoming = dict(built, attrs=dict(built["attrs"]))
    incoming["attrs"]["from"] = incoming["attrs"].pop("to")
    incoming["attrs"]["t"] = "1432833777"
    parsed = peer.call("yowsup_parse_incoming_retry", node=incoming)
    assert parsed["message_id"] == "3EB0C1D2"
    assert parsed["from"] == "4915225256022@s.whatsapp.net"
    assert parsed["participant"] == "4915225256023@s.whatsapp.net"
    assert parsed["t"] == "1432833777"
    assert (parsed["count"], parsed["v"], parsed["retry_t"]) == (2, 1, 1432833266)
    assert parsed["registration_id"] == 12345
    assert parsed["retry_id"] == "3EB0C1D2"
    assert parsed["keys"] is None


def test_bad_requests(pyaxolotl_peer: Peer) -> None:
    peer = pyaxolotl_peer
    cases: list[tuple[str, dict[str, Any]]] = [
        ("no-such-command", {}),
        ("encrypt", {"party": "selftest-never-initialised"}),
        ("init", {"party": 5}),
        ("yowsup_parse_incoming_retry", {"node": {"tag": 1}}),
    ]
    for cmd, args in cases:
        with pytest.raises(PeerError) as err:
            peer.call(cmd, **args)
        assert err.value.error == "BadRequest"
    # The process survives bad requests.
    assert peer.call("ping")["python_axolotl"] == "0.2.3"


def test_seeded_rng_replays(pyaxolotl_peer: Peer) -> None:
    peer = pyaxolotl_peer
    stream = h(bytes(range(256)) * 4)
    keys = []
    for _ in range(2):
        peer.call("seed_rng", hex_stream=stream)
        try:
            ident = peer.call("init", party="selftest-seeded")
            bundle = peer.call(
                "bundle", party="selftest-seeded", device_id=1, pre_key_id=1, signed_pre_key_id=1
            )
            # identity: 32 B key + 4 B registration id; bundle: 32 + 32 + 64 B signature.
            assert peer.call("rng_position")["position"] == 32 + 4 + 32 + 32 + 64
        finally:
            peer.call("seed_rng", hex_stream=None)
        keys.append((ident, bundle))
    assert keys[0] == keys[1]
    with pytest.raises(PeerError) as err:
        peer.call("seed_rng", hex_stream="00" * 8)
        try:
            peer.call("init", party="selftest-starved")
        finally:
            peer.call("seed_rng", hex_stream=None)
    assert err.value.error == "RngExhausted"
