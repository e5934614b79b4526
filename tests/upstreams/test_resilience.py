from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from gateway import deadline
from gateway.errors import (
    BadUserInput,
    NotFound,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnauthorized,
    UpstreamUnavailable,
)
from gateway.upstreams.resilience import (
    NO_RETRY,
    BreakerSettings,
    CircuitBreaker,
    CircuitOpen,
    RetryPolicy,
    call_with_retries,
)

UPSTREAM = "gofilex:EMEA"


def run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coroutine())


def unavailable(status: int = 503) -> UpstreamUnavailable:
    return UpstreamUnavailable(UPSTREAM, f"{UPSTREAM} answered {status}", retryable=status in (502, 503, 504))


class Flaky:
    """A call that raises or returns the given outcomes in turn, counting its calls."""

    def __init__(self, *outcomes: BaseException | str) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self) -> str:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class FakeSleep:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


class LongestDelay(random.Random):
    """Always draws the top of the range, so a delay is exactly its ceiling."""

    def uniform(self, a: float, b: float) -> float:
        return b


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# Retries


def test_a_retryable_error_is_tried_again_and_the_success_returned() -> None:
    async def scenario() -> None:
        call, sleep = Flaky(unavailable(503), "jobs"), FakeSleep()
        assert await call_with_retries(call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=sleep) == "jobs"
        assert call.calls == 2
        assert len(sleep.pauses) == 1

    run(scenario)


def test_a_non_retryable_error_propagates_after_one_call() -> None:
    async def scenario() -> None:
        error = unavailable(500)
        call, sleep = Flaky(error, "jobs"), FakeSleep()
        with pytest.raises(UpstreamUnavailable) as caught:
            await call_with_retries(call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=sleep)
        assert caught.value is error
        assert call.calls == 1
        assert sleep.pauses == []

    run(scenario)


def test_attempts_bound_the_calls_and_the_last_error_is_raised() -> None:
    async def scenario() -> None:
        first, second, last = unavailable(502), UpstreamTimeout(UPSTREAM, "late", retryable=True), unavailable(504)
        call, sleep = Flaky(first, second, last, "never reached"), FakeSleep()
        with pytest.raises(UpstreamUnavailable) as caught:
            await call_with_retries(call, policy=RetryPolicy(attempts=3), upstream=UPSTREAM, sleep=sleep)
        assert caught.value is last
        assert call.calls == 3
        assert len(sleep.pauses) == 2

    run(scenario)


def test_no_retry_makes_one_call() -> None:
    async def scenario() -> None:
        call = Flaky(unavailable(503), "jobs")
        with pytest.raises(UpstreamUnavailable):
            await call_with_retries(call, policy=NO_RETRY, upstream=UPSTREAM, sleep=FakeSleep())
        assert call.calls == 1

    run(scenario)


