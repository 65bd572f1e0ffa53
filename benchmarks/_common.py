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
