"""Sliding logs of send times: whether one more request may go to the upstream now.

A budget's log holds the send times of the last `window + slack` seconds;
one more request may go out only when fewer than the effective limit went
out in that span. That holds every window of the upstream's, wherever it
starts, whether its own window is fixed or sliding.

`LocalLog` keeps the log in this process; `RedisLog`
(gateway.upstreams.budget.redis_log) keeps it in Redis and falls back on a
`LocalLog` through the methods below while Redis does not answer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from gateway.upstreams.budget.scheduling import Clock
from gateway.upstreams.budget.settings import BudgetSettings, BudgetStatus


class SendLog(Protocol):
    """What a budget asks of its log."""

    async def wait(self, ahead: int, *, reserve: int = 0) -> float:
        """Seconds until the request `ahead` places behind the next one may be sent (<= 0: now).

        `reserve` slots of the limit are kept for others: the caller may
        only use the limit less them.
        """
        ...

    async def try_send(self, *, reserve: int = 0) -> float:
        """Record a send and answer 0 when one may go now (`reserve` slots kept
        free); else the seconds to wait, recording nothing."""
        ...

    async def pause_until(self, resume_at: float) -> None:
        """Let nobody send before `resume_at` (wall-clock epoch seconds), e.g. after a 429."""
        ...

    async def status(self) -> BudgetStatus: ...


def next_send_at(recent: Sequence[float], start: float, ahead: int, limit: int, span: float) -> float:
    """When the request `ahead` places behind the next one may be sent.

    `recent` holds the send times still inside the span, oldest first; nobody
    sends before `start`. Each request goes once the one `limit` places before
    it is `span` old. The Lua script of `RedisLog` mirrors this.
    """
    count = len(recent)
    planned: list[float] = []
    at = start
    for position in range(ahead + 1):
        index = count + position - limit
        if index >= 0:
            at = max(at, (recent[index] if index < count else planned[index - count]) + span)
        planned.append(at)
    return at


class LocalLog:
    """This process's send times, on `clock` (time.monotonic unless a test's)."""

    def __init__(self, settings: BudgetSettings, *, clock: Clock = time.monotonic, wall: Clock = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._wall = wall
        self._limit = settings.effective_limit
        self._span = settings.span
        # Send times inside the span, oldest first (on `clock`).
        self._sends: deque[float] = deque()
        self._paused_until: float | None = None  # on `clock`

    async def wait(self, ahead: int, *, reserve: int = 0) -> float:
        return self.wait_now(ahead, reserve=reserve)

    async def try_send(self, *, reserve: int = 0) -> float:
        wait = self.wait_now(0, reserve=reserve)
        if wait <= 0:
            self._sends.append(self.clock())
        return wait

    async def pause_until(self, resume_at: float) -> None:
        seconds = resume_at - self._wall()
        if seconds <= 0:
            return
        until = self.clock() + seconds
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until

    async def status(self) -> BudgetStatus:
        now = self.clock()
        self._expire(now)
        paused = None if self._paused_until is None else self._wall() + (self._paused_until - now)
        return BudgetStatus(len(self._sends), self._limit, self._span, paused, False, None)

    def wait_now(self, ahead: int, *, reserve: int = 0) -> float:
        """`wait` without a coroutine, for callers on the hot path."""
        now = self.clock()
        self._expire(now)
        start = now if self._paused_until is None else self._paused_until
        sends = self._sends
        limit = max(1, self._limit - reserve)
        if ahead == 0:
            if len(sends) < limit:
                return start - now
            return max(start, sends[-limit] + self._span) - now
        recent = list(sends)[-limit:]
        return next_send_at(recent, start, ahead, limit, self._span) - now

    def note_send(self) -> None:
        """Log a send decided elsewhere (by Redis), so a fallback starts from the truth."""
        self._expire(self.clock())
        self._sends.append(self.clock())

    def pause_left(self) -> float:
        """Seconds left of the pause in force, 0 when none."""
        now = self.clock()
        return 0.0 if self._paused_until is None else max(self._paused_until - now, 0.0)

    def sends_since(self, since: float) -> list[float]:
        """Ages in seconds of the logged sends made at or after `since` (on `clock`)."""
        now = self.clock()
        return [now - sent for sent in self._sends if sent >= since and sent > now - self._span]

    def _expire(self, now: float) -> None:
        """Forget sends older than the span and a pause that has ended."""
        sends = self._sends
        while sends and sends[0] <= now - self._span:
            sends.popleft()
        if self._paused_until is not None and self._paused_until <= now:
            self._paused_until = None


__all__ = ["LocalLog", "SendLog", "next_send_at"]
