"""The fuzz loop and its oracle.

A :class:`Target` names a parser (or a stateful operation) of remote data and
builds a :class:`Harness`: valid seeds made by the library, a structure-aware
``mutate``, a ``run`` that feeds one input to the library and checks the
invariants (the costly checks of what it returned may go to ``check``, which
runs after the clock stops), and ``encode``/``decode`` so an input can be
saved, replayed and handed to atheris.

The oracle (:func:`execute`):

* ``run`` may raise only :class:`~axolotl.errors.AxolotlError`; any other
  exception (``ValueError``, ``RecursionError``, ``KeyError``, ...) is a
  ``crash`` finding;
* from a parser of remote data (``Harness.remote``), a UsageError -- the
  error that tells the *caller* to fix its code -- is a ``family`` finding:
  bad bytes from a peer must raise a RemoteError (DESIGN.md principle 5);
* a harness raises :class:`Violation` when an invariant breaks (stored state
  changed by a failure, a round trip that does not hold): an ``invariant``
  finding;
* an input whose processing takes longer than ``slow_ms`` (50 ms), measured
  again twice to rule out a GC pause or a busy machine, is a ``slow`` finding
  (a local-API target may allow a tree at the limits its linear cost instead,
  ``Harness.allowance_ms``).

:func:`fuzz` runs one target for ``n`` inputs from a fixed seed: each input is
a seed, or an earlier input that produced a new outcome, with one to a few
mutations applied. Inputs that reached an outcome not seen before (a new
exception type and message shape) join the pool, a cheap feedback that leads
the mutations past the first checks without coverage instrumentation.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axolotl.errors import AxolotlError, RemoteError, StorageError

__all__ = [
    "SLOW_MS",
    "Finding",
    "Harness",
    "Outcome",
    "Report",
    "Target",
    "Violation",
    "execute",
    "fuzz",
    "minimize",
]

SLOW_MS = 50.0
"""An input processed slower than this is a finding (issue 13)."""

_POOL_MAX = 256
_POOL_INPUT_MAX = 1 << 16
_MAX_SAVED_PER_SIGNATURE = 3


class Violation(Exception):
    """An invariant of the library failed for one input (raised by a harness)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Harness:
    """What a target needs to fuzz one parser or operation."""

    seeds: Sequence[Any]
    mutate: Callable[[random.Random, Any, Sequence[Any]], Any]
    """``mutate(rng, value, pool)``: a new input from ``value`` (``pool``: seeds and finds)."""
    run: Callable[[Any], object]
    """Feed one (prepared) input to the library; raise Violation on a broken invariant."""
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]
    """``decode(encode(x)) == x``; ``decode`` must accept any bytes (for atheris)."""
    remote: bool = True
    """``run`` parses remote data: a UsageError (local misuse) out of it is a ``family``
    finding; only RemoteError (or StorageError, for stored bytes) may come out."""
    prepare: Callable[[Any], Any] | None = None
    """Turns an input into what ``run`` takes (building a Node tree, say), untimed.

    It runs under the same oracle (an AxolotlError it raises is an outcome,
    anything else a crash) but outside the clock, so that the time limit
    measures the parser and not the harness.
    """
    check: Callable[[Any, Any], None] | None = None
    """``check(prepared, result)`` after ``run`` succeeded: invariants of what it returned
    (round trips through other codecs, say), untimed like ``prepare``; raises Violation."""
    allowance_ms: Callable[[Any], float] | None = None
    """For a local-API target only: the time a prepared input may take, when more than
    ``slow_ms`` (a tree the application built at the limits costs its size in linear
    work). Parsers of remote data have none: ``slow_ms`` holds for every input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A named fuzz target; ``build`` makes its harness (stores included) on first use."""

    name: str
    doc: str
    build: Callable[[], Harness]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What one input did."""

    result: str
    """``"ok"``, or the AxolotlError subclass raised, or the class of a finding's exception."""
    message: str
    seconds: float
    kind: str | None = None
    """``None`` (clean), ``"crash"``, ``"family"``, ``"invariant"`` or ``"slow"``."""
    allowed_ms: float = 0.0
    """The harness's ``allowance_ms`` for this input (0: none)."""
    where: str = ""
    """For crashes: the innermost frame inside axolotl (``file:line function``)."""
    trace: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A crash, broken invariant or slow input, with what it takes to reproduce it."""

    target: str
    index: int
    outcome: Outcome
    data: bytes
    """The input, as the harness encodes it."""

    @property
    def signature(self) -> str:
        """Findings with one signature are one bug (kind, exception, place)."""
        o = self.outcome
        if o.kind == "slow":
            return f"slow:{o.result}"
        return f"{o.kind}:{o.result}:{o.where}:{_shape(o.message)}"

    def summary(self) -> str:
        """One line: target, input number, kind, exception, place, time."""
        o = self.outcome
        head = f"{self.target} #{self.index}: {o.kind} {o.result}"
        place = f" at {o.where}" if o.where else ""
        return f"{head}{place} ({o.seconds * 1000:.1f} ms, {len(self.data)} B): {o.message[:200]}"


@dataclass(slots=True, kw_only=True)
class Report:
    """The result of fuzzing one target."""

    target: str
    inputs: int = 0
    seconds: float = 0.0
    results: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    signatures: Counter[str] = field(default_factory=Counter)
    slowest: tuple[float, bytes] = (0.0, b"")

    @property
    def rate(self) -> float:
        """Inputs per second."""
        return self.inputs / self.seconds if self.seconds else 0.0


def _shape(message: str) -> str:
    """A message with numbers and quoted values removed: outcomes of one kind share it."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|0x[0-9a-f]+|[0-9a-f]{8,}|\d+", "#", message)[:80]


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    inside = [f for f in frames if "/axolotl/" in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    frame = (inside or frames)[-1]
    path = frame.filename.replace("\\", "/")
    short = path[path.rfind("/axolotl/") + 1 :] if "/axolotl/" in path else path.rsplit("/", 1)[-1]
    return f"{short}:{frame.lineno} {frame.name}"


def _once(harness: Harness, value: Any) -> Outcome:
    outcome, allowed = _timed(harness, value)
    return dataclasses.replace(outcome, allowed_ms=allowed) if allowed else outcome


def _timed(harness: Harness, value: Any) -> tuple[Outcome, float]:
    """One run of ``value``, and the harness's time allowance for it (0: none)."""
    start = stop = 0.0
    allowed = 0.0

    def took() -> float:
        if not start:
            return 0.0
        return (stop or time.perf_counter()) - start

    try:
        if harness.prepare is not None:
            value = harness.prepare(value)
        if harness.allowance_ms is not None:
            allowed = harness.allowance_ms(value)
        start = time.perf_counter()
        result = harness.run(value)
        stop = time.perf_counter()
        if harness.check is not None:
            try:
                harness.check(value, result)
            except AxolotlError as exc:  # a check's AxolotlError is no outcome of run
                raise Violation(f"check raised {exc!r}") from exc
    except AxolotlError as exc:
        elapsed = took()
        if start and harness.remote and not isinstance(exc, RemoteError | StorageError):
            return Outcome(
                result=type(exc).__name__, message=str(exc), seconds=elapsed, kind="family",
                where=_where(exc), trace=traceback.format_exc(limit=-12),
            ), allowed  # fmt: skip
        return Outcome(result=type(exc).__name__, message=str(exc), seconds=elapsed), allowed
    except Violation as exc:
        elapsed = took()
        return Outcome(
            result="Violation", message=str(exc), seconds=elapsed, kind="invariant",
            where="", trace=traceback.format_exc(),
        ), allowed  # fmt: skip
    except Exception as exc:  # the point: anything that is not an AxolotlError
        elapsed = took()
        return Outcome(
            result=type(exc).__name__, message=str(exc)[:2000], seconds=elapsed, kind="crash",
            where=_where(exc), trace=traceback.format_exc(limit=-12),
        ), allowed  # fmt: skip
    return Outcome(result="ok", message="", seconds=took()), allowed


def execute(harness: Harness, value: Any, slow_ms: float = SLOW_MS) -> Outcome:
    """Run one input through the oracle (see the module docstring).

    Returns:
        The outcome; ``kind`` is set when it is a finding.
    """
    outcome = _once(harness, value)
    limit = max(slow_ms, outcome.allowed_ms)
    if outcome.kind is None and outcome.seconds * 1000 > limit:
        # Measure again: only an input that is slow every time is a finding.
        best = min([outcome.seconds] + [_timed(harness, value)[0].seconds for _ in range(2)])
        if best * 1000 > limit:
            return Outcome(
                result=outcome.result, message=outcome.message, seconds=best, kind="slow"
            )
        # A pause that did not come back: the input's time is the fastest run.
        return dataclasses.replace(outcome, seconds=best)
    return outcome


def minimize(
    harness: Harness, target: str, data: bytes, slow_ms: float = SLOW_MS, budget: int = 2000
) -> bytes:
    """A shorter encoded input with the same finding signature (greedy chunk removal).

    Works on the encoded form, so it shrinks byte and text inputs well and
    leaves JSON ones (trees, bundles) mostly as they are.

    Args:
        harness: the target's harness.
        target: its name (part of the signature).
        data: an encoded input that gives a finding.
        slow_ms: the time limit the finding was found with.
        budget: at most this many runs.

    Returns:
        The shortest input found (``data`` itself if nothing could go).
    """

    def signature(candidate: bytes) -> str | None:
        outcome = execute(harness, harness.decode(candidate), slow_ms)
        if outcome.kind is None:
            return None
        return Finding(target=target, index=0, outcome=outcome, data=candidate).signature

    want = signature(data)
    if want is None:
        return data
    runs = 0
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and runs < budget:
        i = 0
        while i < len(data) and runs < budget:
            candidate = data[:i] + data[i + chunk :]
            runs += 1
            if candidate and signature(candidate) == want:
                data = candidate
            else:
                i += chunk
        chunk //= 2
    return data


def _save(out: Path, finding: Finding) -> Path:
    digest = hashlib.sha256(finding.data).hexdigest()[:12]
    base = out / finding.target / f"{finding.outcome.kind}-{finding.index:08d}-{digest}"
    base.parent.mkdir(parents=True, exist_ok=True)
    base.with_suffix(".bin").write_bytes(finding.data)
    o = finding.outcome
    text = [
        finding.summary(),
        f"signature: {finding.signature}",
        f"input ({len(finding.data)} bytes, hex): {finding.data[:4096].hex()}",
        f"replay: python -m tests.fuzz --replay {base.with_suffix('.bin')}",
        "",
        o.trace,
    ]
    base.with_suffix(".txt").write_text("\n".join(text), encoding="utf-8")
    return base


def fuzz(
    target: Target,
    n: int,
    seed: int = 0,
    *,
    harness: Harness | None = None,
    slow_ms: float = SLOW_MS,
    out: Path | None = None,
    progress: Callable[[Report], None] | None = None,
    progress_every: float = 10.0,
) -> Report:
    """Fuzz ``target`` with ``n`` inputs from ``seed`` (the same seed gives the same inputs).

    Args:
        target: what to fuzz.
        n: how many inputs (the unmutated seeds come first).
        seed: the random seed.
        harness: a harness already built for ``target`` (built here otherwise).
        slow_ms: the per-input time limit.
        out: a directory to save findings into (``<out>/<target>/<kind>-...``).
        progress: called with the report so far every ``progress_every`` seconds.
        progress_every: seconds between progress calls.

    Returns:
        The report: counts of outcomes, throughput, findings.
    """
    h = harness or target.build()
    rng = random.Random(f"{seed}/{target.name}")
    report = Report(target=target.name)
    pool: list[Any] = list(h.seeds)
    seen: set[str] = set()
    saved: Counter[str] = Counter()
    started = last = time.perf_counter()
    for index in range(n):
        if index < len(h.seeds):
            value = h.seeds[index]
        else:
            value = rng.choice(pool)
            for _ in range(1 if rng.random() < 0.5 else rng.randint(2, 5)):
                value = h.mutate(rng, value, pool)
        outcome = execute(h, value, slow_ms)
        report.inputs += 1
        report.results[outcome.result] += 1
        if outcome.seconds > report.slowest[0]:
            report.slowest = (outcome.seconds, h.encode(value))
        shape = f"{outcome.result}:{_shape(outcome.message)}"
        if shape not in seen:
            seen.add(shape)
            # Huge inputs stay out of the pool: stacking mutations on them is slow.
            if len(h.encode(value)) <= _POOL_INPUT_MAX:
                if len(pool) < len(h.seeds) + _POOL_MAX:
                    pool.append(value)
                else:
                    pool[len(h.seeds) + rng.randrange(_POOL_MAX)] = value
        if outcome.kind is not None:
            finding = Finding(
                target=target.name, index=index, outcome=outcome, data=h.encode(value)
            )
            report.signatures[finding.signature] += 1
            if saved[finding.signature] < _MAX_SAVED_PER_SIGNATURE:
                saved[finding.signature] += 1
                report.findings.append(finding)
                if out is not None:
                    _save(out, finding)
        now = time.perf_counter()
        if progress is not None and now - last >= progress_every:
            last = now
            report.seconds = now - started
            progress(report)
    report.seconds = time.perf_counter() - started
    return report
