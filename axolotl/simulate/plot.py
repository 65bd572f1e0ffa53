"""``axolotl simulate --plot``: the run over simulated time, drawn with matplotlib.

matplotlib is optional (the ``plot`` extra). :func:`check` is called before a
run, so a missing matplotlib or an unusable path is reported at once rather
than after the whole simulation.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from axolotl.errors import UsageError
from axolotl.simulate.run import SimulationReport

__all__ = ["check", "write"]

_FORMATS = ("png", "svg", "pdf")


def _pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend.

    Raises:
        UsageError: matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'axolotl-retry[plot]'") from None
    return plt


def check(path: Path) -> None:
    """Check that a plot can be written to ``path``: matplotlib, the folder, the format.

    Raises:
        UsageError: it cannot (one line saying why).
    """
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in _FORMATS:
        raise UsageError(
            f"--plot {path}: the name must end in {', '.join('.' + f for f in _FORMATS)}"
        )
    if path.is_dir():
        raise UsageError(f"--plot {path} is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"--plot {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"--plot {path}: cannot write there")
    _pyplot()


def write(report: SimulationReport, path: Path) -> None:
    """Draw ``report`` into ``path`` (its suffix picks the format).

    Raises:
        UsageError: matplotlib is missing, or the file cannot be written.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for name, label in (("deliveries", "deliveries"), ("receipts", "retry receipts sent")):
        times = report.series.get(name, [])
        ax.plot(times, range(1, len(times) + 1), label=label)
    ax.set_xlabel("simulated seconds")
    ax.set_ylabel("cumulative count")
    ax.set_title("axolotl simulate: recovery over time")
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise UsageError(f"--plot {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
