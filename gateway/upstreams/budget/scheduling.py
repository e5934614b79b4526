"""Who sends next: the bound on requests in flight, and whose turn it is to take a slot.

Both are plain asyncio objects used from one event loop. The gate lets
requests in as they come; the turns go by priority class
(gateway.upstreams.budget.priority), then earliest deadline. The order of
turns is decided here and only here, so a different order (per-client
shares) replaces `Turns` without touching the budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
from collections.abc import AsyncIterator, Callable

from gateway.upstreams.budget.priority import Priority
from gateway.upstreams.budget.settings import BudgetExhausted

Clock = Callable[[], float]
# Turns are ordered by (class, deadline): a poll of the events feed before any
# client read, a client read before any refresh.
_Order = tuple[int, float]


class Gate:
    """The bound on requests in flight (None: unbounded); room goes to waiters in the order they came."""

    def __init__(self, concurrency: int | None) -> None:
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self._held = 0

    async def enter(self, deadline: float | None, clock: Clock) -> None:
        """Wait for room, up to `deadline` (on `clock`); BudgetExhausted when none came in time."""
        if self._semaphore is None:
            return
        if deadline is None or not self._semaphore.locked():
            await self._semaphore.acquire()
        else:
            # How long requests stay in flight is unknown, so wait up to the deadline.
            remaining = max(deadline - clock(), 0)
            try:
                async with asyncio.timeout(remaining):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise BudgetExhausted(remaining) from None
        self._held += 1

    def leave(self) -> None:
        """Free the room of one request; extra calls free nothing."""
        if self._semaphore is not None and self._held > 0:
            self._held -= 1
            self._semaphore.release()


class Turns:
    """Whose turn it is to take the next slot: the waiter of the first priority
    class, and within it the one with the earliest deadline.

    Within a class, callers without a deadline come last, and equal
    deadlines keep their order of arrival. Ordering by deadline rather than arrival makes a burst
    complete whole answers: a request that started earlier finishes its
    remaining upstream calls before later requests start theirs, instead of
    every request getting part of its calls and most then running out of time.
    """

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[_Order, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def ahead_of(self, deadline: float | None, priority: Priority = Priority.INTERACTIVE) -> int:
        """How many callers would take a turn before one of this class with this deadline."""
        key = _order(deadline, priority)
        return int(self._held) + sum(1 for at, _, future in self._waiting if at <= key and not future.done())

    @contextlib.asynccontextmanager
    async def turn(self, deadline: float | None, priority: Priority = Priority.INTERACTIVE) -> AsyncIterator[None]:
        """Hold the turn for the block; the next waiter in order gets it afterwards."""
        await self._acquire(_order(deadline, priority))
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, key: _Order) -> None:
        if not self._held and not any(not future.done() for _, _, future in self._waiting):
            self._held = True
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (key, next(self._arrivals), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                # The turn was handed over just as this caller was cancelled: pass it on.
                self._release()
            raise

    def _release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)  # the turn passes on; still held
                return
        self._held = False


def _order(deadline: float | None, priority: Priority) -> _Order:
    return (int(priority), math.inf if deadline is None else deadline)


__all__ = ["Clock", "Gate", "Turns"]
