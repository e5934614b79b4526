from __future__ import annotations

import asyncio

import pytest

from gateway import deadline
from gateway.errors import UpstreamTimeout


def test_there_is_no_deadline_outside_a_scope() -> None:
    assert deadline.current() is None
    assert deadline.remaining() is None
    assert deadline.attempt_timeout(10.0) == 10.0


def test_a_scope_sets_the_deadline_and_restores_it_on_exit() -> None:
    with deadline.scope(100.0):
        remaining = deadline.remaining()
        assert remaining is not None
        assert 99.0 < remaining <= 100.0
    assert deadline.current() is None


def test_a_scope_restores_the_deadline_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), deadline.scope(100.0):
        raise RuntimeError("boom")
    assert deadline.current() is None


def test_a_nested_scope_keeps_the_earlier_deadline() -> None:
    with deadline.scope(100.0):
        outer = deadline.current()
        with deadline.scope(1000.0):
            assert deadline.current() == outer
        with deadline.scope(1.0):
            inner = deadline.current()
            assert inner is not None and outer is not None and inner < outer
        assert deadline.current() == outer


def test_a_scope_of_none_keeps_the_outer_deadline() -> None:
    with deadline.scope(None):
        assert deadline.current() is None
    with deadline.scope(100.0):
        outer = deadline.current()
        with deadline.scope(None):
            assert deadline.current() == outer


def test_attempt_timeout_is_cut_to_the_time_left() -> None:
    with deadline.scope(100.0):
        assert deadline.attempt_timeout(10.0) == 10.0
    with deadline.scope(1.0):
        assert 0.0 < deadline.attempt_timeout(10.0) <= 1.0


def test_attempt_timeout_raises_deadline_exceeded_when_no_time_is_left() -> None:
    with deadline.scope(0.0), pytest.raises(deadline.DeadlineExceeded) as caught:
        deadline.attempt_timeout(10.0, upstream="gofilex:EMEA")
    error = caught.value
    assert isinstance(error, UpstreamTimeout)
    assert error.extensions == {"code": "UPSTREAM_TIMEOUT", "upstream": "gofilex:EMEA"}
    assert error.retryable is False
    assert "ran out of time" in error.message and "gofilex:EMEA" in error.message


def test_remaining_goes_negative_once_the_deadline_has_passed() -> None:
    with deadline.scope(-1.0):
        remaining = deadline.remaining()
        assert remaining is not None and remaining < 0


def test_the_deadline_propagates_into_tasks_created_inside_the_scope() -> None:
    async def read_deadline() -> float | None:
        return deadline.current()

    async def scenario() -> None:
        outside = asyncio.create_task(read_deadline())
        with deadline.scope(100.0):
            expected = deadline.current()
            inside = asyncio.create_task(read_deadline())
        assert await inside == expected
        assert await outside is None

    asyncio.run(scenario())


def test_concurrent_requests_each_see_their_own_deadline() -> None:
    async def request(seconds: float) -> float | None:
        with deadline.scope(seconds):
            await asyncio.sleep(0)
            return deadline.remaining()

    async def scenario() -> None:
        short, long = await asyncio.gather(request(10.0), request(1000.0))
        assert short is not None and short <= 10.0
        assert long is not None and long > 900.0

    asyncio.run(scenario())
