"""Many events, one commit: :meth:`RetryLayer.batch` and :meth:`RetryLayer.receive_many`.

A client back from a night offline, or a gateway draining a queue, hands the
layer hundreds of envelopes in a row; one durable commit each makes the
fsync, not the crypto, the cost (Signal's clients batch for the same reason:
Signal-iOS's ``OWSBatchMessageProcessor``). A :class:`Batch` runs every call
made through it inside one outer store transaction:

* **one commit**: nothing is durable until the ``with`` block ends, and then
  all of it is, in one commit;
* **each event alone**: every call is a nested transaction, so one that
  raises (a typed error: an envelope for another device, a receipt whose
  JIDs cannot be read) undoes only its own writes; the error is kept in
  :attr:`Batch.errors` with the event's index and the rest of the batch
  goes on. A :class:`~axolotl.errors.StorageError` ends the batch: the
  whole transaction is undone and the error raised;
* **in order**: :attr:`Batch.actions` holds every action of every call in
  the order of the calls, then one ``WakeAt`` for the earliest timer, and
  can be read only once the batch committed -- carry them out (upload,
  ack to the server) after the ``with`` block, never inside it. A crash
  before the commit loses nothing (no event was acknowledged, the server
  hands them over again) and doubles nothing (no delivery was committed);
* **bounded**: :attr:`Batch.full` turns true after ``max_events`` calls or
  ``max_ms`` of wall time, so a drain loop hands over the rest in the next
  batch and the latency of the first event stays bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from axolotl.address import ProtocolAddress
from axolotl.errors import RemoteError, UsageError
from axolotl.receipts import IncomingRetryReceipt
from axolotl.retry.events import Action, DeliveryReceipt, Envelope, WakeAt
from axolotl.retry.policy import Priority

if TYPE_CHECKING:
    from axolotl.retry.clock import Reading
    from axolotl.retry.layer import RetryLayer

__all__ = ["Batch", "DEFAULT_MAX_EVENTS", "DEFAULT_MAX_MS"]

DEFAULT_MAX_EVENTS = 100
"""Events per batch by default."""

DEFAULT_MAX_MS = 500
"""Wall-clock milliseconds a batch takes in by default before it is :attr:`Batch.full`."""


class Batch:
    """The calls of one :meth:`RetryLayer.batch` scope (made through its methods).

    Each method takes the arguments of the :class:`RetryLayer` method of the
    same name and returns nothing: the actions wait in :attr:`actions` until
    the batch has committed.
    """

    def __init__(self, layer: RetryLayer, max_events: int, max_ms: int) -> None:
        if type(max_events) is not int or max_events < 1:
            raise UsageError(f"max_events must be a positive int, got {max_events!r}")
        if type(max_ms) is not int or max_ms < 1:
            raise UsageError(f"max_ms must be a positive int, got {max_ms!r}")
        self._layer = layer
        self._max_events = max_events
        self._deadline = time.monotonic() + max_ms / 1000
        self._actions: list[Action] = []
        self._committed = False
        self.clock: Reading | None = None
        """The layer's clock in the last call made (set by the layer; it places the WakeAt)."""
        self.events = 0
        """Calls made through the batch so far."""
        self.errors: list[tuple[int, RemoteError | UsageError]] = []
        """``(index of the call, its error)`` for every call that raised; its writes were undone."""

    @property
    def full(self) -> bool:
        """The batch took ``max_events`` calls or ran ``max_ms``: hand the rest to the next."""
        return self.events >= self._max_events or time.monotonic() >= self._deadline

    @property
    def actions(self) -> list[Action]:
        """Every call's actions in order, then one ``WakeAt``.

        Raises:
            UsageError: the batch has not committed (read them after the ``with`` block).
        """
        if not self._committed:
            raise UsageError("a batch's actions are read after it committed (after the with block)")
        return self._actions

    def _call(self, method: str, *args: object) -> None:
        index = self.events
        self.events += 1
        try:
            actions: list[Action] = getattr(self._layer, method)(*args)
        except (RemoteError, UsageError) as exc:
            self.errors.append((index, exc))
            return
        self._actions.extend(actions)  # no WakeAt inside a batch: one comes at its end

    def _commit(self, wake: WakeAt | None) -> None:
        if wake is not None:
            self._actions.append(wake)
        self._committed = True

    # -- the events ------------------------------------------------------------------

    def receive(self, envelope: Envelope, now_ms: int) -> None:
        """:meth:`RetryLayer.receive` in the batch."""
        self._call("receive", envelope, now_ms)

    def receive_receipt(
        self,
        receipt: IncomingRetryReceipt | DeliveryReceipt,
        now_ms: int,
        device: ProtocolAddress | None = None,
    ) -> None:
        """:meth:`RetryLayer.receive_receipt` in the batch."""
        self._call("receive_receipt", receipt, now_ms, device)

    def server_ack(self, message_id: str, device: ProtocolAddress, now_ms: int) -> None:
        """:meth:`RetryLayer.server_ack` in the batch."""
        self._call("server_ack", message_id, device, now_ms)

    def send(
        self,
        recipients: Iterable[ProtocolAddress],
        message_id: str,
        plaintext: bytes,
        now_ms: int,
        group: str | None = None,
        priority: Priority = Priority.DEFAULT,
    ) -> None:
        """:meth:`RetryLayer.send` in the batch (a ``NoSession`` is kept in :attr:`errors`)."""
        self._call("send", list(recipients), message_id, plaintext, now_ms, group, priority)

    def tick(self, now_ms: int) -> None:
        """:meth:`RetryLayer.tick` in the batch."""
        self._call("tick", now_ms)
