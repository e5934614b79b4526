"""What every rate budget promises, asked of both: the local one and the one shared through Redis.

These run on real time with short windows; the local budget's finer points,
on a fake clock, are in test_local_budget.py, and the Redis one's outages in
test_redis_budget.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from gateway.upstreams.budget import BudgetExhausted, BudgetSettings, LocalBudget, RateBudget, RedisBudget
from gateway.upstreams.budget import priority as priorities
from gateway.upstreams.budget.priority import Priority
from tests.redis_support import redis_client

MakeBudget = Callable[[BudgetSettings], AbstractAsyncContextManager[RateBudget]]
# Send times are read on this process's clock while Redis stamps its own: allow for the gap.
TOLERANCE = 0.03


@pytest.fixture(params=["local", "redis"])
def make_budget(request: pytest.FixtureRequest, prefix: str) -> MakeBudget:
    if request.param == "redis":
        request.getfixturevalue("require_redis")

    @asynccontextmanager
    async def make(settings: BudgetSettings) -> AsyncIterator[RateBudget]:
        if request.param == "local":
            yield LocalBudget(settings)
            return
        async with redis_client(prefix) as client:
            yield RedisBudget(client, prefix + "budget", settings)

    return make


def test_a_burst_never_exceeds_the_limit_in_any_span(make_budget: MakeBudget) -> None:
    settings = BudgetSettings(limit=5, margin=0, window=0.3, slack=0.05)

    async def main() -> None:
        async with make_budget(settings) as budget:
            sends: list[float] = []

            async def one() -> None:
                await budget.acquire(deadline=None)
                sends.append(time.monotonic())

            await asyncio.gather(*(one() for _ in range(15)))

        times = sorted(sends)
        assert times[4] - times[0] < 0.1  # the first five go at once
        for first, sixth in zip(times, times[5:], strict=False):
            assert sixth - first >= settings.span - TOLERANCE

    asyncio.run(main())


def test_a_deadline_too_close_fails_at_once(make_budget: MakeBudget) -> None:
    settings = BudgetSettings(limit=3, margin=0, window=0.5, slack=0)

    async def main() -> None:
        async with make_budget(settings) as budget:
            for _ in range(3):
                await budget.acquire(deadline=None)
            started = time.monotonic()
            with pytest.raises(BudgetExhausted) as caught:
                await budget.acquire(deadline=started + 0.1)
            assert time.monotonic() - started < 0.05  # refused, not waited for
            assert caught.value.wait == pytest.approx(0.5, abs=0.1)
            assert (await budget.status()).used == 3

    asyncio.run(main())


def test_a_pause_holds_everyone_until_it_ends(make_budget: MakeBudget) -> None:
    async def main() -> None:
        async with make_budget(BudgetSettings(limit=100)) as budget:
            resume_at = time.time() + 0.3
            await budget.pause_until(resume_at)
            assert (await budget.status()).paused_until == pytest.approx(resume_at, abs=0.05)
            with pytest.raises(BudgetExhausted):
                await budget.acquire(deadline=time.monotonic() + 0.1)

            await asyncio.gather(*(budget.acquire(deadline=None) for _ in range(3)))
            assert time.time() >= resume_at - TOLERANCE
            status = await budget.status()
            assert (status.paused_until, status.used) == (None, 3)

    asyncio.run(main())


def test_concurrency_bounds_the_requests_in_flight(make_budget: MakeBudget) -> None:
    async def main() -> None:
        async with make_budget(BudgetSettings(limit=1000, concurrency=2)) as budget:
            in_flight = peak = 0

            async def one() -> None:
                nonlocal in_flight, peak
                await budget.acquire(deadline=None)
                try:
                    in_flight += 1
                    peak = max(peak, in_flight)
                    await asyncio.sleep(0.01)
                finally:
                    in_flight -= 1
                    budget.release()

            await asyncio.gather(*(one() for _ in range(8)))
            assert peak == 2
            assert (await budget.status()).used == 8

    asyncio.run(main())


def test_status_counts_the_sends_of_the_current_span(make_budget: MakeBudget) -> None:
    settings = BudgetSettings(limit=10, margin=0.2, window=0.2, slack=0.05)

    async def main() -> None:
        async with make_budget(settings) as budget:
            for _ in range(3):
                await budget.acquire(deadline=None)
            status = await budget.status()
            assert (status.used, status.limit, status.window, status.note) == (3, 8, 0.25, None)
            await asyncio.sleep(0.3)
            assert (await budget.status()).used == 0

    asyncio.run(main())


def test_classes_take_slots_in_order_events_first(make_budget: MakeBudget) -> None:
    # One slot per span. The head of the queue keeps its turn while it waits for the slot;
    # behind it, whoever is queued gets the next one in class order, whatever the arrival order.
    settings = BudgetSettings(limit=1, margin=0, window=0.2, slack=0.02, headroom=0)

    async def main() -> None:
        async with make_budget(settings) as budget:
            await budget.acquire(deadline=None)  # the span's one slot is gone
            order: list[str] = []

            async def one(name: str, priority: Priority) -> None:
                with priorities.scope(priority):
                    await budget.acquire(deadline=None)
                order.append(name)

            waiting = [asyncio.create_task(one(f"interactive {n}", Priority.INTERACTIVE)) for n in (1, 2)]
            await asyncio.sleep(0.01)
            waiting.append(asyncio.create_task(one("events", Priority.EVENTS)))
            await asyncio.gather(*waiting)
            assert order == ["interactive 1", "events", "interactive 2"]
            assert budget.spent() == {"events": 1, "interactive": 3, "refresh": 0, "background": 0}

    asyncio.run(main())


def test_background_work_leaves_the_headroom_to_client_reads(make_budget: MakeBudget) -> None:
    # 4 slots per span, 2 of them kept for client reads and the events poll.
    settings = BudgetSettings(limit=4, margin=0, window=0.4, slack=0.02, headroom=0.5)
    assert settings.reserved == 2

    async def main() -> None:
        async with make_budget(settings) as budget:
            with priorities.scope(Priority.BACKGROUND):
                await budget.acquire(deadline=None)
                await budget.acquire(deadline=None)
                # A third background read would eat into the headroom: it waits for the next span ...
                third = asyncio.create_task(budget.acquire(deadline=None))
                await asyncio.sleep(0.05)
                assert not third.done()
            # ... while client reads still find their two slots at once, and a too-close deadline
            # on a background read fails rather than queueing into the reserve.
            started = time.monotonic()
            await budget.acquire(deadline=time.monotonic() + 0.05)
            await budget.acquire(deadline=time.monotonic() + 0.05)
            assert time.monotonic() - started < 0.05
            with priorities.scope(Priority.REFRESH), pytest.raises(BudgetExhausted):
                await budget.acquire(deadline=time.monotonic() + 0.05)
            await third
            assert time.monotonic() - started >= settings.span - 0.06 - TOLERANCE

    asyncio.run(main())


def test_a_client_read_arriving_behind_waiting_background_work_goes_first(make_budget: MakeBudget) -> None:
    settings = BudgetSettings(limit=1, margin=0, window=0.2, slack=0.02, headroom=0)

    async def main() -> None:
        async with make_budget(settings) as budget:
            await budget.acquire(deadline=None)
            order: list[str] = []

            async def one(name: str, priority: Priority) -> None:
                with priorities.scope(priority):
                    await budget.acquire(deadline=None)
                order.append(name)

            background = [asyncio.create_task(one(f"background {n}", Priority.BACKGROUND)) for n in range(2)]
            await asyncio.sleep(0.05)
            client = asyncio.create_task(one("client", Priority.INTERACTIVE))
            await asyncio.gather(client, *background)
            assert order[0] == "client"

    asyncio.run(main())
