"""JSON-lines peer process running yowsup 3.3.0's own axolotl layers.

Runs INSIDE the peer venv built by ``tests/peers/envs.py`` (there ``axolotl`` is
python-axolotl 0.2.3); drive it through ``tests/peers/yowsup_client.py``.

Each *instance* is one yowsup user: the layers of yowsup's default stack from the
axolotl layers up, wired as ``YowStack`` wires them, with a loopback in place of
the network/noise/coder layers (bottom to top)::

    Loopback     captures every node sent down; the driver's nodes go up from here
    AxolotlControlLayer
    Parallel     AxolotlSendLayer, AxolotlReceivelayer
    Tap          records every node the axolotl layers pass up (decrypted <proto>)
    Parallel     YowAuthenticationProtocolLayer (own jid), YowMessagesProtocolLayer
                 (text <-> <message><proto>), YowReceiptProtocolLayer, YowAckProtocolLayer
    App          records the entities that reach the application, sends entities

``AxolotlManager`` runs on yowsup's own ``LiteAxolotlStore`` (sqlite, in memory or a
file) with its own identity and registration id; ``create`` emits
``EVENT_STATE_CONNECTED`` from the loopback, so the control layer generates the
prekeys (``level_prekeys``) as on a real connect.

Protocol: one JSON object per line each way: request ``{"id", "cmd", ...args}``,
answer ``{"id", "ok": true, ...}`` or ``{"id", "ok": false, "error", "message"}``
(``error`` = ``BadRequest`` for bad arguments, ``Wedged``, or the exception class).
Nodes are ``{"tag", "attrs", "children", "data"}`` (data hex or null). A *step*
answers ``out`` (nodes the stack sent down, in order), ``up`` (``{"node",
"message"}`` per node the axolotl layers passed up; ``message`` decodes its
``<proto>`` as a WhatsApp ``Message``: ``fields``, ``conversation``,
``sender_key_distribution_message {group_id, axolotl_sender_key_distribution_message}``),
``app`` (``{"entity", ...}``; texts add ``id, from, participant, body``), ``framing``
(``{"op": "pad", "n", "padding"}`` / ``{"op": "unpad", "n", "length", "tail"}`` per
padding the manager added or stripped), ``raised`` (null or ``{"error", "message",
"where", "yowsup_frame"}``: what yowsup's code raised, its last frame and
the last frame inside yowsup) and ``wedged`` (layers whose lock is stuck).

- ``ping`` -> ``{yowsup, python_axolotl}``
- ``create {instance, phone (digits), [db_path], [autotrust], [prekeys 1..812],
  [receipts]}`` -> step + ``{jid, registration_id, identity_key, prekeys}``;
  with ``receipts`` the app answers every text with its delivery receipt
  (``message.ack()``, as yowsup's echo demo does)
- ``bundle {instance}`` -> ``{jid, registration_id, device_id: 1, identity_key,
  signed_pre_key_id, signed_pre_key_public, signed_pre_key_signature, pre_key_id,
  pre_key_public}`` (public keys 33 bytes with 0x05; a fresh prekey each call)
- ``send_text {instance, to, text, [message_id]}`` -> step (a
  ``TextMessageProtocolEntity`` sent by the app)
- ``send_message {instance, to, message_id, message (hex Message), [type], [mediatype]}``
  -> step (a ``<message><proto>`` handed to the axolotl layers)
- ``receive {instance, node}`` -> step (the node goes up from the loopback)
- ``wipe_session {instance, jid}`` / ``wipe_sender_key {instance, group, sender}`` ->
  ``{existed}``
- ``state {instance}`` -> ``{jid, registration_id, sessions, sender_keys [{group_id,
  sender}], retries {id: count}, sent_queue [ids], pending_incoming, skip_enc_jids,
  iq_pending, prekeys_pending, wedged}``
- ``shutdown`` -> ``{}``

Harness-only measures (yowsup's logic is not patched; ``test_pin_*`` in
``tests/test_peers_yowsup_layers.py`` pin the bugs they answer): ``sys.stdout`` is
the protocol channel only, so yowsup's stray writes go to stderr, and the manager's
logger is set to INFO (``level_prekeys`` prints progress at an unset level); the
manager's two padding methods are wrapped to record what they return, unchanged; an
instance whose layer lock stays held after an exception is *wedged* and refuses
further steps instead of deadlocking.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The sibling module brings the JSON node codec; it only imports python-axolotl.
from pyaxolotl_peer import BadRequest, _hx, node_from_json, node_to_json
from yowsup.axolotl.manager import AxolotlManager
from yowsup.axolotl.store.sqlite.liteaxolotlstore import LiteAxolotlStore
from yowsup.config.v1.config import Config
from yowsup.layers import YowLayer, YowLayerEvent, YowParallelLayer
from yowsup.layers.auth import YowAuthenticationProtocolLayer
from yowsup.layers.axolotl import (
    AxolotlControlLayer,
    AxolotlReceivelayer,
    AxolotlSendLayer,
)
from yowsup.layers.axolotl.props import PROP_IDENTITY_AUTOTRUST
from yowsup.layers.network import YowNetworkLayer
from yowsup.layers.protocol_acks import YowAckProtocolLayer
from yowsup.layers.protocol_messages import YowMessagesProtocolLayer
from yowsup.layers.protocol_messages.proto.e2e_pb2 import Message
from yowsup.layers.protocol_messages.protocolentities import (
    TextMessageProtocolEntity,
)
from yowsup.layers.protocol_messages.protocolentities.attributes.attributes_message_meta import (
    MessageMetaAttributes,
)
from yowsup.layers.protocol_receipts import YowReceiptProtocolLayer
from yowsup.profile.profile import YowProfile
from yowsup.structs import ProtocolTreeNode

Json = dict[str, Any]
SERVER = "s.whatsapp.net"


class Wedged(Exception):
    """An earlier exception left a yowsup layer lock held; the instance is unusable."""


# ---------------------------------------------------------------------------
# the layers we add around yowsup's


class Loopback(YowLayer):
    """Stands in for YowNetworkLayer (and noise/coder above it): nodes in, nodes out."""

    def __init__(self) -> None:
        super().__init__()
        self.outbox: list[Any] = []

    def send(self, data: Any) -> None:
        self.outbox.append(data)

    def onEvent(self, yowLayerEvent: Any) -> bool:
        # Events broadcast down (EVENT_AUTH, DISCONNECT) end here: there is no socket.
        return True

    def connect(self) -> None:
        self.emitEvent(YowLayerEvent(YowNetworkLayer.EVENT_STATE_CONNECTED))

    def push(self, node: Any) -> None:
        self.toUpper(node)


class Tap(YowLayer):
    """Records what the axolotl layers hand up; lets the driver inject a node down."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def receive(self, data: Any) -> None:
        self.seen.append(data)
        self.toUpper(data)


