"""Rate budgets: when the gateway may send one more request to an upstream.

Sequence allows 150 requests per 30 s per user and bans the user for 300 s
when that is exceeded. Nobody outside Sequence knows whether its window is
fixed or sliding, so a budget is a sliding log of send times: one more
request goes out only when fewer than the effective limit went out in the
last `window + slack` seconds. That holds every window of the upstream's,
wherever it starts; the slack covers the latency between our send and the
upstream's arrival time.

- `LocalBudget` keeps the log in this process.
- `RedisBudget` keeps it in a Redis sorted set shared by every process that
  uses the same key, stamped with Redis' own clock, and falls back to a
  `LocalBudget` while Redis does not answer.

Waiters queue in FIFO order behind one head, which alone sleeps until the
next slot frees, so a burst of hundreds of requests costs no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# The head of the queue never sleeps longer than this before looking again,
# so a pause set meanwhile (here, or by another replica through Redis) is seen.
MAX_NAP = 1.0

REDIS_UNAVAILABLE_NOTE = "redis unavailable, budget local to this process"

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

_REDIS_ERRORS = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class BudgetSettings:
    """The upstream's documented limit and how much of it the gateway uses.

    `margin` is the share of the limit kept in reserve; `slack` is added to the
    window for clock and latency differences; `concurrency` bounds the requests
    in flight at once (None: unbounded).
    """

    limit: int = 150
    window: float = 30.0
    margin: float = 0.1
    slack: float = 1.0
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"limit must be a whole number >= 1, got {self.limit!r}")
        if not math.isfinite(self.window) or self.window <= 0:
            raise ValueError(f"window must be a number of seconds > 0, got {self.window!r}")
        if not math.isfinite(self.margin) or not 0 <= self.margin < 1:
            raise ValueError(f"margin must be a share in [0, 1), got {self.margin!r}")
        if not math.isfinite(self.slack) or self.slack < 0:
            raise ValueError(f"slack must be a number of seconds >= 0, got {self.slack!r}")
        if self.concurrency is not None and (
            isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1
        ):
            raise ValueError(f"concurrency must be None or a whole number >= 1, got {self.concurrency!r}")

    @property
    def effective_limit(self) -> int:
        """The requests allowed per span: the limit less the margin, at least 1."""
        # The epsilon keeps 150 * 0.9 at 135 whichever way the float rounds.
        return max(1, math.floor(self.limit * (1 - self.margin) + 1e-9))

    @property
    def span(self) -> float:
        """The seconds the budget counts over: the window plus the slack."""
        return self.window + self.slack


class BudgetStatus(NamedTuple):
    used: int  # requests sent in the current span
    limit: int  # the effective limit
    window: float  # the span counted over (window + slack), in seconds
    paused_until: float | None  # wall-clock epoch seconds, while a pause is in force
    shared: bool  # True when the log lives in Redis
    note: str | None  # why the budget is degraded, if it is


class BudgetExhausted(Exception):
    """Raised by `acquire` when the wait for a slot would pass the caller's deadline.

    `wait` is the seconds that would have been needed.
    """

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate budget spent; the next slot frees in {wait:.1f} s")
        self.wait = wait


class RateBudget(Protocol):
    async def acquire(self, *, deadline: float | None) -> None:
        """Wait for a slot (FIFO) and record the send; `deadline` is a `time.monotonic()` value."""
        ...

    def release(self) -> None:
        """End one request (only matters with `concurrency`)."""
        ...

    async def pause_until(self, resume_at: float) -> None:
        """Let nobody send before `resume_at` (wall-clock epoch seconds), e.g. after a 429."""
        ...

    async def status(self) -> BudgetStatus: ...


def _next_send_at(recent: Sequence[float], start: float, ahead: int, limit: int, span: float) -> float:
    """When the request `ahead` places behind the next one may be sent.

    `recent` holds the send times still inside the span, oldest first; nobody
    sends before `start`. Each request goes once the one `limit` places before
    it is `span` old. The Lua script in `RedisBudget` mirrors this.
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


