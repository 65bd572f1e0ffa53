"""One device of the SIGKILL crash test, run as its own process: ``python -m tests.crash_child``.

The device is a :class:`~axolotl.retry.RetryLayer` on its own
:class:`~axolotl.store.SQLiteStore` (``synchronous=FULL``) plus a small
application with a journal (:mod:`tests.crash_journal`). It talks to the
relay (the parent, :mod:`tests.crash_relay`) in JSON lines: the relay's
stanzas and commands come on stdin, its uploads and acks go out on stdout,
each line in one ``write`` (a line the kill tears is dropped by the relay).

The parent may SIGKILL it at any moment; it is then started again on the
same database and journal, and does what an application must do after a
crash:

1. hand out ``layer.inbox()`` first: write each delivery it has not written
   yet (the kill may have come between its write and ``confirm``) and
   journal each report, then confirm it;
2. make again every send whose intent it wrote but whose send did not
   commit, under the intent's message id (a send that did commit is not
   made again: its envelopes are in the layer's outbox);
3. ``layer.reconnected(now)``: re-emit every envelope the server has not acked.

A stanza from the relay is acknowledged (``done``) only after its call
committed and its actions were carried out, so the relay hands over again
whatever a kill interrupted, as a WhatsApp server redelivers the stanzas a
client did not ack before it reconnected.

The relay can also arm a kill point (``arm``): the device then SIGKILLs
itself the n-th time it passes that point, for the narrow windows a random
kill seldom hits (after a commit and before the action it asked for).
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import mmap
import os
import select
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import axolotl
from axolotl.receipts import (
    IncomingRetryReceipt,
    parse_text,
    receipt_from_node,
    receipt_to_node,
)
from axolotl.retry import (
    Ack,
    Action,
    Deliver,
    DeliveryReceipt,
    Envelope,
    FetchBundle,
    Gap,
    Priority,
    RetryLayer,
    RetryPolicy,
    SendFailed,
    SendReceipt,
    Transmit,
    Undecryptable,
    WakeAt,
    address_from_jid,
    address_to_jid,
)
from axolotl.store import SQLiteStore
from axolotl.wire import MessageType
from tests.crash_journal import Journal

__all__ = [
    "ARMED_PHASE",
    "KILL_POINTS",
    "Phase",
    "envelope_from_json",
    "envelope_to_json",
    "main",
    "policy",
]


@enum.unique
class Phase(enum.IntEnum):
    """What the device is doing, in its phase file: the parent reads where a kill hit."""

    START = 1  # interpreter start-up, imports, opening the store
    INBOX = 2  # handing out layer.inbox() at start-up
    RESUME = 3  # making again the sends whose intent has no committed send
    RECONNECT = 4  # layer.reconnected and carrying out its re-emissions
    IDLE = 5  # waiting for the relay
    CALL = 6  # inside a layer call on a stanza or a timer (its transaction)
    CARRY = 7  # the call committed; carrying out its actions (uploads)
    APP_WRITE = 8  # journaling a delivery (write + fsync)
    WRITTEN = 9  # the delivery is journaled, confirm not called yet
    CONFIRM = 10  # inside layer.confirm
    REPORT = 11  # journaling a report (Undecryptable, SendFailed, Gap, FetchBundle)
    INTENT = 12  # journaling a send intent
    SEND = 13  # inside layer.send
    DONE = 14  # acknowledging the stanza to the relay


KILL_POINTS = ("call", "upload", "write", "confirm", "report", "intent", "send", "inbox", "done")
"""Where an armed device kills itself: after a layer call committed (before its actions), after
an upload line, after a delivery is journaled (before confirm), after confirm, before an
``Undecryptable`` or ``SendFailed`` is journaled, after a send intent (before send), after send
returned, after ``inbox()`` handed a delivery out at start-up (before it is journaled), before a
stanza's ``done``."""


ARMED_PHASE = 100
"""The phase an armed device writes before it kills itself: ``ARMED_PHASE + KILL_POINTS.index``."""


def policy(name: str) -> RetryPolicy:
    """The retry policy of every device: ``default``, or ``tight`` (small budgets, so that
    ``Undecryptable`` and ``SendFailed`` reports happen under the relay's faults)."""
    if name == "default":
        return RetryPolicy()
    if name == "tight":
        base = RetryPolicy()
        classes = dict(base.classes)
        classes[Priority.DEFAULT] = replace(classes[Priority.DEFAULT], max_transmissions=3)
        return replace(base, max_retries=2, classes=classes)
    raise ValueError(f"unknown policy {name!r}")


