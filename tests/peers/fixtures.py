"""pytest fixtures for the real peers (wired into tests/conftest.py with one import).

``pyaxolotl_peer`` builds ``.peers/pyaxolotl`` if needed (see ``envs.py``) and
starts one peer process for the whole session. Parties are shared across tests
within that process, so give each test its own party names (or call ``reset``).
``yowsup_layers_peer`` starts, in the same venv, one process running yowsup's own
axolotl layers (``yowsup_layers_peer.py``); give each test its own phone numbers.

Outside CI a venv that cannot be built skips the peer tests with a one-line reason;
with the environment variable ``CI`` set it fails them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.peers.client import Peer
from tests.peers.envs import EnvBuildError, ensure_env
from tests.peers.yowsup_client import YowsupLayersPeer


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"peer environment unavailable: {reason}", pytrace=False)
    pytest.skip(f"peer environment unavailable: {reason}")


@pytest.fixture(scope="session")
def pyaxolotl_python() -> str:
    """Path of the python-axolotl/yowsup peer venv's interpreter (built on demand)."""
    try:
        return str(ensure_env())
    except EnvBuildError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        _unavailable(first_line)
        raise AssertionError("unreachable") from exc


@pytest.fixture(scope="session")
def pyaxolotl_peer(pyaxolotl_python: str) -> Iterator[Peer]:
    """One python-axolotl 0.2.3 + yowsup 3.3.0 peer process for the session."""
    peer = Peer(pyaxolotl_python)
    try:
        peer.call("ping")
        yield peer
    finally:
        peer.close()


@pytest.fixture(scope="session")
def yowsup_layers_peer(pyaxolotl_python: str) -> Iterator[YowsupLayersPeer]:
    """One process hosting yowsup 3.3.0's axolotl layers for the session."""
    peer = YowsupLayersPeer(pyaxolotl_python)
    try:
        peer.call("ping")
        yield peer
    finally:
        peer.close()
