"""A transcript's randomness: the draw log, the recording rng and the replaying rng.

:class:`RecordingRng` wraps a real source and logs every ``rng(n)`` call as
a :class:`Draw` (size, bytes and the library call path that drew them).
:class:`StepRng` is the rng a transcript party holds: it records through a
:class:`RecordingRng` when a generator builds a transcript, and serves the
recorded draws of the current step when :func:`~axolotl.testvectors.transcripts.check`
replays one, raising :class:`~axolotl.testvectors.VectorMismatch` on a draw
of another size, a missing draw or a left-over draw.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from axolotl.rng import Rng
from axolotl.testvectors import VectorMismatch

__all__ = ["Json", "Draw", "RecordingRng", "StepRng"]

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


_SKIP_FRAMES = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "__call__")


def _call_path() -> str:
    """The ``axolotl`` functions on the stack that led to a draw, outermost first.

    The recorder's own frames (innermost) and the transcript runner's
    (outermost) are left out, as are comprehension frames.
    """
    names: list[str] = []
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
        "axolotl.testvectors"
    ):
        frame = frame.f_back  # type: ignore[assignment]
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("axolotl.testvectors") or not module.startswith("axolotl."):
            break
        if frame.f_code.co_name not in _SKIP_FRAMES:
            names.append(getattr(frame.f_code, "co_qualname", frame.f_code.co_name))
        frame = frame.f_back  # type: ignore[assignment]
    names.reverse()
    return ">".join(names)


class RecordingRng:
    """An :data:`~axolotl.rng.Rng` that logs every call: size, bytes and who drew.

    Args:
        source: where the bytes come from (a
            :class:`~axolotl.rng.DeterministicRng` for vectors).
    """

    __slots__ = ("_source", "draws")

    def __init__(self, source: Rng) -> None:
        self._source = source
        self.draws: list[Draw] = []

    def __call__(self, n: int) -> bytes:
        data = self._source(n)
        self.draws.append(Draw(n, data, _call_path()))
        return data

    def take(self) -> list[Draw]:
        """The draws logged since the last call, and forget them."""
        out, self.draws = self.draws, []
        return out


class StepRng:
    """A party's rng: records (generating) or serves the current step's draws (replaying)."""

    __slots__ = ("_party", "_queue", "_recorder", "_where")

    def __init__(self, party: str, source: Rng | None) -> None:
        self._party = party
        self._recorder = RecordingRng(source) if source is not None else None
        self._queue: list[Draw] = []
        self._where = ""

    def __call__(self, n: int) -> bytes:
        if self._recorder is not None:
            return self._recorder(n)
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
        """Start a step: when replaying, serve ``draws`` in order (``where`` names the step)."""
        self._where = where
        self._queue = list(draws)

    def end(self) -> list[Draw]:
        """Finish a step: the draws recorded during it (empty when replaying).

        Raises:
            VectorMismatch: replaying, and the step left recorded draws unused.
        """
        if self._recorder is not None:
            return self._recorder.take()
        if self._queue:
            raise VectorMismatch(
                self._where,
                f"{self._party} made {len(self._queue)} draw(s) fewer than recorded "
                f"(next unused: {self._queue[0].n} bytes)",
            )
        return []
