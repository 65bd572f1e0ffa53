"""The one injectable source of randomness.

Logic never calls a global RNG: every function that needs random bytes takes
an :data:`Rng`, a callable ``rng(n) -> n bytes``. The default is
:func:`os.urandom`; tests and transcript vectors pass a
:class:`DeterministicRng` (or a recorder) so a run can be replayed byte for byte.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

__all__ = ["Rng", "default_rng", "DeterministicRng"]

Rng = Callable[[int], bytes]
"""A source of random bytes: ``rng(n)`` returns exactly ``n`` bytes."""

default_rng: Rng = os.urandom


class DeterministicRng:
    """A reproducible byte stream for tests and vectors. Not for production.

    SHA-256 in counter mode over the seed: the same seed always yields the same
    sequence, whatever the request sizes are split into.
    """

    __slots__ = ("_buffer", "_counter", "_seed")

    def __init__(self, seed: bytes | int | str) -> None:
        if isinstance(seed, int):
            # 16 bytes as always (every existing seed keeps its sequence);
            # longer only for an int that does not fit them.
            seed = seed.to_bytes(max(16, (seed.bit_length() + 8) // 8), "big", signed=True)
        elif isinstance(seed, str):
            seed = seed.encode()
        self._seed = hashlib.sha256(b"axolotl-deterministic-rng" + seed).digest()
        self._counter = 0
        self._buffer = b""

    def __call__(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            self._buffer += block
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out
