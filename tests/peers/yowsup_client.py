"""Drive yowsup 3.3.0's own axolotl layers (``yowsup_layers_peer.py``) through a model server.

Three pieces, all on our side of the process boundary:

* :class:`YowsupLayersPeer`: the peer process (one is plenty: it hosts any number
  of yowsup users, each a full axolotl stack on its own store).
* :class:`YowsupUser`: one user in it. Whatever its stack sends down comes back as
  JSON nodes (``{"tag", "attrs", "children", "data"}``, data hex); whatever reaches
  its application is recorded in :attr:`YowsupUser.delivered`.
* :class:`WhatsAppServer`: the part of the WhatsApp server yowsup talks to. It
  answers ``<iq xmlns="encrypt" type="get">`` (get keys) from each user's bundles and
  ``<iq xmlns="w:g2" type="get">`` (group info) from its group list, and routes
  ``<message>`` and ``<receipt>`` stanzas the way the server rewrites them: ``to``
  becomes ``from`` plus a ``t`` stamp; a group message fans out per participant
  (``<participants><to jid><enc/></to></participants>`` picked apart, ``participant``
  = author); a group stanza carrying ``participant`` goes to that participant only,
  with ``participant`` rewritten to the sender. Any endpoint with ``jid``,
  ``receive(node) -> list[node]`` and ``bundle()`` can join, so our own stack can
  later sit beside yowsup's.

With ``server_acks=True`` the server acks each ``<message>`` it takes
(``<ack class="message" id from=TO t>``, as WhatsApp's server does; off by
default, since yowsup's layers ignore it). Not modelled: offline queues,
``notify``, multi-device, prekey counts (each bundle comes from the endpoint
on demand).

Example::

    with YowsupLayersPeer.start() as peer:
        server = WhatsAppServer()
        alice = server.join(YowsupUser(peer, "491700000001"))
        bob = server.join(YowsupUser(peer, "491700000002"))
        server.submit(alice.jid, alice.send_text(bob.jid, "hi", "MSG1"))
        server.run()
        assert [m["body"] for m in bob.delivered] == ["hi"]
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from tests.peers.client import DEFAULT_TIMEOUT, Peer

Node = dict[str, Any]
SCRIPT = Path(__file__).resolve().with_name("yowsup_layers_peer.py")
SERVER_JID = "s.whatsapp.net"


# ---------------------------------------------------------------------------
# JSON nodes


def node(
    tag: str,
    attrs: dict[str, str] | None = None,
    children: list[Node] | None = None,
    data: bytes | None = None,
) -> Node:
    """Build a node in the peer's JSON form.

    Args:
        tag: the element name.
        attrs: attributes (strings).
        children: child nodes, in order.
        data: the node's bytes, or None.

    Returns:
        ``{"tag", "attrs", "children", "data"}`` with data as hex.
    """
    return {
        "tag": tag,
        "attrs": dict(attrs or {}),
        "children": list(children or []),
        "data": None if data is None else data.hex(),
    }


def kids(parent: Node, tag: str | None = None) -> list[Node]:
    """Return the children of ``parent`` (only those named ``tag`` if given)."""
    return [c for c in parent["children"] if tag is None or c["tag"] == tag]


def kid(parent: Node, tag: str) -> Node | None:
    """Return the first child named ``tag``, or None."""
    found = kids(parent, tag)
    return found[0] if found else None


def need(parent: Node, tag: str) -> Node:
    """Return the first child named ``tag``.

    Raises:
        AssertionError: there is none (tests use this where the child must exist).
    """
    found = kid(parent, tag)
    if found is None:
        raise AssertionError(f"<{parent['tag']}> has no <{tag}> child:\n{render(parent)}")
    return found


def data_of(n: Node | None) -> bytes | None:
    """Return a node's data as bytes (None when the node or its data is absent)."""
    return None if n is None or n["data"] is None else bytes.fromhex(n["data"])


def flip_byte(n: Node, index: int = -1) -> Node:
    """Return a copy of ``n`` with one byte of its data inverted (default: the last)."""
    raw = bytearray(data_of(n) or b"")
    raw[index] ^= 0xFF
    return {**n, "data": bytes(raw).hex()}


