"""Saved fuzz findings, replayed: ``regressions/<target>/<name>.<ext>``.

Each file is an input (in its target's encoded form) that once was a
finding (the issue-13 bugs: forged identity keys, a forged counter-2000
message, retry@t digits, deep nodes, a lone surrogate, bundle types); each
must stay clean. Time is not judged here
(``decrypt/forged-counter-2000.bin`` is the slow one: ``python -m tests.fuzz
--replay`` shows its time). Add a file whenever a fuzz finding is fixed.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.fuzz.engine import Finding, execute
from tests.fuzz.targets import by_name

REGRESSIONS = Path(__file__).parent / "regressions"
FILES = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file())


def test_regressions_exist_for_known_targets() -> None:
    assert FILES
    for path in FILES:
        by_name(path.parent.name)  # a directory named after no target is a typo


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_regression(path: Path) -> None:
    target = by_name(path.parent.name)
    harness = target.build()
    data = path.read_bytes()
    assert harness.encode(harness.decode(data)) == data, "not a valid input of its target"
    outcome = execute(harness, harness.decode(data), math.inf)
    if outcome.kind is not None:
        finding = Finding(target=target.name, index=0, outcome=outcome, data=data)
        pytest.fail(f"{finding.summary()}\n{outcome.trace}")
