from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from gateway.upstreams.budget import MAX_NAP, BudgetExhausted, BudgetSettings, BudgetStatus, LocalBudget

EPOCH = 1_800_000_000.0
SEQUENCE = BudgetSettings()  # 150 per 30 s, 10% kept back, 1 s of slack: 135 per 31 s
TWO_PER_SPAN = BudgetSettings(limit=2, margin=0, window=30, slack=1)


class FakeTime:
    """A monotonic clock that moves only when told to.

    With `auto`, each sleep moves the clock by its length (only the head of the
    budget's queue sleeps, so that is the real order of events); otherwise
    sleepers wait until `advance()` passes their wake-up time.
    """

    def __init__(self, *, auto: bool = True) -> None:
        self.now = 0.0
        self.auto = auto
        self.naps: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return EPOCH + self.now

    async def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        if self.auto:
            self.now += seconds
            await asyncio.sleep(0)
            return
        woken = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, woken))
        await woken

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for wake, woken in list(self._sleepers):
            if wake <= self.now:
                self._sleepers.remove((wake, woken))
                if not woken.done():
                    woken.set_result(None)
        await settle()

    def budget(self, settings: BudgetSettings) -> LocalBudget:
        return LocalBudget(settings, clock=self.clock, wall=self.wall, sleep=self.sleep)


async def settle() -> None:
    """Let every ready task run until it blocks."""
    for _ in range(10):
        await asyncio.sleep(0)


def assert_within_limit(sends: Sequence[float], limit: int, span: float) -> None:
    """No `limit + 1` sends fall inside any `span` seconds (a send exactly `span` later is a new span)."""
    times = sorted(sends)
    for first, last in zip(times, times[limit:], strict=False):
        assert last - first >= span, f"{limit + 1} sends within {last - first:.3f} s"


def test_settings_keep_a_margin_and_refuse_nonsense() -> None:
    assert SEQUENCE.effective_limit == 135
    assert SEQUENCE.span == 31.0
    assert BudgetSettings(limit=1, margin=0.5).effective_limit == 1  # never below one
    for wrong in ({"limit": 0}, {"window": 0}, {"margin": 1.0}, {"slack": -1}, {"concurrency": 0}):
        with pytest.raises(ValueError):
            BudgetSettings(**wrong)


def test_a_burst_of_500_never_exceeds_the_limit_in_any_span() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        sends: list[float] = []

        async def one() -> None:
            await budget.acquire(deadline=None)
            sends.append(fake.now)

        await asyncio.gather(*(one() for _ in range(500)))

        assert len(sends) == 500
        assert_within_limit(sends, 135, 31.0)
        # Every slot is used as soon as it frees: 135 at once, then 135 every 31 s.
        assert sends.count(0.0) == 135
        assert max(sends) == 3 * 31.0
        # Only the head sleeps, and only in naps of at most MAX_NAP until its slot frees.
        assert max(fake.naps) <= MAX_NAP
        assert len(fake.naps) <= 3 * 31 / MAX_NAP + 3

    asyncio.run(main())


def test_a_burst_with_deadlines_sends_what_fits_and_refuses_the_rest_at_once() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        sends: list[float] = []
        refused: list[float] = []

        async def one() -> None:
            try:
                await budget.acquire(deadline=fake.now + 40)
            except BudgetExhausted as exc:
                refused.append(fake.now + exc.wait)  # when it would have been sent
            else:
                sends.append(fake.now)

        await asyncio.gather(*(one() for _ in range(300)))

        # 135 at once and 135 more at 31 s fit the deadline; the rest would send at 62 s.
        assert sorted(sends) == [0.0] * 135 + [31.0] * 135
        assert refused == [pytest.approx(62.0)] * 30

    asyncio.run(main())


def test_waiters_are_served_in_the_order_they_came() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(TWO_PER_SPAN)
        served: list[int] = []

        async def one(n: int) -> None:
            await budget.acquire(deadline=None)
            served.append(n)

        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

        assert served == list(range(8))

    asyncio.run(main())


def test_waiters_with_earlier_deadlines_go_first_so_earlier_requests_finish() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(TWO_PER_SPAN)
        await budget.acquire(deadline=None)
        await budget.acquire(deadline=None)  # the span is full: everyone below waits
        served: list[str] = []

        async def one(name: str, deadline: float | None) -> None:
            await budget.acquire(deadline=deadline)
            served.append(name)

        tasks = []
        # Arrival order: a later request first, then the follow-up call of an earlier one.
        for name, deadline in (("late", 500.0), ("none", None), ("early", 200.0), ("late-2", 500.0)):
            tasks.append(asyncio.create_task(one(name, deadline)))
            await asyncio.sleep(0)
        await asyncio.gather(*tasks)

        # The first to arrive took the turn and waits for the slot holding it;
        # among those who queued behind it, the earliest deadline goes first.
        assert served == ["late", "early", "late-2", "none"]

    asyncio.run(main())


