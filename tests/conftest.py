"""Shared pytest configuration: fixtures live in their own modules, imported here."""

from tests.peers.fixtures import pyaxolotl_peer, pyaxolotl_python  # noqa: F401
from tests.store_fixtures import store, store_backend  # noqa: F401
