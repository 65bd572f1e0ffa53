"""Shared pytest configuration: fixtures live in their own modules, imported here."""

from tests.peers.fixtures import pyaxolotl_peer, pyaxolotl_python  # noqa: F401
