"""Checking the JSON vector files shipped in ``axolotl/testvectors/data/``.

The files are package data, so ``axolotl vectors verify`` checks them
wherever the package is installed; the generators in ``vectors/generators/``
of the source tree write them there (the format is in ``vectors/README.md``).
Every vector file has the shape::

    {
      "provenance": {"source": "...", "url": "...", "generator": "vectors/generators/x.py" | null,
                     "notes": "..."},
      "kind": "<checker name>",
      "cases": [{"name": "...", ...}, ...]
    }

``kind`` names a checker in :data:`CHECKERS` (a dotted ``module:function``
path, imported on first use). A checker takes one case and raises
:class:`VectorMismatch` (or any :class:`~axolotl.errors.AxolotlError` it did
not expect) when the case does not hold, and :class:`MalformedVector` when the case itself is broken
(a truncated file, a field that is not hex, an unknown step): a mismatch
means the code and the vector disagree, a malformed vector means the file
cannot be read as a vector at all. Both ``axolotl vectors verify`` and the
test suite go through :func:`check_case`, so they can never disagree.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from axolotl.errors import AxolotlError, UsageError

__all__ = [
    "CHECKERS",
    "VectorMismatch",
    "MalformedVector",
    "VectorFile",
    "FileReport",
    "load",
    "check_case",
    "verify_file",
    "default_vector_dir",
    "iter_vector_files",
]

Case = dict[str, Any]
Checker = Callable[[Case], None]

CHECKERS: dict[str, str] = {
    "wire_message": "axolotl.testvectors.wire:check",
    "retry_receipt": "axolotl.testvectors.receipts:check",
    "x25519": "axolotl.testvectors.crypto:check_x25519",
    "hkdf": "axolotl.testvectors.crypto:check_hkdf",
    "curve25519": "axolotl.testvectors.crypto:check_curve25519",
    "xeddsa": "axolotl.testvectors.crypto:check_xeddsa",
    "ratchet_kdf": "axolotl.testvectors.crypto:check_ratchet_kdf",
    "transcript": "axolotl.testvectors.transcripts:check",
    "framing": "axolotl.testvectors.framing:check",
}
"""Vector kind -> ``"module:function"`` of its checker."""


class VectorMismatch(AxolotlError):
    """A vector case did not reproduce.

    Attributes:
        step: where in the case it failed (a field or step name).
    """

    def __init__(self, step: str, message: str) -> None:
        super().__init__(f"{step}: {message}")
        self.step = step


class MalformedVector(VectorMismatch):
    """A vector file or case cannot be read: bad JSON, a field that is not hex, an unknown step.

    ``axolotl vectors verify`` exits 2 on these and 1 on plain mismatches.
    """


def expect_equal(step: str, got: object, want: object) -> None:
    """Raise :class:`VectorMismatch` unless ``got == want``; bytes show the first differing byte."""
    if got == want:
        return
    if isinstance(got, bytes | bytearray) and isinstance(want, bytes | bytearray):
        i = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
        if i is None:
            raise VectorMismatch(step, f"length {len(got)} != expected {len(want)}")
        raise VectorMismatch(
            step, f"first differing byte at offset {i}: 0x{got[i]:02x} != expected 0x{want[i]:02x}"
        )
    raise VectorMismatch(step, f"{got!r} != expected {want!r}")


def unhex(case: Case, key: str) -> bytes:
    """Read a hex field of a case, raising :class:`MalformedVector` on a bad value."""
    try:
        value = case[key]
        if not isinstance(value, str):
            raise TypeError("not a string")
        return bytes.fromhex(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedVector(key, f"missing or not hex: {exc}") from None


@dataclass(frozen=True, slots=True)
class VectorFile:
    """A parsed vector file."""

    path: Path
    kind: str
    provenance: dict[str, Any]
    cases: list[Case]


@dataclass(slots=True)
class FileReport:
    """The outcome of checking one file.

    Attributes:
        failures: one line per case that failed, malformed ones included.
        malformed: the subset of ``failures`` where the file or case could not be read.
    """

    path: Path
    kind: str
    total: int = 0
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    malformed: list[str] = field(default_factory=list)


def load(path: Path) -> VectorFile:
    """Read and validate the envelope of a vector file.

    Raises:
        MalformedVector: the file is not JSON or lacks provenance, kind or cases.
    """
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedVector("file", f"{path.name} is not readable JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedVector("file", f"{path.name}: top level is not an object")
    prov, kind, cases = doc.get("provenance"), doc.get("kind"), doc.get("cases")
    if not isinstance(prov, dict) or "source" not in prov:
        raise MalformedVector("provenance", f"{path.name}: missing provenance.source")
    if not isinstance(kind, str) or kind not in CHECKERS:
        raise MalformedVector("kind", f"{path.name}: unknown vector kind {kind!r}")
    if not isinstance(cases, list) or not all(isinstance(c, dict) for c in cases):
        raise MalformedVector("cases", f"{path.name}: cases must be a list of objects")
    return VectorFile(path=path, kind=kind, provenance=prov, cases=cases)


def _checker(kind: str) -> Checker:
    module_name, _, func = CHECKERS[kind].partition(":")
    fn: Checker = getattr(importlib.import_module(module_name), func)
    return fn


def check_case(kind: str, case: Case) -> None:
    """Check one case of the given kind; raise on mismatch."""
    if kind not in CHECKERS:
        raise UsageError(f"unknown vector kind {kind!r}")
    _checker(kind)(case)


def verify_file(path: Path) -> FileReport:
    """Check every case of a file and report counts and failure messages."""
    try:
        vf = load(path)
    except VectorMismatch as exc:
        return FileReport(path=path, kind="?", total=1, failures=[str(exc)], malformed=[str(exc)])
    report = FileReport(path=path, kind=vf.kind, total=len(vf.cases))
    for i, case in enumerate(vf.cases):
        name = case.get("name", f"#{i}")
        try:
            check_case(vf.kind, case)
        except MalformedVector as exc:
            line = f"{name}: {type(exc).__name__}: {exc}"
            report.failures.append(line)
            report.malformed.append(line)
        except (AxolotlError, KeyError, TypeError, ValueError) as exc:
            report.failures.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            report.passed += 1
    return report


def default_vector_dir() -> Path:
    """The vector files shipped with the package: ``data/`` beside this module.

    The one copy of the vectors: a source checkout, an editable install and
    an installed wheel all read (and the generators write) this folder.

    Returns:
        The folder (``iter_vector_files`` lists its files).
    """
    return Path(__file__).resolve().parent / "data"


def iter_vector_files(directory: Path) -> Iterator[Path]:
    """Every ``*.json`` vector file directly in ``directory``, sorted."""
    yield from sorted(directory.glob("*.json"))
