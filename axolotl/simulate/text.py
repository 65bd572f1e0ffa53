"""The simulation report as text: a line per figure, none longer than :data:`WIDTH`."""

from __future__ import annotations

from axolotl.simulate.run import SimulationReport, failure_items

__all__ = ["WIDTH", "render"]


WIDTH = 100
"""No line of the report is longer (a terminal of 100 columns shows it unwrapped)."""
_LABEL = 21  # "  failures:          " -- where every value starts


def _line(label: str, value: str) -> str:
    return f"  {label + ':':<{_LABEL - 2}}{value}"


def _wrapped(label: str, items: list[str]) -> list[str]:
    """``items`` joined by commas after ``label``, continued on indented lines past WIDTH."""
    lines: list[str] = []
    current = ""
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        candidate = f"{current} {piece}" if current else piece
        if current and _LABEL + len(candidate) > WIDTH:
            lines.append(current)
            current = piece
        else:
            current = candidate
    lines.append(current or "none")
    return [_line(label, lines[0])] + [" " * _LABEL + rest for rest in lines[1:]]


def _n(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def render(report: SimulationReport) -> str:
    """The report in plain words, no line longer than :data:`WIDTH`.

    Every copy is in exactly one of: delivered, undecryptable, send failed,
    gone with a reinstalled sender or recipient, lost.
    """
    c = report.config
    lat = report.latency_ms
    gaps = str(report.gaps_reported)
    if report.gaps_reported:
        gaps += f" ({report.gaps_false_alarms} false alarms: every copy from that sender arrived)"
    lines = [
        f"axolotl simulate: {c['devices']} devices, {c['messages']} messages, seed {c['seed']},"
        f" {c['store']} stores, {c.get('framing', 'native')} framing",
        _line(
            "faults",
            f"loss {c['loss']}, corrupt {c['corrupt']}, dup {c['dup']}, reorder {c['reorder']} ms",
        ),
        _line(
            "incidents",
            f"{_n(c['wipe'], 'session wipe')}, {_n(c['reinstall'], 'reinstall')},"
            f" {_n(report.crashes, 'crash')}".replace("crashs", "crashes")
            + (f", {_n(c['offline'], 'offline period')}" if c.get("offline") else ""),
        ),
        _line("sent", f"{report.sent} messages, {report.copies} copies (pairwise + group)"),
        _line("delivered", f"{report.delivered} of {report.copies} copies"),
        _line(
            "given up",
            f"{report.undecryptable} undecryptable, {report.send_failed} send failed",
        ),
        _line(
            "reinstalls",
            f"{report.lost_with_reinstalled_sender} gone with the sender,"
            f" {report.lost_with_reinstalled_receiver} with the recipient,"
            f" {report.delivered_again_after_reinstall} delivered again",
        ),
        _line(
            "exactly once",
            f"{'yes' if report.exactly_once else 'NO'} ({len(report.lost)} lost,"
            f" {len(report.wrong)} doubled or altered; {report.duplicates_refused} duplicates"
            " refused)",
        ),
        *_wrapped("failures", failure_items(report)),
        _line("receipts sent", str(report.receipts_sent)),
        _line("resends", f"{report.resends} (retransmissions {report.retransmissions})"),
        _line("sessions rebuilt", str(report.sessions_rebuilt)),
        _line("gaps reported", gaps),
    ]
    if lat:
        lines.append(
            _line(
                "latency (sim)",
                f"median {lat['median']:.0f} ms, p99 {lat['p99']:.0f} ms, max {lat['max']:.0f} ms",
            )
        )
    lines.append(
        _line(
            "throughput",
            f"{report.sent / max(report.simulated_seconds, 1e-9):.1f} messages"
            f" per simulated second over {report.simulated_seconds:.1f} s",
        )
    )
    lines.append(
        _line(
            "wall clock",
            f"{report.timing['wall_seconds']:.1f} s,"
            f" {report.timing['messages_per_second']:.0f} messages/s",
        )
    )
    for problem in (report.lost + report.wrong + report.over_budget)[:10]:
        lines.append(f"  PROBLEM: {problem}"[:WIDTH])
    return "\n".join(lines)