def test_delays_are_full_jitter_within_the_exponential_ceiling() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.1, max_delay=2.0)
    rng = random.Random(7)
    for retry in range(1, 10):
        ceiling = min(2.0, 0.1 * 2**retry)
        assert 0.0 <= policy.delay(retry, rng) <= ceiling
    assert [policy.delay(n, LongestDelay()) for n in (1, 2, 3, 4, 5, 99)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    # The same seed gives the same delays: tests and incidents can be replayed.
    assert policy.delay(3, random.Random(1)) == policy.delay(3, random.Random(1))


def test_retries_pause_for_the_policy_delays_drawn_from_the_given_rng() -> None:
    async def scenario() -> None:
        policy, sleep = RetryPolicy(attempts=3), FakeSleep()
        call = Flaky(unavailable(503), unavailable(503), "jobs")
        await call_with_retries(call, policy=policy, upstream=UPSTREAM, sleep=sleep, rng=random.Random(42))
        expected_rng = random.Random(42)
        assert sleep.pauses == [policy.delay(1, expected_rng), policy.delay(2, expected_rng)]

    run(scenario)


def test_retries_never_sleep_past_the_request_deadline() -> None:
    async def scenario() -> None:
        error = unavailable(503)
        call, sleep = Flaky(error, "jobs"), FakeSleep()
        # The first pause would be 0.2 s; only 0.05 s are left.
        with deadline.scope(0.05), pytest.raises(UpstreamUnavailable) as caught:
            await call_with_retries(call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=sleep, rng=LongestDelay())
        assert caught.value is error
        assert call.calls == 1
        assert sleep.pauses == []

        with deadline.scope(100.0):
            result = await call_with_retries(
                Flaky(error, "jobs"), policy=RetryPolicy(), upstream=UPSTREAM, sleep=sleep, rng=LongestDelay()
            )
        assert result == "jobs"
        assert sleep.pauses == [0.2]

    run(scenario)


def test_cancellation_is_not_retried() -> None:
    async def scenario() -> None:
        call, sleep = Flaky(asyncio.CancelledError(), "jobs"), FakeSleep()
        with pytest.raises(asyncio.CancelledError):
            await call_with_retries(call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=sleep)
        assert call.calls == 1
        assert sleep.pauses == []

    run(scenario)


def test_an_open_circuit_is_not_retried() -> None:
    async def scenario() -> None:
        call = Flaky(CircuitOpen(UPSTREAM, 12.0), "jobs")
        with pytest.raises(CircuitOpen):
            await call_with_retries(call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=FakeSleep())
        assert call.calls == 1

    run(scenario)


def test_on_retry_is_called_with_the_retry_number_and_the_error() -> None:
    async def scenario() -> None:
        first, second = unavailable(502), unavailable(503)
        seen: list[tuple[int, BaseException]] = []
        call = Flaky(first, second, "jobs")
        await call_with_retries(
            call, policy=RetryPolicy(), upstream=UPSTREAM, sleep=FakeSleep(), on_retry=lambda n, e: seen.append((n, e))
        )
        assert seen == [(1, first), (2, second)]

    run(scenario)


@pytest.mark.parametrize(
    "settings",
    [
        {"attempts": 0},  # at least the first try
        {"base_delay": -0.1},  # a negative pause
        {"max_delay": -1.0},
    ],
)
def test_a_retry_policy_refuses_impossible_settings(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**settings)  # type: ignore[arg-type]  # wrong on purpose


# Circuit breaker

SETTINGS = BreakerSettings(window=30.0, min_calls=4, failure_ratio=0.5, open_for=15.0, half_open_probes=1)


def open_breaker(clock: FakeClock, settings: BreakerSettings = SETTINGS) -> CircuitBreaker:
    breaker = CircuitBreaker(UPSTREAM, settings, clock=clock)
    for _ in range(settings.min_calls):
        breaker.record_failure()
    assert breaker.state == "open"
    return breaker


def test_a_breaker_stays_closed_below_min_calls() -> None:
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.before_call()
    assert breaker.snapshot() == {"state": "closed", "calls": 3, "failures": 3, "retry_after": None}


def test_a_breaker_opens_when_failures_reach_the_ratio() -> None:
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
    for _ in range(3):
        breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"  # 1 of 4
    breaker.record_failure()
    assert breaker.state == "closed"  # 2 of 5
    breaker.record_failure()
    assert breaker.state == "open"  # 3 of 6


def test_an_open_breaker_fails_fast_with_retry_after() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now += 3.0
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    error = caught.value
    assert error.retry_after == 12.0
    assert error.message == "gofilex:EMEA is failing; the gateway stopped calling it for 12 s"
    assert error.extensions == {"code": "UPSTREAM_UNAVAILABLE", "upstream": UPSTREAM, "retryAfter": 12}
    assert error.retryable is False
    assert breaker.snapshot()["retry_after"] == 12.0


def test_after_open_for_a_half_open_breaker_lets_the_probes_through() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock, BreakerSettings(min_calls=2, open_for=15.0, half_open_probes=2))
    clock.now += 15.0
    assert breaker.state == "half_open"
    breaker.before_call()
    breaker.before_call()
    with pytest.raises(CircuitOpen) as caught:
        breaker.before_call()
    assert caught.value.retry_after is None
    assert "checking whether it has recovered" in caught.value.message


def test_a_successful_probe_closes_the_breaker_and_forgets_the_window() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now += 15.0
    breaker.before_call()
    breaker.record_success()
    assert breaker.snapshot() == {"state": "closed", "calls": 0, "failures": 0, "retry_after": None}
    breaker.record_failure()
    assert breaker.state == "closed"


def test_a_failed_probe_reopens_the_breaker_for_open_for() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now += 20.0
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.snapshot()["retry_after"] == 15.0
    clock.now += 15.0
    assert breaker.state == "half_open"
    breaker.before_call()


def test_outcomes_of_calls_started_before_the_breaker_opened_are_ignored_while_open() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "open"
    assert breaker.snapshot()["retry_after"] == 15.0


@pytest.mark.parametrize(
    "error",
    [
        NotFound(f"{UPSTREAM}: not found"),  # 404
        UpstreamRejected(UPSTREAM, ["order is unknown"]),  # 422 and other 4xx
        UpstreamUnauthorized(UPSTREAM, "refused (401)"),  # 401/403
        UpstreamRateLimited(UPSTREAM, "rate limit reached", retry_after=1.0),  # 429
    ],
)
def test_four_xx_answers_count_as_successes_not_failures(error: Exception) -> None:
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
    for _ in range(10):
        breaker.record(error)
    assert breaker.snapshot() == {"state": "closed", "calls": 10, "failures": 0, "retry_after": None}


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable(UPSTREAM, "could not be reached", retryable=True),  # connection error
        UpstreamTimeout(UPSTREAM, "did not answer in time", retryable=True),  # timeout or 408
        unavailable(503),  # 502-504
        unavailable(500),  # not retryable, but the upstream is unwell
        UpstreamBadResponse(UPSTREAM, "an answer that could not be read"),  # a garbage-answering upstream
    ],
)
def test_errors_that_show_the_upstream_unwell_count_as_failures(error: Exception) -> None:
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
    for _ in range(SETTINGS.min_calls):
        breaker.record(error)
    assert breaker.state == "open"


