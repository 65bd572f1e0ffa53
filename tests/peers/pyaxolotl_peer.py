"""JSON-lines peer process hosting python-axolotl 0.2.3 and yowsup 3.3.0.

This script runs INSIDE the peer venv built by ``tests/peers/envs.py`` (there the
import name ``axolotl`` is python-axolotl, not this project). Never import it from
the project's own venv; drive it through ``tests/peers/client.py``.

Protocol: one JSON object per line on stdin, one per line on stdout.

- request:  ``{"id": n, "cmd": "...", ...args}``
- success:  ``{"id": n, "ok": true, ...result}``
- failure:  ``{"id": n, "ok": false, "error": "<exception class name>", "message": "..."}``

Bytes are lowercase hex strings. Unknown commands and bad arguments answer
``error = "BadRequest"``. Because ``id`` is the request id, a receipt's message id
travels as ``message_id``.

Parties are named; each has python-axolotl's in-memory stores (identity, prekey,
signed prekey, session from ``axolotl.tests.inmemory*`` and sender keys from
``axolotl.tests.groups.inmemorysenderkeystore``).

Retry-receipt nodes travel as ``{"tag", "attrs", "children", "data"}`` (data hex or
null). Facts about yowsup 3.3.0's retry entities that shape the commands:

- ``RetryOutgoingReceiptProtocolEntity.toProtocolTreeNode()`` builds
  ``<receipt id to type="retry" [participant]>`` (no ``t`` on the receipt) with the
  children in this order: ``<retry count id v t/>`` then ``<registration>``, whose
  data is ``_intToBytes(regid)`` = 4 bytes big-endian (hex zero-filled to 8 digits).
- ``RetryIncomingReceiptProtocolEntity.fromProtocolTreeNode`` reads the receipt's
  ``id``, ``from``, ``t``, ``offline``, ``type``, ``participant`` and from the
  children ``retry@v``, ``retry@count``, ``retry@t`` and ``registration`` data
  (big-endian int of any length). It ignores ``retry@id`` and ``<keys>``.
- Neither entity supports ``<keys>``: yowsup re-fetches the peer's bundle from the
  server (an ``iq`` get-keys) on every retry.
- ``RetryOutgoingReceiptProtocolEntity.fromProtocolTreeNode`` is broken: it calls
  ``setRetryData``, which only the incoming class defines.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from axolotl.axolotladdress import AxolotlAddress
from axolotl.ecc import curve as _curve_module
from axolotl.ecc.curve import Curve
from axolotl.ecc.djbec import DjbECPublicKey
from axolotl.groups.groupcipher import GroupCipher
from axolotl.groups.groupsessionbuilder import GroupSessionBuilder
from axolotl.groups.senderkeyname import SenderKeyName
from axolotl.identitykey import IdentityKey
from axolotl.protocol.prekeywhispermessage import PreKeyWhisperMessage
from axolotl.protocol.senderkeydistributionmessage import SenderKeyDistributionMessage
from axolotl.protocol.whispermessage import WhisperMessage
from axolotl.sessionbuilder import SessionBuilder
from axolotl.sessioncipher import SessionCipher
from axolotl.state.prekeybundle import PreKeyBundle
from axolotl.state.prekeyrecord import PreKeyRecord
from axolotl.tests.groups.inmemorysenderkeystore import InMemorySenderKeyStore
from axolotl.tests.inmemoryaxolotlstore import InMemoryAxolotlStore
from axolotl.util import keyhelper as _keyhelper_module
from axolotl.util.keyhelper import KeyHelper
from yowsup.layers.axolotl.protocolentities.iq_keys_get_result import (
    ResultGetKeysIqProtocolEntity,
)
from yowsup.layers.axolotl.protocolentities.receipt_incoming_retry import (
    RetryIncomingReceiptProtocolEntity,
)
from yowsup.layers.axolotl.protocolentities.receipt_outgoing_retry import (
    RetryOutgoingReceiptProtocolEntity,
)
from yowsup.structs import ProtocolTreeNode

Json = dict[str, Any]


class BadRequest(Exception):
    """The request itself is malformed (unknown command, missing/ill-typed args)."""


class RngExhausted(Exception):
    """The seeded random stream ran out of bytes."""


# ---------------------------------------------------------------------------
# argument helpers


def _arg(req: Json, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    if key not in req or req[key] is None:
        if optional:
            return None
        raise BadRequest(f"missing argument {key!r}")
    value = req[key]
    # bool is an int subclass; never accept it where an int is wanted.
    if kind is int and isinstance(value, bool):
        raise BadRequest(f"argument {key!r} must be int")
    if not isinstance(value, kind):
        raise BadRequest(f"argument {key!r} must be {kind}")
    return value


def _int(req: Json, key: str, *, optional: bool = False) -> Any:
    return _arg(req, key, int, optional=optional)


def _str(req: Json, key: str, *, optional: bool = False) -> Any:
    return _arg(req, key, str, optional=optional)


def _hex(req: Json, key: str, *, optional: bool = False) -> Any:
    value = _arg(req, key, str, optional=optional)
    if value is None:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise BadRequest(f"argument {key!r} is not hex") from exc


def _hx(data: bytes | bytearray | None) -> str | None:
    return None if data is None else bytes(data).hex()


# ---------------------------------------------------------------------------
# replayable randomness (seed_rng)


class _StreamRandom:
    """Stands in for ``os`` (``urandom``) and ``SystemRandom`` in python-axolotl.

    Every draw takes the next bytes of one shared stream, in call order.
    ``randrange(n)`` takes 4 bytes, big-endian, modulo ``n``.
    """

    def __init__(self, stream: bytes) -> None:
        self.stream = stream
        self.pos = 0

    def urandom(self, n: int) -> bytes:
        if self.pos + n > len(self.stream):
            raise RngExhausted(
                f"seeded stream exhausted: need {n} bytes at offset {self.pos} "
                f"of {len(self.stream)}"
            )
        out = self.stream[self.pos : self.pos + n]
        self.pos += n
        return out

    def randrange(self, n: int) -> int:
        return int.from_bytes(self.urandom(4), "big") % n

    def __call__(self) -> _StreamRandom:  # used as ``SystemRandom()``
        return self


_rng: _StreamRandom | None = None


def _install_rng(stream: bytes | None) -> None:
    global _rng
    if stream is None:
        _rng = None
        _curve_module.os = os
        _keyhelper_module.os = os
        _keyhelper_module.SystemRandom = random.SystemRandom
        return
    _rng = _StreamRandom(stream)
    _curve_module.os = _rng
    _keyhelper_module.os = _rng
    _keyhelper_module.SystemRandom = _rng


# ---------------------------------------------------------------------------
# parties


class Party:
    """One python-axolotl user: the in-memory stores plus a sender-key store."""

    def __init__(self, name: str, registration_id: int | None) -> None:
        self.name = name
        self.store = InMemoryAxolotlStore()
        if registration_id is not None:
            self.store.identityKeyStore.localRegistrationId = registration_id
        self.sender_keys = InMemorySenderKeyStore()

    def session_cipher(self, remote_name: str, remote_device: int) -> Any:
        s = self.store
        return SessionCipher(s, s, s, s, remote_name, remote_device)

    def session_builder(self, remote_name: str, remote_device: int) -> Any:
        s = self.store
        return SessionBuilder(s, s, s, s, remote_name, remote_device)

    def identity_key(self) -> bytes:
        return bytes(self.store.getIdentityKeyPair().getPublicKey().serialize())

    def registration_id(self) -> int:
        return int(self.store.getLocalRegistrationId())

    def make_bundle(self, device_id: int, pre_key_id: int | None, signed_pre_key_id: int) -> Json:
        pre_key_public = None
        if pre_key_id is not None:
            record = PreKeyRecord(pre_key_id, Curve.generateKeyPair())
            self.store.storePreKey(pre_key_id, record)
            pre_key_public = record.getKeyPair().getPublicKey().serialize()
        spk = KeyHelper.generateSignedPreKey(self.store.getIdentityKeyPair(), signed_pre_key_id)
        self.store.storeSignedPreKey(signed_pre_key_id, spk)
        return {
            "registration_id": self.registration_id(),
            "device_id": device_id,
            "pre_key_id": pre_key_id,
            "pre_key_public": _hx(pre_key_public),
            "signed_pre_key_id": signed_pre_key_id,
            "signed_pre_key_public": _hx(spk.getKeyPair().getPublicKey().serialize()),
            "signed_pre_key_signature": _hx(spk.getSignature()),
            "identity_key": self.identity_key().hex(),
        }

    def sender_key_name(self, group_id: str, sender_name: str, sender_device: int) -> Any:
        return SenderKeyName(group_id, AxolotlAddress(sender_name, sender_device))


def _bundle_from_json(req: Json) -> Any:
    pre_key_id = _int(req, "pre_key_id", optional=True)
    pre_key_public = _hex(req, "pre_key_public", optional=True)
    if (pre_key_id is None) != (pre_key_public is None):
        raise BadRequest("pre_key_id and pre_key_public go together")
    return PreKeyBundle(
        _int(req, "registration_id"),
        _int(req, "device_id") if req.get("device_id") is not None else _int(req, "remote_device"),
        pre_key_id,
        None if pre_key_public is None else Curve.decodePoint(bytearray(pre_key_public), 0),
        _int(req, "signed_pre_key_id"),
        Curve.decodePoint(bytearray(_hex(req, "signed_pre_key_public")), 0),
        _hex(req, "signed_pre_key_signature"),
        IdentityKey(bytearray(_hex(req, "identity_key")), 0),
    )


# ---------------------------------------------------------------------------
# yowsup nodes <-> JSON


def node_from_json(obj: Any) -> Any:
    """Build a yowsup ``ProtocolTreeNode`` from its JSON form."""
    if not isinstance(obj, dict):
        raise BadRequest("node must be an object")
    tag = obj.get("tag")
    attrs = obj.get("attrs") or {}
    children = obj.get("children") or []
    data = obj.get("data")
    if not isinstance(tag, str):
        raise BadRequest("node.tag must be a string")
    if not isinstance(attrs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in attrs.items()
    ):
        raise BadRequest("node.attrs must map str to str")
    if not isinstance(children, list):
        raise BadRequest("node.children must be a list")
    raw = None
    if data is not None:
        if not isinstance(data, str):
            raise BadRequest("node.data must be hex or null")
        try:
            raw = bytes.fromhex(data)
        except ValueError as exc:
            raise BadRequest("node.data is not hex") from exc
    return ProtocolTreeNode(tag, dict(attrs), [node_from_json(c) for c in children], raw)


def node_to_json(node: Any) -> Json:
    """The JSON form of a yowsup ``ProtocolTreeNode`` (children in order)."""
    return {
        "tag": node.tag,
        "attrs": {str(k): str(v) for k, v in node.attributes.items()},
        "children": [node_to_json(c) for c in node.getAllChildren()],
        "data": _hx(node.data),
    }


def _parse_keys_like_yowsup(keys: Any) -> Json:
    """Read a ``<keys>`` child the way yowsup reads a get-keys ``<user>`` node.

    yowsup's retry entities ignore ``<keys>``; this mirrors
    ``ResultGetKeysIqProtocolEntity.fromProtocolTreeNode`` (ids via ``_bytesToInt``,
    keys via ``DjbECPublicKey`` on the raw 32 bytes) so a test can check that
    yowsup's own key-parsing logic accepts what we put there.
    """
    to_int = ResultGetKeysIqProtocolEntity._bytesToInt
    enc = ResultGetKeysIqProtocolEntity.encStr
    out: Json = {"type": None, "identity": None, "key": None, "skey": None}
    type_node = keys.getChild("type")
    if type_node is not None:
        out["type"] = _hx(type_node.getData())
    identity_node = keys.getChild("identity")
    if identity_node is not None:
        identity = DjbECPublicKey(enc(identity_node.getData()))
        out["identity"] = _hx(identity.serialize())
    key_node = keys.getChild("key")
    if key_node is not None:
        out["key"] = {
            "id": to_int(key_node.getChild("id").getData()),
            "value": _hx(DjbECPublicKey(enc(key_node.getChild("value").getData())).serialize()),
        }
    skey_node = keys.getChild("skey")
    if skey_node is not None:
        out["skey"] = {
            "id": to_int(skey_node.getChild("id").getData()),
            "value": _hx(DjbECPublicKey(enc(skey_node.getChild("value").getData())).serialize()),
            "signature": _hx(enc(skey_node.getChild("signature").getData())),
        }
    device_identity = keys.getChild("device-identity")
    out["device_identity"] = None if device_identity is None else _hx(device_identity.getData())
    return out


def parse_incoming_retry(node: Any) -> Json:
    entity = RetryIncomingReceiptProtocolEntity.fromProtocolTreeNode(node)
    retry = node.getChild("retry")
    keys = node.getChild("keys")
    return {
        # what RetryIncomingReceiptProtocolEntity extracts
        "message_id": entity.getId(),
        "from": entity.getFrom(),
        "participant": entity.getParticipant(),
        "t": entity.timestamp,
        "type": entity.getType(),
        "offline": entity.offline,
        "count": entity.count,
        "v": entity.v,
        "retry_t": entity.retryTimestamp,
        "registration_id": entity.remoteRegistrationId,
        # what it does not extract, read straight from the node
        "retry_id": None if retry is None else retry["id"],
        "retry_error": None if retry is None else retry["error"],
        "keys": None if keys is None else _parse_keys_like_yowsup(keys),
        "extracted_by_yowsup": [
            "message_id",
            "from",
            "participant",
            "t",
            "type",
            "offline",
            "count",
            "v",
            "retry_t",
            "registration_id",
        ],
    }


def build_outgoing_retry(req: Json) -> Any:
    if req.get("keys") is not None:
        raise BadRequest("yowsup 3.3.0's RetryOutgoingReceiptProtocolEntity cannot carry <keys>")
    v = req.get("v", 1)
    count = req.get("count", 1)
    entity = RetryOutgoingReceiptProtocolEntity(
        _str(req, "message_id"),
        _str(req, "to"),
        _int(req, "registration_id"),
        _arg(req, "t", (int, str)),
        v=v,
        count=count,
        participant=_str(req, "participant", optional=True),
    )
    return entity.toProtocolTreeNode()


# ---------------------------------------------------------------------------
# benchmarks (timed here, with perf_counter, over the peer's own loops)


def _pair(prefix: str) -> tuple[Party, Party]:
    return Party(prefix + "-alice", None), Party(prefix + "-bob", None)


def _establish(alice: Party, bob: Party) -> tuple[Any, Any]:
    """Alice builds from Bob's bundle, one message each way; returns both ciphers."""
    bundle = bob.make_bundle(1, 1, 1)
    bundle_obj = _bundle_from_json(bundle)
    alice.session_builder(bob.name, 1).processPreKeyBundle(bundle_obj)
    a = alice.session_cipher(bob.name, 1)
    b = bob.session_cipher(alice.name, 1)
    first = a.encrypt(b"hello").serialize()
    b.decryptPkmsg(PreKeyWhisperMessage(serialized=first))
    reply = b.encrypt(b"hi").serialize()
    a.decryptMsg(WhisperMessage(serialized=reply))
    return a, b