class App(YowLayer):
    """The application on top: records entities, sends entities.

    Args:
        receipts: answer each text message with its delivery receipt
            (``entity.ack()``), as a yowsup app such as its echo demo does.
    """

    def __init__(self, receipts: bool = False) -> None:
        super().__init__()
        self.inbox: list[Any] = []
        self.receipts = receipts

    def receive(self, data: Any) -> None:
        self.inbox.append(data)
        if self.receipts and isinstance(data, TextMessageProtocolEntity):
            self.toLower(data.ack())


class LoopbackStack:
    """What ``YowStack`` does for its layers, without importing ``yowsup.stacks``.

    ``yowsup.stacks`` imports the noise layer, whose dependency chain (consonance ->
    dissononce -> transitions) the peer venv does not install (yowsup goes in with
    ``--no-deps``); none of it is needed without a socket. Same wiring as
    ``YowStack._construct`` (index 0 is the bottom), same props, same
    ``getLayerInterface`` walk through parallel layers.
    """

    def __init__(self, layers: tuple[Any, ...]) -> None:
        self._props: dict[str, Any] = {}
        self._layers = list(layers)
        for layer in self._layers:
            layer.setStack(self)
        for i, layer in enumerate(self._layers):
            upper = self._layers[i + 1] if i + 1 < len(self._layers) else None
            lower = self._layers[i - 1] if i > 0 else None
            layer.setLayers(upper, lower)

    def getLayerInterface(self, cls: type) -> Any:
        for layer in self._layers:
            if layer.__class__ == cls:
                return layer.getLayerInterface()
            if isinstance(layer, YowParallelLayer):
                found = layer.getLayerInterface(cls)
                if found:
                    return found
        return None

    def setProp(self, key: str, value: Any) -> None:
        self._props[key] = value

    def getProp(self, key: str, default: Any = None) -> Any:
        return self._props.get(key, default)

    def setProfile(self, profile: Any) -> None:
        self.setProp("profile", profile)

    def execDetached(self, fn: Callable[[], None]) -> None:
        # YowStack queues detached events for its loop thread; there is none here.
        fn()


