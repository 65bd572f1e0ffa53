"""Our stack as a WhatsApp client beside yowsup's: the README's ``WhatsAppDevice``, served.

:class:`AxolotlUser` is an endpoint of the model server
(:class:`~tests.peers.yowsup_client.WhatsAppServer`: ``jid``, ``receive(node) -> nodes``,
``bundle()``), as :class:`~tests.peers.yowsup_client.YowsupUser` is.
Its retry work is done by the README's ``WhatsAppDevice`` class, executed from
README.md as written (so the tests prove the example a newcomer copies): a
``RetryLayer`` on ``WhatsAppFraming`` and message stanzas. What the README leaves
to "your stack" is here: JSON nodes <-> :class:`~axolotl.receipts.Node`, the
get-keys iq (``xmlns="encrypt"``) and the group-info iq (``xmlns="w:g2"``)
before a first send, and a clock.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

from axolotl.address import ProtocolAddress
from axolotl.crypto.curve import PublicKey
from axolotl.errors import AxolotlError
from axolotl.framing import conversation, conversation_text
from axolotl.keys import (
    PreKeyBundle,
    generate_identity_key_pair,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.receipts import Node as AxNode
from axolotl.rng import DeterministicRng
from axolotl.session import new_bundle
from axolotl.store.memory import MemoryStore
from tests.peers.yowsup_client import SERVER_JID, Node, kid, kids, need, node

README = Path(__file__).resolve().parents[2] / "README.md"
_MARK = "\n# A toy server"


def readme_device_class() -> type:
    """The ``WhatsAppDevice`` class of the README's WhatsApp example, executed as written.

    Raises:
        AssertionError: the README has no such example (the test names it).
    """
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    found = [b for b in blocks if "class WhatsAppDevice" in b]
    assert len(found) == 1, "README.md must hold one example defining WhatsAppDevice"
    code = found[0].split(_MARK, 1)[0]  # the class and its imports; the demo stays out
    namespace: dict[str, Any] = {"__name__": "readme_whatsapp"}
    exec(compile(code, "README.md", "exec"), namespace)
    cls: type = namespace["WhatsAppDevice"]
    return cls


def to_ax(n: Node) -> AxNode:
    """A JSON node as our :class:`~axolotl.receipts.Node`."""
    data = None if n["data"] is None else bytes.fromhex(n["data"])
    return AxNode(n["tag"], n["attrs"], [to_ax(c) for c in n["children"]], data)


def from_ax(n: AxNode) -> Node:
    """Our node as the harness's JSON node."""
    return node(n.tag, dict(n.attrs), [from_ax(c) for c in n.children], n.data)


def _key(raw: bytes) -> PublicKey:
    return PublicKey.deserialize(b"\x05" + raw)


def _bytes(parent: Node, tag: str) -> bytes:
    return bytes.fromhex(need(parent, tag)["data"])


def bundle_from_keys_user(user: Node) -> PreKeyBundle:
    """A get-keys result's ``<user>`` (``keys_user_node``'s layout) as a bundle."""
    skey = need(user, "skey")
    one_time = kid(user, "key")
    return PreKeyBundle(
        registration_id=int.from_bytes(_bytes(user, "registration"), "big"),
        device_id=0,
        pre_key_id=None if one_time is None else int.from_bytes(_bytes(one_time, "id"), "big"),
        pre_key_public=None if one_time is None else _key(_bytes(one_time, "value")),
        signed_pre_key_id=int.from_bytes(_bytes(skey, "id"), "big"),
        signed_pre_key_public=_key(_bytes(skey, "value")),
        signed_pre_key_signature=_bytes(skey, "signature"),
        identity_key=_key(_bytes(user, "identity")),
    )


def bundle_json(bundle: PreKeyBundle) -> dict[str, Any]:
    """A bundle in the harness's form (hex keys with their 0x05 type byte)."""
    return {
        "registration_id": bundle.registration_id,
        "pre_key_id": bundle.pre_key_id,
        "pre_key_public": bundle.pre_key_public.serialize().hex()
        if bundle.pre_key_public
        else None,
        "signed_pre_key_id": bundle.signed_pre_key_id,
        "signed_pre_key_public": bundle.signed_pre_key_public.serialize().hex(),
        "signed_pre_key_signature": bundle.signed_pre_key_signature.hex(),
        "identity_key": bundle.identity_key.serialize().hex(),
    }