def bench_pairwise(n: int, size: int, ratchet_every_message: bool) -> Json:
    alice, bob = _pair("bench-pw")
    a, b = _establish(alice, bob)
    plaintext = b"\x42" * size
    pc = time.perf_counter
    enc = dec = 0.0
    if not ratchet_every_message:
        bodies = []
        t0 = pc()
        for _ in range(n):
            bodies.append(a.encrypt(plaintext).serialize())
        enc = pc() - t0
        t0 = pc()
        for body in bodies:
            b.decryptMsg(WhisperMessage(serialized=body))
        dec = pc() - t0
    else:
        # Alternate direction: each decrypt meets a new ratchet key (DH step).
        sender, receiver = a, b
        for _ in range(n):
            t0 = pc()
            body = sender.encrypt(plaintext).serialize()
            t1 = pc()
            receiver.decryptMsg(WhisperMessage(serialized=body))
            t2 = pc()
            enc += t1 - t0
            dec += t2 - t1
            sender, receiver = receiver, sender
    return {"encrypt_us": enc / n * 1e6, "decrypt_us": dec / n * 1e6}


def bench_setup(n: int) -> Json:
    pc = time.perf_counter
    tot = {"bundle": 0.0, "process": 0.0, "encrypt": 0.0, "decrypt": 0.0}
    for i in range(n):
        alice, bob = _pair(f"bench-setup-{i}")  # identity generation not timed
        t0 = pc()
        bundle = _bundle_from_json(bob.make_bundle(1, 1, 1))
        t1 = pc()
        alice.session_builder(bob.name, 1).processPreKeyBundle(bundle)
        t2 = pc()
        body = alice.session_cipher(bob.name, 1).encrypt(b"\x42" * 200).serialize()
        t3 = pc()
        bob.session_cipher(alice.name, 1).decryptPkmsg(PreKeyWhisperMessage(serialized=body))
        t4 = pc()
        tot["bundle"] += t1 - t0
        tot["process"] += t2 - t1
        tot["encrypt"] += t3 - t2
        tot["decrypt"] += t4 - t3
    out = {f"{k}_us": v / n * 1e6 for k, v in tot.items()}
    out["setup_us"] = sum(tot.values()) / n * 1e6
    return out