class _Gate:
    """The bound on requests in flight; FIFO like the rest."""

    def __init__(self, concurrency: int | None) -> None:
        self._semaphore = asyncio.Semaphore(concurrency) if concurrency is not None else None
        self._held = 0

    async def enter(self, deadline: float | None, clock: Clock) -> None:
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
        if self._semaphore is not None and self._held > 0:
            self._held -= 1
            self._semaphore.release()


class _Turns:
    """Whose turn it is to take the next slot: the waiter with the earliest deadline.

    Callers without a deadline come last, and equal deadlines keep their
    order of arrival. Ordering by deadline rather than arrival makes a burst
    complete whole answers: a request that started earlier finishes its
    remaining upstream calls before later requests start theirs, instead of
    every request getting part of its calls and most then running out of time.
    """

    def __init__(self) -> None:
        self._held = False
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    def ahead_of(self, deadline: float | None) -> int:
        """How many callers would take a turn before one with this deadline."""
        key = math.inf if deadline is None else deadline
        return int(self._held) + sum(1 for at, _, future in self._waiting if at <= key and not future.done())

    @contextlib.asynccontextmanager
    async def turn(self, deadline: float | None) -> AsyncIterator[None]:
        await self._acquire(math.inf if deadline is None else deadline)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, key: float) -> None:
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


class _GatedBudget:
    """`acquire` and `release` for both budgets: the concurrency gate, then a slot."""

    _gate: _Gate
    _gate_clock: Clock

    async def _take_slot(self, deadline: float | None) -> None:
        raise NotImplementedError

    async def acquire(self, *, deadline: float | None) -> None:
        await self._gate.enter(deadline, self._gate_clock)
        try:
            await self._take_slot(deadline)
        except BaseException:
            self._gate.leave()
            raise

    def release(self) -> None:
        self._gate.leave()


class LocalBudget(_GatedBudget):
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
        self.settings = settings
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._limit = settings.effective_limit
        self._span = settings.span
        # Send times inside the span, oldest first (on `clock`).
        self._sends: deque[float] = deque()
        self._paused_until: float | None = None  # on `clock`
        self._turns = _Turns()
        self._gate = _Gate(settings.concurrency)
        self._gate_clock = clock

    async def pause_until(self, resume_at: float) -> None:
        seconds = resume_at - self._wall()
        if seconds <= 0:
            return
        until = self._clock() + seconds
        if self._paused_until is None or until > self._paused_until:
            self._paused_until = until

    async def status(self) -> BudgetStatus:
        now = self._clock()
        self._wait(0, now)  # drops expired sends and pauses
        paused = None if self._paused_until is None else self._wall() + (self._paused_until - now)
        return BudgetStatus(len(self._sends), self._limit, self._span, paused, False, None)

    async def _take_slot(self, deadline: float | None) -> None:
        """The rate part of `acquire`; `RedisBudget` calls it while Redis is down."""
        ahead = self._turns.ahead_of(deadline)
        if ahead and deadline is not None:
            # Fail fast: do not queue for a slot that would come too late.
            now = self._clock()
            wait = self._wait(ahead, now)
            if now + wait > deadline:
                raise BudgetExhausted(wait)
        async with self._turns.turn(deadline):
            while True:
                now = self._clock()
                wait = self._wait(0, now)
                if wait <= 0:
                    self._sends.append(now)
                    return
                if deadline is not None and now + wait > deadline:
                    raise BudgetExhausted(wait)
                await self._sleep(min(wait, MAX_NAP))

    def _wait(self, ahead: int, now: float) -> float:
        """Seconds until the request `ahead` places behind the head may be sent."""
        sends = self._sends
        while sends and sends[0] <= now - self._span:
            sends.popleft()
        if self._paused_until is not None and self._paused_until <= now:
            self._paused_until = None
        start = now if self._paused_until is None else self._paused_until
        if ahead == 0:
            if len(sends) < self._limit:
                return start - now
            return max(start, sends[-self._limit] + self._span) - now
        recent = list(sends)[-self._limit :]
        return _next_send_at(recent, start, ahead, self._limit, self._span) - now

    def _note_send(self) -> None:
        """Log a send decided elsewhere (by Redis), so a fallback starts from the truth."""
        now = self._clock()
        self._wait(0, now)  # drops expired sends, so the log stays short
        self._sends.append(now)

    def _pause_left(self) -> float:
        """Seconds left of the pause in force, 0 when none."""
        now = self._clock()
        return 0.0 if self._paused_until is None else max(self._paused_until - now, 0.0)

    def _sends_since(self, since: float) -> list[float]:
        """Ages in seconds of the logged sends made at or after `since` (on `clock`)."""
        now = self._clock()
        return [now - sent for sent in self._sends if sent >= since and sent > now - self._span]


