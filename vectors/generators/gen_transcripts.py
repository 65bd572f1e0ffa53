"""Rebuild the transcript vectors ``axolotl/testvectors/data/transcript_*.json`` from their seeds.

Run: ``.venv/bin/python vectors/generators/gen_transcripts.py [--check]``

Each conversation below is a script of steps run through
:class:`~vectors.generators.recording.TranscriptBuilder`: every party draws
from its own ``DeterministicRng(f"{seed}/{party}")`` through a recording rng,
so the same seed always gives the same file. Each finished transcript is
replayed with the ``transcript`` checker before it is written. ``--check``
writes nothing and exits 1 if a committed file differs from a fresh build.
The format is documented in ``vectors/README.md``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from axolotl.framing import conversation  # noqa: E402
from axolotl.testvectors import default_vector_dir  # noqa: E402
from axolotl.testvectors.transcripts import check  # noqa: E402
from vectors.generators.recording import TranscriptBuilder  # noqa: E402

Json = dict[str, Any]

VECTOR_DIR = default_vector_dir()
GENERATOR = "vectors/generators/gen_transcripts.py"
T0 = 1_700_000_000_000
GROUP = "120363000000000001@g.us"
NAMES = {p: f"{p}@s.whatsapp.net" for p in ("alice", "bob", "carol", "dave")}


def _party(
    t: TranscriptBuilder, key: str, *, layer: bool = False, framing: str | None = None
) -> None:
    if framing is not None:
        t.step("create_party", key, name=NAMES[key], device_id=1, retry_layer=True, framing=framing)
    elif layer:
        t.step("create_party", key, name=NAMES[key], device_id=1, retry_layer=True)
    else:
        t.step("create_party", key, name=NAMES[key], device_id=1)


def _msg(out: Json) -> Json:
    return {"type": out["type"], "body": out["body"]}


# -- session level (also replayed against python-axolotl) ----------------------------


def pairwise() -> TranscriptBuilder:
    # bob's identity key has Edwards sign bit 0 (see group()).
    t = TranscriptBuilder(
        "pairwise_session",
        "transcripts/pairwise",
        "X3DH from a bundle, prekey messages, replies with DH ratchet turns, out-of-order "
        "delivery on both sides, empty and block-sized (16, 32 bytes) plaintexts, a duplicate.",
    )
    _party(t, "alice")
    _party(t, "bob")
    bundle = t.step("publish_bundle", "bob", pre_key_id=31, signed_pre_key_id=7, timestamp_ms=T0)[
        "bundle"
    ]
    t.step("process_bundle", "alice", peer="bob", bundle=bundle)
    m1 = t.step("encrypt", "alice", peer="bob", plaintext=b"hello bob")
    m2 = t.step("encrypt", "alice", peer="bob", plaintext=b"", note="empty plaintext")
    t.step("decrypt", "bob", peer="alice", **_msg(m1), note="builds bob's session")
    t.step("decrypt", "bob", peer="alice", **_msg(m2))
    m3 = t.step("encrypt", "bob", peer="alice", plaintext=bytes(range(16)), note="16 bytes")
    m4 = t.step("encrypt", "bob", peer="alice", plaintext=bytes(range(32)), note="32 bytes")
    m5 = t.step("encrypt", "bob", peer="alice", plaintext=b"third from bob")
    t.step("decrypt", "alice", peer="bob", **_msg(m5), note="out of order: counters 0, 1 skipped")
    t.step("decrypt", "alice", peer="bob", **_msg(m3))
    t.step("decrypt", "alice", peer="bob", **_msg(m4))
    m6 = t.step("encrypt", "alice", peer="bob", plaintext=b"alice again")
    m7 = t.step("encrypt", "alice", peer="bob", plaintext=b"and once more")
    t.step("decrypt", "bob", peer="alice", **_msg(m7), note="out of order")
    t.step("decrypt", "bob", peer="alice", **_msg(m6))
    t.step("decrypt", "bob", peer="alice", **_msg(m6), note="duplicate")
    m8 = t.step("encrypt", "bob", peer="alice", plaintext=b"bye")
    t.step("decrypt", "alice", peer="bob", **_msg(m8))
    return t


def group() -> TranscriptBuilder:
    # Seed "-3": alice's sender signing key has Edwards sign bit 0, the half of
    # keys for which python-axolotl-curve25519 0.4.1 (pre-XEdDSA curve25519_sign)
    # signs exactly as XEdDSA, so the cross-check compares signatures byte for
    # byte (vectors/README.md, "python-axolotl").
    t = TranscriptBuilder(
        "group_session",
        "transcripts/group-3",
        "A sender key: distribution message, messages (empty, 16 and 32 bytes among them) "
        "decrypted out of order by two members, a duplicate, and a later member who gets the "
        "distribution message at the current iteration and cannot read older messages.",
    )
    for key in ("alice", "bob", "carol"):
        _party(t, key)
    skdm = t.step("create_distribution", "alice", group=GROUP)["body"]
    t.step("process_distribution", "bob", sender="alice", group=GROUP, body=skdm)
    t.step("process_distribution", "carol", sender="alice", group=GROUP, body=skdm)
    plaintexts = [b"hello group", b"", bytes(range(16)), bytes(range(32))]
    bodies = [
        t.step("group_encrypt", "alice", group=GROUP, plaintext=p)["body"] for p in plaintexts
    ]
    for i in (2, 0, 3, 1):
        t.step("group_decrypt", "bob", sender="alice", group=GROUP, body=bodies[i])
    for i in (3, 2, 1, 0):
        t.step("group_decrypt", "carol", sender="alice", group=GROUP, body=bodies[i])
    t.step("group_decrypt", "bob", sender="alice", group=GROUP, body=bodies[0], note="duplicate")
    _party(t, "dave")
    later = t.step("create_distribution", "alice", group=GROUP, note="existing key: no draws")
    t.step("process_distribution", "dave", sender="alice", group=GROUP, body=later["body"])
    last = t.step("group_encrypt", "alice", group=GROUP, plaintext=b"welcome dave")["body"]
    t.step("group_decrypt", "dave", sender="alice", group=GROUP, body=last)
    t.step(
        "group_decrypt",
        "dave",
        sender="alice",
        group=GROUP,
        body=bodies[0],
        note="before dave's iteration: its key is gone",
    )
    return t


# -- retry conversations through RetryLayer ---------------------------------------------


def _prelude(t: TranscriptBuilder, framing: str | None = None) -> None:
    _party(t, "alice", layer=True, framing=framing)
    _party(t, "bob", layer=True, framing=framing)
    bundle = t.step("publish_bundle", "bob", pre_key_id=1, signed_pre_key_id=1, timestamp_ms=T0)[
        "bundle"
    ]
    t.step("process_bundle", "alice", peer="bob", bundle=bundle)


def _transmits(out: Json) -> list[Json]:
    return [a["envelope"] for a in out["actions"] if a["action"] == "transmit"]


def _receipts(out: Json) -> list[Json]:
    return [a for a in out["actions"] if a["action"] == "send_receipt"]


def _wake(out: Json) -> int:
    (ms,) = [a["ms"] for a in out["actions"] if a["action"] == "wake_at"]
    return int(ms)


def _send(
    t: TranscriptBuilder,
    sender: str,
    recipient: str,
    plaintext: bytes,
    now: int,
    group: str | None = None,
    note: str | None = None,
) -> tuple[str, Json]:
    """new_message_id, send to one device, the server's ack; return (id, envelope)."""
    mid = t.step("new_message_id", sender)["message_id"]
    out = t.step(
        "send",
        sender,
        recipients=[recipient],
        message_id=mid,
        plaintext=plaintext,
        now_ms=now,
        group=group,
        note=note,
    )
    (env,) = _transmits(out)
    t.step("server_ack", sender, device=recipient, message_id=mid, now_ms=now + 50)
    return mid, env