def bench_group(n: int, size: int) -> Json:
    alice, bob = _pair("bench-group")
    name_a = alice.sender_key_name("bench-group", alice.name, 1)
    name_b = bob.sender_key_name("bench-group", alice.name, 1)
    skdm = GroupSessionBuilder(alice.sender_keys).create(name_a).serialize()
    GroupSessionBuilder(bob.sender_keys).process(
        name_b, SenderKeyDistributionMessage(serialized=skdm)
    )
    enc_cipher = GroupCipher(alice.sender_keys, name_a)
    dec_cipher = GroupCipher(bob.sender_keys, name_b)
    plaintext = b"\x42" * size
    pc = time.perf_counter
    t0 = pc()
    bodies = [enc_cipher.encrypt(plaintext) for _ in range(n)]
    t1 = pc()
    for body in bodies:
        dec_cipher.decrypt(body)
    t2 = pc()
    return {"encrypt_us": (t1 - t0) / n * 1e6, "decrypt_us": (t2 - t1) / n * 1e6}


def _keys_node(bundle: Json) -> Any:
    """A ``<keys>`` child built with yowsup's node class and ``_intToBytes`` helpers."""
    ib = ResultGetKeysIqProtocolEntity._intToBytes
    return ProtocolTreeNode(
        "keys",
        children=[
            ProtocolTreeNode("type", data=b"\x05"),
            ProtocolTreeNode("identity", data=bytes.fromhex(bundle["identity_key"])[1:]),
            ProtocolTreeNode(
                "key",
                children=[
                    ProtocolTreeNode("id", data=ib(bundle["pre_key_id"])[1:]),
                    ProtocolTreeNode("value", data=bytes.fromhex(bundle["pre_key_public"])[1:]),
                ],
            ),
            ProtocolTreeNode(
                "skey",
                children=[
                    ProtocolTreeNode("id", data=ib(bundle["signed_pre_key_id"])[1:]),
                    ProtocolTreeNode(
                        "value", data=bytes.fromhex(bundle["signed_pre_key_public"])[1:]
                    ),
                    ProtocolTreeNode(
                        "signature", data=bytes.fromhex(bundle["signed_pre_key_signature"])
                    ),
                ],
            ),
        ],
    )


