"""The WhatsApp framing's cost against the native framing, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_framing.py [-n N] [--rounds R]``

Rows (a 200-byte body: a WhatsApp ``Message{conversation}``, the same bytes
under both framings):

* chain encrypt / decrypt: an established session, every message on the same
  chain, each plaintext framed (native: ``Payload``; WhatsApp: the body plus
  its padding, one drawn byte) and encrypted; then each decrypted and read
  back. What the retry layer does per pairwise message, store writes included
  (in-memory store, which serialises on every write).
* group encrypt / decrypt: the same for a SenderKeyMessage (native: the bare
  body; WhatsApp: body + padding).
* handover encrypt / decrypt: a pairwise message carrying a sender-key
  distribution message too (native: Payload fields 2 and 3; WhatsApp: field 2
  merged after the conversation).
* retry layer, whole message: ``RetryLayer.send`` to one device, the
  server's ack, the receiver's ``RetryLayer.receive`` and its delivery
  receipt back (in-memory stores), end to end.

Both framings run in the same process on their own sessions, in batches of
a few dozen messages that alternate between them (which goes first
alternates too), so load on a shared machine falls on both alike; every
figure is the median of its rounds. "framing alone" times the framing's
encode and decode without the session underneath, to show where a
difference comes from. Target (issue 15):
the WhatsApp framing costs at most 5% on chain encrypt and on chain decrypt.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _common import StoreFactories, machine, table
from bench_sessions import Pair

from axolotl.framing import Frame, Framing, NativeFraming, WhatsAppFraming, conversation
from axolotl.retry import DeliveryReceipt, RetryLayer, Transmit
from axolotl.rng import default_rng
from axolotl.session import (
    create_sender_key_distribution,
    decrypt,
    encrypt,
    group_decrypt,
    group_encrypt,
    process_sender_key_distribution,
)
from axolotl.wire import SenderKeyDistributionMessage

BODY = conversation("x" * 197)  # 200 bytes
GROUP = "120363000000000001@g.us"
FRAMINGS: dict[str, Framing] = {"native": NativeFraming(), "whatsapp": WhatsAppFraming()}
assert len(BODY) == 200


class Side:
    """One framing's parties for every row: a pairwise session and a group sender key."""

    def __init__(self, framing: Framing, stores: StoreFactories) -> None:
        self.framing = framing
        self.pair = Pair(stores.memory)
        p = self.pair
        self.skdm = create_sender_key_distribution(p.alice, GROUP, p.A)
        process_sender_key_distribution(
            p.bob, GROUP, p.A, SenderKeyDistributionMessage.parse(self.skdm.serialized)
        )
        self.handover = Frame(body=BODY, distribution=self.skdm.serialized, group_id=GROUP)
        self.sender = RetryLayer(p.alice, p.A, framing=framing)
        self.receiver = RetryLayer(p.bob, p.B, framing=framing)
        self.sent = 0

    # Each op does k messages and returns what the matching decrypt op needs.
    def chain_encrypt(self, k: int) -> list[Any]:
        f, p = self.framing, self.pair
        return [
            encrypt(p.alice, p.B, f.encode_pairwise(Frame(body=BODY), default_rng))
            for _ in range(k)
        ]

    def chain_decrypt(self, msgs: list[Any]) -> None:
        f, p = self.framing, self.pair
        for m in msgs:
            assert f.decode_pairwise(decrypt(p.bob, p.A, m.type, m.body)).body == BODY

    def handover_encrypt(self, k: int) -> list[Any]:
        f, p = self.framing, self.pair
        return [
            encrypt(p.alice, p.B, f.encode_pairwise(self.handover, default_rng)) for _ in range(k)
        ]

    def handover_decrypt(self, msgs: list[Any]) -> None:
        f, p = self.framing, self.pair
        for m in msgs:
            frame = f.decode_pairwise(decrypt(p.bob, p.A, m.type, m.body))
            assert frame.distribution == self.skdm.serialized

    def group_encrypt(self, k: int) -> list[Any]:
        f, p = self.framing, self.pair
        return [
            group_encrypt(p.alice, GROUP, p.A, f.encode_group(BODY, default_rng)) for _ in range(k)
        ]

    def group_decrypt(self, msgs: list[Any]) -> None:
        f, p = self.framing, self.pair
        for m in msgs:
            assert f.decode_group(group_decrypt(p.bob, GROUP, p.A, m)).body == BODY

    def layer(self, k: int) -> None:
        now = 1_700_000_000_000
        for _ in range(k):
            self.sent += 1
            actions = self.sender.send([self.pair.B], f"3EB0{self.sent:016X}", BODY, now)
            (env,) = [a.envelope for a in actions if isinstance(a, Transmit)]
            self.sender.server_ack(env.message_id, self.pair.B, now)
            self.receiver.receive(env, now)
            confirm = DeliveryReceipt(message_id=env.message_id, device=self.pair.B)
            self.sender.receive_receipt(confirm, now)

    def frame_only(self, k: int) -> list[Any]:
        f = self.framing
        return [f.encode_pairwise(Frame(body=BODY), default_rng) for _ in range(k)]

    def unframe_only(self, plaintexts: list[Any]) -> None:
        f = self.framing
        for pt in plaintexts:
            f.decode_pairwise(pt)


