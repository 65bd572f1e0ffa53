"""Message stanza round trip, node form: ours against yowsup 3.3.0, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_stanza.py [-n N] [--rounds R]``

One round trip is what one encrypted message costs the two ends in node form:

1. build the outgoing ``<message><enc/></message>`` (a fresh message id each
   time): ours from an :class:`~axolotl.retry.Envelope` with
   :func:`~axolotl.retry.stanza.envelope_to_node`, yowsup's from an
   ``EncryptedMessageProtocolEntity`` holding one ``EncProtocolEntity`` via
   ``toProtocolTreeNode`` (what its ``AxolotlSendLayer`` sends);
2. rewrite ``to`` into ``from`` and stamp ``t``, as the server does;
3. parse it: ours with :func:`~axolotl.retry.stanza.parse_message_node` (into an
   Envelope: addresses, canonical integers, limits), yowsup's with
   ``EncryptedMessageProtocolEntity.fromProtocolTreeNode`` (what its
   ``AxolotlReceivelayer`` reads), and check the body survived.

Both sides do the same work in the same order: build the entity or Envelope
(a fresh message id each time), turn it into a node, play the server on the
node's attribute dict in place (the same ``del``/store on both sides; the
server is neither library), parse, compare the body.

yowsup's side runs in the peer venv (``tests/peers/envs.py``), in a child
process started for each round, which warms up as ours does (a tenth of the
round first) and times its own loop, inside a function as ours is (a loop at
module level pays a dict lookup per name). Rounds alternate and both sides are timed
with ``time.process_time`` (CPU time: a shared machine's other processes do
not count). Prints the median and the best of the rounds in microseconds per
round trip, the speed-up of the medians (yowsup / ours) and the median of the
per-round speed-ups; the target, on the median, is >= 2x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from axolotl.address import ProtocolAddress  # noqa: E402
from axolotl.retry import Envelope  # noqa: E402
from axolotl.retry.stanza import envelope_to_node, parse_message_node  # noqa: E402
from axolotl.wire import MessageType  # noqa: E402
from tests.peers.envs import ensure_env  # noqa: E402

TARGET = 2.0
BODY = bytes(range(256)) * 2  # a short text message's SignalMessage is ~100-600 bytes

_YOWSUP = """
import sys, time
from yowsup.layers.axolotl.protocolentities.enc import EncProtocolEntity
from yowsup.layers.axolotl.protocolentities.message_encrypted import (
    EncryptedMessageProtocolEntity,
)
from yowsup.layers.protocol_messages.protocolentities.attributes.attributes_message_meta import (
    MessageMetaAttributes,
)
n = int(sys.argv[1])
body = bytes(range(256)) * 2
sender = "4915225256099@s.whatsapp.net"
pc = time.process_time


def run(n):
    t0 = pc()
    for i in range(n):
        entity = EncryptedMessageProtocolEntity(
            [EncProtocolEntity("msg", 2, body)],
            "text",
            MessageMetaAttributes(id="3EB0" + str(i), recipient="4915225256022@s.whatsapp.net"),
        )
        node = entity.toProtocolTreeNode()
        attrs = node.attributes
        del attrs["to"]
        attrs["from"] = sender
        attrs["t"] = "1700000000"
        parsed = EncryptedMessageProtocolEntity.fromProtocolTreeNode(node)
        if parsed.getEnc("msg").getData() != body:
            raise AssertionError("body did not survive")
    return (pc() - t0) / n * 1e6


run(n // 10)  # warm up, as ours does
print(run(n))
"""

_SENDER = ProtocolAddress("4915225256099@s.whatsapp.net", 0)
_RECIPIENT = ProtocolAddress("4915225256022@s.whatsapp.net", 0)


def ours(n: int) -> float:
    """Microseconds per Envelope -> node -> (to => from, t) -> Envelope round trip."""
    pc = time.process_time
    sender_jid = _SENDER.name
    signal = MessageType.SIGNAL  # a constant, as yowsup's side writes "msg"
    t0 = pc()
    for i in range(n):
        envelope = Envelope(
            message_id="3EB0" + str(i),
            sender=_SENDER,
            recipient=_RECIPIENT,
            type=signal,
            body=BODY,
            timestamp_ms=1_700_000_000_000,
        )
        node = envelope_to_node(envelope)
        # The server's rewrite, the same dict operations as on yowsup's side.
        attrs = node.attrs
        del attrs["to"]
        attrs["from"] = sender_jid
        attrs["t"] = "1700000000"
        parsed = parse_message_node(node, _RECIPIENT)
        if parsed.envelopes[0].body != BODY:
            raise AssertionError("body did not survive")
    return (pc() - t0) / n * 1e6


def yowsup(python: str, n: int) -> float:
    """Microseconds per yowsup entity round trip, measured in the peer venv.

    ``-I`` keeps this checkout (whose ``axolotl`` would shadow python-axolotl) off
    the child's path.
    """
    out = subprocess.run(
        [python, "-I", "-c", _YOWSUP, str(n)], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="round trips per round")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds per side")
    args = parser.parse_args(argv)
    python = str(ensure_env())
    ours(args.n // 10)  # warm up
    mine: list[float] = []
    peer: list[float] = []
    for _ in range(args.rounds):
        mine.append(ours(args.n))
        peer.append(yowsup(python, args.n))
    ratio = statistics.median(peer) / statistics.median(mine)
    per_round = statistics.median(p / m for p, m in zip(peer, mine, strict=True))
    print(
        f"message stanza round trip, node form (build -> node -> parse), "
        f"n={args.n}, {args.rounds} alternating rounds, CPU time"
    )
    print(f"{'':18}{'axolotl µs':>12}{'yowsup µs':>12}{'speed-up':>10}{'per round':>11}")
    print(
        f"{'median':18}{statistics.median(mine):12.2f}{statistics.median(peer):12.2f}"
        f"{ratio:9.2f}x{per_round:10.2f}x"
    )
    print(f"{'best':18}{min(mine):12.2f}{min(peer):12.2f}{min(peer) / min(mine):9.2f}x")
    print(f"stanza round trip >= {TARGET:.0f}x yowsup: {'met' if ratio >= TARGET else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