class _Profile(YowProfile):  # type: ignore[misc]
    """A profile whose config and axolotl manager live in memory / a given file."""

    def __init__(self, phone: str, manager: Any) -> None:
        super().__init__(phone, config=Config(phone=phone))
        self._manager = manager

    def _load_axolotl_manager(self) -> Any:
        return self._manager


# ---------------------------------------------------------------------------
# JSON views


def message_to_json(data: bytes | None) -> Json | None:
    """Decode a WhatsApp ``Message`` protobuf the way yowsup's layers read it."""
    if data is None:
        return None
    m = Message()
    try:
        m.ParseFromString(data)
    except Exception as exc:  # protobuf's DecodeError; report, don't fail the step
        return {"parse_error": f"{type(exc).__name__}: {exc}"}
    out: Json = {"fields": sorted(fd.number for fd, _ in m.ListFields())}
    if m.HasField("conversation"):
        out["conversation"] = m.conversation
    if m.HasField("sender_key_distribution_message"):
        skdm = m.sender_key_distribution_message
        out["sender_key_distribution_message"] = {
            "group_id": skdm.group_id,
            "axolotl_sender_key_distribution_message": _hx(
                skdm.axolotl_sender_key_distribution_message
            ),
        }
    return out


def up_to_json(node: Any) -> Json:
    out: Json = {"node": node_to_json(node), "message": None}
    proto = node.getChild("proto") if node.tag == "message" else None
    if proto is not None:
        out["message"] = message_to_json(proto.getData())
    return out


def entity_to_json(entity: Any) -> Json:
    out: Json = {"entity": type(entity).__name__}
    if isinstance(entity, TextMessageProtocolEntity):
        out.update(
            id=entity.getId(),
            **{"from": entity.getFrom()},
            participant=entity.participant,
            body=entity.getBody(),
        )
    elif hasattr(entity, "toProtocolTreeNode"):
        out["node"] = node_to_json(entity.toProtocolTreeNode())
    return out


# ---------------------------------------------------------------------------
# one yowsup user