def test_a_deadline_too_close_fails_at_once_without_sleeping() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        for _ in range(135):
            await budget.acquire(deadline=fake.now + 1)

        with pytest.raises(BudgetExhausted) as caught:
            await budget.acquire(deadline=fake.now + 5)

        assert caught.value.wait == pytest.approx(31.0)
        assert fake.naps == []
        assert fake.now == 0.0
        assert (await budget.status()).used == 135

    asyncio.run(main())


def test_a_queued_waiter_fails_at_once_when_its_turn_would_come_too_late() -> None:
    async def main() -> None:
        fake = FakeTime(auto=False)
        budget = fake.budget(TWO_PER_SPAN)
        await budget.acquire(deadline=None)
        await budget.acquire(deadline=None)
        # Two slots free at 31 s, so the first two waiters fit a 40 s deadline ...
        head = asyncio.create_task(budget.acquire(deadline=None))
        second = asyncio.create_task(budget.acquire(deadline=fake.now + 40))
        await settle()
        naps = len(fake.naps)

        # ... but the third would send at 62 s.
        with pytest.raises(BudgetExhausted) as caught:
            await budget.acquire(deadline=fake.now + 40)

        assert caught.value.wait == pytest.approx(62.0)
        assert len(fake.naps) == naps
        await fake.advance(31)
        await asyncio.gather(head, second)
        assert (await budget.status()).used == 2

    asyncio.run(main())


def test_a_pause_holds_everyone_until_it_ends() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        await budget.pause_until(fake.wall() + 10)
        assert (await budget.status()).paused_until == pytest.approx(EPOCH + 10)

        with pytest.raises(BudgetExhausted) as caught:
            await budget.acquire(deadline=fake.now + 5)
        assert caught.value.wait == pytest.approx(10)

        sends: list[float] = []

        async def one() -> None:
            await budget.acquire(deadline=None)
            sends.append(fake.now)

        await asyncio.gather(*(one() for _ in range(3)))

        assert sends == [10.0, 10.0, 10.0]
        assert (await budget.status()).paused_until is None

    asyncio.run(main())


def test_a_shorter_pause_never_shortens_a_longer_one() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        await budget.pause_until(fake.wall() + 300)
        await budget.pause_until(fake.wall() + 10)
        await budget.pause_until(fake.wall() - 10)  # already over: ignored

        assert (await budget.status()).paused_until == pytest.approx(EPOCH + 300)

    asyncio.run(main())


def test_a_cancelled_waiter_leaves_no_trace() -> None:
    async def main() -> None:
        fake = FakeTime(auto=False)
        budget = fake.budget(TWO_PER_SPAN)
        await budget.acquire(deadline=None)
        await budget.acquire(deadline=None)
        head = asyncio.create_task(budget.acquire(deadline=None))
        queued = asyncio.create_task(budget.acquire(deadline=None))
        await settle()

        head.cancel()
        queued.cancel()
        await settle()
        assert head.cancelled() and queued.cancelled()
        assert (await budget.status()).used == 2

        # Both slots are free again after the span, and nobody is queued ahead.
        await fake.advance(31)
        await budget.acquire(deadline=fake.now)
        await budget.acquire(deadline=fake.now)
        with pytest.raises(BudgetExhausted):
            await budget.acquire(deadline=fake.now)

    asyncio.run(main())


def test_extra_releases_and_abandoned_waiters_do_not_widen_the_concurrency_bound() -> None:
    # That the bound holds is asked of both budgets in test_budget_twins.py.
    async def main() -> None:
        budget = LocalBudget(BudgetSettings(limit=1000, concurrency=3))
        for _ in range(12):
            await budget.acquire(deadline=None)
            budget.release()

        # Extra releases do not widen the bound.
        budget.release()
        for _ in range(3):
            await budget.acquire(deadline=None)
        with pytest.raises(BudgetExhausted):
            await budget.acquire(deadline=time.monotonic() + 0.02)
        # A waiter given up on (deadline or cancellation) holds no place.
        waiter = asyncio.create_task(budget.acquire(deadline=None))
        await settle()
        waiter.cancel()
        await settle()
        budget.release()
        await budget.acquire(deadline=time.monotonic() + 0.02)
        assert (await budget.status()).used == 12 + 3 + 1

    asyncio.run(main())


def test_status_counts_the_sends_in_the_current_span() -> None:
    async def main() -> None:
        fake = FakeTime()
        budget = fake.budget(SEQUENCE)
        for _ in range(3):
            await budget.acquire(deadline=None)

        assert await budget.status() == BudgetStatus(
            used=3, limit=135, window=31.0, paused_until=None, shared=False, note=None
        )
        fake.now = 30.9
        assert (await budget.status()).used == 3
        fake.now = 31.0
        assert (await budget.status()).used == 0

    asyncio.run(main())
