"""Replaying a transcript: :func:`check`, the ``transcript`` checker of ``axolotl vectors verify``.

Every step is run again through :func:`~axolotl.testvectors.transcripts.ops.run_step`
with the parties drawing only the step's recorded draws, and what it produces
is compared with its ``expect``: :data:`HEX_FIELDS` byte for byte (the
message names the first differing byte), node texts (receipts, stanzas) by
their first differing line, everything else by value.
"""

from __future__ import annotations

from typing import Any

from axolotl.testvectors import MalformedVector, VectorMismatch, expect_equal
from axolotl.testvectors.transcripts.draws import Json
from axolotl.testvectors.transcripts.ops import run_step
from axolotl.testvectors.transcripts.stanzas import first_difference
from axolotl.testvectors.transcripts.steps import World

__all__ = ["HEX_FIELDS", "check"]

HEX_FIELDS = frozenset(
    {
        "body",
        "plaintext",
        "proto",
        "hex",
        "identity_key",
        "pre_key_public",
        "signed_pre_key_public",
        "signed_pre_key_signature",
    }
)
"""Keys whose string values are lowercase hex bytes (compared byte by byte)."""


# -- comparing -----------------------------------------------------------------------------


def _compare(where: str, path: str, got: Any, want: Any) -> None:
    """Raise on the first difference between what a step produced and its ``expect``."""
    shown = path or "result"
    if isinstance(want, dict):
        if not isinstance(got, dict):
            raise VectorMismatch(where, f"{shown}: got {got!r}, expected an object")
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        if missing or extra:
            raise VectorMismatch(where, f"{shown}: fields {sorted(got)} != expected {sorted(want)}")
        for key, value in want.items():
            _compare(where, f"{path}.{key}" if path else key, got[key], value)
        return
    if isinstance(want, list):
        if not isinstance(got, list):
            raise VectorMismatch(where, f"{shown}: got {got!r}, expected a list")
        for i, (g, w) in enumerate(zip(got, want, strict=False)):
            _compare(where, f"{path}[{i}]", g, w)
        if len(got) != len(want):
            raise VectorMismatch(where, f"{shown}: {len(got)} items, expected {len(want)}")
        return
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    if leaf in HEX_FIELDS and isinstance(want, str) and isinstance(got, str):
        try:
            want_bytes = bytes.fromhex(want)
        except ValueError:
            raise MalformedVector(where, f"expected {shown} is not hex") from None
        expect_equal(f"{where} {shown}", bytes.fromhex(got), want_bytes)
        return
    if leaf == "node_text" and isinstance(want, str) and isinstance(got, str) and got != want:
        raise VectorMismatch(f"{where} {shown}", first_difference(got, want))
    expect_equal(f"{where} {shown}", got, want)


# -- replaying ---------------------------------------------------------------------------


def check(case: Json) -> None:
    """Replay one transcript case and compare every step (the ``transcript`` checker).

    Raises:
        VectorMismatch: a step produced other bytes, another error or another
            number or size of draws than recorded (the message names the step
            and the first differing byte).
        MalformedVector: the case cannot be read (unknown op, bad hex, missing field).
    """
    steps = case.get("steps")
    if not isinstance(steps, list) or not steps:
        raise MalformedVector("steps", "must be a non-empty list")
    world = World()
    for index, step in enumerate(steps, 1):
        produced, _, where = run_step(world, step, index)
        want = step.get("expect")
        if not isinstance(want, dict):
            raise MalformedVector(where, "field 'expect' is missing or not an object")
        _compare(where, "", produced, want)
