"""RedisBudget against a real Redis: several processes on one log, pauses, and Redis outages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.upstreams.budget import REDIS_UNAVAILABLE_NOTE, BudgetExhausted, BudgetSettings, RedisBudget
from tests.redis_support import dead_client, redis_client, warnings_from

pytestmark = pytest.mark.usefixtures("require_redis")


def test_two_processes_on_one_key_never_exceed_the_limit_together(prefix: str) -> None:
    settings = BudgetSettings(limit=8, margin=0, window=0.4, slack=0.1)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            budgets = [
                RedisBudget(first, prefix + "budget", settings),
                RedisBudget(second, prefix + "budget", settings),
            ]
            sends: list[tuple[float, int]] = []
            start = time.monotonic()

            async def one(n: int) -> None:
                await budgets[n % 2].acquire(deadline=None)
                sends.append((time.monotonic() - start, n % 2))

            await asyncio.gather(*(one(n) for n in range(24)))

            times = sorted(at for at, _ in sends)
            # The server's window (0.4 s) never holds more than 8, whatever its alignment.
            for first_send, ninth_send in zip(times, times[8:], strict=False):
                assert ninth_send - first_send >= settings.window
            assert times[7] < 0.2  # the first 8 go at once
            assert {budget for _, budget in sends} == {0, 1}
            status = await budgets[0].status()
            assert status.shared and status.note is None
            assert 0 < status.used <= 8

    asyncio.run(main())


def test_a_pause_set_by_one_process_holds_the_other(prefix: str) -> None:
    settings = BudgetSettings(limit=100)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            pausing = RedisBudget(first, prefix + "budget", settings)
            other = RedisBudget(second, prefix + "budget", settings)
            resume_at = time.time() + 0.6
            await pausing.pause_until(resume_at)

            status = await other.status()
            assert status.paused_until == pytest.approx(resume_at, abs=0.05)
            started = time.monotonic()
            with pytest.raises(BudgetExhausted):
                await other.acquire(deadline=started + 0.1)
            assert time.monotonic() - started < 0.05  # refused at once

            await other.acquire(deadline=None)
            assert time.time() >= resume_at - 0.02
            assert (await other.status()).paused_until is None

    asyncio.run(main())


def test_a_pause_arriving_while_waiting_is_noticed(prefix: str) -> None:
    settings = BudgetSettings(limit=1, margin=0, window=0.2, slack=0)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            waiting = RedisBudget(first, prefix + "budget", settings)
            pausing = RedisBudget(second, prefix + "budget", settings)
            await waiting.acquire(deadline=None)
            task = asyncio.create_task(waiting.acquire(deadline=None))
            await asyncio.sleep(0.05)
            resume_at = time.time() + 0.5
            await pausing.pause_until(resume_at)

            await task
            assert time.time() >= resume_at - 0.02

    asyncio.run(main())


def test_without_redis_the_budget_is_local_and_says_so(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    settings = BudgetSettings(limit=3, margin=0, window=0.2, slack=0.05)

    async def main() -> None:
        client = dead_client()
        try:
            budget = RedisBudget(client, prefix + "budget", settings)
            sends = []
            for _ in range(5):
                await budget.acquire(deadline=None)
                sends.append(time.monotonic())
            await budget.pause_until(time.time() + 0.01)

            assert sends[3] - sends[0] >= settings.span - 0.01  # the local log holds the limit
            status = await budget.status()
            assert (status.shared, status.note, status.limit) == (False, REDIS_UNAVAILABLE_NOTE, 3)
            assert status.used == 2
        finally:
            await client.aclose()

    asyncio.run(main())
    assert len(warnings_from(caplog, "gateway.redis")) == 1


def test_the_budget_returns_to_redis_with_the_sends_made_meanwhile(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.redis")

    async def main() -> None:
        async with redis_client(prefix) as client:
            budget = RedisBudget(client, prefix + "budget", BudgetSettings(), retry_interval=0)
            await budget.acquire(deadline=None)
            scripts = budget.log._acquire_script, budget.log._pause_script
            down = True

            def flaky(script: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
                async def run(**kwargs: Any) -> Any:
                    if down:
                        raise RedisConnectionError("connection refused")
                    return await script(**kwargs)

                return run

            budget.log._acquire_script, budget.log._pause_script = map(flaky, scripts)  # type: ignore[assignment]  # a stand-in script that fails
            for _ in range(3):
                await budget.acquire(deadline=None)
            resume_at = time.time() + 5
            await budget.pause_until(resume_at)  # say a 429 arrived meanwhile
            assert not (await budget.status()).shared

            down = False
            status = await budget.status()
            assert status.shared
            assert status.used == 4  # the three sent without Redis are back in the shared log
            assert status.paused_until == pytest.approx(resume_at, abs=0.05)  # and so is the pause
            assert 4000 < await client.pttl(prefix + "budget:pause") <= 5000

    asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records if r.name == "gateway.redis"]
    assert len(messages) == 2
    assert "local to this process" in messages[0]
    assert "shared again" in messages[1]
