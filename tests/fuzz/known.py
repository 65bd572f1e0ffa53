"""Findings that are known bugs of issue 13, fixed elsewhere: how to recognise each one.

The short CI run (``test_fuzz_short.py``) fails on any finding not listed
here; a target whose only findings are listed ones is reported as an
expected failure that names the bug (and passes once the fix lands). Each
entry matches one bug narrowly (kind, exception, place, message), so a new
bug of the same exception type elsewhere still fails the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.fuzz.engine import Finding

__all__ = ["KNOWN", "Known", "known_bug"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Known:
    """One known bug: the issue item that lists it and what its findings look like."""

    name: str
    kind: str
    result: str
    where: str = ""
    """A regex the innermost axolotl frame must match (empty: any)."""
    message: str = ""
    """A regex the message must contain (empty: any)."""

    def matches(self, finding: Finding) -> bool:
        """Whether ``finding`` is this bug."""
        o = finding.outcome
        return (
            o.kind == self.kind
            and o.result == self.result
            and re.search(self.where, o.where) is not None
            and re.search(self.message, o.message) is not None
        )


KNOWN = (
    Known(
        name="issue 13 item 3: retry@t with more than 4,300 digits raises ValueError "
        "from int() in receipts/tree.py (the fast path skips _digits' length check)",
        kind="crash",
        result="ValueError",
        where=r"^axolotl/receipts/tree\.py:\d+ receipt_from_node$",
        message=r"Exceeds the limit \(4300 digits\)",
    ),
    Known(
        name="issue 13 item 4: Node() accepts nesting deeper than MAX_DEPTH (32) and its "
        "renderers recurse (RecursionError in receipts' to_text / to_dict / node_to_yowsup)",
        kind="crash",
        result="RecursionError",
        where=r"^axolotl/receipts/(text|node|yowsup)\.py:\d+ ",
    ),
    Known(
        name="issue 13 item 4: Node() accepts nesting deeper than MAX_DEPTH (32) that "
        "parse_text, from_dict and node_from_yowsup then refuse (no depth cap in the constructor)",
        kind="invariant",
        result="Violation",
        message=r"^a node Node\(\) accepted fails [a-z_/()=A-Z]+: nested deeper than 32",
    ),
    Known(
        # Found by this fuzzer; the issue asks for character limits "enforced in
        # the constructors and renderers too" (item 3), which is what is missing.
        name="issue 13 item 3 (limits enforced in the constructor): Node() accepts attribute "
        "values that are not UTF-8 (lone surrogates) that node_from_yowsup then refuses",
        kind="invariant",
        result="Violation",
        message=r"^a node Node\(\) accepted fails node_to_yowsup/node_from_yowsup: "
        r"is not valid UTF-8 text$",
    ),
    Known(
        name="issue 13 item 1 (session/, fixed in parallel): a PreKeySignalMessage on a "
        "base key the session knows saves its unauthenticated identity_key field",
        kind="invariant",
        result="Violation",
        message=r"^a success changed the stored identity of alice\.1: ",
    ),
)
"""The known bugs, as the fuzz targets of this package report them."""


def known_bug(finding: Finding) -> Known | None:
    """The known bug ``finding`` is, or ``None`` for a new one."""
    for known in KNOWN:
        if known.matches(finding):
            return known
    return None
