"""Every fuzz target, by name (the CLI, the CI run and the atheris harnesses share this list)."""

from __future__ import annotations

from tests.fuzz.engine import Target
from tests.fuzz.targets_receipts import TARGETS as _RECEIPTS
from tests.fuzz.targets_retry import TARGETS as _RETRY
from tests.fuzz.targets_session import TARGETS as _SESSION
from tests.fuzz.targets_stanza import TARGETS as _STANZA
from tests.fuzz.targets_wire import TARGETS as _WIRE

__all__ = ["TARGETS", "by_name"]

TARGETS: dict[str, Target] = {t.name: t for t in (*_WIRE, *_RECEIPTS, *_SESSION, *_STANZA, *_RETRY)}
"""Name -> target, in a stable order (wire, receipts, sessions, stanzas, retry layer)."""


def by_name(name: str) -> Target:
    """The target called ``name``.

    Raises:
        KeyError: no such target (the message lists the names).
    """
    try:
        return TARGETS[name]
    except KeyError:
        raise KeyError(f"no fuzz target {name!r}; targets: {', '.join(TARGETS)}") from None