def _deliver(t: TranscriptBuilder, env: Json, now: int, note: str | None = None) -> Json:
    """The server delivers ``env``: as the stanza it arrives in, too, to a party on stanzas."""
    recipient = env["recipient"]
    if t.on_stanzas(recipient):
        stanza = t.relay_stanza(env)
        return t.step("receive", recipient, envelope=env, now_ms=now, stanza=stanza, note=note)
    return t.step("receive", recipient, envelope=env, now_ms=now, note=note)


def _corrupt(env: Json) -> Json:
    """Flip the last bit of a SignalMessage: the last byte of its truncated MAC."""
    assert env["type"] == 2, "the last byte of a PreKeySignalMessage is a protobuf field"
    body = bytearray(bytes.fromhex(env["body"]))
    body[-1] ^= 0x01
    return {**env, "body": body.hex()}


def _exchange(t: TranscriptBuilder) -> None:
    """Alice's first message and Bob's reply, both delivered and confirmed."""
    mid, env = _send(t, "alice", "bob", b"hello bob", T0)
    _deliver(t, env, T0 + 100)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 200)
    mid, env = _send(t, "bob", "alice", b"hi alice", T0 + 1_000)
    _deliver(t, env, T0 + 1_100)
    t.step("delivery_receipt", "bob", **{"from": "alice"}, message_id=mid, now_ms=T0 + 1_200)


