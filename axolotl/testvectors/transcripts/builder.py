"""Recording a transcript: :class:`TranscriptBuilder`, the generators' side of ``check``.

The generator ``vectors/generators/gen_transcripts.py`` scripts each
conversation as builder steps; every step runs through
:func:`~axolotl.testvectors.transcripts.ops.run_step` with the parties'
rngs recording, and is kept with its inputs, draws and result.
"""

from __future__ import annotations

from typing import Any

from axolotl.receipts import (
    OutgoingRetryReceipt,
    parse_text,
    receipt_from_node,
    receipt_to_node,
    receipt_to_proto,
)
from axolotl.retry.jid import address_to_jid
from axolotl.testvectors.transcripts.draws import Json
from axolotl.testvectors.transcripts.ops import run_step
from axolotl.testvectors.transcripts.stanzas import delivered_node, on_stanzas
from axolotl.testvectors.transcripts.steps import Args, World

__all__ = ["TranscriptBuilder"]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class TranscriptBuilder:
    """Record a transcript by running steps (the generators' side of :func:`check`).

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
        self._world = World(seed=seed)
        self.steps: list[Json] = []

    def step(self, op: str, party: str, *, note: str | None = None, **inputs: Any) -> Json:
        """Run and record one step.

        Args:
            op: a key of :data:`OPS`.
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