class Instance:
    def __init__(
        self,
        phone: str,
        db_path: str | None,
        autotrust: bool,
        prekeys: int | None,
        receipts: bool = False,
    ) -> None:
        self.phone = phone
        self.jid = f"{phone}@{SERVER}"
        self.store = LiteAxolotlStore(db_path or ":memory:")
        self.manager = AxolotlManager(self.store, phone)
        if prekeys is not None:
            # How many prekeys level_prekeys() makes on connect (a class constant,
            # 812); fewer only saves time: ~0.17 s per user at 812.
            self.manager.COUNT_GEN_PREKEYS = prekeys
        self.loopback, self.tap, self.app = Loopback(), Tap(), App(receipts)
        self.axolotl = YowParallelLayer((AxolotlSendLayer, AxolotlReceivelayer))
        self.control = AxolotlControlLayer()
        self.protocol = YowParallelLayer(
            (
                YowAuthenticationProtocolLayer,
                YowMessagesProtocolLayer,
                YowReceiptProtocolLayer,
                YowAckProtocolLayer,
            )
        )
        self.stack = LoopbackStack(
            (self.loopback, self.control, self.axolotl, self.tap, self.protocol, self.app)
        )
        self.stack.setProfile(_Profile(phone, self.manager))
        self.stack.setProp(PROP_IDENTITY_AUTOTRUST, autotrust)
        self.send_layer, self.receive_layer = self.axolotl.sublayers
        self.handed_out: set[int] = set()
        self.wedged: list[str] = []
        self.framing: list[Json] = []
        self._observe_framing()

    def _observe_framing(self) -> None:
        """Record each padding the manager adds or strips (observation only).

        The wrappers call yowsup's own methods and return their results unchanged;
        ``encrypt``/``group_encrypt``/``decrypt_*`` look them up on the instance.
        """
        pad, unpad = self.manager._generate_random_padding, self.manager._unpad

        def observed_pad() -> bytes:
            padding: bytes = pad()
            self.framing.append({"op": "pad", "n": len(padding), "padding": _hx(padding)})
            return padding

        def observed_unpad(data: bytes) -> bytes:
            n = data[-1]
            self.framing.append(
                {"op": "unpad", "n": n, "length": len(data), "tail": _hx(data[-n:] if n else b"")}
            )
            result: bytes = unpad(data)
            return result

        self.manager._generate_random_padding = observed_pad
        self.manager._unpad = observed_unpad

    # -- running the stack ------------------------------------------------------
    def _layers(self) -> list[tuple[str, Any]]:
        return [
            ("Loopback", self.loopback),
            ("AxolotlControlLayer", self.control),
            ("Parallel(AxolotlSendLayer, AxolotlReceivelayer)", self.axolotl),
            ("Tap", self.tap),
            ("Parallel(protocol layers)", self.protocol),
            ("App", self.app),
        ]

    def step(self, action: Callable[[], None]) -> Json:
        if self.wedged:
            raise Wedged(f"{self.jid}: locks held since an earlier exception: {self.wedged}")
        raised = None
        try:
            action()
        except Exception as exc:  # what yowsup's own code raised, reported as observed
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if f"{os.sep}yowsup{os.sep}" in f.filename]
            raised = {
                "error": type(exc).__name__,
                "message": str(exc),
                "where": _where(frames[-1]),
                "yowsup_frame": _where(ours[-1]) if ours else None,
            }
        # yowsup's toLower() takes a plain Lock and releases it only on success.
        self.wedged = [name for name, layer in self._layers() if layer.lock.locked()]
        out = [node_to_json(n) for n in self.loopback.outbox]
        up = [up_to_json(n) for n in self.tap.seen]
        app = [entity_to_json(e) for e in self.app.inbox]
        framing = list(self.framing)
        self.framing.clear()
        self.loopback.outbox.clear()
        self.tap.seen.clear()
        self.app.inbox.clear()
        return {
            "out": out,
            "up": up,
            "app": app,
            "framing": framing,
            "raised": raised,
            "wedged": self.wedged,
        }

    # -- keys -------------------------------------------------------------------
    def bundle(self) -> Json:
        """What the server would hand out: the latest signed prekey, one fresh prekey."""
        spk = self.manager.load_latest_signed_prekey(generate=True)
        pending = sorted(
            (r for r in self.store.loadPreKeys() if r.getId() not in self.handed_out),
            key=lambda r: r.getId(),
        )
        if not pending:
            raise BadRequest(f"{self.jid} has no prekey left to hand out")
        pre_key = pending[0]
        self.handed_out.add(pre_key.getId())
        identity = self.manager.identity.getPublicKey()
        return {
            "jid": self.jid,
            "registration_id": self.manager.registration_id,
            "device_id": 1,
            "identity_key": _hx(identity.serialize()),
            "signed_pre_key_id": spk.getId(),
            "signed_pre_key_public": _hx(spk.getKeyPair().getPublicKey().serialize()),
            "signed_pre_key_signature": _hx(spk.getSignature()),
            "pre_key_id": pre_key.getId(),
            "pre_key_public": _hx(pre_key.getKeyPair().getPublicKey().serialize()),
        }

    def state(self) -> Json:
        conn = self.store.sessionStore.dbConn
        sessions = [
            str(row[0]) for row in conn.execute("SELECT recipient_id FROM sessions ORDER BY 1")
        ]
        sender_keys = [
            {"group_id": _text(g), "sender": str(s)}
            for g, s in conn.execute("SELECT group_id, sender_id FROM sender_keys ORDER BY 1, 2")
        ]
        return {
            "jid": self.jid,
            "registration_id": self.manager.registration_id,
            "sessions": sessions,
            "sender_keys": sender_keys,
            "retries": dict(self.receive_layer._retries),
            "sent_queue": [n["id"] for n in self.send_layer.sentQueue],
            "pending_incoming": {
                f"{k[0]}|{k[1] or ''}": [n["id"] for n in v]
                for k, v in self.receive_layer.pendingIncomingMessages.items()
            },
            "skip_enc_jids": list(self.send_layer.skipEncJids),
            "iq_pending": sorted(
                set(self.send_layer.iqRegistry)
                | set(self.receive_layer.iqRegistry)
                | set(self.control.iqRegistry)
            ),
            "prekeys_pending": len(self.store.loadPreKeys()),
            "wedged": self.wedged,
        }


