"""A hypothesis state machine mixing every fault the network knows, then letting it heal.

Invariant once faults stop and everything reconnects: every message reached
every recipient device exactly once, or was reported (``Undecryptable`` at
the receiver, ``SendFailed`` at the sender) after its budget; no message drew
more receipts or transmissions than the policy allows. The machine runs
under the native framing and again under the WhatsApp one.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from axolotl.framing import WhatsAppFraming
from tests.framing_helpers import FramedNetwork
from tests.helpers import Faults, Network

NAMES = ["alice", "bob", "carol"]
name = st.sampled_from(NAMES)


class RetryNetwork(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.net = Network(NAMES, seed=3)
        self.n = 0

    def teardown(self) -> None:
        net = self.net
        net.faults = Faults()
        for n in NAMES:
            if not net.devices[net.address(n)].online:
                net.reconnect(n)
        net.run()
        net.check_exactly_once()
        net.check_budgets()
        net.close()

    @rule(src=name, dsts=st.sets(name, min_size=1, max_size=2), group=st.booleans())
    def send(self, src: str, dsts: set[str], group: bool) -> None:
        dsts.discard(src)
        if not dsts:
            return
        net = self.net
        recipients = sorted(dsts)
        net.send(src, recipients, f"m{self.n}".encode(), group="g@g.example" if group else None)
        self.n += 1

    @rule(
        drop=st.sampled_from([0.0, 0.1, 0.5]),
        corrupt=st.sampled_from([0.0, 0.1, 0.5]),
        dup=st.sampled_from([0.0, 0.3]),
        spread=st.sampled_from([0, 200]),
    )
    def faults(self, drop: float, corrupt: float, dup: float, spread: int) -> None:
        self.net.faults = Faults(
            drop=drop, corrupt=corrupt, duplicate=dup, min_delay_ms=10, max_delay_ms=10 + spread
        )

    @rule(ms=st.sampled_from([10, 100, 1_000, 30_000]))
    def advance(self, ms: int) -> None:
        self.net.run(until_ms=self.net.now + ms)

    @rule(a=name, b=name)
    def wipe(self, a: str, b: str) -> None:
        if a != b:
            self.net.wipe_session(a, b)

    @rule(who=name)
    def reinstall(self, who: str) -> None:
        if self.net.devices[self.net.address(who)].online:
            self.net.reinstall(who)

    @rule(who=name)
    def disconnect(self, who: str) -> None:
        self.net.disconnect(who)

    @precondition(lambda self: any(not d.online for d in self.net.devices.values()))
    @rule(who=name)
    def reconnect(self, who: str) -> None:
        if not self.net.devices[self.net.address(who)].online:
            self.net.reconnect(who)


RetryNetwork.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRetryNetwork = RetryNetwork.TestCase


class WhatsAppRetryNetwork(RetryNetwork):
    """The same machine with every device on the WhatsApp framing."""

    def __init__(self) -> None:
        super().__init__()
        self.net.close()
        self.net = FramedNetwork(NAMES, seed=3, framing=WhatsAppFraming())


WhatsAppRetryNetwork.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestWhatsAppRetryNetwork = WhatsAppRetryNetwork.TestCase
