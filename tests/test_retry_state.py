"""The transition tables: every pair is either listed or raises, naming role, state and event."""

from __future__ import annotations

import pytest

from axolotl.errors import IllegalTransition
from axolotl.retry._state import (
    RECEIVER,
    SENDER,
    RecvEvent,
    RecvState,
    SendEvent,
    SendState,
    next_recv_state,
    next_send_state,
)


def test_receiver_table_is_total_or_raises() -> None:
    for state in RecvState:
        for event in RecvEvent:
            if (state, event) in RECEIVER:
                assert next_recv_state(state, event) == RECEIVER[state, event]
            else:
                with pytest.raises(IllegalTransition) as info:
                    next_recv_state(state, event)
                assert info.value.role == "receiver"
                assert state.name in str(info.value) and event.value in str(info.value)


def test_sender_table_is_total_or_raises() -> None:
    for state in SendState:
        for event in SendEvent:
            if (state, event) in SENDER:
                assert next_send_state(state, event) == SENDER[state, event]
            else:
                with pytest.raises(IllegalTransition):
                    next_send_state(state, event)


def test_delivered_is_final_for_delivery() -> None:
    """Once delivered, no receiver event leads anywhere else (exactly once)."""
    for (state, _event), target in RECEIVER.items():
        if state is RecvState.DELIVERED:
            assert target is RecvState.DELIVERED
    assert (RecvState.DELIVERED, RecvEvent.DECRYPTED) not in RECEIVER


def test_a_late_resend_is_still_delivered_after_giving_up() -> None:
    assert next_recv_state(RecvState.GAVE_UP, RecvEvent.DECRYPTED) is RecvState.DELIVERED
