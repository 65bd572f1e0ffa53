"""The application journal of the SIGKILL crash test: what a device's application did.

One JSON object per line, appended with a single ``write`` and fsynced before
the application goes on, so what the journal holds is what the application
had durably done when it was killed. A kill in the middle of a line leaves a
torn tail (no newline): :func:`read` ignores it and :class:`Journal` cuts it
off before it appends again, so it never glues onto the next line.

Records (``"t"`` is the kind):

- ``intent``: the user's message, written before ``RetryLayer.send`` is
  called, so a send killed mid-way is made again under the same id:
  ``n`` (the sender's message number), ``id``, ``to`` (device JIDs),
  ``group`` (a group id or null), ``text``.
- ``deliver``: a message shown to the user, written after the ``Deliver``
  and before ``RetryLayer.confirm``: ``from`` (JID), ``id``, ``text``,
  ``group``, ``via`` (``live`` for an action of a call, ``inbox`` for one
  handed out again at start-up).
- ``double``: a live ``Deliver`` of a message this journal already holds (a
  delivery the layer made twice; the application does not show it again).
- ``undecryptable`` (``from``, ``id``, ``reason``, ``count``) and
  ``send_failed`` (``id``, ``device``, ``reason``): the layer's reports.
- ``gap`` (``from``, ``missing``) and ``fetch_bundle`` (``device``): noted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["Journal", "read"]

Record = dict[str, Any]


def _complete_lines(data: bytes) -> list[bytes]:
    """The newline-terminated lines of ``data`` (a torn tail is dropped)."""
    lines = data.split(b"\n")
    return [line for line in lines[:-1] if line]


def read(path: Path) -> list[Record]:
    """Every complete record of the journal at ``path`` (none if it does not exist)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in _complete_lines(data)]


class Journal:
    """The append side of a journal, for the application of one device.

    Opening it cuts off a torn tail (the previous incarnation was killed in
    the middle of a line) and fsyncs the cut.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        data = path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            os.ftruncate(self._fd, keep)
            os.fsync(self._fd)
        self.records: list[Record] = [json.loads(line) for line in _complete_lines(data[:keep])]

    def append(self, record: Record) -> None:
        """Write ``record`` as one line and fsync it."""
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        written = os.write(self._fd, line)
        while written < len(line):  # a regular file takes it at once; be safe anyway
            written += os.write(self._fd, line[written:])
        os.fsync(self._fd)
        self.records.append(record)

    def close(self) -> None:
        """Close the file."""
        os.close(self._fd)