# One sliding log per key, on Redis' clock in microseconds.
# KEYS: the log (a sorted set), the pause flag (a key with PX expiry).
# ARGV: limit, span (µs), ahead, record (1 or 0), member, a pause to set (ms, 0 for none),
#       then the ages (µs) of sends made while Redis was unreachable, to put back in the log.
# Returns {wait µs for the request `ahead` places back (0 when recorded), used, pause left in ms}.
_ACQUIRE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local span = tonumber(ARGV[2])
local ahead = tonumber(ARGV[3])
local lengthen = tonumber(ARGV[6])
if lengthen > 0 and redis.call('PTTL', KEYS[2]) < lengthen then
  redis.call('SET', KEYS[2], '1', 'PX', lengthen)
end
for i = 7, #ARGV do
  redis.call('ZADD', KEYS[1], now - tonumber(ARGV[i]), ARGV[5] .. ':' .. i)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - span)
local start = now
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then
  start = now + pause * 1000
else
  pause = 0
end
local used = redis.call('ZCARD', KEYS[1])
if ARGV[4] == '1' and ahead == 0 and pause == 0 and used < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) + 1000)
  return {0, used + 1, 0}
end
if #ARGV > 6 then
  redis.call('PEXPIRE', KEYS[1], math.ceil(span / 1000) + 1000)
