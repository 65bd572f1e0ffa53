"""The native framing: our own ``Payload`` protobuf, for stacks that are all axolotl.

A pairwise plaintext is ``Payload`` (``proto/payload.proto``): ``body`` = 1,
``sender_key_distribution`` = 2, ``group_id`` = 3 and, on a resend,
``replaces`` = 4 (the chain positions of the earlier pairwise transmissions
of the same message to that device, so the receiver's gap detection never
reports a message that arrived by a resend). A group plaintext is the bare
body. No padding, no randomness: the bytes are those the retry layer has
always sent (``vectors/README.md``, "Framing").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError as _PbDecodeError

from axolotl._pb import payload_pb2 as pb
from axolotl.errors import DecodeError, InvalidMessage, UsageError
from axolotl.framing.base import Frame, Position
from axolotl.rng import Rng

__all__ = ["NativeFraming", "Payload"]


@dataclass(frozen=True, slots=True)
class Payload:
    """The plaintext of a pairwise message: the body and, maybe, a sender key for a group."""

    body: bytes
    sender_key_distribution: bytes | None = None
    group_id: str | None = None
    replaces: tuple[Position, ...] = ()  # earlier transmissions of this message (a resend)

    MAX_REPLACES = 16

    def serialize(self) -> bytes:
        """The payload's protobuf bytes."""
        msg = pb.Payload(body=self.body)
        if self.sender_key_distribution is not None:
            msg.sender_key_distribution = self.sender_key_distribution
        if self.group_id is not None:
            msg.group_id = self.group_id
        replaces: Any = msg.replaces
        for ratchet_key, counter in self.replaces:
            replaces.add(ratchet_key=b"\x05" + ratchet_key, counter=counter)
        return msg.SerializeToString()

    @classmethod
    def parse(cls, data: bytes) -> Payload:
        """Read a payload a peer sent.

        Raises:
            DecodeError: not a payload, or more than :attr:`MAX_REPLACES`
                replaced positions, or a malformed one.
        """
        msg = pb.Payload()
        try:
            msg.ParseFromString(data)
        except (_PbDecodeError, ValueError) as exc:
            raise DecodeError("payload", str(exc) or "malformed protobuf") from None
        if len(msg.replaces) > cls.MAX_REPLACES:
            raise DecodeError(
                "payload",
                f"{len(msg.replaces)} replaced transmissions (at most {cls.MAX_REPLACES})",
            )
        replaces = []
        for p in msg.replaces:
            if len(p.ratchet_key) != 33 or p.ratchet_key[0] != 0x05 or not p.HasField("counter"):
                raise DecodeError(
                    "payload", "a replaced transmission's chain position is malformed"
                )
            replaces.append((p.ratchet_key[1:], p.counter))
        return cls(
            msg.body,
            msg.sender_key_distribution if msg.HasField("sender_key_distribution") else None,
            msg.group_id if msg.HasField("group_id") else None,
            tuple(replaces),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeFraming:
    """Our own ``Payload`` inside pairwise plaintexts, bare bodies inside group ones.

    Any bytes are a body. Resends name the positions they replace, so gap
    detection is exact. Only an axolotl peer reads it.
    """

    @property
    def name(self) -> str:
        """``"native"``."""
        return "native"

    @property
    def names_replaced(self) -> bool:
        """True: a resend names the transmissions it replaces."""
        return True

    def check_body(self, body: bytes) -> None:
        """Any bytes are a body."""

    def encode_pairwise(self, frame: Frame, rng: Rng) -> bytes:
        """``Payload{body, sender_key_distribution, group_id, replaces}``; draws nothing.

        Raises:
            UsageError: a frame without a body (the native framing never
                sends a bare handover).
        """
        if frame.body is None:
            raise UsageError("the native framing carries a body in every pairwise message")
        return Payload(frame.body, frame.distribution, frame.group_id, frame.replaces).serialize()

    def decode_pairwise(self, plaintext: bytes) -> Frame:
        """Read a ``Payload``.

        Raises:
            DecodeError: not a payload (see :meth:`Payload.parse`).
            InvalidMessage: a sender-key distribution without its group id.
        """
        payload = Payload.parse(plaintext)
        if payload.sender_key_distribution is not None and not payload.group_id:
            raise InvalidMessage("a sender-key distribution arrived without its group id")
        return Frame(
            body=payload.body,
            distribution=payload.sender_key_distribution,
            group_id=payload.group_id,
            replaces=payload.replaces,
        )

    def encode_group(self, body: bytes, rng: Rng) -> bytes:
        """The bare body; draws nothing."""
        return body

    def decode_group(self, plaintext: bytes) -> Frame:
        """The bare body."""
        return Frame(body=plaintext)
