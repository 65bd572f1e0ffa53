"""Retry receipt round trip, node form: ours against yowsup 3.3.0, measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_receipts.py [-n N] [--rounds R]``

One round trip is what a retry costs the two ends, as the peer's
``bench_yowsup_receipt`` measures it for yowsup (tests/peers/pyaxolotl_peer.py):

1. build the outgoing receipt (a fresh message id each time);
2. turn it into a node;
3. rewrite ``to`` into ``from``, as the server does between the two ends;
4. parse the node as an incoming receipt and check the registration id.

With ``--keys`` rows, a key bundle (made once, outside the timing, as the
peer's is) rides along in ``<keys>`` and is encoded and parsed inside the loop;
yowsup's retry entities do not know ``<keys>``, so the peer builds that child
with ``ProtocolTreeNode`` and reads it with yowsup's get-keys parsing.

Rounds alternate between the two sides and the best of each is kept, so a
noisy machine penalises both alike. Prints microseconds per round trip and the
speed-up (yowsup time / our time). The targets: >= 2x without keys, >= 3x with
them (issue 17: receipts are plain frozen dataclasses and the codecs functions
over them, which costs the constructor's stores that a tuple did not pay).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from axolotl.receipts import (  # noqa: E402
    IncomingRetryReceipt,
    KeyBundle,
    OutgoingRetryReceipt,
    receipt_from_node,
    receipt_to_node,
)
from axolotl.rng import DeterministicRng  # noqa: E402
from tests.peers.client import Peer  # noqa: E402

TARGETS = {False: 2.0, True: 3.0}
"""Speed-up over yowsup to reach, without and with a key bundle."""


def _bundle() -> KeyBundle:
    rng = DeterministicRng(b"bench_receipts")
    return KeyBundle(
        identity=rng(32),
        pre_key_id=1,
        pre_key=rng(32),
        signed_pre_key_id=7,
        signed_pre_key=rng(32),
        signed_pre_key_signature=rng(64),
    )


def ours(n: int, with_keys: bool) -> float:
    """Microseconds per build -> receipt_to_node -> (to => from) -> receipt_from_node round trip."""
    keys = _bundle() if with_keys else None
    pc = time.perf_counter
    t0 = pc()
    for i in range(n):
        receipt = OutgoingRetryReceipt(
            message_id="3EB0" + str(i),
            to="4915225256022@s.whatsapp.net",
            count=2,
            timestamp=1432833266,
            registration_id=12345,
            keys=keys,
        )
        node = receipt_to_node(receipt)
        # What the server does between the two ends (the peer's loop does the same).
        attrs = node.attrs
        attrs["from"] = attrs.pop("to")
        parsed = receipt_from_node(node, IncomingRetryReceipt)
        if parsed.registration_id != 12345:
            raise AssertionError("registration id did not survive")
    return (pc() - t0) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="round trips per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per side")
    args = parser.parse_args(argv)

    with Peer.start() as peer:
        rows = []
        for with_keys in (False, True):
            ours(args.n // 10, with_keys)  # warm up
            peer.call("bench_yowsup_receipt", n=args.n // 10, with_keys=with_keys)
            best_ours = best_peer = float("inf")
            for _ in range(args.rounds):
                best_ours = min(best_ours, ours(args.n, with_keys))
                answer = peer.call("bench_yowsup_receipt", n=args.n, with_keys=with_keys)
                best_peer = min(best_peer, float(answer["roundtrip_us"]))
            rows.append((with_keys, best_ours, best_peer))

    print(
        f"retry receipt round trip, node form (build -> node -> parse), "
        f"n={args.n}, best of {args.rounds}"
    )
    print(f"{'':18}{'axolotl µs':>12}{'yowsup µs':>12}{'speed-up':>10}")
    for with_keys, mine, theirs in rows:
        label = "with key bundle" if with_keys else "without keys"
        note = f"   (target >= {TARGETS[with_keys]:.0f}x)"
        print(f"{label:18}{mine:12.2f}{theirs:12.2f}{theirs / mine:9.1f}x{note}")
    # One line per target, in the form benchmarks/run.py gathers into its summary.
    for with_keys, mine, theirs in rows:
        target = TARGETS[with_keys]
        what = "receipt round trip with keys" if with_keys else "receipt round trip"
        verdict = "met" if theirs / mine >= target else "NOT met"
        print(f"{what} >= {target:.0f}x yowsup: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