def _where(frame: traceback.FrameSummary) -> str:
    return f"{os.path.basename(frame.filename)}:{frame.lineno} {frame.name}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _arg(req: Json, key: str, kind: type, *, optional: bool = False) -> Any:
    value = req.get(key)
    if value is None:
        if optional:
            return None
        raise BadRequest(f"missing argument {key!r}")
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise BadRequest(f"argument {key!r} must be {kind.__name__}")
    return value


def _recipient(jid: str) -> str:
    return jid.split("@")[0]


# ---------------------------------------------------------------------------
# dispatch


class Peer:
    def __init__(self) -> None:
        self.instances: dict[str, Instance] = {}
        self.running = True

    def inst(self, req: Json) -> Instance:
        name = _arg(req, "instance", str)
        try:
            return self.instances[name]
        except KeyError:
            raise BadRequest(f"unknown instance {name!r} (send create first)") from None

    def cmd_ping(self, req: Json) -> Json:
        return {"yowsup": "3.3.0", "python_axolotl": "0.2.3"}

    def cmd_create(self, req: Json) -> Json:
        name = _arg(req, "instance", str)
        phone = _arg(req, "phone", str)
        if not phone.isdigit():
            # yowsup's sqlite tables key sessions on an INTEGER recipient_id.
            raise BadRequest("phone must be digits")
        prekeys = _arg(req, "prekeys", int, optional=True)
        if prekeys is not None and not 1 <= prekeys <= 812:
            raise BadRequest("prekeys must be 1..812")
        instance = Instance(
            phone,
            _arg(req, "db_path", str, optional=True),
            bool(_arg(req, "autotrust", bool, optional=True)),
            prekeys,
            bool(_arg(req, "receipts", bool, optional=True)),
        )
        self.instances[name] = instance
        step = instance.step(instance.loopback.connect)
        return {
            **step,
            "jid": instance.jid,
            "registration_id": instance.manager.registration_id,
            "identity_key": _hx(instance.manager.identity.getPublicKey().serialize()),
            "prekeys": len(instance.store.loadPreKeys()),
        }

    def cmd_bundle(self, req: Json) -> Json:
        return self.inst(req).bundle()

    def cmd_send_text(self, req: Json) -> Json:
        inst = self.inst(req)
        meta = MessageMetaAttributes(
            id=_arg(req, "message_id", str, optional=True), recipient=_arg(req, "to", str)
        )
        entity = TextMessageProtocolEntity(_arg(req, "text", str), message_meta_attributes=meta)
        return inst.step(lambda: inst.app.toLower(entity))

    def cmd_send_message(self, req: Json) -> Json:
        """A ``<message type id to><proto>`` node with a caller-made Message protobuf."""
        inst = self.inst(req)
        try:
            data = bytes.fromhex(_arg(req, "message", str))
        except ValueError as exc:
            raise BadRequest("message is not hex") from exc
        proto_attrs = {}
        mediatype = _arg(req, "mediatype", str, optional=True)
        if mediatype is not None:
            proto_attrs["mediatype"] = mediatype
        node = ProtocolTreeNode(
            "message",
            {
                "type": _arg(req, "type", str, optional=True) or "text",
                "id": _arg(req, "message_id", str),
                "to": _arg(req, "to", str),
            },
            [ProtocolTreeNode("proto", proto_attrs, data=data)],
        )
        # Injected where YowMessagesProtocolLayer would hand it down.
        return inst.step(lambda: inst.tap.toLower(node))

    def cmd_receive(self, req: Json) -> Json:
        inst = self.inst(req)
        node = node_from_json(req.get("node"))
        return inst.step(lambda: inst.loopback.push(node))

    def cmd_wipe_session(self, req: Json) -> Json:
        inst = self.inst(req)
        recipient = _recipient(_arg(req, "jid", str))
        existed = bool(inst.manager.session_exists(recipient))
        inst.store.deleteSession(recipient, 1)
        return {"existed": existed}

    def cmd_wipe_sender_key(self, req: Json) -> Json:
        """Forget one sender key (yowsup's store has no delete; its own table)."""
        inst = self.inst(req)
        conn = inst.store.senderKeyStore.dbConn
        cur = conn.execute(
            "DELETE FROM sender_keys WHERE group_id = ? AND sender_id = ?",
            (_arg(req, "group", str), _recipient(_arg(req, "sender", str))),
        )
        conn.commit()
        return {"existed": cur.rowcount > 0}

    def cmd_state(self, req: Json) -> Json:
        return self.inst(req).state()

    def cmd_shutdown(self, req: Json) -> Json:
        self.running = False
        return {}

    def handle(self, req: Any) -> Json:
        if not isinstance(req, dict):
            raise BadRequest("request must be a JSON object")
        cmd = req.get("cmd")
        handler: Callable[[Json], Json] | None = (
            getattr(self, "cmd_" + cmd, None) if isinstance(cmd, str) else None
        )
        if handler is None:
            raise BadRequest(f"unknown command {cmd!r}")
        return handler(req)


def main() -> int:
    # The protocol owns the real stdout; yowsup writes to sys.stdout in places
    # (level_prekeys' progress, parseAndHandleMessageProto's "DUMP:").
    out = sys.stdout
    sys.stdout = sys.stderr
    peer = Peer()
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id: Any = None
        try:
            req = json.loads(line)
            if isinstance(req, dict):
                req_id = req.get("id")
            response: Json = {**peer.handle(req), "id": req_id, "ok": True}
        except json.JSONDecodeError as exc:
            response = {"id": None, "ok": False, "error": "BadRequest", "message": str(exc)}
        except BadRequest as exc:
            response = {"id": req_id, "ok": False, "error": "BadRequest", "message": str(exc)}
        except Exception as exc:
            response = {"id": req_id, "ok": False, "error": type(exc).__name__, "message": str(exc)}
        out.write(json.dumps(response) + "\n")
        out.flush()
        if not peer.running:
            break
    return 0


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    # AxolotlManager.level_prekeys prints progress when its logger's *own* level is
    # <= DEBUG, which an unset (NOTSET = 0) level is: 812 lines per instance.
    logging.getLogger("yowsup.axolotl.manager").setLevel(logging.INFO)
    sys.exit(main())