def _answer(t: TranscriptBuilder, receipt: Json, now: int, note: str | None = None) -> Json:
    """Relay bob's receipt to alice; return alice's resend envelope (acked by the server)."""
    out = t.step(
        "receive_receipt",
        "alice",
        **{"from": "bob"},
        receipt=t.relay_receipt(receipt, "bob"),
        now_ms=now,
        note=note,
    )
    (env,) = _transmits(out)
    t.step("server_ack", "alice", device="bob", message_id=env["message_id"], now_ms=now + 50)
    return env


def retry_corrupted() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_corrupted_message",
        "transcripts/retry_corrupted",
        "A message corrupted on the way (last byte flipped: bad MAC) -> retry receipt count 1 "
        "without keys -> the sender resends on the same session under the same id -> delivered.",
    )
    _prelude(t)
    _exchange(t)
    mid, env = _send(t, "alice", "bob", b"this one gets corrupted", T0 + 2_000)
    out = _deliver(t, _corrupt(env), T0 + 2_100, note="body's last byte (MAC) flipped in transit")
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, T0 + 2_500)
    _deliver(t, resend, T0 + 2_600)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 2_700)
    return t


def retry_wiped_session() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_wiped_session",
        "transcripts/retry_wiped",
        "Bob loses his session with Alice -> her next SignalMessage fails with NoSession -> "
        "receipt count 1 WITH a key bundle (no session: keys at once, not from count 2) -> "
        "Alice rebuilds from the bundle (X3DH draws) -> resend as a PreKeySignalMessage -> "
        "delivered on the rebuilt session.",
    )
    _prelude(t)
    _exchange(t)
    t.step("wipe_session", "bob", peer="alice", note="bob's session with alice is lost")
    mid, env = _send(t, "alice", "bob", b"after the wipe", T0 + 2_000)
    out = _deliver(t, env, T0 + 2_100)
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, T0 + 2_500, note="keys attached: rebuild, then resend")
    _deliver(t, resend, T0 + 2_600)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 2_700)
    return t


