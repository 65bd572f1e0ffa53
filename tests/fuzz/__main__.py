"""The long fuzz run: ``python -m tests.fuzz --n 1000000 [--target NAME] [--seed S] [--out DIR]``.

``--n`` inputs are shared out over the chosen targets (all by default, in
equal parts). Progress goes to stderr every ``--progress`` seconds; a summary
per target (inputs, inputs/s, outcomes, findings, slowest input) goes to
stdout at the end. Crashing, invariant-breaking and slow inputs are saved
under ``--out`` (``<out>/<target>/<kind>-<index>-<hash>.bin`` plus a ``.txt``
with the traceback and hex); the slowest input of each target is kept as
``<out>/<target>/slowest.bin`` (``--replay`` it to see where the time goes).
Exit status: 0 clean, 1 findings, 2 usage.

``--replay FILE...`` runs saved inputs again (the target is the name of the
directory a file is in, or ``--target``) and prints what each does now;
with ``--minimize`` it first shrinks each input, keeping its finding.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fuzz.engine import SLOW_MS, Report, execute, fuzz, minimize
from tests.fuzz.targets import TARGETS, by_name


def _progress(report: Report) -> None:
    found = sum(report.signatures.values())
    print(
        f"  {report.target}: {report.inputs} inputs, {report.rate:.0f}/s, "
        f"{found} findings in {len(report.signatures)} signatures",
        file=sys.stderr,
        flush=True,
    )


def _print_report(report: Report) -> None:
    print(
        f"{report.target}: {report.inputs} inputs in {report.seconds:.1f} s "
        f"({report.rate:.0f}/s), slowest {report.slowest[0] * 1000:.1f} ms"
    )
    top = ", ".join(f"{name} {count}" for name, count in report.results.most_common(8))
    print(f"  outcomes: {top}")
    for signature, count in report.signatures.most_common():
        print(f"  FINDING x{count}: {signature}")
    for finding in report.findings:
        print(f"    {finding.summary()}")
        print(f"      input: {finding.data[:256].hex()}{'...' if len(finding.data) > 256 else ''}")


def _save_slowest(out: Path, report: Report) -> None:
    """Keep the slowest input of the run (``<out>/<target>/slowest.bin``), to replay it."""
    seconds, data = report.slowest
    if not data:
        return
    folder = out / report.target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "slowest.bin").write_bytes(data)
    (folder / "slowest.txt").write_text(f"{seconds * 1000:.1f} ms, {len(data)} bytes\n")


def _replay(paths: list[str], target_name: str | None, slow_ms: float, shrink: bool) -> int:
    failures = 0
    for name in paths:
        path = Path(name)
        target = by_name(target_name or path.parent.name)
        harness = target.build()
        data = path.read_bytes()
        if shrink:
            data = minimize(harness, target.name, data, slow_ms)
            print(f"{path}: minimized to {len(data)} bytes: {data.hex()}")
        outcome = execute(harness, harness.decode(data), slow_ms)
        print(f"{path}: {target.name}: {outcome.kind or 'clean'} {outcome.result} "
              f"({outcome.seconds * 1000:.1f} ms) {outcome.message[:300]}")  # fmt: skip
        if outcome.trace:
            print(outcome.trace)
        failures += outcome.kind is not None
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.fuzz", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=100_000, help="inputs in all (default 100000)")
    parser.add_argument("--target", action="append", help="a target name (repeatable; default all)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--out", type=Path, default=Path("fuzz-findings"), help="findings directory"
    )
    parser.add_argument("--slow-ms", type=float, default=SLOW_MS, help="per-input limit (50)")
    parser.add_argument(
        "--progress", type=float, default=30.0, help="seconds between progress lines"
    )
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--replay", nargs="+", metavar="FILE", help="run saved inputs again")
    parser.add_argument(
        "--minimize", action="store_true", help="with --replay: shrink each input first"
    )
    args = parser.parse_args(argv)
    if args.list:
        for target in TARGETS.values():
            print(f"{target.name:26} {target.doc}")
        return 0
    try:
        if args.replay:
            return _replay(args.replay, (args.target or [None])[0], args.slow_ms, args.minimize)
        targets = [by_name(name) for name in args.target] if args.target else list(TARGETS.values())
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    if args.n < 1:
        print("--n must be at least 1", file=sys.stderr)
        return 2
    share, extra = divmod(args.n, len(targets))
    started = time.perf_counter()
    total = 0
    for i, target in enumerate(targets):
        n = share + (i < extra)
        print(f"{target.name}: {n} inputs, seed {args.seed}", file=sys.stderr, flush=True)
        report = fuzz(
            target, n, args.seed, out=args.out, slow_ms=args.slow_ms,
            progress=_progress, progress_every=args.progress,
        )  # fmt: skip
        _print_report(report)
        _save_slowest(args.out, report)
        sys.stdout.flush()
        total += sum(report.signatures.values())
    elapsed = time.perf_counter() - started
    print(f"total: {args.n} inputs in {elapsed:.0f} s ({args.n / elapsed:.0f}/s), {total} findings")
    if total:
        print(f"findings saved under {args.out}/")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