def bench_yowsup_receipt(n: int, with_keys: bool) -> Json:
    """Build -> ProtocolTreeNode -> rename ``to`` to ``from`` -> parse, per receipt.

    With ``with_keys`` the ``<keys>`` child (which yowsup's retry entities do not
    know) is built with ``ProtocolTreeNode`` and read back with
    ``_parse_keys_like_yowsup`` (yowsup's get-keys parsing), both inside the timing.
    """
    bundle = Party("bench-receipt", 12345).make_bundle(1, 7, 3) if with_keys else None
    pc = time.perf_counter
    t0 = pc()
    for i in range(n):
        entity = RetryOutgoingReceiptProtocolEntity(
            "3EB0" + str(i), "4915225256022@s.whatsapp.net", 12345, "1432833266", count=2
        )
        node = entity.toProtocolTreeNode()
        if bundle is not None:
            node.addChild(_keys_node(bundle))
        # What the server does between the two ends: the receiver's `to` is the
        # sender's `from`.
        node.attributes["from"] = node.attributes.pop("to")
        parsed = RetryIncomingReceiptProtocolEntity.fromProtocolTreeNode(node)
        if bundle is not None:
            _parse_keys_like_yowsup(node.getChild("keys"))
        if parsed.remoteRegistrationId != 12345:
            raise AssertionError("registration id did not survive")
    t1 = pc()
    return {"roundtrip_us": (t1 - t0) / n * 1e6}


