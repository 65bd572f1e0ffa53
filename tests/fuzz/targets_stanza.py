"""The ``message_stanza`` fuzz target: ``<message>`` stanzas from a peer.

``Node(...)`` trees go to :func:`parse_message_node` (both directions); trees
holding yowsup's bytes or int values (and those ``Node()`` refuses) go to the
yowsup bridge :func:`message_from_yowsup` as a peer's stanza (our own
outgoing trees are no remote input: a tree without ``from`` is refused there
at once). What the parser accepts must be what the builder
promises to read back (``tests/test_stanza.py``): every envelope it returns
is a valid :class:`Envelope` (the parser fills the fields in without the
constructor's checks), and built alone by :func:`envelope_to_node` it parses
back to itself with the stanza's type, media type and device identity. The
fast path for the common stanza must agree with the full parser, and the
yowsup bridge must read a tree of plain strings as the node ``Node()`` builds.
Those checks run after the clock stops (``Harness.check``): the time limit
judges the parser alone.

Seeds come from the stanza builder (a single pkmsg and msg, the group skmsg,
a resend with count and ``<device-identity>``, a directed group resend, a
group fan-out and a fan-out to the devices of one account), and each as the
server delivers it (``from``, ``t``, one stanza per device).
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Sequence
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.errors import AxolotlError, DecodeError, UsageError
from axolotl.receipts import Node, node_from_yowsup
from axolotl.receipts.jid import address_to_jid
from axolotl.retry import Envelope
from axolotl.retry.stanza import (
    MessageStanza,
    envelope_to_node,
    envelopes_to_node,
    is_group_jid,
    parse_message_node,
)
from axolotl.retry.stanza.parse import _parse
from axolotl.retry.stanza.yowsup import message_from_yowsup
from axolotl.wire import MessageType
from tests.fuzz.engine import Harness, Target, Violation
from tests.fuzz.mutate_node import Flat, build_node, flatten, mutate_flat
from tests.fuzz.seeds import world
from tests.fuzz.targets_receipts import (
    FakeProtocolTreeNode,
    flat_harness,
    ptn_from_flat,
    tag_for_yowsup,
)
from tests.stanza_helpers import fast_path

__all__ = [
    "BOB",
    "CAROL",
    "GROUP",
    "JIDS",
    "LOCAL",
    "T",
    "TARGETS",
    "check_stanza",
    "set_attr",
]

# The parties (shared with targets_retry.py): this device, two peers, a group.
GROUP = "120363025@g.us"
T = 1_700_000_000  # seconds
_DEVICE_IDENTITY = b"\x0a\x20" + bytes(range(32))
LOCAL = ProtocolAddress("491700000001@s.whatsapp.net", 0)
BOB = ProtocolAddress("499876@s.whatsapp.net", 2)
BOB_0 = ProtocolAddress("499876@s.whatsapp.net", 0)
CAROL = ProtocolAddress("491234@s.whatsapp.net", 7)
_DAVE = ProtocolAddress("497777@s.whatsapp.net", 3)

# Values a peer may put where a JID goes: the parties' own, other spellings of
# one device, non-ASCII digits in the device part (once a ValueError out of
# axolotl/receipts/jid.py), out-of-range and empty parts.
JIDS = (
    "499876:2@s.whatsapp.net", "499876@s.whatsapp.net", "499876:0@s.whatsapp.net",
    "491234:7@s.whatsapp.net", "490000:1@s.whatsapp.net", "491700000001@s.whatsapp.net",
    GROUP, "status@broadcast", "@g.us", "a@g.us", "499876:\u0662@s.whatsapp.net",
    "499876:2\u0660@s.whatsapp.net", "499876:\uff12@s.whatsapp.net", "499876:\u00b2@s.whatsapp.net",
    "499876:02@s.whatsapp.net", "499876:+2@s.whatsapp.net", "499876:-2@s.whatsapp.net",
    "499876:4294967295@s.whatsapp.net", "499876:4294967296@s.whatsapp.net",
    "499876:@s.whatsapp.net", ":2@s.whatsapp.net", "499876:2:3@s.whatsapp.net", "499876:2",
    "499876", "499876@", "@",
    "499876:2@s.whatsapp.net:5", "499876:2@g.us", "a:" + "9" * 4301 + "@s",
)  # fmt: skip


def set_attr(rng: random.Random, flat: Flat, names: Sequence[str], values: Sequence[str]) -> Flat:
    """Set one of ``names`` (on a row that has it, or on a random row) to one of ``values``."""
    rows = list(flat)
    name = rng.choice(names)
    having = [i for i, row in enumerate(rows) if any(k == name for k, _ in row[1])]
    i = rng.choice(having) if having and rng.random() < 0.9 else rng.randrange(len(rows))
    tag, attrs, data, parent = rows[i]
    kept = tuple((k, v) for k, v in attrs if k != name)
    rows[i] = (tag, (*kept, (name, rng.choice(values))), data, parent)
    return tuple(rows)


# -- message stanzas ----------------------------------------------------------------------------

_STANZA_VALUES = {
    "type": ("pkmsg", "msg", "skmsg", "PKMSG", "text", "media", "x"),
    "v": ("2", "1", "02", "3", " 2"),
    "count": ("1", "2", "255", "256", "0", "01", "\u0661", "-1", "9" * 4301),
    "t": ("0", "1", str(T), "18446744073709551", "18446744073709552", "01", "\u0661"),
    "mediatype": ("image", "ptt", "video"),
    "id": ("3EB0C127D7BACC83D6A1", "x"),
}
_JID_ATTRS = ("to", "from", "participant", "jid")


def _envelope(**changes: Any) -> Envelope:
    w = world()
    fields: dict[str, Any] = {
        "message_id": "3EB0C127D7BACC83D6A1",
        "sender": LOCAL,
        "recipient": BOB,
        "type": MessageType.PREKEY,
        "body": w.pairwise[0][1],
        "timestamp_ms": T * 1000,
    }
    fields.update(changes)
    return Envelope(**fields)


def _delivered(node: Node, author: ProtocolAddress, t: int) -> list[Node]:
    """What the server hands each device for our outgoing ``node`` (as tests/test_stanza.py)."""
    attrs = dict(node.attrs)
    to = attrs.pop("to")
    directed = attrs.pop("participant", None)
    attrs["t"] = str(t)
    if is_group_jid(to):
        attrs["from"], attrs["participant"] = to, address_to_jid(author)
    else:
        attrs["from"] = address_to_jid(author)
    shared = [k for k in node.children if k.tag == "enc"]
    identity = [k for k in node.children if k.tag == "device-identity"]
    personal = [
        list(to.children) for p in node.children if p.tag == "participants" for to in p.children
    ]
    if directed is not None or not personal:
        return [Node("message", attrs, shared + identity)]
    out = []
    for encs in personal:
        pkmsg = any(e.attrs.get("type") == "pkmsg" for e in encs)
        out.append(Node("message", attrs, encs + shared + (identity if pkmsg else [])))
    return out


@functools.cache
def _stanza_seeds() -> tuple[Flat, ...]:
    w = world()
    signal, group = w.pairwise[3][1], w.group[0]
    everyone = ProtocolAddress(GROUP, 0)
    fan_out = [
        _envelope(recipient=BOB, group_id=GROUP),
        _envelope(recipient=CAROL, type=MessageType.SIGNAL, body=signal, group_id=GROUP),
        _envelope(recipient=everyone, type=MessageType.SENDER_KEY, body=group, group_id=GROUP),
    ]
    outgoing = [
        envelope_to_node(_envelope()),  # a single pkmsg
        envelope_to_node(_envelope(recipient=BOB_0, type=MessageType.SIGNAL, body=signal)),
        envelope_to_node(fan_out[2]),  # the group's skmsg
        envelope_to_node(_envelope(retry_count=2), device_identity=_DEVICE_IDENTITY),
        envelope_to_node(_envelope(recipient=CAROL, group_id=GROUP, retry_count=1)),
        envelopes_to_node(
            fan_out, kind="media", media_type="image", device_identity=_DEVICE_IDENTITY
        ),
        envelopes_to_node(  # to the devices of one account
            [_envelope(recipient=BOB_0, type=MessageType.SIGNAL, body=signal), _envelope()]
        ),
    ]
    incoming = [d for node in outgoing for d in _delivered(node, _DAVE, T + 5)]
    nodes = outgoing + incoming
    for node in nodes:
        parse_message_node(node, LOCAL)  # the seeds are valid stanzas
    return tuple(flatten(node) for node in nodes)


def check_stanza(stanza: MessageStanza) -> None:
    """Every envelope of a parsed stanza must be valid and round-trip through the builder.

    Raises:
        Violation: an envelope its own constructor refuses, the builder
            refuses, or that does not parse back to itself.
    """
    for e in stanza.envelopes:
        try:  # the parser bypasses the constructors: run their checks now
            dataclasses.replace(
                e, sender=dataclasses.replace(e.sender), recipient=dataclasses.replace(e.recipient)
            )
        except UsageError as exc:
            raise Violation(f"the parser returned an invalid envelope: {exc}") from exc
        identity = stanza.device_identity if e.type == MessageType.PREKEY else None
        want = MessageStanza(
            envelopes=(e,), kind=stanza.kind, media_type=stanza.media_type, device_identity=identity
        )
        try:
            node = envelope_to_node(
                e, kind=stanza.kind, media_type=stanza.media_type, device_identity=identity
            )
            again = parse_message_node(node, e.sender)
        except AxolotlError as exc:
            raise Violation(f"a parsed envelope does not survive the builder: {exc!r}") from exc
        if again != want:
            raise Violation(f"builder round trip changed the envelope: {want!r} -> {again!r}")


def _has_yowsup_values(flat: Flat) -> bool:
    return any(v.startswith("\x00") for row in flat for _, v in row[1])


_StanzaInput = tuple[Node | None, FakeProtocolTreeNode]


def _prepare_stanza(flat: Flat) -> _StanzaInput:
    """The Node (None for trees Node() refuses or that hold yowsup values) and the yowsup tree.

    Raises:
        Violation: the yowsup bridge reads a tree of plain strings as another
            node than Node() builds from it.
    """
    ptn = ptn_from_flat(flat)
    if _has_yowsup_values(flat):
        return None, ptn
    try:
        node = build_node(flat)
    except UsageError:
        return None, ptn  # a tree Node() refuses still reaches the yowsup bridge
    try:
        converted = node_from_yowsup(ptn)
    except DecodeError:
        pass  # the bridge holds the receipts' tree limits, Node() only some of them
    else:
        if flatten(converted) != flatten(node):
            raise Violation("node_from_yowsup reads the tree as another node than Node()")
    return node, ptn


def _run_stanza(item: _StanzaInput) -> MessageStanza:
    node, ptn = item
    if node is None:
        return message_from_yowsup(ptn, LOCAL)
    return parse_message_node(node, LOCAL)


def _check_stanza(item: _StanzaInput, stanza: MessageStanza) -> None:
    node = item[0]
    if node is not None:
        fast = fast_path(node, LOCAL)
        if fast is not None:
            try:
                full = _parse(node, LOCAL)
            except AxolotlError as exc:
                raise Violation(f"the fast path took a stanza the parser refuses: {exc!r}") from exc
            if full != fast:
                raise Violation(f"fast path and parser differ: {fast!r} != {full!r}")
    check_stanza(stanza)


def _flip_direction(flat: Flat) -> Flat:
    """The root's ``to`` becomes ``from`` (outgoing read as incoming), or the other way."""
    tag, attrs, data, parent = flat[0]
    names = {k for k, _ in attrs}
    old, new = ("from", "to") if "from" in names else ("to", "from")
    flipped = tuple((new if k == old else k, v) for k, v in attrs if k != new)
    return ((tag, flipped, data, parent), *flat[1:])


