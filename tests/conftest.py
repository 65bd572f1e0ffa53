"""Shared pytest configuration: fixtures live in their own modules, imported here."""

from typing import Any

from tests.peers.fixtures import pyaxolotl_peer, pyaxolotl_python  # noqa: F401
from tests.store_fixtures import pg_skip_summary, store, store_backend  # noqa: F401


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """End a run that skipped PostgreSQL cases with one line saying how many and why."""
    line = pg_skip_summary(terminalreporter.stats.get("skipped", []))
    if line is not None:
        terminalreporter.write_line(line)