def retry_keys_at_count_2() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_keys_at_count_2",
        "transcripts/retry_count2",
        "A corrupted message -> receipt count 1 without keys -> the resend is lost -> bob's "
        "timer fires: receipt count 2 WITH a key bundle -> alice rebuilds the session from it "
        "-> resend (PreKeySignalMessage, retry count 2) -> delivered.",
    )
    _prelude(t)
    _exchange(t)
    mid, env = _send(t, "alice", "bob", b"third time lucky", T0 + 2_000)
    out = _deliver(t, _corrupt(env), T0 + 2_100, note="body's last byte (MAC) flipped in transit")
    (receipt,) = _receipts(out)
    _answer(t, receipt, T0 + 2_500, note="this resend is lost: bob never sees it")
    out = t.step("tick", "bob", now_ms=_wake(out), note="no resend came: ask again")
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, _wake(out) - 1_000, note="keys attached: rebuild, then resend")
    _deliver(t, resend, _wake(out) - 900)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=_wake(out))
    return t


def retry_group_no_sender_key() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_group_no_sender_key",
        "transcripts/retry_group",
        "A group message (SenderKeyMessage) reaches a member without the sender key -> receipt "
        "(reason NO_SESSION, to the group, participant the sender) -> the sender resends "
        "pairwise with a fresh sender-key distribution message -> delivered.",
    )
    _prelude(t)
    mid, env = _send(t, "alice", "bob", b"first group message", T0, GROUP, note="carries the key")
    _deliver(t, env, T0 + 100)
    t.step(
        "delivery_receipt",
        "alice",
        **{"from": "bob"},
        message_id=mid,
        now_ms=T0 + 200,
        note="bob has the sender key now: the next group message goes as a SenderKeyMessage",
    )
    mid, env = _send(t, "alice", "bob", b"second group message", T0 + 1_000, GROUP)
    t.step("forget_sender_keys", "bob", sender="alice", group=GROUP, note="bob lost sender keys")
    out = _deliver(t, env, T0 + 1_100)
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, T0 + 1_500, note="pairwise resend with the distribution message")
    _deliver(t, resend, T0 + 1_600)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 1_700)
    return t


def retry_budget_exhausted() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_budget_exhausted",
        "transcripts/retry_budget",
        "A corrupted message whose receipts never reach the sender: bob asks five times (keys "
        "from count 2, backoff with jitter between), then reports Undecryptable.",
    )
    _prelude(t)
    _exchange(t)
    _, env = _send(t, "alice", "bob", b"never arrives intact", T0 + 2_000)
    out = _deliver(t, _corrupt(env), T0 + 2_100, note="body's last byte (MAC) flipped in transit")
    for _ in range(5):
        out = t.step("tick", "bob", now_ms=_wake(out), note="receipts are lost on the way")
    return t


