"""Message stanzas in a transcript: a WhatsApp-framed party's envelopes as they travel.

A party on the WhatsApp framing talks to WhatsApp-style stacks, which read
``<message>`` stanzas (:mod:`axolotl.retry.stanza`), not our envelopes. For
such a party a transcript shows both directions in that form:

* :func:`stanzas_json`: the stanzas a retry-layer step's ``Transmit``
  actions go out as, grouped the way the README's "Plugging into a
  WhatsApp-style stack" device groups them: the first send of a group
  message is one fan-out (:func:`~axolotl.retry.stanza.envelopes_to_node`),
  so is a first send to several devices of one account; a resend (retry
  count > 0) and a first send to one device of a chat are one stanza each
  (:func:`~axolotl.retry.stanza.envelope_to_node`). Each stanza is checked
  to parse back into exactly its envelopes and to render again to the same
  text.
* :func:`delivered_node` and :func:`check_delivered`: the stanza a
  ``receive`` step's envelope arrives in, as the server delivers it.

Native-framed parties get neither: their peers are axolotl stacks, which
take envelopes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError
from axolotl.framing import WhatsAppFraming
from axolotl.receipts import Node, parse_text
from axolotl.receipts.jid import address_from_jid, address_to_jid
from axolotl.retry.events import Action, Envelope, Transmit
from axolotl.retry.policy import Priority
from axolotl.retry.stanza import (
    MessageStanza,
    envelope_to_node,
    envelopes_to_node,
    parse_message_node,
)
from axolotl.testvectors import VectorMismatch
from axolotl.testvectors.transcripts.draws import Json
from axolotl.testvectors.transcripts.steps import Args, Party
from axolotl.wire import MessageType

__all__ = ["on_stanzas", "stanzas_json", "delivered_node", "check_delivered", "first_difference"]


def on_stanzas(party: Party) -> bool:
    """Whether the transcript shows ``party``'s envelopes as stanzas (a WhatsApp-framed layer)."""
    return party.layer is not None and isinstance(party.layer.framing, WhatsAppFraming)


def first_difference(got: str, want: str) -> str:
    """Where two texts first differ (line and column, with what stands there): for messages."""
    got_lines, want_lines = got.splitlines(), want.splitlines()
    for number, (g, w) in enumerate(zip(got_lines, want_lines, strict=False), 1):
        if g != w:
            col = next((i for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), None)
            col = min(len(g), len(w)) if col is None else col
            start = max(0, col - 12)
            return (
                f"line {number}, column {col + 1}: {g[start : col + 28]!r} "
                f"!= expected {w[start : col + 28]!r}"
            )
    return f"{len(got_lines)} lines != expected {len(want_lines)}"


# -- outgoing: the stanzas of a step's transmits ---------------------------------------


