"""Coverage-guided fuzzing of the same targets with atheris (libFuzzer for Python).

Usage, from the repository root::

    pip install -e '.[fuzz]'
    python -m tests.fuzz.atheris_fuzz TARGET [libFuzzer options] [CORPUS_DIR ...]
    python -m tests.fuzz.atheris_fuzz decrypt -runs=200000 -max_len=65536

``axolotl`` is imported under atheris' instrumentation, so libFuzzer sees the
library's branch coverage and keeps inputs that reach new code. Inputs are
the targets' encoded form (:attr:`~tests.fuzz.engine.Harness.encode`): raw
bytes for the byte parsers, JSON for trees and bundles, UTF-8 for text. The
custom mutator applies the target's structure-aware mutation (and, a third
of the time, libFuzzer's own byte mutation), so the two kinds of search
combine. Without a corpus directory, ``fuzz-corpus/<target>/`` is used and
filled with the target's seeds on first use.

A finding (anything but a RemoteError from a remote parser, or a broken
invariant) raises :class:`AtherisFinding`. Time is not judged by default (instrumented
code runs several times slower, so 50 ms here is not 50 ms in production);
``--slow-ms=N`` turns the limit on. On a finding libFuzzer stops, prints the
traceback and writes the input to ``crash-<sha1>``; replay it with ``python -m tests.fuzz --replay``
after moving it into a directory named after the target.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

__all__ = ["AtherisFinding", "main"]


class AtherisFinding(Exception):
    """A finding of the fuzz oracle, raised so that libFuzzer records the input."""


def _split(argv: list[str]) -> tuple[str, float, list[str]]:
    if len(argv) < 2 or argv[1].startswith("-"):
        raise SystemExit(__doc__)
    slow_ms = float("inf")
    rest: list[str] = []
    for arg in argv[2:]:
        if arg.startswith("--slow-ms="):
            slow_ms = float(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return argv[1], slow_ms, rest


def main(argv: list[str]) -> None:
    """Run libFuzzer on one target (see the module docstring); does not return."""
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]

    name, slow_ms, rest = _split(argv)
    with atheris.instrument_imports(include=["axolotl"]):
        from tests.fuzz.engine import execute
        from tests.fuzz.targets import by_name

    harness = by_name(name).build()

    def test_one_input(data: bytes) -> None:
        outcome = execute(harness, harness.decode(data), slow_ms)
        if outcome.kind is None:
            return
        raise AtherisFinding(
            f"{name}: {outcome.kind} {outcome.result} at {outcome.where} "
            f"({outcome.seconds * 1000:.1f} ms): {outcome.message[:500]}\n{outcome.trace}"
        )

    def custom_mutator(data: bytes, max_size: int, seed: int) -> Any:
        rng = random.Random(seed)
        if rng.random() < 0.33:
            return atheris.Mutate(data, max_size)
        value = harness.mutate(rng, harness.decode(data), harness.seeds)
        out = harness.encode(value)
        return out if len(out) <= max_size else data

    if not any(not arg.startswith("-") for arg in rest):
        corpus = Path("fuzz-corpus") / name
        if not corpus.is_dir():
            corpus.mkdir(parents=True)
            for i, seed in enumerate(harness.seeds):
                (corpus / f"seed-{i:03d}").write_bytes(harness.encode(seed))
        rest.append(str(corpus))
    atheris.Setup([argv[0], *rest], test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