def envelope_to_json(env: Envelope) -> dict[str, Any]:
    """``env`` as the relay carries it."""
    return {
        "id": env.message_id,
        "from": address_to_jid(env.sender),
        "to": address_to_jid(env.recipient),
        "type": int(env.type),
        "body": base64.b64encode(env.body).decode(),
        "ts": env.timestamp_ms,
        "count": env.retry_count,
        "group": env.group_id,
        "priority": int(env.priority),
    }


def envelope_from_json(obj: dict[str, Any]) -> Envelope:
    """The envelope of :func:`envelope_to_json`."""
    return Envelope(
        message_id=obj["id"],
        sender=address_from_jid(obj["from"]),
        recipient=address_from_jid(obj["to"]),
        type=MessageType(obj["type"]),
        body=base64.b64decode(obj["body"]),
        timestamp_ms=obj["ts"],
        retry_count=obj["count"],
        group_id=obj["group"],
        priority=Priority(obj["priority"]),
    )


def _report_record(item: Undecryptable | SendFailed) -> dict[str, Any]:
    """The journal line of a report."""
    if isinstance(item, Undecryptable):
        return {
            "t": "undecryptable",
            "from": address_to_jid(item.sender),
            "id": item.message_id,
            "reason": item.reason.name,
            "count": item.count,
        }
    return {
        "t": "send_failed",
        "id": item.message_id,
        "device": address_to_jid(item.device),
        "reason": item.reason.name,
    }


def _out(obj: dict[str, Any]) -> None:
    """One line to the relay, in as few writes as the pipe takes (normally one)."""
    line = json.dumps(obj, separators=(",", ":")).encode() + b"\n"
    view = memoryview(line)
    while view:
        view = view[os.write(1, view) :]


