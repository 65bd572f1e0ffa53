"""The WhatsApp framing against yowsup 3.3.0's own code, in the peer environment.

* Our merged handover equals, byte for byte, what yowsup's group resend
  builds (``AxolotlSendLayer.serializeSenderKeyDistributionMessageToProtobuf``
  then ``MergeFromString(body)``) for canonically serialized bodies.
* yowsup's ``AxolotlManager._unpad`` and its ``Message`` parse read our
  pairwise and group plaintexts (the conversation, the group id and the key).
* We read what yowsup makes (its ``Message`` + its own
  ``_generate_random_padding``, 1..255 bytes).
"""

from __future__ import annotations

import json
import subprocess

from axolotl.framing import Frame, WhatsAppFraming, conversation, unpad
from axolotl.rng import DeterministicRng

GROUP = "120363025246125486@g.us"
SKDM = b"\x33" + bytes(range(60))  # opaque to both sides' framing

_SCRIPT = r"""
import json, sys
from yowsup.layers.protocol_messages.proto.e2e_pb2 import Message
from yowsup.layers.axolotl.layer_send import AxolotlSendLayer
from yowsup.axolotl.manager import AxolotlManager

class Key:  # what serializeSenderKeyDistributionMessageToProtobuf asks of a key
    def __init__(self, data): self.data = data
    def serialize(self): return self.data

req = json.loads(sys.stdin.read())
merged, read = [], []
for c in req["merge"]:
    m = AxolotlSendLayer.serializeSenderKeyDistributionMessageToProtobuf(
        None, c["group"], Key(bytes.fromhex(c["skdm"])))
    m.MergeFromString(bytes.fromhex(c["body"]))
    merged.append(m.SerializeToString().hex())
for p in req["read"]:
    m = Message()
    m.ParseFromString(AxolotlManager._unpad(None, bytes.fromhex(p)))
    skdm = m.sender_key_distribution_message
    read.append([m.conversation, skdm.group_id,
                 skdm.axolotl_sender_key_distribution_message.hex()])
made = []
for text in req["make"]:
    m = Message(conversation=text)
    if req["make_group"]:
        AxolotlSendLayer.serializeSenderKeyDistributionMessageToProtobuf(
            None, req["make_group"], Key(bytes.fromhex(req["skdm"])), m)
    made.append((m.SerializeToString() + AxolotlManager._generate_random_padding(None)).hex())
print(json.dumps({"merged": merged, "read": read, "made": made}))
"""


def _record(number: int, value: bytes) -> bytes:
    assert len(value) < 128
    return bytes([number << 3 | 2, len(value)]) + value


def _yowsup(python: str, request: dict[str, object]) -> dict[str, list[object]]:
    done = subprocess.run(
        [python, "-I", "-c", _SCRIPT],  # -I: never our axolotl from the cwd
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, list[object]] = json.loads(done.stdout)
    return answer


def test_yowsup_merges_reads_and_makes_what_we_do(pyaxolotl_python: str) -> None:
    framing = WhatsAppFraming()
    image = _record(3, _record(1, b"https://mmg.example/x") + _record(2, b"image/jpeg"))
    extended = _record(6, _record(1, b"see https://example.org"))
    location = _record(5, b"\x09" + bytes(8) + b"\x11" + bytes(8))  # two doubles
    bodies = [
        conversation("hello"),
        conversation("héllo, wörld") + extended,
        image,
        conversation("caption?") + image + extended,
        location,
    ]
    frames = [Frame(body=b, distribution=SKDM, group_id=GROUP) for b in bodies]
    rng = DeterministicRng("framing/yowsup")
    ours = [unpad(framing.encode_pairwise(f, rng)) for f in frames]
    readable = [framing.encode_pairwise(f, rng) for f in frames[:1]]
    readable += [framing.encode_group(conversation("to the group"), rng)]
    readable += [framing.encode_pairwise(Frame(body=conversation("pairwise")), rng)]
    texts = ["one", "two", "three", "ünïcode"] * 10
    answer = _yowsup(
        pyaxolotl_python,
        {
            "merge": [{"group": GROUP, "skdm": SKDM.hex(), "body": b.hex()} for b in bodies],
            "read": [p.hex() for p in readable],
            "make": texts,
            "make_group": GROUP,
            "skdm": SKDM.hex(),
        },
    )
    assert answer["merged"] == [m.hex() for m in ours]
    assert answer["read"] == [
        ["hello", GROUP, SKDM.hex()],
        ["to the group", "", ""],
        ["pairwise", "", ""],
    ]
    for text, made in zip(texts, answer["made"], strict=True):
        assert isinstance(made, str)
        frame = framing.decode_pairwise(bytes.fromhex(made))
        assert frame == Frame(body=conversation(text), distribution=SKDM, group_id=GROUP)
