"""``axolotl vectors verify``: check every vector file and print a table.

Exit status: 0 when every case reproduces, 1 when a case does not (a
mismatch: the code and the vector disagree), 2 when a file cannot be read
as a vector (truncated JSON, a field that is not hex, an unknown transcript
step, ...) or the folder holds no vector files.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import Any

from axolotl.testvectors import FileReport, default_vector_dir, iter_vector_files, verify_file

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``vectors`` command group."""
    parser = sub.add_parser("vectors", help="check the published and generated test vectors")
    vsub = parser.add_subparsers(dest="vectors_command", required=True)
    verify = vsub.add_parser(
        "verify",
        help="check every vector file and print a table",
        description="Check every vector file (transcripts are replayed step by step) and "
        "print a table; a failure names the file, the case, the step and the first "
        "differing byte.",
        epilog=textwrap.dedent(
            """\
            exit status:
              0  every case reproduced
              1  a case did not reproduce (mismatch)
              2  a file is malformed (not JSON, truncated, bad hex, unknown step)
                 or there are no vector files
            """
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="vector folder (default: the vectors shipped with the package)",
    )
    verify.add_argument("-v", "--verbose", action="store_true", help="list every failing case")
    verify.set_defaults(func=_verify)


def _verify(args: argparse.Namespace) -> int:
    directory: Path = args.dir or default_vector_dir()
    files = list(iter_vector_files(directory))
    if not files:
        print(f"axolotl: no vector files in {directory}", file=sys.stderr)
        return 2
    reports = [verify_file(p) for p in files]
    _print_table(reports)
    failed = [r for r in reports if r.failures]
    for r in failed:
        shown = r.failures if args.verbose else r.failures[:3]
        for line in shown:
            label = "MALFORMED" if line in r.malformed else "FAIL"
            print(f"{label} {r.path.name}: {line}")
        if len(r.failures) > len(shown):
            print(f"     ... {len(r.failures) - len(shown)} more (use -v)")
    total = sum(r.total for r in reports)
    passed = sum(r.passed for r in reports)
    malformed = sum(len(r.malformed) for r in reports)
    tail = f", {malformed} malformed" if malformed else ""
    print(f"{passed} passed, {total - passed} failed{tail}")
    if malformed:
        return 2
    return 1 if failed else 0


def _print_table(reports: list[FileReport]) -> None:
    rows = [("vector set", "kind", "cases", "passed", "result")]
    for r in reports:
        result = "MALFORMED" if r.malformed else "FAIL" if r.failures else "ok"
        rows.append((r.path.name, r.kind, str(r.total), str(r.passed), result))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
