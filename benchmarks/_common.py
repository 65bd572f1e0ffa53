"""Shared bits of the benchmark scripts: timing, the peer, table printing.

Every figure is a ratio measured in the same run: ours against the real peer
(which times its own loop inside its process) or against the primitives the
operation cannot avoid, timed alone. Rounds alternate between the sides and
the best round of each is kept, so a noisy machine penalises both alike.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def per_op_us(fn: Callable[[int], None], n: int) -> float:
    """Microseconds per operation of ``fn(n)``, which performs ``n`` operations."""
    t0 = time.perf_counter()
    fn(n)
    return (time.perf_counter() - t0) / n * 1e6


def best(rounds: int, *measures: Callable[[], float]) -> list[float]:
    """Run the measures in alternation ``rounds`` times; keep each one's best (lowest)."""
    results = [float("inf")] * len(measures)
    for _ in range(rounds):
        for i, m in enumerate(measures):
            results[i] = min(results[i], m())
    return results


def machine() -> str:
    """One line describing the machine and interpreter."""
    import os

    return (
        f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def table(rows: list[tuple[str, ...]]) -> str:
    """A plain-text table; the first row is the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class StoreFactories:
    """Fresh stores for benchmarks: ``memory(name)`` and ``sqlite(name)`` (files in a temp folder).

    SQLite runs with its default ``synchronous=FULL``: every committed step is
    fsynced, as in production.
    """

    def __init__(self) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="axolotl-bench-")
        self._counter = iter(range(10**9))

    def memory(self, _: str) -> Any:
        from axolotl.keys import generate_identity_key_pair
        from axolotl.store import MemoryStore

        return MemoryStore(generate_identity_key_pair(), 1 + next(self._counter) % 16000)

    def sqlite(self, name: str) -> Any:
        from axolotl.keys import generate_identity_key_pair
        from axolotl.store import SQLiteStore

        path = Path(self._tmp.name) / f"{name}-{next(self._counter)}.db"
        return SQLiteStore.create(
            path, generate_identity_key_pair(), 1 + next(self._counter) % 16000
        )

    def cleanup(self) -> None:
        """Remove the temporary folder."""
        self._tmp.cleanup()
