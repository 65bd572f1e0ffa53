"""``axolotl simulate --plot``: the run over simulated time, drawn with matplotlib.

matplotlib is optional (the ``plot`` extra). :func:`check` is called before a
run, so a missing matplotlib or an unusable path is reported at once rather
than after the whole simulation.
"""

from __future__ import annotations

import os
from math import nan
from pathlib import Path
from typing import Any

from axolotl.errors import UsageError
from axolotl.simulate.run import SimulationReport

__all__ = ["check", "title", "write"]

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


_INCIDENTS = {  # kind: (colour, line style, legend label)
    "wipe": ("tab:orange", "--", "session wipe"),
    "reinstall": ("tab:purple", "-.", "reinstall"),
    "crash": ("tab:red", ":", "crash"),
    "offline": ("tab:gray", (0, (1, 3)), "device offline"),
    "faults end": ("black", "-", "faults end"),
}
_MAX_BINS = 300


def _bin_width(duration: float) -> float:
    """1 s bins for runs up to _MAX_BINS s, wider ones (a round number) beyond."""
    width = 1.0
    for candidate in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600):
        width = float(candidate)
        if duration / width <= _MAX_BINS:
            break
    return width


def _per_second(times: list[float], width: float, bins: int, end: float) -> list[float]:
    """Events per second in each bin (the last bin ends at ``end``, so it may be shorter)."""
    counts = [0] * bins
    for t in times:
        counts[min(max(int(t // width), 0), bins - 1)] += 1
    last = max(end - (bins - 1) * width, width / 10)
    return [c / (width if i < bins - 1 else last) for i, c in enumerate(counts)]


def _percentiles(
    at: list[float], values: list[float], width: float, bins: int
) -> dict[str, list[float]]:
    """p50, p90, p99 of ``values`` grouped by the bin of ``at`` (NaN where a bin is empty)."""
    groups: list[list[float]] = [[] for _ in range(bins)]
    for t, v in zip(at, values, strict=True):
        groups[min(max(int(t // width), 0), bins - 1)].append(v)
    result: dict[str, list[float]] = {"p50": [], "p90": [], "p99": []}
    for group in groups:
        group.sort()
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
            result[name].append(group[min(len(group) - 1, int(len(group) * q))] if group else nan)
    return result


def _n(count: int, thing: str, things: str | None = None) -> str:
    return f"{count} {thing if count == 1 else things or thing + 's'}"


def title(report: SimulationReport) -> str:
    """The plot's title: the seed and the whole configuration, so a plot says what made it."""
    c = report.config
    return (
        f"axolotl simulate, seed {c['seed']}: {c['devices']} devices, {c['messages']} messages,"
        f" {c['store']}, {c.get('framing', 'native')} framing"
        f"\nloss {c['loss']}, corrupt {c['corrupt']}, dup {c['dup']},"
        f" reorder {c['reorder']} ms, {_n(c['wipe'], 'session wipe')},"
        f" {_n(c['reinstall'], 'reinstall')}, {_n(c['crash'], 'crash', 'crashes')}"
        f"\n{report.delivered} of {report.copies} copies delivered"
        f" ({'exactly once' if report.exactly_once else 'NOT exactly once'}),"
        f" {report.receipts_sent} receipts, {report.resends} resends"
    )


def write(report: SimulationReport, path: Path) -> None:
    """Draw ``report`` into ``path`` (its suffix picks the format).

    Three panels over simulated time, sharing it: messages sent and copies
    delivered per second; retry receipts and resends per second (on an axis
    of their own: they are a few per cent of the traffic); and the latency
    percentiles of the copies sent in each interval. Every incident (session
    wipe, reinstall, crash, the end of the faults) is a vertical line through
    all three; the title holds the seed and the configuration.

    Raises:
        UsageError: matplotlib is missing, or the file cannot be written.
    """
    plt = _pyplot()
    series = report.series
    duration = max(
        [report.simulated_seconds, *(t for t, _ in report.incidents)]
        + [v[-1] for k, v in series.items() if v and k != "latency_ms"],
        default=1.0,
    )
    width = _bin_width(duration)
    bins = max(1, int(duration // width) + 1)
    x = [(i + 0.5) * width for i in range(bins)]
    unit = "per second" if width == 1 else f"per second (mean over {width:g} s)"
    fig, (traffic, recovery, latency) = plt.subplots(
        3, 1, figsize=(12, 8.5), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]}
    )
    traffic.plot(x, _per_second(series.get("sent", []), width, bins, duration), label="copies sent")
    traffic.plot(
        x,
        _per_second(series.get("deliveries", []), width, bins, duration),
        label="copies delivered",
    )
    traffic.set_ylabel(unit)
    recovery.plot(
        x,
        _per_second(series.get("receipts", []), width, bins, duration),
        color="tab:red",
        label="retry receipts sent",
    )
    recovery.plot(
        x,
        _per_second(series.get("resends", []), width, bins, duration),
        color="tab:green",
        label="resends",
    )
    recovery.set_ylabel(unit)
    pct = _percentiles(series.get("latency_at", []), series.get("latency_ms", []), width, bins)
    for name, colour in (("p50", "tab:blue"), ("p90", "tab:olive"), ("p99", "tab:red")):
        latency.plot(x, pct[name], color=colour, label=f"{name} latency")
    latency.set_yscale("log")
    latency.set_ylabel("ms (by send time)")
    latency.set_xlabel("simulated seconds")
    seen: set[str] = set()
    for t, kind in report.incidents:
        colour, style, label = _INCIDENTS.get(kind, ("grey", "-", kind))
        for ax in (traffic, recovery, latency):
            ax.axvline(
                t,
                color=colour,
                linestyle=style,
                linewidth=1,
                alpha=0.8,
                label=label if ax is traffic and kind not in seen else None,
            )
        seen.add(kind)
    for ax in (traffic, recovery, latency):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        ax.set_xlim(0, bins * width)
    fig.suptitle(title(report), fontsize="medium")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise UsageError(f"--plot {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
