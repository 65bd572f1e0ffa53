"""The worst case of one decrypt: a forged message against a record at every maximum.

Run: ``.venv/bin/python benchmarks/bench_decrypt_bounds.py [--rounds R] [-n N]``

The record holds the current session and ``max_archived_states`` (40) archived
ones; every state has ``max_receiver_chains`` (5) receiving chains and
``max_skipped_keys`` (2,000) skipped message keys: about 3.3 MB, the most the
default :class:`~axolotl.session.SessionConfig` lets a peer make us keep. The
current state is a real session (2,000 skipped keys from a message that came
2,000 counters early); the archived ones are copies of it under fresh random
keys, which is what a peer that re-established its session 40 times leaves.

Rows (in-memory store; each measured in alternation with the others, median of
the rounds):

* genuine, next counter: the ordinary decrypt, the unit of the ratios.
* genuine, 2,000 ahead: the most chain work one genuine message may ask for
  (``max_skip``).
* forged, new ratchet key, counter 2,000: a 67-byte message with a random
  ratchet key and a bad MAC: every state is a trial needing a DH ratchet step
  and a 2,000-step chain walk. The worst an attacker can send.
* forged, known chain, 2,000 ahead: the current chain's ratchet key, a bad MAC.
* forged, skipped counter: a counter whose key is kept, a bad MAC.

Target (issue 13): a forged message costs at most 10x a genuine one of the
same shape (the forged new-key row against the genuine 2,000-ahead row), with
the absolute figures against the ordinary decrypt reported beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from collections.abc import Callable

from _common import machine, table

from axolotl.crypto.curve import KeyPair
from axolotl.errors import AxolotlError
from axolotl.session import SessionRecord, decrypt, encrypt
from axolotl.session.config import DEFAULT_CONFIG
from axolotl.wire import MessageType, SignalMessage
from tests.parties import Party, talking_pair, with_full_archive


def small() -> tuple[Party, Party, bytes, tuple[int, bytes]]:
    """An ordinary record (one state, no skipped keys) and its next genuine message."""
    alice, bob = talking_pair("carol", "dave")
    nxt = encrypt(alice.store, bob.address, b"m" * 200)
    data = bob.store.load_session(alice.address)
    assert data is not None
    return alice, bob, data, (int(nxt.type), nxt.body)


def build() -> tuple[Party, Party, bytes, dict[str, tuple[int, bytes]]]:
    """Bob's maximal record of Alice, and the messages to decrypt against it."""
    alice, bob = talking_pair()
    sent = [encrypt(alice.store, bob.address, b"m" * 200) for _ in range(4002)]
    early = sent[2000]  # 2,000 skipped keys at Bob
    decrypt(bob.store, alice.address, early.type, early.body, rng=bob.rng)
    data = bob.store.load_session(alice.address)
    assert data is not None
    per_chain = DEFAULT_CONFIG.max_skipped_keys // DEFAULT_CONFIG.max_receiver_chains
    maximal = with_full_archive(data, per_chain)
    record = SessionRecord.deserialize(maximal)
    genuine_next, genuine_far = sent[2001], sent[4001]
    assert genuine_far.counter - genuine_next.counter == DEFAULT_CONFIG.max_skip
    skipped = SignalMessage.parse(sent[5].body)

    def forged(ratchet_key: object, counter: int) -> tuple[int, bytes]:
        m = SignalMessage.parse(genuine_next.body)
        body = SignalMessage.create(
            mac_key=os.urandom(32), sender_identity=record.current.remote_identity,  # type: ignore[union-attr]
            receiver_identity=record.current.local_identity,  # type: ignore[union-attr]
            ratchet_key=ratchet_key, counter=counter, previous_counter=0,  # type: ignore[arg-type]
            ciphertext=m.ciphertext[:16],
        ).serialized  # fmt: skip
        return int(MessageType.SIGNAL), body

    messages = {
        "genuine, next counter": (int(genuine_next.type), genuine_next.body),
        "genuine, 2,000 ahead": (int(genuine_far.type), genuine_far.body),
        "forged, new ratchet key, counter 2,000": forged(
            KeyPair.generate().public_key, DEFAULT_CONFIG.max_skip
        ),
        "forged, known chain, 2,000 ahead": forged(
            skipped.ratchet_key, genuine_next.counter + DEFAULT_CONFIG.max_skip - 1
        ),
        "forged, skipped counter": forged(skipped.ratchet_key, skipped.counter),
    }
    return alice, bob, maximal, messages


def measure(bob: Party, alice: Party, record: bytes, message: tuple[int, bytes], n: int) -> float:
    """Median microseconds of one decrypt of ``message`` against ``record``.

    The record is stored anew before each decrypt, so each one parses it (the
    in-process cache of parsed records does not hold records this large).
    """
    times = []
    for _ in range(n):
        bob.store.store_session(alice.address, record)
        t0 = time.perf_counter()
        with contextlib.suppress(AxolotlError):
            decrypt(bob.store, alice.address, *message, rng=bob.rng)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="decrypts per row per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    alice, bob, maximal, messages = build()
    s_alice, s_bob, s_record, s_message = small()
    runs: dict[str, Callable[[], float]] = {
        "ordinary record, genuine, next counter": lambda: measure(
            s_bob, s_alice, s_record, s_message, args.n
        )
    }
    for name, message in messages.items():
        runs[f"maximal, {name}"] = lambda m=message: measure(  # type: ignore[misc]
            bob, alice, maximal, m, args.n
        )
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            samples[name].append(run())
    med = {name: statistics.median(v) for name, v in samples.items()}
    unit = med["ordinary record, genuine, next counter"]
    same = med["maximal, genuine, next counter"]
    rows = [("decrypt", "µs", "x ordinary record", "x genuine, same record")]
    for name in runs:
        m = med[name]
        rows.append((name, f"{m:.0f}", f"{m / unit:.1f}", f"{m / same:.2f}"))
    print(f"## One decrypt against a maximal record ({len(maximal) / 1e6:.1f} MB)\n")
    print(f"{machine()}; median of {args.rounds} rounds x {args.n} decrypts, in-memory store\n")
    print(table(rows))
    worst = max(med[n] for n in runs if "forged" in n)
    verdict = "met" if worst <= 10 * same else "NOT met"
    print(
        f"\nTarget: a forged message <= 10x an ordinary decrypt on the same record: "
        f"{worst / same:.2f}x, {verdict} ({worst / unit:.0f}x a decrypt on a one-state record)"
    )


if __name__ == "__main__":
    main()