ROWS = [
    # (encrypt row, decrypt row or None, encrypt op, decrypt op or None, messages per batch)
    ("chain encrypt", "chain decrypt", "chain_encrypt", "chain_decrypt", 50),
    ("handover encrypt", "handover decrypt", "handover_encrypt", "handover_decrypt", 50),
    ("group encrypt", "group decrypt", "group_encrypt", "group_decrypt", 50),
    ("retry layer, whole message", None, "layer", None, 10),
    ("framing alone: encode", "framing alone: decode", "frame_only", "unframe_only", 200),
]


def one_round(sides: dict[str, Side], n: int) -> dict[tuple[str, str], float]:
    """µs per message of every row and side, batches of both sides interleaved."""
    spent: dict[tuple[str, str], float] = {}
    for enc_row, dec_row, enc_op, dec_op, batch in ROWS:
        count = max(batch, n if enc_op != "layer" else n // 4)
        made: dict[str, list[Any]] = {name: [] for name in sides}
        for b in range(count // batch):
            # Alternate which side goes first; small batches, so drift on this
            # shared machine falls on both sides alike.
            for name in list(sides) if b % 2 == 0 else list(reversed(sides)):
                t0 = time.perf_counter()
                out = getattr(sides[name], enc_op)(batch)
                spent[enc_row, name] = spent.get((enc_row, name), 0.0) + time.perf_counter() - t0
                if out is not None:
                    made[name].append(out)
        if dec_row is not None:
            for b in range(count // batch):
                for name in list(sides) if b % 2 == 0 else list(reversed(sides)):
                    t0 = time.perf_counter()
                    getattr(sides[name], dec_op)(made[name][b])
                    key = (dec_row, name)
                    spent[key] = spent.get(key, 0.0) + time.perf_counter() - t0
        for key in [k for k in spent if k[0] in (enc_row, dec_row)]:
            spent[key] = spent[key] / (count // batch * batch) * 1e6
    return spent


def main(argv: list[str] | None = None) -> int:
    """Run every row and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=2000, help="messages per round and row")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    n, rounds = args.n, args.rounds
    stores = StoreFactories()
    samples: dict[tuple[str, str], list[float]] = {}
    ratios: dict[str, list[float]] = {}
    try:
        one_round({name: Side(f, stores) for name, f in FRAMINGS.items()}, 100)  # warm up
        for _ in range(rounds):
            # Fresh parties every round: the layer's records do not pile up.
            sides = {name: Side(framing, stores) for name, framing in FRAMINGS.items()}
            got = one_round(sides, n)
            for key, value in got.items():
                samples.setdefault(key, []).append(value)
            for row in {row for row, _ in got}:
                ratios.setdefault(row, []).append(got[row, "whatsapp"] / got[row, "native"])
    finally:
        stores.cleanup()
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = {k: statistics.median(v) for k, v in ratios.items()}
    rows: list[tuple[str, ...]] = [("row", "native µs", "whatsapp µs", "whatsapp/native")]
    for enc_row, dec_row, *_ in ROWS:
        for row in (enc_row, dec_row):
            if row is None:
                continue
            native, whatsapp = med[row, "native"], med[row, "whatsapp"]
            rows.append((row, f"{native:.2f}", f"{whatsapp:.2f}", f"{ratio[row]:.3f}"))
    print(f"framing cost, {len(BODY)}-byte bodies, n={n} per row, median of {rounds} rounds")
    print("(whatsapp/native: the median of the rounds' ratios)")
    print(machine())
    print(table(rows))
    for row in ("chain encrypt", "chain decrypt"):
        overhead = ratio[row] - 1
        verdict = "met" if overhead <= 0.05 else "NOT met"
        print(f"WhatsApp framing on {row} <= 5% over native: {verdict} ({overhead:+.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
