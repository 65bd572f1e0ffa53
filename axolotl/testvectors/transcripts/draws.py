"""A transcript's randomness: the draw log and the rng a party holds during a step.

A :class:`Draw` is one recorded ``rng(n)`` call (size, bytes and the library
call path that drew them). A transcript party holds a :class:`PartyRng`:
:class:`StepRng` when :func:`~axolotl.testvectors.transcripts.check`
replays, serving the recorded draws of the current step and raising
:class:`~axolotl.testvectors.VectorMismatch` on a draw of another size, a
missing draw or a left-over draw. The generators in ``vectors/generators/``
of the source tree bring their own recording :class:`PartyRng` (through
:class:`~axolotl.testvectors.transcripts.steps.World`), so nothing that
makes vectors ships with the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from axolotl.testvectors import VectorMismatch

__all__ = ["Json", "Draw", "PartyRng", "StepRng"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Draw:
    """One ``rng(n)`` call.

    Attributes:
        n: bytes asked for.
        data: the bytes returned.
        use: the library call path that drew them (for readers; not replayed).
    """

    n: int
    data: bytes
    use: str = ""

    def to_json(self) -> Json:
        """``{"n", "hex", "use"}``."""
        return {"n": self.n, "hex": self.data.hex(), "use": self.use}


class PartyRng(Protocol):
    """The rng of a transcript party: an :data:`~axolotl.rng.Rng` that works step by step.

    ``begin`` starts a step (a replaying rng is handed the step's recorded
    draws, a recording one gets an empty list), ``end`` finishes it and
    returns the draws made during it (none when replaying).
    """

    def __call__(self, n: int) -> bytes: ...

    def begin(self, where: str, draws: list[Draw]) -> None: ...

    def end(self) -> list[Draw]: ...


class StepRng:
    """A replaying party's rng: serves the current step's recorded draws, in order.

    Args:
        party: the party's step key (for messages).
    """

    __slots__ = ("_party", "_queue", "_where")

    def __init__(self, party: str) -> None:
        self._party = party
        self._queue: list[Draw] = []
        self._where = ""

    def __call__(self, n: int) -> bytes:
        if not self._queue:
            raise VectorMismatch(
                self._where,
                f"{self._party} drew {n} bytes, but the transcript records no further draw here",
            )
        draw = self._queue.pop(0)
        if draw.n != n:
            raise VectorMismatch(
                self._where, f"{self._party} drew {n} bytes where the transcript records {draw.n}"
            )
        return draw.data

    def begin(self, where: str, draws: list[Draw]) -> None:
        """Start a step: serve ``draws`` in order (``where`` names the step)."""
        self._where = where
        self._queue = list(draws)

    def end(self) -> list[Draw]:
        """Finish a step; a replaying rng returns no draws of its own.

        Raises:
            VectorMismatch: the step left recorded draws unused.
        """
        if self._queue:
            raise VectorMismatch(
                self._where,
                f"{self._party} made {len(self._queue)} draw(s) fewer than recorded "
                f"(next unused: {self._queue[0].n} bytes)",
            )
        return []