def _message_stanza() -> Harness:
    seeds = _stanza_seeds()
    base = flat_harness(seeds, None)

    def mutate(rng: random.Random, flat: Flat, pool: Sequence[Flat]) -> Flat:
        # Field values, often on a fresh seed, so that a fair share of mutants
        # is accepted and reaches the round-trip checks.
        roll = rng.random()
        if roll < 0.45 and rng.random() < 0.3:
            flat = rng.choice(seeds)
        if roll < 0.2:
            return set_attr(rng, flat, _JID_ATTRS, JIDS)
        if roll < 0.4:
            name = rng.choice(list(_STANZA_VALUES))
            return set_attr(rng, flat, (name,), _STANZA_VALUES[name])
        if roll < 0.45:
            return _flip_direction(flat)
        if roll < 0.52:
            return tag_for_yowsup(rng, flat)
        return mutate_flat(rng, flat, pool)

    return Harness(
        seeds=list(seeds), mutate=mutate, run=_run_stanza, encode=base.encode,
        decode=base.decode, prepare=_prepare_stanza, check=_check_stanza,
    )  # fmt: skip


TARGETS = (
    Target(
        name="message_stanza",
        doc="parse_message_node / message_from_yowsup, builder round trips",
        build=_message_stanza,
    ),
)