end
local flat = redis.call('ZRANGE', KEYS[1], -limit, -1, 'WITHSCORES')
local recent = {}
for i = 2, #flat, 2 do
  recent[#recent + 1] = tonumber(flat[i])
end
local count = #recent
local planned = {}
local at = start
for position = 0, ahead do
  local index = count + position - limit
  if index >= 0 then
    local ref
    if index < count then ref = recent[index + 1] else ref = planned[index - count + 1] end
    if ref + span > at then at = ref + span end
  end
  planned[#planned + 1] = at
end
return {at - now, used, pause}
"""

# KEYS: the pause flag. ARGV: pause in ms. A pause is only ever lengthened.
_PAUSE_LUA = """
local want = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < want then
  redis.call('SET', KEYS[1], '1', 'PX', want)
end
return 0
"""


class _Answer(NamedTuple):
    wait: float  # seconds
    used: int
    pause: float  # seconds left of the pause, 0 when none


class RedisBudget(_GatedBudget):
    """One sliding log shared by every process that uses the same `key`.

    The log is a sorted set updated by an atomic Lua script that stamps sends
    with Redis' `TIME`, so process clocks do not matter; the pause is a key
    with PX expiry. While Redis fails, `fallback` decides (one warning per
    outage, a note in `status()`), Redis is tried again every `retry_interval`
    seconds, and the sends made meanwhile are put back into the shared log.
    Each Redis call is bounded by `timeout` seconds.

    Keys: `key` (the log) and `key + ":pause"`; the key should hold a hash of
    the credential, never the secret.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        settings: BudgetSettings,
        *,
        fallback: LocalBudget | None = None,
        retry_interval: float = 5.0,
        timeout: float = 1.0,
    ) -> None:
        self.settings = settings
        self.key = key
        self._keys = [key, f"{key}:pause"]
        # The fallback's clock must be time.monotonic: deadlines are on it.
        self._fallback = fallback if fallback is not None else LocalBudget(settings)
        self._acquire_script = redis.register_script(_ACQUIRE_LUA)
        self._pause_script = redis.register_script(_PAUSE_LUA)
        self._limit = settings.effective_limit
        self._span_us = round(settings.span * 1_000_000)
        self._retry_interval = retry_interval
        self._timeout = timeout
        self._members = (f"{uuid.uuid4().hex}:{n}" for n in itertools.count())
        self._turns = _Turns()
        self._gate = _Gate(settings.concurrency)
        self._gate_clock = time.monotonic
        self._retry_at: float | None = None  # time.monotonic(); set while Redis is failing
        self._outage_started = 0.0  # on the fallback's clock

    async def pause_until(self, resume_at: float) -> None:
        # The fallback holds the pause too, in case Redis fails before it ends.
        await self._fallback.pause_until(resume_at)
        milliseconds = math.ceil((resume_at - time.time()) * 1000)
        if milliseconds <= 0 or not self._redis_due():
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._pause_script(keys=self._keys[1:], args=[milliseconds])
        except _REDIS_ERRORS as exc:
            self._failed(exc)

    async def status(self) -> BudgetStatus:
        answer = await self._run(ahead=0, record=False)
        if answer is None:
            local = await self._fallback.status()
            return local._replace(note=REDIS_UNAVAILABLE_NOTE)
        paused = time.time() + answer.pause if answer.pause > 0 else None
        return BudgetStatus(answer.used, self._limit, self.settings.span, paused, True, None)

    async def _take_slot(self, deadline: float | None) -> None:
        ahead = self._turns.ahead_of(deadline)
        if ahead and deadline is not None:
            answer = await self._run(ahead=ahead, record=False)
            now = time.monotonic()
            wait = self._fallback._wait(ahead, now) if answer is None else answer.wait
            if now + wait > deadline:
                raise BudgetExhausted(wait)
        async with self._turns.turn(deadline):
            while True:
                answer = await self._run(ahead=0, record=True)
                if answer is None:
                    # Redis is failing: this process's own log decides.
                    await self._fallback._take_slot(deadline)
                    return
                if answer.wait <= 0:
                    self._fallback._note_send()
                    return
                if deadline is not None and time.monotonic() + answer.wait > deadline:
                    raise BudgetExhausted(answer.wait)
                # Other replicas send too, so the wait is a lower bound: look again after it.
                await asyncio.sleep(min(answer.wait, MAX_NAP))

    async def _run(self, *, ahead: int, record: bool) -> _Answer | None:
        """Run the script; None while Redis is failing."""
        if not self._redis_due():
            return None
        pause_ms, backfill = 0, []
        if self._retry_at is not None:
            # Coming back: hand Redis what happened meanwhile (sends, and a pause, e.g. after a 429).
            pause_ms = math.ceil(self._fallback._pause_left() * 1000)
            backfill = [round(age * 1_000_000) for age in self._fallback._sends_since(self._outage_started)]
        args = [self._limit, self._span_us, ahead, int(record), next(self._members), pause_ms, *backfill]
        try:
            async with asyncio.timeout(self._timeout):
                wait_us, used, pause_left_ms = await self._acquire_script(keys=self._keys, args=args)
        except _REDIS_ERRORS as exc:
            self._failed(exc)
            return None
        if self._retry_at is not None:
            logger.info("Redis answers again: the rate budget is shared again")
            self._retry_at = None
        return _Answer(int(wait_us) / 1_000_000, int(used), int(pause_left_ms) / 1000)

    def _redis_due(self) -> bool:
        return self._retry_at is None or time.monotonic() >= self._retry_at

    def _failed(self, exc: BaseException) -> None:
        if self._retry_at is None:
            logger.warning(
                "Redis unavailable (%s: %s): the rate budget is local to this process until it answers",
                type(exc).__name__,
                exc,
            )
            self._outage_started = self._fallback._clock()
        self._retry_at = time.monotonic() + self._retry_interval