@pytest.mark.parametrize(
    "error",
    [
        asyncio.CancelledError(),  # the client went away
        deadline.DeadlineExceeded(UPSTREAM),  # the request's budget, not the upstream's health
        BadUserInput("bad cursor"),  # not an upstream error at all
    ],
)
def test_outcomes_that_say_nothing_about_the_upstream_are_not_recorded(error: BaseException) -> None:
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
    breaker.record(error)
    assert breaker.snapshot()["calls"] == 0


def test_a_cancelled_probe_frees_its_slot() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now += 15.0
    breaker.before_call()
    breaker.record(asyncio.CancelledError())
    breaker.before_call()  # the next caller becomes the probe


def test_a_probe_that_never_reports_frees_its_slot_after_open_for() -> None:
    clock = FakeClock()
    breaker = open_breaker(clock)
    clock.now += 15.0
    breaker.before_call()
    clock.now += 14.0
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 1.0
    breaker.before_call()


def test_the_window_prunes_old_outcomes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 30.0
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.snapshot() == {"state": "closed", "calls": 1, "failures": 1, "retry_after": None}
    assert len(breaker._outcomes) == 1


def test_guard_records_the_outcome_of_its_block() -> None:
    async def scenario() -> None:
        breaker = CircuitBreaker(UPSTREAM, SETTINGS, clock=FakeClock())
        async with breaker.guard():
            pass
        for _ in range(3):
            with pytest.raises(UpstreamUnavailable) as caught:
                async with breaker.guard():
                    raise unavailable(503)
            assert not isinstance(caught.value, CircuitOpen)
        assert breaker.snapshot() == {"state": "open", "calls": 4, "failures": 3, "retry_after": 15.0}

        ran = False
        with pytest.raises(CircuitOpen):
            async with breaker.guard():
                ran = True
        assert not ran

    run(scenario)


@pytest.mark.parametrize(
    "settings",
    [
        {"window": 0.0},
        {"open_for": -1.0},
        {"min_calls": 0},
        {"half_open_probes": 0},
        {"failure_ratio": 0.0},  # would open on every call
        {"failure_ratio": 1.5},  # could never open
    ],
)
def test_breaker_settings_refuse_impossible_values(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BreakerSettings(**settings)  # type: ignore[arg-type]  # wrong on purpose


def test_the_guard_never_retries_a_write() -> None:
    from gateway.errors import UpstreamUnavailable
    from gateway.upstreams.budget import BudgetSettings, LocalBudget
    from gateway.upstreams.guard import UpstreamGuard

    attempts = 0

    async def write(timeout: float) -> None:
        nonlocal attempts
        attempts += 1
        raise UpstreamUnavailable("sequence", "sequence answered 503", retryable=True)

    async def scenario() -> None:
        guard = UpstreamGuard(
            "sequence",
            budget=LocalBudget(BudgetSettings()),
            breaker=CircuitBreaker("sequence"),
            retry=RetryPolicy(attempts=3),
            attempt_timeout=5,
        )
        with pytest.raises(UpstreamUnavailable):
            await guard.call(write, safe=False)

    asyncio.run(scenario())
    assert attempts == 1


@pytest.mark.parametrize(
    ("error", "unwell", "transient"),
    [
        # the upstream failing: counted by the breaker, and a stale value may stand in
        (UpstreamUnavailable(UPSTREAM, "503"), True, True),
        (UpstreamTimeout(UPSTREAM, "late"), True, True),
        (UpstreamBadResponse(UPSTREAM, "garbage"), True, True),
        (CircuitOpen(UPSTREAM, 3.0), True, True),
        # refusing us for now: the upstream works, but a stale value may stand in
        (UpstreamRateLimited(UPSTREAM, "429"), False, True),
        # refusing the request itself: neither
        (UpstreamUnauthorized(UPSTREAM, "401"), False, False),
        (UpstreamRejected(UPSTREAM, ["name is taken"]), False, False),
    ],
)
def test_each_upstream_error_says_once_whether_its_upstream_is_unwell(
    error: UpstreamError, unwell: bool, transient: bool
) -> None:
    assert (error.unwell, error.transient) == (unwell, transient)