class AxolotlUser:
    """Our RetryLayer (WhatsApp framing) as a WhatsApp client of the model server.

    Args:
        phone: the number; the jid is ``phone@s.whatsapp.net``, device 0.
        seed: deterministic randomness for keys, ids and padding.

    Attributes:
        device: the README's ``WhatsAppDevice`` (``shown``, ``waiting``, ``layer``).
        errors: typed errors our stack raised on a node from the server.
    """

    _iq_ids = itertools.count(1)

    def __init__(self, phone: str, *, seed: str | None = None) -> None:
        from axolotl.framing import WhatsAppFraming
        from axolotl.retry import RetryLayer

        rng = DeterministicRng(seed or f"axolotl-user-{phone}")
        identity = generate_identity_key_pair(rng)
        self.store = MemoryStore(identity, generate_registration_id(rng))
        self.store.store_signed_pre_key(generate_signed_pre_key(identity, 1, 0, rng))
        self.rng = rng
        self.jid = f"{phone}@s.whatsapp.net"
        self.address = ProtocolAddress(self.jid, 0)
        layer = RetryLayer(self.store, self.address, rng=rng, framing=WhatsAppFraming())
        self.device = readme_device_class()(layer)
        self.errors: list[AxolotlError] = []
        self.clock_ms = 1_700_000_000_000
        self._pending: dict[str, tuple[str, list[ProtocolAddress] | None, str, str]] = {}
        self._fetching: dict[str, list[ProtocolAddress]] = {}

    @property
    def registration_id(self) -> int:
        """Our registration id."""
        return self.store.get_local_registration_id()

    def _now(self) -> int:
        self.clock_ms += 1000
        return self.clock_ms

    # -- the endpoint --------------------------------------------------------------
    def bundle(self) -> dict[str, Any]:
        """A fresh bundle, as the server hands it out."""
        bundle = new_bundle(self.store, 0, self.rng)
        assert bundle is not None
        return bundle_json(bundle)

    def receive(self, stanza: Node) -> list[Node]:
        """Handle one node from the server; return what we send back."""
        if stanza["tag"] == "iq" and stanza["attrs"].get("type") == "result":
            return self._iq_result(stanza)
        try:
            out = self.device.on_node(to_ax(stanza), self._now())
        except AxolotlError as exc:
            self.errors.append(exc)
            return []
        return [from_ax(n) for n in out] + self._fetch_bundles()

    def tick(self) -> list[Node]:
        """Run the layer's timers as if their time had come; return what goes out."""
        if self.device.wake_at is None:
            return []
        self.clock_ms = max(self.clock_ms, self.device.wake_at)
        self.device.wake_at = None
        out = self.device.carry_out(self.device.layer.tick(self.clock_ms), self.clock_ms)
        return [from_ax(n) for n in out] + self._fetch_bundles()

    def _fetch_bundles(self) -> list[Node]:
        """A get-keys iq for the devices the layer asked bundles of (``FetchBundle``)."""
        if not self.device.fetch:
            return []
        devices, self.device.fetch = list(self.device.fetch), []
        iq_id = f"ax-{next(self._iq_ids)}"
        self._fetching[iq_id] = devices
        users = [node("user", {"jid": d.name}) for d in devices]
        attrs = {"id": iq_id, "type": "get", "xmlns": "encrypt", "to": SERVER_JID}
        return [node("iq", attrs, [node("key", children=users)])]

    # -- the application -----------------------------------------------------------
    def send_text(self, to: str, text: str, message_id: str) -> list[Node]:
        """Send a text to a user or a group, fetching members and keys first as needed."""
        if to.endswith("@g.us"):
            iq_id = f"ax-{next(self._iq_ids)}"
            self._pending[iq_id] = (to, None, text, message_id)
            attrs = {"id": iq_id, "type": "get", "xmlns": "w:g2", "to": to}
            return [node("iq", attrs, [node("query", {"request": "interactive"})])]
        return self._send_to(to, [ProtocolAddress(to, 0)], text, message_id)

    def _send_to(
        self, to: str, devices: list[ProtocolAddress], text: str, message_id: str
    ) -> list[Node]:
        missing = [d for d in devices if not self.store.contains_session(d)]
        if missing:
            iq_id = f"ax-{next(self._iq_ids)}"
            self._pending[iq_id] = (to, devices, text, message_id)
            users = [node("user", {"jid": d.name}) for d in missing]
            attrs = {"id": iq_id, "type": "get", "xmlns": "encrypt", "to": SERVER_JID}
            return [node("iq", attrs, [node("key", children=users)])]
        group = to if to.endswith("@g.us") else None
        out = self.device.send(
            devices, conversation(text), self._now(), group=group, message_id=message_id
        )
        return [from_ax(n) for n in out]

    def _iq_result(self, iq: Node) -> list[Node]:
        fetched = self._fetching.pop(iq["attrs"]["id"], None)
        if fetched is not None:  # bundles the layer asked for
            got = {u["attrs"]["jid"]: u for u in kids(need(iq, "list"), "user")}
            out: list[AxNode] = []
            for device in fetched:
                user = got.get(device.name)
                bundle = None if user is None else bundle_from_keys_user(user)
                actions = self.device.layer.bundle_fetched(device, bundle, self._now())
                out += self.device.carry_out(actions, self.clock_ms)
            return [from_ax(n) for n in out]
        to, devices, text, message_id = self._pending.pop(iq["attrs"]["id"])
        if devices is None:  # group info: every member but us
            members = [p["attrs"]["jid"] for p in kids(need(iq, "group"), "participant")]
            devices = [ProtocolAddress(m, 0) for m in members if m != self.jid]
            return self._send_to(to, devices, text, message_id)
        for user in kids(need(iq, "list"), "user"):
            address = ProtocolAddress(user["attrs"]["jid"], 0)
            self.device.layer.process_bundle(address, bundle_from_keys_user(user))
        return self._send_to(to, devices, text, message_id)

    # -- what the application saw --------------------------------------------------
    def bodies(self) -> list[str]:
        """The texts shown, in order."""
        return [conversation_text(body) for _, _, _, body in self.device.shown]

    def shown(self) -> list[tuple[str, str, str | None, str]]:
        """``(message id, sender jid, group jid, text)`` of every message shown."""
        return [(i, s, g, conversation_text(b)) for i, s, g, b in self.device.shown]

    def wipe_session(self, jid: str) -> bool:
        """Delete our session with ``jid``; return whether there was one."""
        address = ProtocolAddress(jid, 0)
        existed = self.store.contains_session(address)
        self.store.delete_session(address)
        return existed

    def wipe_sender_key(self, group: str, sender: str) -> bool:
        """Forget ``sender``'s sender key for ``group``; return whether there was one."""
        address = ProtocolAddress(sender, 0)
        existed = self.store.load_sender_key(group, address) is not None
        self.store.delete_sender_key(group, address)
        return existed