def render(n: Node, depth: int = 0) -> str:
    """An indented one-line-per-node text form (data shown as its length), for messages."""
    attrs = "".join(f' {k}="{v}"' for k, v in n["attrs"].items())
    data = f" [{len(n['data']) // 2} B]" if n["data"] is not None else ""
    lines = ["  " * depth + f"<{n['tag']}{attrs}>{data}"]
    lines += [render(c, depth + 1) for c in n["children"]]
    return "\n".join(lines)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def pkmsg_inner_span(pkmsg: bytes) -> tuple[int, int]:
    """Where a PreKeySignalMessage's inner SignalMessage (field 4) sits in it.

    Args:
        pkmsg: version byte plus the protobuf.

    Returns:
        ``(start, end)`` offsets of the inner message's bytes.

    Raises:
        ValueError: no length-delimited field 4, or a wire type other than 0 / 2.
    """
    pos = 1
    while pos < len(pkmsg):
        key, pos = _varint(pkmsg, pos)
        if key & 7 == 0:
            _, pos = _varint(pkmsg, pos)
        elif key & 7 == 2:
            length, pos = _varint(pkmsg, pos)
            if key >> 3 == 4:
                return pos, pos + length
            pos += length
        else:
            raise ValueError(f"unexpected wire type {key & 7}")
    raise ValueError("no inner message (field 4)")


def break_mac(enc: Node) -> Node:
    """Return a copy of an ``<enc>`` whose ciphertext still parses but fails to decrypt.

    ``msg``: the last byte (of the 8-byte MAC). ``pkmsg``: the last byte of the
    inner SignalMessage (its MAC), so the outer protobuf stays well formed.
    ``skmsg``: the last byte (of the 64-byte signature).
    """
    raw = data_of(enc) or b""
    if enc["attrs"].get("type") == "pkmsg":
        return flip_byte(enc, pkmsg_inner_span(raw)[1] - 1)
    return flip_byte(enc)


def replace_enc(message: Node, edit: Callable[[Node], Node]) -> Node:
    """Return a copy of a ``<message>`` with ``edit`` applied to each direct ``<enc>``."""
    children = [edit(c) if c["tag"] == "enc" else c for c in message["children"]]
    return {**message, "children": children}


# ---------------------------------------------------------------------------
# the peer process and its users


