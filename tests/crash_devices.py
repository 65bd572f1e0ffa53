"""The device processes of the SIGKILL crash test: databases and processes for the relay.

:func:`provision` makes each device's database, with a session with every
other device (as if they had fetched each other's bundles before the test);
:class:`DeviceProcess` runs one incarnation of a device
(``python -m tests.crash_child``) on it, importing this worktree's
``axolotl`` (``PYTHONPATH`` and the working directory are the repository
root; the device says which ``axolotl`` it imported when it is ready).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from axolotl.address import ProtocolAddress
from axolotl.keys import (
    generate_identity_key_pair,
    generate_registration_id,
    generate_signed_pre_key,
)
from axolotl.retry import RetryLayer, address_to_jid
from axolotl.session import new_bundle
from axolotl.store import SQLiteStore
from tests.crash_child import Phase

__all__ = ["NAMES", "ROOT", "START_MS", "ChildError", "DeviceProcess", "Events", "provision"]

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("alice", "bob", "carol", "dave", "erin")
START_MS = 1_700_000_000_000

Events = queue.Queue[tuple[str, int, dict[str, Any] | None]]
"""What device processes said: ``(jid, incarnation number, message or None at the end)``."""


class ChildError(RuntimeError):
    """A device process ended in a way no kill explains (an exception, a bad line)."""


class DeviceProcess:
    """One incarnation of a device process, with a reader and a writer thread.

    What it prints arrives on ``events`` as ``(jid, number, message)``, and
    ``(jid, number, None)`` once it has ended.
    """

    def __init__(
        self,
        jid: str,
        number: int,
        directory: Path,
        now: int,
        policy: str,
        events: Events,
        *,
        batch: int = 0,
    ) -> None:
        self.jid = jid
        self.number = number
        self.ready = False
        self.killed = False  # by the relay
        self.quitting = False
        self.err_path = directory / f"stderr-{number}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.crash_child", "--dir", str(directory),
                 "--jid", jid, "--now", str(now), "--policy", policy, "--batch", str(batch)],
                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
            )  # fmt: skip
        self._lines: queue.Queue[bytes | None] = queue.Queue()
        self._events = events
        threading.Thread(target=self._write, daemon=True).start()
        threading.Thread(target=self._read, daemon=True).start()

    def put(self, obj: dict[str, Any]) -> None:
        self._lines.put(json.dumps(obj, separators=(",", ":")).encode() + b"\n")

    def close_input(self) -> None:
        self._lines.put(None)

    def _write(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        while (line := self._lines.get()) is not None:
            try:
                stdin.write(line)
                stdin.flush()
            except OSError:
                return  # killed: what it did not read is still pending at the relay
        with contextlib.suppress(OSError):
            stdin.close()

    def _read(self) -> None:
        stdout: IO[bytes] | None = self.proc.stdout
        assert stdout is not None
        for line in stdout:
            if line.endswith(b"\n"):
                self._events.put((self.jid, self.number, json.loads(line)))
            else:  # the kill tore it: it never reached the server
                self._events.put((self.jid, self.number, {"op": "torn"}))
        self._events.put((self.jid, self.number, None))

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")[-4000:]


def provision(workdir: Path, count: int) -> list[str]:
    """Databases for ``count`` devices, each with a session with every other; their JIDs."""
    addresses = [ProtocolAddress(f"{name}@s.whatsapp.net", i + 1)
                 for i, name in enumerate(NAMES[:count])]  # fmt: skip
    stores: dict[ProtocolAddress, SQLiteStore] = {}
    try:
        for address in addresses:
            directory = workdir / address_to_jid(address)
            directory.mkdir(parents=True)
            (directory / "phase").write_bytes(bytes([Phase.START]))
            identity = generate_identity_key_pair()
            store = SQLiteStore.create(
                directory / "device.db", identity, generate_registration_id()
            )
            store.store_signed_pre_key(generate_signed_pre_key(identity, 1, START_MS))
            stores[address] = store
        for a in addresses:
            layer = RetryLayer(stores[a], a)
            for b in addresses:
                if a != b:
                    bundle = new_bundle(stores[b], b.device_id)
                    assert bundle is not None
                    layer.process_bundle(b, bundle)
    finally:
        for store in stores.values():
            store.close()
    return [address_to_jid(a) for a in addresses]