def _plan(actions: Sequence[Action]) -> list[tuple[bool, list[int]]]:
    """The step's stanzas in order of their first transmit: (fan-out?, action indices)."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, action in enumerate(actions):
        if not isinstance(action, Transmit):
            continue
        env = action.envelope
        key: tuple[object, ...]
        if env.retry_count:
            key = ("resend", index)  # one stanza per device, count on its <enc>
        elif env.group_id is not None:
            key = ("group", env.message_id, env.group_id)
        else:
            key = ("chat", env.message_id, env.recipient.name)
        groups.setdefault(key, []).append(index)
    return [(key[0] == "group" or len(indices) > 1, indices) for key, indices in groups.items()]


def _as_read(env: Envelope, recipient: ProtocolAddress | None = None) -> Envelope:
    """``env`` as a stanza reads back: ``t`` in whole seconds, the local default priority."""
    return dataclasses.replace(
        env,
        recipient=env.recipient if recipient is None else recipient,
        timestamp_ms=env.timestamp_ms // 1000 * 1000,
        priority=Priority.DEFAULT,
    )


def _difference(got: MessageStanza, want: MessageStanza) -> str:
    """The first field in which a parsed stanza differs from the expected one."""
    if len(got.envelopes) != len(want.envelopes):
        return f"{len(got.envelopes)} envelope(s) != expected {len(want.envelopes)}"
    for i, (g, w) in enumerate(zip(got.envelopes, want.envelopes, strict=True)):
        for f in dataclasses.fields(Envelope):
            gv, wv = getattr(g, f.name), getattr(w, f.name)
            if gv != wv:
                shown = (gv.hex(), wv.hex()) if isinstance(gv, bytes) else (gv, wv)
                return f"envelope {i} {f.name}: {shown[0]!r} != expected {shown[1]!r}"
    for name in ("kind", "media_type", "device_identity"):
        gv, wv = getattr(got, name), getattr(want, name)
        if gv != wv:
            return f"{name}: {gv!r} != expected {wv!r}"
    return "no difference"  # pragma: no cover - only called on unequal stanzas


def _read_back(envs: list[Envelope], fan_out: bool) -> tuple[Envelope, ...]:
    """What parsing the stanza of ``envs`` must give: a fan-out's pairwise ones in order,
    then its shared ``skmsg`` once, addressed to the group."""
    if not fan_out:
        return tuple(_as_read(env) for env in envs)
    out = [_as_read(env) for env in envs if env.type != MessageType.SENDER_KEY]
    shared = [env for env in envs if env.type == MessageType.SENDER_KEY]
    if shared:
        group = shared[0].group_id
        assert group is not None  # an Envelope of type 4 always has its group
        out.append(_as_read(shared[0], recipient=address_from_jid(group)))
    return tuple(out)


def _render(envs: Sequence[Envelope], fan_out: bool) -> Node:
    return envelopes_to_node(envs) if fan_out else envelope_to_node(envs[0])


def _round_trip(where: str, party: Party, text: str, envs: list[Envelope], fan_out: bool) -> None:
    """Raise unless ``text`` parses into exactly ``envs`` and renders back to itself."""
    try:
        parsed = parse_message_node(parse_text(text), party.address)
        again = _render(parsed.envelopes, fan_out).to_text()
    except AxolotlError as exc:
        raise VectorMismatch(
            where, f"our own stanza does not read back: {type(exc).__name__}: {exc}"
        ) from None
    want = MessageStanza(envelopes=_read_back(envs, fan_out))
    if parsed != want:
        raise VectorMismatch(where, f"our stanza parses differently: {_difference(parsed, want)}")
    if again != text:
        raise VectorMismatch(
            where, f"our stanza renders differently once parsed: {first_difference(again, text)}"
        )


def stanzas_json(where: str, party: Party, actions: Sequence[Action]) -> list[Json]:
    """The stanzas the step's ``Transmit`` actions go out as, each checked to round-trip.

    Args:
        where: the step, for messages.
        party: the sending party (``local`` when its stanzas are parsed).
        actions: the retry layer's actions of the step.

    Returns:
        ``[{"transmits": [action indices], "node_text": text}, ...]``, one
        per stanza, in the order of their first transmit.

    Raises:
        VectorMismatch: a stanza does not parse back into its envelopes or
            renders differently once parsed (a bug in the stanza codec).
        UsageError: the envelopes have no stanza form (a group id that is
            not a group JID, an unprintable message id).
    """
    out: list[Json] = []
    for fan_out, indices in _plan(actions):
        envs = [a.envelope for a in (actions[i] for i in indices) if isinstance(a, Transmit)]
        text = _render(envs, fan_out).to_text()
        _round_trip(where, party, text, envs, fan_out)
        out.append({"transmits": indices, "node_text": text})
    return out


# -- incoming: the stanza a receive step's envelope arrives in ---------------------------


def delivered_node(envelope: Envelope) -> Node:
    """The stanza that delivers ``envelope`` to its recipient, as the server relays it.

    The single-recipient stanza of :func:`~axolotl.retry.stanza.envelope_to_node`
    with ``to`` (and a directed group message's ``participant``) replaced by
    where it comes from: ``from`` = the sender's device JID, or for a group
    message ``from`` = the group and ``participant`` = the sender's device.
    ``t`` stays the envelope's own time (the server relays the message's
    stamp), so the stanza parses back to the envelope.

    Raises:
        UsageError: the envelope has no stanza form (see
            :func:`~axolotl.retry.stanza.envelope_to_node`).
    """
    sent = envelope_to_node(envelope)
    author = address_to_jid(envelope.sender)
    attrs = {"id": sent.attrs["id"], "from": envelope.group_id or author}
    attrs["type"], attrs["t"] = sent.attrs["type"], sent.attrs["t"]
    if envelope.group_id is not None:
        attrs["participant"] = author
    return Node("message", attrs, sent.children)


def check_delivered(args: Args, party: Party, envelope: Envelope) -> None:
    """Check a ``receive`` step's ``stanza`` (required exactly when the party is on stanzas).

    It must parse (``local`` = the receiving party) into exactly the step's
    envelope, with ``t`` in whole seconds and the default priority, and be
    the text :func:`delivered_node` renders for that envelope.

    Raises:
        MalformedVector: ``stanza`` is missing on a WhatsApp-framed party,
            present on another, not a string, or does not parse; the
            envelope has no stanza form.
        VectorMismatch: the stanza carries another envelope or other text.
    """
    if not on_stanzas(party):
        if "stanza" in args.step:
            raise args.bad("stanza", "is only for a party on the WhatsApp framing")
        return
    text = args.get("stanza", str)
    try:
        parsed = parse_message_node(parse_text(text), party.address)
    except AxolotlError as exc:
        raise args.bad("stanza", f"does not parse: {type(exc).__name__}: {exc}") from None
    try:
        want_text = delivered_node(envelope).to_text()
    except AxolotlError as exc:
        raise args.bad("envelope", f"has no stanza form: {exc}") from None
    want = MessageStanza(envelopes=(_as_read(envelope),))
    if parsed != want:
        why = _difference(parsed, want)
        raise VectorMismatch(args.where, f"the stanza does not carry the step's envelope: {why}")
    if text != want_text:
        raise VectorMismatch(
            args.where,
            f"the stanza is not the one that delivers the envelope: "
            f"{first_difference(text, want_text)}",
        )
