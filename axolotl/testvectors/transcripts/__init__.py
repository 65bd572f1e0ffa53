"""Replayable transcripts: whole conversations, every random draw and every wire byte.

A transcript (``vectors/README.md`` documents the format) is a list of
*steps*. Each step is one call on one party -- create it, publish a bundle,
encrypt, decrypt, or one :class:`~axolotl.retry.RetryLayer` call -- with its
inputs, the random draws the party made during the call (size and bytes, in
order) and what the call must produce: wire bytes, a plaintext, an error
class, or the retry layer's actions (receipts as node text and protobuf;
for a party on the WhatsApp framing, its envelopes as message stanzas too).

:func:`check` replays a transcript: every party draws its randomness from the
recorded draws of the step being run (a draw of another size, a missing or a
left-over draw is a mismatch), so the replay recomputes every key, MAC,
signature and ciphertext from the recorded inputs and compares byte for
byte. The generators in ``vectors/generators/`` of the source tree record
transcripts by running the same step code with recording rngs of their own
(``vectors/generators/recording.py``: none of that ships).

A transcript that cannot be read (unknown op, a field that is not hex, a
missing input, a reference to a party never created) raises
:class:`~axolotl.testvectors.MalformedVector` naming the step.

What lives where:

``draws``
    :class:`Draw` and the parties' rng (:class:`~.draws.PartyRng`; the
    replaying :class:`~.draws.StepRng`).
``steps``
    The parties of a run, typed reading of a step's inputs and the retry
    layer's actions as JSON.
``stanzas``
    A WhatsApp-framed party's envelopes as ``<message>`` stanzas: the
    ``stanzas`` of its steps' transmits and the incoming ``stanza`` of its
    ``receive`` steps, each checked to read back into its envelopes.
``ops``
    :data:`OPS`, one function per step ``op``, and running one step.
``replay``
    :func:`check` and the comparison of a step's result with its ``expect``
    (:data:`HEX_FIELDS` byte for byte).

The scripted conversations themselves are in
``vectors/generators/gen_transcripts.py``.
"""

from __future__ import annotations

from axolotl.testvectors.transcripts.draws import Draw
from axolotl.testvectors.transcripts.ops import OPS
from axolotl.testvectors.transcripts.replay import HEX_FIELDS, check

__all__ = ["Draw", "check", "OPS", "HEX_FIELDS"]
