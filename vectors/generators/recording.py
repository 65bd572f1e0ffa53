"""Recording vectors: the generators' side of the checkers (none of this ships in the wheel).

:class:`RecordingRng` wraps a real source and logs every ``rng(n)`` call as
a :class:`~axolotl.testvectors.transcripts.draws.Draw` (size, bytes and the
library call path that drew them); it is also the recording
:class:`~axolotl.testvectors.transcripts.draws.PartyRng` of a transcript
party. :class:`TranscriptBuilder` records a transcript: every step runs
through :func:`~axolotl.testvectors.transcripts.ops.run_step`, the code the
``transcript`` checker replays with, with the parties' rngs recording, and
is kept with its inputs, draws and result.

Imported by the generators beside it (``gen_framing.py``,
``gen_transcripts.py``) and by the tests, as ``vectors.generators.recording``
from the root of the source tree.
"""

from __future__ import annotations

import sys
from typing import Any

from axolotl.receipts import (
    OutgoingRetryReceipt,
    parse_text,
    receipt_from_node,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.receipts.jid import address_to_jid
from axolotl.rng import DeterministicRng, Rng
from axolotl.testvectors.transcripts.draws import Draw, Json
from axolotl.testvectors.transcripts.ops import run_step
from axolotl.testvectors.transcripts.stanzas import delivered_node, on_stanzas
from axolotl.testvectors.transcripts.steps import Args, World

__all__ = ["RecordingRng", "TranscriptBuilder"]

_SKIP_FRAMES = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "__call__")


def _call_path() -> str:
    """The ``axolotl`` functions on the stack that led to a draw, outermost first.

    The recorder's own frames (innermost) and the transcript runner's
    (outermost, in ``axolotl.testvectors``) are left out, as are
    comprehension frames.
    """
    names: list[str] = []
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
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

    As a transcript party's rng it records each step: ``begin`` is a no-op,
    ``end`` hands out the step's draws.

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

    def begin(self, where: str, draws: list[Draw]) -> None:
        """Start a step (recording: ``draws`` is empty, nothing to serve)."""
        del where, draws

    def end(self) -> list[Draw]:
        """Finish a step: the draws made during it."""
        return self.take()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class TranscriptBuilder:
    """Record a transcript by running steps (the generators' side of the ``transcript`` checker).

    Every party draws from its own :class:`~axolotl.rng.DeterministicRng`
    seeded with ``f"{seed}/{party}"``, through a :class:`RecordingRng`.

    Args:
        name: the case name.
        seed: the seed string.
        description: what the conversation shows.
    """

    def __init__(self, name: str, seed: str, description: str) -> None:
        self.name = name
        self.seed = seed
        self.description = description
        self._world = World(recorder=lambda key: RecordingRng(DeterministicRng(f"{seed}/{key}")))
        self.steps: list[Json] = []

    def step(self, op: str, party: str, *, note: str | None = None, **inputs: Any) -> Json:
        """Run and record one step.

        Args:
            op: a key of :data:`~axolotl.testvectors.transcripts.OPS`.
            party: the acting party.
            note: a comment kept in the file.
            **inputs: the op's inputs (bytes are written as hex).

        Returns:
            What the step produced (its ``expect``).

        Raises:
            MalformedVector: bad inputs.
        """
        step: Json = {"step": len(self.steps) + 1, "op": op, "party": party}
        if note is not None:
            step["note"] = note
        step.update(_jsonable(inputs))
        produced, draws, _ = run_step(self._world, step, step["step"])
        step["draws"] = [d.to_json() for d in draws]
        step["expect"] = produced
        self.steps.append(step)
        return produced

    def jid(self, party: str) -> str:
        """The device JID of a party (``to``/``from`` of its receipts)."""
        return address_to_jid(self._world.parties[party].address)

    def relay_receipt(self, action: Json, sender: str) -> Json:
        """The incoming form of a ``send_receipt`` action, as the server relays it.

        ``to`` becomes ``from`` (the JID of ``sender``, the party that sent
        the receipt); every other field arrives as sent.
        """
        outgoing = receipt_from_node(parse_text(action["node_text"]), OutgoingRetryReceipt)
        incoming = outgoing.received_from(self.jid(sender))
        return {
            "node_text": receipt_to_node(incoming).to_text(),
            "proto": receipt_to_proto(incoming).hex(),
        }

    def on_stanzas(self, party: str) -> bool:
        """Whether ``party`` is on the WhatsApp framing (its envelopes travel as stanzas)."""
        return on_stanzas(self._world.parties[party])

    def relay_stanza(self, envelope: Json) -> str:
        """The stanza, as text, that delivers ``envelope`` (a ``transmit``'s JSON) to its recipient.

        What a ``receive`` step of a party on stanzas carries as ``stanza``
        (see :func:`~axolotl.testvectors.transcripts.stanzas.delivered_node`).

        Raises:
            MalformedVector: ``envelope`` is not an envelope in transcript form.
        """
        read = Args(self._world, {"envelope": envelope}, "relay_stanza").envelope()
        return delivered_node(read).to_text()

    def case(self) -> Json:
        """The finished case, ready for the vector file."""
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "parties": {
                key: {"name": p.address.name, "device_id": p.address.device_id}
                for key, p in self._world.parties.items()
            },
            "steps": self.steps,
        }
