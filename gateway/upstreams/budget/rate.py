"""Rate budgets: when the gateway may send one more request to an upstream.

Sequence allows 150 requests per 30 s per user and bans the user for 300 s
when that is exceeded. A budget answers `acquire` once a request may go:

1. the gate bounds the requests in flight (`concurrency`);
2. the turns decide who goes next (priority class, then earliest deadline
   first), and only the head of the queue waits on the log, so a burst of
   hundreds of requests costs no polling (a waiter with a deadline asks the
   log once, on arrival, whether its slot would come in time);
3. the log (gateway.upstreams.budget.log) says when the next send fits the
   limit; the head sleeps until then, in naps of at most MAX_NAP.

A waiter whose slot would come after its deadline fails at once with
BudgetExhausted instead of queueing for it.

Refreshes and background work (`Priority.yields`) see a smaller limit: the
`reserved` slots of the span stay free for the events poll and client
reads. They also give the turn back while they wait, so a client read that
arrives meanwhile goes first instead of queueing behind them.

- `LocalBudget` keeps the log in this process.
- `RedisBudget` (gateway.upstreams.budget.redis_log) keeps it in Redis,
  shared by every replica.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from gateway.upstreams.budget import priority as priorities
from gateway.upstreams.budget.log import LocalLog, SendLog
from gateway.upstreams.budget.priority import Priority
from gateway.upstreams.budget.scheduling import Clock, Gate, Turns
from gateway.upstreams.budget.settings import BudgetExhausted, BudgetSettings, BudgetStatus

# The head of the queue never sleeps longer than this before looking again,
# so a pause set meanwhile (here, or by another replica through Redis) is seen.
MAX_NAP = 1.0

Sleep = Callable[[float], Awaitable[object]]


class RateBudget(Protocol):
    async def acquire(self, *, deadline: float | None) -> None:
        """Wait for a slot and record the send; `deadline` is a `time.monotonic()` value.

        The slot is taken in the class of `priority.current()`.
        """
        ...

    def release(self) -> None:
        """End one request (only matters with `concurrency`)."""
        ...

    async def pause_until(self, resume_at: float) -> None:
        """Let nobody send before `resume_at` (wall-clock epoch seconds), e.g. after a 429."""
        ...

    async def status(self) -> BudgetStatus: ...

    def spent(self) -> Mapping[str, int]:
        """Slots this process has taken since it started, by priority class label."""
        ...


class Budget:
    """A gate, turns and a send log; `acquire` and `release` for every kind of log."""

    def __init__(self, settings: BudgetSettings, log: SendLog, *, clock: Clock, sleep: Sleep) -> None:
        self.settings = settings
        self.log = log
        self._clock = clock
        self._sleep = sleep
        self._gate = Gate(settings.concurrency)
        self._turns = Turns()
        self._spent: Counter[Priority] = Counter()

    async def acquire(self, *, deadline: float | None) -> None:
        priority = priorities.current()
        await self._gate.enter(deadline, self._clock)
        try:
            if priority.yields:
                await self._take_spare_slot(deadline, priority)
            else:
                await self._take_slot(deadline, priority)
        except BaseException:
            self._gate.leave()
            raise
        self._spent[priority] += 1

    def spent(self) -> Mapping[str, int]:
        return {each.label: self._spent[each] for each in Priority}

    def release(self) -> None:
        self._gate.leave()

    async def pause_until(self, resume_at: float) -> None:
        await self.log.pause_until(resume_at)

    async def status(self) -> BudgetStatus:
        return await self.log.status()

    async def _take_slot(self, deadline: float | None, priority: Priority) -> None:
        ahead = self._turns.ahead_of(deadline, priority)
        if ahead and deadline is not None:
            # Fail fast: do not queue for a slot that would come too late.
            wait = await self.log.wait(ahead)
            if self._clock() + wait > deadline:
                raise BudgetExhausted(wait)
        async with self._turns.turn(deadline, priority):
            while True:
                wait = await self.log.try_send()
                if wait <= 0:
                    return
                if deadline is not None and self._clock() + wait > deadline:
                    raise BudgetExhausted(wait)
                # With Redis, other replicas send too, so the wait is a lower bound: look again after it.
                await self._sleep(min(wait, MAX_NAP))

    async def _take_spare_slot(self, deadline: float | None, priority: Priority) -> None:
        """A slot from what the classes above leave, `reserved` slots kept free.

        The turn is held only to try: the waiting happens outside it, so
        whoever arrives meanwhile with a higher class goes first.
        """
        reserve = self.settings.reserved
        while True:
            async with self._turns.turn(deadline, priority):
                wait = await self.log.try_send(reserve=reserve)
            if wait <= 0:
                return
            if deadline is not None and self._clock() + wait > deadline:
                raise BudgetExhausted(wait)
            await self._sleep(min(wait, MAX_NAP))


class LocalBudget(Budget):
    """A sliding log of this process's send times.

    Example:

        budget = LocalBudget(BudgetSettings(limit=150, window=30))
        await budget.acquire(deadline=time.monotonic() + 10)  # or BudgetExhausted, at once
        try:
            ...  # send the request; on 429: await budget.pause_until(time.time() + reset)
        finally:
            budget.release()
    """

    def __init__(
        self,
        settings: BudgetSettings,
        *,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(settings, LocalLog(settings, clock=clock, wall=wall), clock=clock, sleep=sleep)


__all__ = ["MAX_NAP", "Budget", "LocalBudget", "RateBudget"]
