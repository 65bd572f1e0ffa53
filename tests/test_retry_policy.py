"""RetryPolicy and Backoff: defaults, validation, the schedule and its jitter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from axolotl.errors import UsageError
from axolotl.retry.policy import DEFAULT_POLICY, Backoff, Priority, RetryPolicy
from axolotl.rng import DeterministicRng


def test_nominal_schedule_doubles_up_to_the_cap() -> None:
    b = Backoff(base_ms=1000, factor=2, cap_ms=10_000, jitter=0)
    assert b.schedule(6) == [1000, 2000, 4000, 8000, 10_000, 10_000]
    assert b.nominal_ms(10_000) == 10_000


@given(attempt=st.integers(1, 500), seed=st.integers())
def test_jitter_stays_within_its_band(attempt: int, seed: int) -> None:
    b = Backoff(base_ms=500, factor=1.5, cap_ms=60_000, jitter=0.25)
    d = b.delay_ms(attempt, DeterministicRng(seed))
    nominal = b.nominal_ms(attempt)
    assert nominal * 0.75 - 1 <= d <= nominal * 1.25 + 1


def test_jitter_is_reproducible_from_the_rng() -> None:
    b = Backoff()
    assert [b.delay_ms(3, DeterministicRng(7)) for _ in range(2)] == [
        b.delay_ms(3, DeterministicRng(7))
    ] * 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base_ms": 0},
        {"base_ms": 10, "cap_ms": 5},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_backoff_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_policy_defaults_and_validation() -> None:
    assert DEFAULT_POLICY.max_retries == 5
    assert DEFAULT_POLICY.send_log_max_age_ms == 14 * 86_400_000
    assert set(DEFAULT_POLICY.classes) == set(Priority)
    with pytest.raises(UsageError):
        RetryPolicy(max_retries=0)
    with pytest.raises(UsageError):
        RetryPolicy(max_retries=256)
    with pytest.raises(UsageError):
        RetryPolicy(classes={Priority.DEFAULT: DEFAULT_POLICY.classes[Priority.DEFAULT]})
    with pytest.raises(UsageError):
        Backoff().nominal_ms(0)