def retry_whatsapp() -> TranscriptBuilder:
    t = TranscriptBuilder(
        "retry_whatsapp_framing",
        "transcripts/retry_whatsapp",
        "Both parties on the WhatsApp framing: bodies are serialized WhatsApp Messages "
        "(conversation = 1), every plaintext is padded (n bytes of value n from one drawn "
        "byte). A corrupted message -> receipt -> resend -> delivered; a group message to bob "
        "carries the sender key merged in as field 2; the next goes as a SenderKeyMessage; bob "
        "loses the key -> receipt -> pairwise resend, key and body in one Message -> delivered.",
    )
    _prelude(t, framing="whatsapp")
    mid, env = _send(t, "alice", "bob", conversation("hello bob"), T0)
    _deliver(t, env, T0 + 100)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 200)
    mid, env = _send(t, "bob", "alice", conversation("hi alice"), T0 + 1_000)
    _deliver(t, env, T0 + 1_100)
    t.step("delivery_receipt", "bob", **{"from": "alice"}, message_id=mid, now_ms=T0 + 1_200)
    mid, env = _send(t, "alice", "bob", conversation("this one gets corrupted"), T0 + 2_000)
    out = _deliver(t, _corrupt(env), T0 + 2_100, note="body's last byte (MAC) flipped in transit")
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, T0 + 2_500, note="padded afresh: one more draw")
    _deliver(t, resend, T0 + 2_600)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 2_700)
    first = conversation("first group message")
    mid, env = _send(t, "alice", "bob", first, T0 + 3_000, GROUP, note="key merged in, field 2")
    _deliver(t, env, T0 + 3_100)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 3_200)
    second = conversation("second group message")
    mid, env = _send(t, "alice", "bob", second, T0 + 4_000, GROUP, note="a padded SenderKeyMessage")
    t.step("forget_sender_keys", "bob", sender="alice", group=GROUP, note="bob lost sender keys")
    out = _deliver(t, env, T0 + 4_100)
    (receipt,) = _receipts(out)
    resend = _answer(t, receipt, T0 + 4_500, note="pairwise: the key merged into the Message")
    _deliver(t, resend, T0 + 4_600)
    t.step("delivery_receipt", "alice", **{"from": "bob"}, message_id=mid, now_ms=T0 + 4_700)
    # Last, so the steps above keep their draws: a fan-out with both halves,
    # the shared skmsg for bob and a <participants> entry for carol.
    _party(t, "carol", framing="whatsapp")
    bundle = t.step(
        "publish_bundle", "carol", pre_key_id=1, signed_pre_key_id=1, timestamp_ms=T0 + 5_000
    )["bundle"]
    t.step("process_bundle", "alice", peer="carol", bundle=bundle)
    mid = t.step("new_message_id", "alice")["message_id"]
    out = t.step(
        "send",
        "alice",
        recipients=["bob", "carol"],
        message_id=mid,
        plaintext=conversation("welcome carol"),
        now_ms=T0 + 6_000,
        group=GROUP,
        note="one fan-out stanza: bob's skmsg, carol's pkmsg with the key merged in",
    )
    for env in _transmits(out):
        device = env["recipient"]
        t.step("server_ack", "alice", device=device, message_id=mid, now_ms=T0 + 6_050)
    for i, env in enumerate(_transmits(out)):
        _deliver(t, env, T0 + 6_100 + 10 * i)
        device = env["recipient"]
        t.step("delivery_receipt", "alice", **{"from": device}, message_id=mid, now_ms=T0 + 6_200)
    return t


TRANSCRIPTS = {
    "transcript_pairwise.json": pairwise,
    "transcript_group.json": group,
    "transcript_retry_corrupted.json": retry_corrupted,
    "transcript_retry_wiped_session.json": retry_wiped_session,
    "transcript_retry_keys_at_count_2.json": retry_keys_at_count_2,
    "transcript_retry_group_no_sender_key.json": retry_group_no_sender_key,
    "transcript_retry_budget_exhausted.json": retry_budget_exhausted,
    "transcript_retry_whatsapp.json": retry_whatsapp,
}


def build(filename: str) -> str:
    """The text of one transcript file, built fresh and replayed once."""
    case = TRANSCRIPTS[filename]().case()
    check(case)
    doc = {
        "provenance": {
            "source": "axolotl (own vectors)",
            "url": None,
            "generator": GENERATOR,
            "notes": "A replayable transcript (format: vectors/README.md): every random draw of "
            "every party in draw order, every message on the wire, the expected plaintext, "
            "error class or retry-layer actions at each step. Parties draw from "
            "DeterministicRng(seed + '/' + party). The pairwise and group transcripts are also "
            "replayed against python-axolotl 0.2.3 (tests/test_transcripts_pyaxolotl.py).",
        },
        "kind": "transcript",
        "cases": [case],
    }
    return json.dumps(doc, indent=1) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for filename in TRANSCRIPTS:
        text = build(filename)
        path = VECTOR_DIR / filename
        if "--check" in argv:
            if not path.is_file() or path.read_text() != text:
                stale.append(filename)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for filename in stale:
        print(f"stale: {(VECTOR_DIR / filename).relative_to(ROOT)} differs from a fresh generation")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
