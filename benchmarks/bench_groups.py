"""Sender-key groups: ours against python-axolotl 0.2.3 and against the bare primitives.

Run: ``.venv/bin/python benchmarks/bench_groups.py [-n N] [--rounds R]``

Group encrypt = chain step + message-key HKDF + AES-256-CBC + XEdDSA sign;
group decrypt = the same with XEdDSA verify. Both run on an established
sender key with 200-byte messages, on the in-memory store and on SQLite.
Targets (issue 4): each >= 3x python-axolotl's throughput (its own loop,
``bench_group``) and <= 1.5x its primitives timed alone in the same run.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import StoreFactories, best, machine, table

from axolotl.address import ProtocolAddress
from axolotl.crypto.cipher import aes_cbc_decrypt, aes_cbc_encrypt
from axolotl.crypto.curve import KeyPair
from axolotl.crypto.kdf import kdf_chain
from axolotl.session import (
    create_sender_key_distribution,
    group_decrypt,
    group_encrypt,
    process_sender_key_distribution,
)
from axolotl.session.group import sender_message_keys
from axolotl.store.base import ProtocolStore
from tests.peers.client import Peer

SIZE = 200
GROUP = "bench@g.us"
ALICE = ProtocolAddress("alice", 1)


def ours(make: Callable[[str], ProtocolStore], n: int) -> tuple[float, float]:
    """(encrypt µs, decrypt µs) per group message."""
    alice, bob = make("alice"), make("bob")
    skdm = create_sender_key_distribution(alice, GROUP, ALICE)
    process_sender_key_distribution(bob, GROUP, ALICE, skdm)
    text = bytes(SIZE)
    t0 = time.perf_counter()
    bodies = [group_encrypt(alice, GROUP, ALICE, text) for _ in range(n)]
    t1 = time.perf_counter()
    for body in bodies:
        group_decrypt(bob, GROUP, ALICE, body)
    t2 = time.perf_counter()
    return (t1 - t0) / n * 1e6, (t2 - t1) / n * 1e6


def primitives(n: int, decrypting: bool) -> float:
    """µs per message: chain step, HKDF, AES-CBC, XEdDSA sign or verify, nothing else."""
    signer = KeyPair.generate()
    text = bytes(SIZE)
    chain = bytes(32)
    signed: list[tuple[bytes, bytes]] = []
    for _ in range(n if decrypting else 0):
        seed, chain = kdf_chain(chain)
        iv, key = sender_message_keys(seed)
        ct = aes_cbc_encrypt(key, iv, text)
        signed.append((ct, signer.private_key.sign(ct)))
    chain = bytes(32)
    public = signer.public_key
    t0 = time.perf_counter()
    for i in range(n):
        seed, chain = kdf_chain(chain)
        iv, key = sender_message_keys(seed)
        if decrypting:
            ct, sig = signed[i]
            public.verify(ct, sig)
            aes_cbc_decrypt(key, iv, ct)
        else:
            signer.private_key.sign(aes_cbc_encrypt(key, iv, text))
    return (time.perf_counter() - t0) / n * 1e6


def verify_only(n: int) -> float:
    """µs per XEdDSA verification alone (distinct messages): group decrypt's floor."""
    signer = KeyPair.generate()
    messages = [i.to_bytes(4, "big") + bytes(SIZE + 28) for i in range(n)]
    signed = [(m, signer.private_key.sign(m)) for m in messages]
    public = signer.public_key
    t0 = time.perf_counter()
    for message, signature in signed:
        public.verify(message, signature)
    return (time.perf_counter() - t0) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run every row and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=1000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    n, rounds = args.n, args.rounds
    stores = StoreFactories()
    memory, sqlite = stores.memory, stores.sqlite

    with Peer.start() as peer:
        theirs_enc = theirs_dec = float("inf")
        for _ in range(rounds):
            r = peer.call("bench_group", n=n, size=SIZE)
            theirs_enc = min(theirs_enc, r["encrypt_us"])
            theirs_dec = min(theirs_dec, r["decrypt_us"])
    prim_enc, prim_dec, verify_us = best(
        rounds,
        lambda: primitives(n, False),
        lambda: primitives(n, True),
        lambda: verify_only(n),
    )
    rows: list[tuple[str, ...]] = [
        (
            "row",
            "store",
            "ours µs",
            "python-axolotl µs",
            "speed-up",
            "primitives µs",
            "ours/primitives",
        )
    ]
    verdicts: list[str] = []
    for label, make in (("memory", memory), ("sqlite", sqlite)):
        enc = dec = float("inf")
        for _ in range(rounds):
            e, d = ours(make, n)
            enc, dec = min(enc, e), min(dec, d)
        for what, us, them, prim in (
            ("group encrypt", enc, theirs_enc, prim_enc),
            ("group decrypt", dec, theirs_dec, prim_dec),
        ):
            rows.append(
                (
                    what,
                    label,
                    f"{us:.1f}",
                    f"{them:.1f}",
                    f"{them / us:.1f}x",
                    f"{prim:.1f}",
                    f"{us / prim:.2f}x",
                )
            )
            if label == "memory":
                verdicts.append(
                    f"{what} >= 3x python-axolotl: {'met' if them / us >= 3 else 'NOT met'}"
                )
                verdicts.append(
                    f"{what} <= 1.5x primitives: {'met' if us / prim <= 1.5 else 'NOT met'}"
                )
    stores.cleanup()
    print(f"sender-key groups, {SIZE}-byte messages, n={n}, best of {rounds} rounds")
    print(machine())
    print(table(rows))
    print("\n".join(verdicts))
    print(
        f"group decrypt floor: XEdDSA verify alone {verify_us:.1f} µs; "
        f"3x python-axolotl needs <= {theirs_dec / 3:.1f} µs in all"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
