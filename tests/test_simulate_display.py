"""What a person sees: the progress line (on a terminal only) and the plot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from axolotl.cli import main
from axolotl.cli.simulate import Progress
from axolotl.simulate import SimulationConfig, SimulationReport, simulate
from axolotl.simulate import plot as simplot


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_shows_elapsed_rate_and_eta() -> None:
    clock = _Clock()
    progress = Progress(_Terminal(), clock=clock)
    clock.now += 4.0
    line = progress.line(400, 2000, 120)
    assert "400/2000 messages" in line
    assert "0:04 elapsed" in line and "100 msg/s" in line and "ETA 0:16" in line
    assert line.startswith("[") and len(line) < 120
    assert "all sent" in progress.line(2000, 2000, 120)
    for width in (30, 60, 80):
        assert len(progress.line(400, 2000, width)) < width
    assert "[" not in progress.line(400, 2000, 50)  # no room for a bar: the figures stay


def test_progress_redraws_at_most_every_interval_and_erases_itself() -> None:
    clock = _Clock()
    terminal = _Terminal()
    progress = Progress(terminal, clock=clock, interval=0.1)
    for done in range(1, 101):
        clock.now += 0.01
        progress(done, 100)
    draws = terminal.getvalue().count("\r")
    assert 9 <= draws <= 12  # 1 s at 0.1 s a redraw, plus the final one
    assert "all sent" in terminal.getvalue()
    progress.finish()
    assert terminal.getvalue().endswith("\r\033[K")


def test_no_progress_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = io.StringIO()
    Progress(quiet)(5, 10)
    assert quiet.getvalue() == ""
    assert main(["simulate", "--messages", "30"]) == 0
    assert capsys.readouterr().err == ""


def test_series_and_incidents_match_the_report() -> None:
    report = simulate(
        SimulationConfig(messages=200, loss=0.1, corrupt=0.1, wipe=2, reinstall=1, crash=3, seed=4)
    )
    s = report.series
    assert len(s["sent"]) == report.copies
    assert len(s["deliveries"]) == report.delivered == len(s["latency_ms"]) == len(s["latency_at"])
    assert len(s["receipts"]) == report.receipts_sent
    assert len(s["resends"]) == report.resends
    kinds = [kind for _, kind in report.incidents]
    assert kinds.count("wipe") == 2 and kinds.count("reinstall") == 1
    assert kinds.count("crash") == report.crashes == 3
    assert kinds.count("faults end") == 1
    assert "incidents" not in report.to_dict() and "series" not in report.to_dict()


def test_rates_and_percentiles() -> None:
    # 3 events in the first second, 1 in the second; the last bin is half a second long.
    assert simplot._per_second([0.1, 0.5, 0.9, 1.2], 1.0, 2, 1.5) == [3.0, 2.0]
    pct = simplot._percentiles([0.1, 0.2, 0.3, 1.5], [10.0, 20.0, 30.0, 99.0], 1.0, 3)
    assert pct["p50"][:2] == [20.0, 99.0] and pct["p99"][0] == 30.0
    assert pct["p50"][2] != pct["p50"][2]  # an empty bin is NaN: no point drawn
    assert simplot._bin_width(100) == 1 and simplot._bin_width(1000) == 5


def _heavy() -> SimulationReport:
    return simulate(
        SimulationConfig(messages=150, loss=0.1, corrupt=0.1, wipe=2, reinstall=1, crash=2, seed=4)
    )


def test_the_title_names_the_seed_and_the_configuration() -> None:
    title = simplot.title(_heavy())
    for part in (
        "seed 4",
        "3 devices",
        "150 messages",
        "loss 0.1",
        "corrupt 0.1",
        "reorder 200",
        "2 session wipes",
        "1 reinstall,",
        "2 crashes",
        "copies delivered",
    ):
        assert part in title, part


def test_the_plot_is_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    for name in ("p.png", "p.svg"):
        simplot.write(_heavy(), tmp_path / name)
        assert (tmp_path / name).stat().st_size > 10_000
