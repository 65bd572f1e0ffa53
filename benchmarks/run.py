"""Run every benchmark and write benchmarks/RESULTS.md.

Run: ``.venv/bin/python benchmarks/run.py [--quick]``

Each benchmark script runs in its own process (the peers in theirs) and its
printed tables go into RESULTS.md verbatim; the lines that state a target
("... met" / "... NOT met") are gathered into the summary at the top. The
main job is measured too: ``axolotl simulate`` with defaults (target: under
30 s) and with ``--messages 100000`` (target: under 300 MB peak memory),
each in a child process whose own resource usage is read with ``wait4``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

SCRIPTS: list[tuple[str, list[str], list[str]]] = [
    # (script, full arguments, --quick arguments)
    (
        "bench_sessions.py",
        ["-n", "2000", "--setups", "100", "--rounds", "3"],
        ["-n", "300", "--setups", "20", "--rounds", "1"],
    ),
    ("bench_groups.py", ["-n", "1000", "--rounds", "3"], ["-n", "200", "--rounds", "1"]),
    ("bench_receipts.py", ["-n", "20000", "--rounds", "5"], ["-n", "2000", "--rounds", "1"]),
    ("bench_decrypt_bounds.py", ["-n", "5", "--rounds", "5"], ["-n", "2", "--rounds", "1"]),
    ("bench_framing.py", ["-n", "2000", "--rounds", "7"], ["-n", "200", "--rounds", "1"]),
    ("bench_stanza.py", ["-n", "20000", "--rounds", "5"], ["-n", "2000", "--rounds", "1"]),
    ("bench_simulate_devices.py", [], ["--quick"]),
    (
        "bench_retry.py",
        ["--messages", "10000", "-n", "200", "--rounds", "3"],
        ["--messages", "1000", "-n", "20", "--rounds", "1"],
    ),
    ("bench_postgres.py", [], ["--quick"]),
    ("bench_drain.py", ["-n", "10000", "--rounds", "3"], ["-n", "1000", "--rounds", "1"]),
    (
        "bench_growth.py",
        ["--messages", "50000", "--flood", "10000"],
        ["--messages", "5000", "--flood", "500"],
    ),
]


def _run(cmd: list[str], cwd: Path) -> tuple[int, str, float, int]:
    """(exit status, output, wall seconds, peak RSS in KiB) of one child."""
    with tempfile.TemporaryFile() as out:
        start = datetime.datetime.now()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = (datetime.datetime.now() - start).total_seconds()
        out.seek(0)
        text = out.read().decode(errors="replace")
    return proc.returncode, text, wall, usage.ru_maxrss


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run everything, write RESULTS.md, print where it went; 1 if a script failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    sections: list[str] = []
    summary: list[tuple[str, str, str]] = []
    failed = False
    for script, full, quick in SCRIPTS:
        if not (HERE / script).exists():
            continue
        cmd = [PY, script, *(quick if args.quick else full)]
        print(f"running {' '.join(cmd[1:])} ...", file=sys.stderr, flush=True)
        status, text, wall, _ = _run(cmd, HERE)
        if status != 0:
            failed = True
        for line in text.splitlines():
            m = re.match(r"^(.*): (met|NOT met)\b(.*)$", line.strip())
            if m:
                summary.append((script, m.group(1).strip(), (m.group(2) + m.group(3)).strip()))
        sections.append(
            f"## {script}\n\n`python benchmarks/{' '.join([script, *cmd[2:]])}` "
            f"(exit {status}, {wall:.0f} s)\n\n```\n{text.rstrip()}\n```\n"
        )
    # The main job, measured as a user runs it.
    sim_runs = [["--messages", "2000"], ["--messages", "10000" if args.quick else "100000"]]
    for extra in sim_runs:
        cmd = [PY, "-m", "axolotl", "simulate", *extra]
        print(f"running axolotl simulate {' '.join(extra)} ...", file=sys.stderr, flush=True)
        status, text, wall, rss_kib = _run(cmd, ROOT)
        failed = failed or status != 0
        report = "\n".join(line for line in text.splitlines() if not line.startswith("sent "))
        messages = int(extra[1])
        if messages == 2000:
            summary.append(
                (
                    "axolotl simulate",
                    "defaults finish in under 30 s",
                    f"{'met' if wall < 30 else 'NOT met'} ({wall:.1f} s)",
                )
            )
        else:
            mib = rss_kib / 1024
            summary.append(
                (
                    f"axolotl simulate --messages {messages}",
                    "peak memory under 300 MB",
                    f"{'met' if mib < 300 else 'NOT met'} ({mib:.0f} MiB, {wall:.0f} s)",
                )
            )
        sections.append(
            f"## axolotl simulate {' '.join(extra)}\n\n(exit {status}, {wall:.1f} s wall, "
            f"peak RSS {rss_kib / 1024:.0f} MiB)\n\n```\n{report.rstrip()}\n```\n"
        )
    sections.append(_simulate_on_postgres())
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run.py{' --quick' if args.quick else ''}` on {now}.",
        f"Machine: {_machine()}.",
        "Every ratio is measured in the same run: ours against the real peer (which",
        "times its own loop in its own process) or against the bare primitives.",
        "",
        "| benchmark | target | result |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in summary],
        "",
        *sections,
    ]
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


def _simulate_on_postgres() -> str:
    """The main job with every device in PostgreSQL (no target; for comparison)."""
    dsn = os.environ.get("AXOLOTL_BENCH_PG_DSN") or os.environ.get("AXOLOTL_TEST_PG_DSN")
    title = "## axolotl simulate --store postgres"
    if not dsn:
        return f"{title}\n\nnot run: set AXOLOTL_BENCH_PG_DSN to a PostgreSQL DSN\n"
    print("running axolotl simulate --store postgres ...", file=sys.stderr, flush=True)
    cmd = [PY, "-m", "axolotl", "simulate", "--store", "postgres", "--dsn", dsn]
    status, text, wall, rss_kib = _run(cmd, ROOT)
    report = "\n".join(line for line in text.splitlines() if not line.startswith("sent "))
    return (
        f"{title}\n\n(defaults, the server on the same machine; exit {status}, "
        f"{wall:.1f} s wall, peak RSS {rss_kib / 1024:.0f} MiB)\n\n```\n{report.rstrip()}\n```\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
