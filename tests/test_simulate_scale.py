"""Device set-up is linear in the device count: sessions start when first used.

An eager network sets up a session for every ordered pair of devices before
anything is sent (the square of the count in X3DH handshakes: 60 devices,
3,540). ``simulate`` runs a lazy one: set-up makes each device's keys and
nothing else, and a sender fetches a bundle when it first sends to a device
it has no session with.
"""

from __future__ import annotations

from typing import Any

import pytest

from axolotl.retry import RetryLayer
from axolotl.simulate import SimulationConfig, simulate
from tests.helpers import Network


@pytest.fixture
def handshakes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts RetryLayer.process_bundle calls (one X3DH handshake each)."""
    calls = [0]
    real = RetryLayer.process_bundle

    def counted(self: RetryLayer, *args: Any, **kwargs: Any) -> None:
        calls[0] += 1
        real(self, *args, **kwargs)

    monkeypatch.setattr(RetryLayer, "process_bundle", counted)
    return calls


def test_lazy_set_up_makes_no_sessions(handshakes: list[int]) -> None:
    net = Network([f"d{i}" for i in range(30)], eager_sessions=False)
    try:
        assert handshakes[0] == 0
        net.send("d0", ["d7"], b"first contact")  # one bundle fetched, a prekey message
        net.run()
        net.send("d7", ["d0"], b"reply")  # d7 has the session from d0's prekey message
        net.run()
        net.check_exactly_once()
        assert handshakes[0] == 1
    finally:
        net.close()


def test_eager_set_up_is_every_ordered_pair(handshakes: list[int]) -> None:
    net = Network([f"d{i}" for i in range(6)])
    net.close()
    assert handshakes[0] == 6 * 5


def test_simulate_sets_up_only_the_pairs_that_talk(handshakes: list[int]) -> None:
    # 40 devices, 3 pairwise messages and no group one after the first: at
    # most the first (group) message's 39 handshakes plus one per message.
    report = simulate(SimulationConfig(devices=40, messages=4, seed=3))
    assert report.ok
    assert handshakes[0] <= 39 + 3


def test_many_devices_with_incidents_deliver_exactly_once() -> None:
    report = simulate(
        SimulationConfig(devices=12, messages=40, wipe=4, reinstall=2, crash=8, seed=6)
    )
    assert report.ok, report.lost + report.wrong + report.over_budget