class Device:
    """The application of one device around its retry layer."""

    def __init__(
        self, directory: Path, jid: str, now: int, policy_name: str, batch: int = 0
    ) -> None:
        self.batch = batch
        self.local = address_from_jid(jid)
        self.jid = jid
        self.now = now
        self.wake: int | None = None
        phase_fd = os.open(directory / "phase", os.O_RDWR)
        self._phase = mmap.mmap(phase_fd, 1)
        os.close(phase_fd)
        self.store = SQLiteStore.open(directory / "device.db")
        self.layer = RetryLayer(self.store, self.local, policy=policy(policy_name))
        self.journal = Journal(directory / "journal")
        self.shown: set[tuple[str, str]] = set()
        self.intents: list[dict[str, Any]] = []
        for record in self.journal.records:
            if record["t"] == "deliver":
                self.shown.add((record["from"], record["id"]))
            elif record["t"] == "intent":
                self.intents.append(record)
        self.armed: tuple[str, int] | None = None
        self.counts = {"inbox": 0, "recovered": 0, "rewrite_skipped": 0, "resent": 0}

    # -- kills -----------------------------------------------------------------
    def phase(self, phase: Phase) -> None:
        self._phase[0] = phase

    def point(self, name: str) -> None:
        """Die here if the relay armed this point and its count has come."""
        if self.armed is None or self.armed[0] != name:
            return
        point, skip = self.armed
        if skip > 0:
            self.armed = (point, skip - 1)
            return
        self._phase[0] = ARMED_PHASE + KILL_POINTS.index(name)
        os.kill(os.getpid(), signal.SIGKILL)

    # -- the application ------------------------------------------------------
    def show(self, deliver: Deliver, via: str) -> None:
        """Write ``deliver`` down (once per sender and id), then confirm it."""
        sender = address_to_jid(deliver.sender)
        key = (sender, deliver.message_id)
        if key in self.shown:
            if via == "live":
                # The layer delivers a message live exactly once; the inbox
                # hands one out again after a crash. A live repeat is a bug.
                self.phase(Phase.REPORT)
                self.journal.append({"t": "double", "from": sender, "id": deliver.message_id})
            else:
                self.counts["rewrite_skipped"] += 1
        else:
            self.phase(Phase.APP_WRITE)
            self.journal.append(
                {
                    "t": "deliver",
                    "from": sender,
                    "id": deliver.message_id,
                    "text": deliver.plaintext.decode(),
                    "group": deliver.group_id,
                    "via": via,
                }
            )
            self.shown.add(key)
            if via == "inbox":
                self.counts["recovered"] += 1
        self.phase(Phase.WRITTEN)
        self.point("write")
        self.phase(Phase.CONFIRM)
        self.layer.confirm(deliver)
        self.point("confirm")

    def report(
        self, record: dict[str, Any], item: Undecryptable | SendFailed | None = None
    ) -> None:
        """Journal a report, then confirm a message's own (``item``; not a gap).

        A message's own report may be a kill point, before it is journaled:
        the layer's inbox hands it out again after the restart.
        """
        if item is not None:
            self.point("report")
        self.phase(Phase.REPORT)
        self.journal.append(record)
        if item is not None:
            self.phase(Phase.CONFIRM)
            self.layer.confirm(item)

    def carry(self, actions: list[Action]) -> None:
        """Carry out what a committed call asked for, in order."""
        # Every call ends with a WakeAt when the layer holds a timer at all.
        self.wake = next((a.ms for a in actions if isinstance(a, WakeAt)), None)
        for action in actions:
            self.phase(Phase.CARRY)
            if isinstance(action, Transmit):
                _out({"op": "up", "kind": "envelope", "env": envelope_to_json(action.envelope)})
                self.point("upload")
            elif isinstance(action, SendReceipt):
                node = receipt_to_node(action.receipt).to_text(indent=None)
                _out(
                    {
                        "op": "up",
                        "kind": "receipt",
                        "to": address_to_jid(action.device),
                        "node": node,
                    }
                )
                self.point("upload")
            elif isinstance(action, Ack):
                to = address_to_jid(action.sender)
                _out({"op": "up", "kind": "delivery", "to": to, "id": action.message_id})
                self.point("upload")
            elif isinstance(action, Deliver):
                self.show(action, "live")
            elif isinstance(action, Undecryptable | SendFailed):
                self.report(_report_record(action), action)
            elif isinstance(action, Gap):
                self.report(
                    {
                        "t": "gap",
                        "from": address_to_jid(action.sender),
                        "missing": list(action.missing),
                    }
                )
            elif isinstance(action, FetchBundle):
                # The relay has no key directory: the resend goes on the old session.
                self.report({"t": "fetch_bundle", "device": address_to_jid(action.device)})
                self.call(partial(self.layer.bundle_fetched, action.device, None, self.now))

    def call(self, make: Callable[[], list[Action]]) -> None:
        """A layer call in a transaction of its own, then its actions."""
        self.phase(Phase.CALL)
        actions = make()
        self.point("call")
        self.carry(actions)

    def send(self, to: list[str], group: str | None) -> None:
        """The user's next message: its intent first, so a kill cannot change its id."""
        n = len(self.intents)
        intent = {
            "t": "intent",
            "n": n,
            "id": self.layer.new_message_id(),
            "to": to,
            "group": group,
            "text": f"{self.local.name} #{n} to {len(to)}" + (f" in {group}" if group else ""),
        }
        self.phase(Phase.INTENT)
        self.journal.append(intent)
        self.intents.append(intent)
        self.point("intent")
        self._send(intent)

    def _send(self, intent: dict[str, Any]) -> None:
        self.phase(Phase.SEND)
        recipients = [address_from_jid(j) for j in intent["to"]]
        actions = self.layer.send(
            recipients, intent["id"], intent["text"].encode(), self.now, group=intent["group"]
        )
        self.point("send")
        self.carry(actions)

    # -- start-up and the loop ---------------------------------------------------
    def start(self) -> None:
        """What the application does after a crash (or a first start), before anything else."""
        self.phase(Phase.INBOX)
        for item in self.layer.inbox():
            self.counts["inbox"] += 1
            self.point("inbox")
            if isinstance(item, Deliver):
                self.show(item, "inbox")
            else:  # journaled again if the kill came after the journal: read as a set
                self.report(_report_record(item), item)
        self.phase(Phase.RESUME)
        for intent in self.intents:
            if self.layer.was_sent(intent["id"]):  # the send committed
                continue
            self.counts["resent"] += 1
            self._send(intent)
            self.phase(Phase.RESUME)
        self.phase(Phase.RECONNECT)
        self.call(lambda: self.layer.reconnected(self.now))
        _out(
            {
                "op": "ready",
                "pid": os.getpid(),
                "axolotl": axolotl.__file__,
                "counts": self.counts,
                "wake": self.wake,
            }
        )

    def handle(self, msg: dict[str, Any]) -> bool:
        """One line from the relay; ``False`` to stop."""
        op = msg["op"]
        self.now = max(self.now, msg.get("now", self.now))
        if op == "item":
            self._item(msg)
            self.point("done")
            self.phase(Phase.DONE)
            _out({"op": "done", "item": msg["item"]})
        elif op == "clock":
            if self.wake is not None and self.wake <= self.now:
                self.call(lambda: self.layer.tick(self.now))
        elif op == "send":
            self.send(msg["to"], msg["group"])
        elif op == "arm":
            self.armed = (msg["point"], msg["skip"]) if msg["point"] else None
        elif op == "sync":
            pending = len(self.layer.pending())
            inbox = len(self.layer.inbox())
            _out(
                {
                    "op": "synced",
                    "k": msg["k"],
                    "wake": self.wake,
                    "outbox": pending,
                    "inbox": inbox,
                }
            )
        elif op == "quit":
            return False
        else:
            raise ValueError(f"unknown op {op!r}")
        return True

    def _event(self, msg: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        """The layer method a stanza goes to, and its arguments."""
        kind = msg["kind"]
        if kind == "envelope":
            return "receive", (envelope_from_json(msg["env"]), self.now)
        if kind == "receipt":
            receipt = receipt_from_node(parse_text(msg["node"]), IncomingRetryReceipt)
            return "receive_receipt", (receipt, self.now)
        if kind == "delivery":
            delivery = DeliveryReceipt(message_id=msg["id"], device=address_from_jid(msg["from"]))
            return "receive_receipt", (delivery, self.now)
        if kind == "server_ack":
            return "server_ack", (msg["id"], address_from_jid(msg["device"]), self.now)
        raise ValueError(f"unknown item kind {kind!r}")

    def _item(self, msg: dict[str, Any]) -> None:
        method, args = self._event(msg)
        self.call(lambda: getattr(self.layer, method)(*args))

    def items(self, msgs: list[dict[str, Any]]) -> None:
        """Stanzas that were waiting together, in one batch: one commit, then the actions,
        then every ``done`` (a kill before the commit leaves them all unacked)."""
        self.now = max([self.now, *(m.get("now", self.now) for m in msgs)])
        self.phase(Phase.CALL)
        with self.layer.batch(max_events=len(msgs), max_ms=60_000) as batch:
            for msg in msgs:
                method, args = self._event(msg)
                getattr(batch, method)(*args)
        if batch.errors:  # alone, the call would have raised: so does the batch
            raise batch.errors[0][1]
        self.point("call")
        self.carry(batch.actions)
        for msg in msgs:
            self.point("done")
            self.phase(Phase.DONE)
            _out({"op": "done", "item": msg["item"], "batch": len(msgs)})

    def run(self) -> None:
        self.start()
        lines = _Lines(sys.stdin.fileno())
        while True:
            self.phase(Phase.IDLE)
            line = lines.readline()
            if not line:
                break
            msg = json.loads(line)
            if self.batch and msg["op"] == "item":
                # What the relay has handed over already goes in one batch.
                msgs, other = [msg], None
                while len(msgs) < self.batch and lines.waiting():
                    nxt = json.loads(lines.readline())
                    if nxt["op"] != "item":
                        other = nxt
                        break
                    msgs.append(nxt)
                self.items(msgs)
                if other is None or self.handle(other):
                    continue
                break
            if not self.handle(msg):
                break
        self.journal.close()
        self.store.close()


class _Lines:
    """Lines from a file descriptor, with a look at whether one is waiting (no blocking)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""
        self._eof = False

    def _fill(self, block: bool) -> None:
        if self._eof or (not block and not select.select([self._fd], [], [], 0)[0]):
            return
        chunk = os.read(self._fd, 1 << 16)
        if chunk:
            self._buffer += chunk
        else:
            self._eof = True

    def waiting(self) -> bool:
        """Whether a whole line can be read now."""
        if b"\n" not in self._buffer:
            self._fill(block=False)
        return b"\n" in self._buffer

    def readline(self) -> bytes:
        """The next line (blocking); ``b""`` at the end."""
        while b"\n" not in self._buffer and not self._eof:
            self._fill(block=True)
        line, sep, rest = self._buffer.partition(b"\n")
        if not sep:
            self._buffer = b""
            return line
        self._buffer = rest
        return line + sep


def main(argv: list[str] | None = None) -> int:
    """Run one device until the relay says ``quit`` (or closes stdin)."""
    parser = argparse.ArgumentParser(prog="python -m tests.crash_child")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--jid", required=True)
    parser.add_argument("--now", type=int, required=True)
    parser.add_argument("--policy", default="default")
    parser.add_argument("--batch", type=int, default=0)
    args = parser.parse_args(argv)
    Device(args.dir, args.jid, args.now, args.policy, args.batch).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