# ---------------------------------------------------------------------------
# dispatch


class Peer:
    def __init__(self) -> None:
        self.parties: dict[str, Party] = {}
        self.running = True

    def party(self, req: Json) -> Party:
        name = _str(req, "party")
        try:
            return self.parties[name]
        except KeyError:
            raise BadRequest(f"unknown party {name!r} (send init first)") from None

    # -- sessions --------------------------------------------------------------
    def cmd_ping(self, req: Json) -> Json:
        return {"python_axolotl": "0.2.3", "yowsup": "3.3.0"}

    def cmd_reset(self, req: Json) -> Json:
        self.parties.clear()
        return {}

    def cmd_init(self, req: Json) -> Json:
        name = _str(req, "party")
        party = Party(name, _int(req, "registration_id", optional=True))
        self.parties[name] = party
        return {
            "identity_key": party.identity_key().hex(),
            "registration_id": party.registration_id(),
        }

    def cmd_bundle(self, req: Json) -> Json:
        return self.party(req).make_bundle(
            _int(req, "device_id"),
            _int(req, "pre_key_id", optional=True),
            _int(req, "signed_pre_key_id"),
        )

    def cmd_process_bundle(self, req: Json) -> Json:
        party = self.party(req)
        bundle = _bundle_from_json(req)
        party.session_builder(
            _str(req, "remote_name"), _int(req, "remote_device")
        ).processPreKeyBundle(bundle)
        return {}

    def cmd_encrypt(self, req: Json) -> Json:
        cipher = self.party(req).session_cipher(
            _str(req, "remote_name"), _int(req, "remote_device")
        )
        msg = cipher.encrypt(_hex(req, "plaintext"))
        return {"type": int(msg.getType()), "body": _hx(msg.serialize())}

    def cmd_decrypt(self, req: Json) -> Json:
        cipher = self.party(req).session_cipher(
            _str(req, "remote_name"), _int(req, "remote_device")
        )
        kind = _int(req, "type")
        body = _hex(req, "body")
        if kind == 3:
            plaintext = cipher.decryptPkmsg(PreKeyWhisperMessage(serialized=body))
        elif kind == 2:
            plaintext = cipher.decryptMsg(WhisperMessage(serialized=body))
        else:
            raise BadRequest(f"message type must be 2 or 3, not {kind}")
        return {"plaintext": _hx(plaintext)}

    def cmd_has_session(self, req: Json) -> Json:
        party = self.party(req)
        return {
            "has_session": bool(
                party.store.containsSession(_str(req, "remote_name"), _int(req, "remote_device"))
            )
        }

    def cmd_delete_session(self, req: Json) -> Json:
        party = self.party(req)
        name, device = _str(req, "remote_name"), _int(req, "remote_device")
        if party.store.containsSession(name, device):
            party.store.deleteSession(name, device)
        return {}

    # -- groups ----------------------------------------------------------------
    def _sk_name(self, req: Json) -> Any:
        return SenderKeyName(
            _str(req, "group_id"),
            AxolotlAddress(_str(req, "sender_name"), _int(req, "sender_device")),
        )

    def cmd_create_sender_key_distribution(self, req: Json) -> Json:
        party = self.party(req)
        skdm = GroupSessionBuilder(party.sender_keys).create(self._sk_name(req))
        return {"body": _hx(skdm.serialize())}

    def cmd_process_sender_key_distribution(self, req: Json) -> Json:
        party = self.party(req)
        skdm = SenderKeyDistributionMessage(serialized=_hex(req, "body"))
        GroupSessionBuilder(party.sender_keys).process(self._sk_name(req), skdm)
        return {}

    def cmd_group_encrypt(self, req: Json) -> Json:
        party = self.party(req)
        body = GroupCipher(party.sender_keys, self._sk_name(req)).encrypt(_hex(req, "plaintext"))
        return {"body": _hx(body)}

    def cmd_group_decrypt(self, req: Json) -> Json:
        party = self.party(req)
        plaintext = GroupCipher(party.sender_keys, self._sk_name(req)).decrypt(_hex(req, "body"))
        return {"plaintext": _hx(plaintext)}

    # -- yowsup ----------------------------------------------------------------
    def cmd_yowsup_parse_incoming_retry(self, req: Json) -> Json:
        return parse_incoming_retry(node_from_json(req.get("node")))

    def cmd_yowsup_build_outgoing_retry(self, req: Json) -> Json:
        return {"node": node_to_json(build_outgoing_retry(req))}

    # -- benchmarks --------------------------------------------------------------
    def _n(self, req: Json) -> int:
        n: int = _int(req, "n")
        if n <= 0:
            raise BadRequest("n must be positive")
        return n

    def cmd_bench_pairwise(self, req: Json) -> Json:
        ratchet = bool(req.get("ratchet_every_message", False))
        return bench_pairwise(self._n(req), _int(req, "size"), ratchet)

    def cmd_bench_setup(self, req: Json) -> Json:
        return bench_setup(self._n(req))

    def cmd_bench_group(self, req: Json) -> Json:
        return bench_group(self._n(req), _int(req, "size"))

    def cmd_bench_yowsup_receipt(self, req: Json) -> Json:
        return bench_yowsup_receipt(self._n(req), bool(req.get("with_keys", False)))

    # -- randomness, lifecycle ---------------------------------------------------
    def cmd_seed_rng(self, req: Json) -> Json:
        stream = _hex(req, "hex_stream", optional=True)
        _install_rng(stream)
        return {"seeded": stream is not None}

    def cmd_rng_position(self, req: Json) -> Json:
        if _rng is None:
            return {"seeded": False, "position": None, "remaining": None}
        return {
            "seeded": True,
            "position": _rng.pos,
            "remaining": len(_rng.stream) - _rng.pos,
        }

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
    peer = Peer()
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id: Any = None
        try:
            req = json.loads(line)
            if isinstance(req, dict):
                req_id = req.get("id")
            result = peer.handle(req)
            response: Json = {**result, "id": req_id, "ok": True}
        except BadRequest as exc:
            response = {"id": req_id, "ok": False, "error": "BadRequest", "message": str(exc)}
        except json.JSONDecodeError as exc:
            response = {"id": None, "ok": False, "error": "BadRequest", "message": str(exc)}
        except Exception as exc:
            response = {
                "id": req_id,
                "ok": False,
                "error": type(exc).__name__,
                "message": str(exc),
            }
        out.write(json.dumps(response) + "\n")
        out.flush()
        if not peer.running:
            break
    return 0


if __name__ == "__main__":
    # python-axolotl logs through `logging`; keep stdout for the protocol only.
    import logging

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    sys.exit(main())