class YowsupLayersPeer(Peer):
    """The peer process hosting yowsup users (see ``yowsup_layers_peer.py``).

    Args:
        python: the peer venv's interpreter.
        timeout: seconds to wait for each answer.
    """

    def __init__(self, python: Path | str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(python, script=SCRIPT, timeout=timeout)

    @classmethod
    def start(cls, *, timeout: float = DEFAULT_TIMEOUT, rebuild: bool = False) -> YowsupLayersPeer:
        """Build the peer venv if needed and start the process.

        Args:
            timeout: seconds to wait for each answer.
            rebuild: force a rebuild of the venv first.

        Returns:
            The running peer.

        Raises:
            tests.peers.envs.EnvBuildError: the venv could not be built.
        """
        from tests.peers.envs import ensure_env

        return cls(ensure_env(rebuild=rebuild), timeout=timeout)


class YowsupUser:
    """One yowsup user (a full axolotl stack) inside a :class:`YowsupLayersPeer`.

    Args:
        peer: the process.
        phone: the user's number (digits); the jid is ``phone@s.whatsapp.net``.
        autotrust: set yowsup's ``PROP_IDENTITY_AUTOTRUST``.
        db_path: a sqlite file for yowsup's store (default: in memory).
        prekeys: how many prekeys yowsup generates on connect (default: its 812,
            ~0.17 s per user; a test needs a handful).
        instance: the name inside the process (default: the phone number).
        receipts: the app answers every text with its delivery receipt
            (``message.ack()``), as a yowsup app does.

    Attributes:
        delivered: text messages that reached the application, in order, each
            ``{"entity", "id", "from", "participant", "body"}``.
        up: every node the axolotl layers passed up, with ``message`` decoded.
        app: everything that reached the application (texts, receipts, acks, iqs).
        raised: exceptions yowsup's code raised while handling a stanza.
        framing: every padding yowsup's manager added (``{"op": "pad", "n",
            "padding"}``) or stripped (``{"op": "unpad", "n", "length", "tail"}``).
    """

    def __init__(
        self,
        peer: Peer,
        phone: str,
        *,
        autotrust: bool = False,
        db_path: str | None = None,
        prekeys: int | None = None,
        instance: str | None = None,
        receipts: bool = False,
    ) -> None:
        self.peer = peer
        self.instance = instance or phone
        self.delivered: list[dict[str, Any]] = []
        self.up: list[dict[str, Any]] = []
        self.app: list[dict[str, Any]] = []
        self.raised: list[dict[str, Any]] = []
        self.framing: list[dict[str, Any]] = []
        created = self.peer.call(
            "create",
            instance=self.instance,
            phone=phone,
            autotrust=autotrust,
            db_path=db_path,
            prekeys=prekeys,
            receipts=receipts,
        )
        self.jid: str = created["jid"]
        self.registration_id: int = created["registration_id"]
        self.identity_key = bytes.fromhex(created["identity_key"])
        self.prekeys: int = created["prekeys"]
        self._absorb(created)

    def _absorb(self, step: dict[str, Any]) -> list[Node]:
        self.up.extend(step["up"])
        self.app.extend(step["app"])
        self.framing.extend(step["framing"])
        self.delivered.extend(e for e in step["app"] if e["entity"] == "TextMessageProtocolEntity")
        if step["raised"] is not None:
            self.raised.append(step["raised"])
        out: list[Node] = step["out"]
        return out

    def _step(self, cmd: str, **args: Any) -> list[Node]:
        return self._absorb(self.peer.call(cmd, instance=self.instance, **args))

    def receive(self, stanza: Node) -> list[Node]:
        """Push a node up from the network; return what the stack sent down."""
        return self._step("receive", node=stanza)

    def send_text(self, to: str, text: str, message_id: str) -> list[Node]:
        """Send a text the way a yowsup app does (``TextMessageProtocolEntity``)."""
        return self._step("send_text", to=to, text=text, message_id=message_id)

    def send_message(self, to: str, message: bytes, message_id: str) -> list[Node]:
        """Send a ``<message><proto>`` whose ``Message`` protobuf the caller made."""
        return self._step("send_message", to=to, message=message.hex(), message_id=message_id)

    def bundle(self) -> dict[str, Any]:
        """A prekey bundle as the server would hand it out (one fresh prekey each call)."""
        return self.peer.call("bundle", instance=self.instance)

    def wipe_session(self, jid: str) -> bool:
        """Delete the session with ``jid``; return whether there was one."""
        return bool(self.peer.call("wipe_session", instance=self.instance, jid=jid)["existed"])

    def wipe_sender_key(self, group: str, sender: str) -> bool:
        """Forget ``sender``'s sender key for ``group``; return whether there was one."""
        answer = self.peer.call(
            "wipe_sender_key", instance=self.instance, group=group, sender=sender
        )
        return bool(answer["existed"])

    def state(self) -> dict[str, Any]:
        """Sessions, sender keys, retry counters, send queue, pending iqs."""
        return self.peer.call("state", instance=self.instance)

    def bodies(self) -> list[str]:
        """The bodies of :attr:`delivered`, in order."""
        return [str(m["body"]) for m in self.delivered]


# ---------------------------------------------------------------------------
# the server


class Endpoint(Protocol):
    """What the server needs of a client."""

    jid: str

    def receive(self, stanza: Node) -> list[Node]:
        """Handle one incoming node; return the nodes sent back to the server."""

    def bundle(self) -> dict[str, Any]:
        """Return a prekey bundle (hex keys with the 0x05 type byte)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One thing the server did. ``kind``: send (client -> server), deliver, drop."""

    kind: str
    src: str
    dst: str
    node: Node


Intercept = Callable[[str, str, Node], Node | None]
E = TypeVar("E", bound=Endpoint)


def _be(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def keys_user_node(jid: str, bundle: dict[str, Any]) -> Node:
    """The ``<user>`` of a get-keys result, laid out as WhatsApp's server sends it.

    Args:
        jid: the user's jid.
        bundle: as :meth:`YowsupUser.bundle` returns it; ``pre_key_id`` None leaves
            out the one-time prekey (``<key>``), as a server that ran out does.

    Returns:
        ``<user jid><registration/><type/><identity/><skey>..</skey>[<key>..</key>]``
        with ids big-endian (registration 4 bytes, key ids 3) and keys without
        their 0x05 type byte.

    Raises:
        ValueError: a public key is not 33 bytes starting 0x05.
    """
    key = bytes.fromhex

    def raw(field: str) -> bytes:
        public = key(bundle[field])
        if len(public) != 33 or public[0] != 5:
            raise ValueError(f"{field} must be 33 bytes starting 0x05")
        return public[1:]

    one_time = []
    if bundle.get("pre_key_id") is not None:
        one_time = [
            node(
                "key",
                children=[
                    node("id", data=_be(bundle["pre_key_id"], 3)),
                    node("value", data=raw("pre_key_public")),
                ],
            )
        ]
    return node(
        "user",
        {"jid": jid},
        [
            node("registration", data=_be(bundle["registration_id"], 4)),
            node("type", data=b"\x05"),
            node("identity", data=raw("identity_key")),
            node(
                "skey",
                children=[
                    node("id", data=_be(bundle["signed_pre_key_id"], 3)),
                    node("value", data=raw("signed_pre_key_public")),
                    node("signature", data=key(bundle["signed_pre_key_signature"])),
                ],
            ),
            *one_time,
        ],
    )


class WhatsAppServer:
    """Routes stanzas between endpoints and answers their key and group queries.

    Args:
        clock: the first ``t`` stamp; each routed stanza takes the next second.

    Attributes:
        hops: the transcript, in order.
        intercept: called as ``intercept(src, dst, node)`` before each delivery of a
            ``<message>`` or ``<receipt>``; returns the node to deliver (possibly
            changed) or None to drop it.
        stale_bundles: bundles to serve, per jid, before asking the endpoint (e.g.
            one whose prekey was already used).
        key_requests: the jids each get-keys asked for, in order.
        served_bundles: ``(jid, bundle)`` for every bundle handed out, in order.
        exhausted: jids whose bundles go out without a one-time prekey.
        server_acks: ack every ``<message>`` a client sends.
    """

    def __init__(self, clock: int = 1_700_000_000, *, server_acks: bool = False) -> None:
        self.clock = clock
        self.server_acks = server_acks
        self.endpoints: dict[str, Endpoint] = {}
        self.groups: dict[str, list[str]] = {}
        self.hops: list[Hop] = []
        self.intercept: Intercept | None = None
        self.stale_bundles: dict[str, list[dict[str, Any]]] = {}
        self.key_requests: list[list[str]] = []
        self.served_bundles: list[tuple[str, dict[str, Any]]] = []
        self.exhausted: set[str] = set()
        self._queue: deque[tuple[str, str, Node]] = deque()

    def join(self, endpoint: E) -> E:
        """Register an endpoint under its ``jid``; return it."""
        self.endpoints[endpoint.jid] = endpoint
        return endpoint

    def create_group(self, group_jid: str, members: list[str]) -> str:
        """Define a group (``...@g.us``) and its members' jids; return its jid."""
        self.groups[group_jid] = list(members)
        return group_jid

    def _tick(self) -> str:
        self.clock += 1
        return str(self.clock)

    # -- client -> server --------------------------------------------------------
    def submit(self, src: str, nodes: list[Node]) -> None:
        """Take the nodes ``src`` sent; queue what the server sends because of them."""
        for n in nodes:
            self.hops.append(Hop(kind="send", src=src, dst=SERVER_JID, node=n))
            self._route(src, n)

    def _route(self, src: str, n: Node) -> None:
        tag, attrs = n["tag"], n["attrs"]
        if tag == "iq" and attrs.get("type") == "get" and attrs.get("xmlns") == "encrypt":
            self._queue.append((SERVER_JID, src, self._keys_result(n)))
        elif tag == "iq" and attrs.get("type") == "get" and attrs.get("xmlns") == "w:g2":
            self._queue.append((attrs["to"], src, self._group_result(n)))
        elif tag == "message":
            if self.server_acks:
                attrs = {"class": "message", "id": attrs["id"], "from": attrs["to"]}
                self._queue.append((SERVER_JID, src, node("ack", {**attrs, "t": self._tick()})))
            self._route_message(src, n)
        elif tag == "receipt":
            self._route_receipt(src, n)
        # acks and anything else end at the server.

    def _keys_result(self, iq: Node) -> Node:
        users = []
        jids = [u["attrs"]["jid"] for c in kids(iq, "key") for u in kids(c, "user")]
        self.key_requests.append(jids)
        for jid in jids:
            stale = self.stale_bundles.get(jid)
            if stale:
                bundle = stale.pop(0)
            elif jid in self.endpoints:
                bundle = self.endpoints[jid].bundle()
                if jid in self.exhausted:
                    bundle = {**bundle, "pre_key_id": None, "pre_key_public": None}
            else:
                continue
            self.served_bundles.append((jid, bundle))
            users.append(keys_user_node(jid, bundle))
        attrs = {"type": "result", "from": SERVER_JID, "id": iq["attrs"]["id"]}
        return node("iq", attrs, [node("list", children=users)])

    def _group_result(self, iq: Node) -> Node:
        group = iq["attrs"]["to"]
        members = self.groups.get(group, [])
        creator = members[0] if members else SERVER_JID
        group_node = node(
            "group",
            {
                "id": group.split("@")[0],
                "subject": "test",
                "creation": str(self.clock),
                "creator": creator,
                "s_t": str(self.clock),
                "s_o": creator,
            },
            [node("participant", {"jid": jid}) for jid in members],
        )
        attrs = {"type": "result", "from": group, "id": iq["attrs"]["id"]}
        return node("iq", attrs, [group_node])

    def _incoming(self, n: Node, sender: str, participant: str | None) -> dict[str, str]:
        attrs = {k: v for k, v in n["attrs"].items() if k not in ("to", "participant")}
        attrs["from"] = sender
        if participant is not None:
            attrs["participant"] = participant
        attrs["t"] = self._tick()
        return attrs

    def _route_message(self, src: str, n: Node) -> None:
        to = n["attrs"]["to"]
        encs = kids(n, "enc")
        if not to.endswith("@g.us"):
            self._queue.append((src, to, node("message", self._incoming(n, src, None), encs)))
            return
        directed = n["attrs"].get("participant")
        personal = {
            t["attrs"]["jid"]: kids(t, "enc")
            for p in kids(n, "participants")
            for t in kids(p, "to")
        }
        for member in [directed] if directed else self.groups.get(to, []):
            if member == src:
                continue
            children = personal.get(member, []) + encs
            if children:
                attrs = self._incoming(n, to, src)
                self._queue.append((src, member, node("message", attrs, children)))

    def _route_receipt(self, src: str, n: Node) -> None:
        to = n["attrs"]["to"]
        participant = n["attrs"].get("participant")
        if to.endswith("@g.us") and participant:
            dst, attrs = participant, self._incoming(n, to, src)
        else:
            dst, attrs = to, self._incoming(n, src, None)
        self._queue.append((src, dst, node("receipt", attrs, n["children"])))

    # -- server -> client ----------------------------------------------------------
    def run(self, max_hops: int = 500) -> int:
        """Deliver queued stanzas (and whatever they cause) until nothing is left.

        Args:
            max_hops: give up after this many deliveries (a retry loop).

        Returns:
            How many stanzas were delivered.

        Raises:
            RuntimeError: ``max_hops`` reached with stanzas still queued.
        """
        delivered = 0
        while self._queue:
            if delivered >= max_hops:
                raise RuntimeError(f"still {len(self._queue)} stanzas queued after {max_hops}")
            src, dst, n = self._queue.popleft()
            if self.intercept is not None and n["tag"] in ("message", "receipt"):
                changed = self.intercept(src, dst, n)
                if changed is None:
                    self.hops.append(Hop(kind="drop", src=src, dst=dst, node=n))
                    continue
                n = changed
            endpoint = self.endpoints.get(dst)
            if endpoint is None:
                self.hops.append(Hop(kind="drop", src=src, dst=dst, node=n))
                continue
            self.hops.append(Hop(kind="deliver", src=src, dst=dst, node=n))
            delivered += 1
            self.submit(dst, endpoint.receive(n))
        return delivered

    def transcript(self, start: int = 0) -> str:
        """The hops from ``start`` on as text (for assertion messages)."""
        return "\n".join(
            f"-- {h.kind} {h.src} -> {h.dst}\n{render(h.node, 1)}" for h in self.hops[start:]
        )

    def delivered(self, tag: str, dst: str | None = None) -> list[Node]:
        """Nodes named ``tag`` the server delivered (only to ``dst`` if given), in order."""
        return [
            h.node
            for h in self.hops
            if h.kind == "deliver" and h.node["tag"] == tag and (dst is None or h.dst == dst)
        ]

    def sent(self, tag: str, src: str | None = None) -> list[Node]:
        """Nodes named ``tag`` that clients sent (only ``src``'s if given), in order."""
        return [
            h.node
            for h in self.hops
            if h.kind == "send" and h.node["tag"] == tag and (src is None or h.src == src)
        ]
