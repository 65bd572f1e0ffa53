"""The short fuzz run of CI: every target, seed 0, a few hundred to a few thousand inputs each.

About 5 s for all targets together. Inputs are capped at 64 KiB here (the long
run, ``python -m tests.fuzz``, goes to 2 MB) and time is not judged (no timing
asserts in the suite; the long run flags inputs over 50 ms). A target fails
on any finding.
"""

from __future__ import annotations

import math

import pytest

from tests.fuzz import mutate_node
from tests.fuzz.engine import Report, fuzz
from tests.fuzz.targets import TARGETS

# Inputs per target, sized so that each takes a fraction of a second.
SHORT_RUN = {
    "signal_message": 3000,
    "prekey_message": 3000,
    "sender_key_message": 2000,
    "sender_key_distribution": 2000,
    "decryption_error_message": 2000,
    "plaintext_content": 2000,
    "records": 2000,
    "receipt_node": 800,
    "receipt_text": 800,
    "receipt_proto": 2000,
    "receipt_yowsup": 600,
    "node_codecs": 250,
    "decrypt": 2000,
    "group_decrypt": 2000,
    "process_distribution": 800,
    "key_bundle": 800,
    "prekey_bundle": 2000,
    "message_stanza": 600,
    "retry_receipt": 1500,
}


def test_every_target_has_a_short_run() -> None:
    assert set(SHORT_RUN) == set(TARGETS)


def _explain(report: Report) -> str:
    lines = [f"{report.target}: {report.inputs} inputs, outcomes {dict(report.results)}"]
    for finding in report.findings:
        lines.append(finding.summary())
        lines.append(f"  input (hex): {finding.data[:512].hex()}")
        lines.append(finding.outcome.trace)
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(SHORT_RUN))
def test_short_fuzz_run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutate_node, "MAX_INPUT", 1 << 16)
    report = fuzz(TARGETS[name], SHORT_RUN[name], seed=0, slow_ms=math.inf)
    assert report.inputs == SHORT_RUN[name]
    # A harness that refused everything would find nothing: the seeds (and
    # some mutants) must get through the parser to the success path.
    assert report.results["ok"] > 0, _explain(report)
    assert not report.findings, _explain(report)
