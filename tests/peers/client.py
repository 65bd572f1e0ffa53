"""Drive a peer process (``pyaxolotl_peer.py`` in the peer venv) over JSON lines.

Usable from tests and from ``benchmarks/`` scripts::

    sys.path.insert(0, str(repo_root))
    from tests.peers.client import Peer

    with Peer.start() as peer:
        alice = peer.call("init", party="alice")

Bytes travel as hex strings; :func:`h` and :func:`unh` convert.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any

PEER_SCRIPT = Path(__file__).resolve().with_name("pyaxolotl_peer.py")
DEFAULT_TIMEOUT = 120.0


def h(data: bytes) -> str:
    """Encode bytes for the peer protocol.

    Args:
        data: raw bytes.

    Returns:
        Lowercase hex.
    """
    return data.hex()


def unh(text: str) -> bytes:
    """Decode a hex string from the peer protocol.

    Args:
        text: hex digits.

    Returns:
        The raw bytes.

    Raises:
        ValueError: ``text`` is not hex.
    """
    return bytes.fromhex(text)


class PeerError(Exception):
    """The peer answered ``ok: false``.

    Attributes:
        error: the exception class name raised in the peer (``"BadRequest"`` for
            malformed requests), e.g. ``"DuplicateMessageException"``.
        message: the exception's text.
    """

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


class PeerCrashed(PeerError):
    """The peer process died, closed stdout or did not answer in time."""

    def __init__(self, message: str) -> None:
        super().__init__("PeerCrashed", message)


class Peer:
    """A running peer process; one request in flight at a time.

    Args:
        python: the peer venv's interpreter (see ``tests.peers.envs.ensure_env``).
        script: the peer script to run.
        timeout: seconds to wait for each answer.
    """

    def __init__(
        self, python: Path | str, script: Path = PEER_SCRIPT, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.timeout = timeout
        self._next_id = 0
        self._buf = b""
        # Kept open for the process's lifetime, closed in close().
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        # -I: isolated (no script dir, PYTHONPATH or user site on sys.path), so the
        # peer can never pick up this project's `axolotl`; cwd is elsewhere too.
        self._proc = subprocess.Popen(
            [str(python), "-I", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=tempfile.gettempdir(),
            env=env,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._stdin = self._proc.stdin
        self._stdout = self._proc.stdout
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._stdout, selectors.EVENT_READ)

    @classmethod
    def start(cls, *, timeout: float = DEFAULT_TIMEOUT, rebuild: bool = False) -> Peer:
        """Build the peer venv if needed and start a peer process in it.

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

    # ------------------------------------------------------------------ I/O
    def _stderr_tail(self, limit: int = 4000) -> str:
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return text[-limit:]

    def _crashed(self, what: str) -> PeerCrashed:
        code = self._proc.poll()
        tail = self._stderr_tail()
        return PeerCrashed(f"{what} (exit code {code}); stderr:\n{tail}")

    def _read_line(self) -> bytes:
        while b"\n" not in self._buf:
            if not self._sel.select(self.timeout):
                raise self._crashed(f"no answer within {self.timeout} s")
            chunk = os.read(self._stdout.fileno(), 1 << 16)
            if not chunk:
                raise self._crashed("peer closed its stdout")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Send one command and return the peer's answer.

        Args:
            cmd: command name (see ``pyaxolotl_peer.py``).
            **args: command arguments (bytes as hex strings; use :func:`h`).

        Returns:
            The answer without ``id`` and ``ok``.

        Raises:
            PeerError: the peer answered ``ok: false`` (``.error`` names the class).
            PeerCrashed: the process died or timed out.
        """
        if self._proc.poll() is not None:
            raise self._crashed("peer is not running")
        self._next_id += 1
        req_id = self._next_id
        line = json.dumps({**args, "id": req_id, "cmd": cmd}) + "\n"
        try:
            self._stdin.write(line.encode())
            self._stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise self._crashed(f"writing to the peer failed: {exc}") from exc
        answer = json.loads(self._read_line())
        if answer.get("id") != req_id:
            raise PeerCrashed(f"answer id {answer.get('id')!r} != request id {req_id}")
        if not answer.pop("ok", False):
            raise PeerError(str(answer.get("error")), str(answer.get("message")))
        answer.pop("id", None)
        return dict(answer)

    # ------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Ask the peer to shut down, then reap it (kill after 5 s)."""
        if self._proc.poll() is None:
            with contextlib.suppress(PeerError):
                self.call("shutdown")
            with contextlib.suppress(OSError):
                self._stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._sel.close()
        self._stdout.close()
        self._stderr.close()

    @property
    def returncode(self) -> int | None:
        """The exit status, or None while the process runs."""
        return self._proc.poll()

    def __enter__(self) -> Peer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
