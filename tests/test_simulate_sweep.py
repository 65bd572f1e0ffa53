"""The simulator survives every crash it injects, whatever else happens around it.

A crash can land in any call a device makes into its retry layer: handling
traffic, a timer, a send, the bundle fetch before a send, the bundles a
reinstalled device processes, a reconnect, and the call made again after a
crash. Each is made again after the restart (or its item handed over again),
so every run ends with exit status 0 and every message delivered exactly once
or reported. The sweep mixes many seeds with crashes, reinstalls, wipes and
network faults on small message counts (a few seconds in all); the issue's
three reproductions run through the command line.
"""

from __future__ import annotations

import random

import pytest

from axolotl.cli import main
from axolotl.simulate import SimulationConfig, simulate


def _mixes(count: int) -> list[SimulationConfig]:
    rnd = random.Random(14)
    return [
        SimulationConfig(
            devices=rnd.choice([2, 3, 4]),
            messages=rnd.choice([8, 15, 25]),
            loss=rnd.choice([0.0, 0.05, 0.3]),
            corrupt=rnd.choice([0.0, 0.05, 0.3]),
            dup=rnd.choice([0.0, 0.1, 0.3]),
            wipe=rnd.randint(0, 6),
            reinstall=rnd.randint(0, 4),
            crash=rnd.randint(5, 40),
            seed=rnd.randrange(1_000_000),
        )
        for _ in range(count)
    ]


@pytest.mark.parametrize("config", _mixes(24), ids=lambda c: f"seed{c.seed}")
def test_every_injected_crash_is_survived(config: SimulationConfig) -> None:
    report = simulate(config)
    assert report.ok and report.exactly_once, report.lost + report.wrong + report.over_budget
    assert report.crashes > 0 or config.crash == 0


@pytest.mark.parametrize("seed", range(8))
def test_reinstalls_with_many_crashes(seed: int) -> None:
    # The issue's sweep (17 of 40 seeds crashed with a traceback), smaller.
    report = simulate(SimulationConfig(messages=30, reinstall=3, crash=20, seed=seed))
    assert report.ok, report.lost + report.wrong + report.over_budget


@pytest.mark.parametrize(
    "args",
    [
        # A crash in the bundle fetch before a send.
        "--messages 200 --loss 0.3 --corrupt 0.3 --dup 0.2 --wipe 3 --reinstall 1 --crash 5"
        " --seed 25",
        # A crash in the send made again after a crash.
        "--messages 300 --crash 10 --seed 17",
        # A crash in a reinstalled device's bundle processing.
        "--messages 50 --wipe 40 --reinstall 10 --crash 40",
    ],
)
def test_the_issues_reproductions_exit_0(args: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", *args.split(), "--json"]) == 0
    assert '"exactly_once": true' in capsys.readouterr().out
