"""The rate budget shared by every replica: a sliding log in Redis.

The log is a sorted set updated by an atomic Lua script that stamps sends
with Redis' `TIME`, so process clocks do not matter; the pause is a key with
PX expiry. While Redis fails, a `LocalLog` of this process decides (one
warning per outage, a note in `status()`), Redis is tried again every
`retry_interval` seconds, and the sends made meanwhile are put back into
the shared log.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
import uuid
from typing import NamedTuple

from redis.asyncio import Redis

from gateway.redis import DEFAULT_TIMEOUT, REDIS_ERRORS, Outage
from gateway.upstreams.budget.log import LocalLog
from gateway.upstreams.budget.rate import Budget
from gateway.upstreams.budget.settings import BudgetSettings, BudgetStatus

REDIS_UNAVAILABLE_NOTE = "redis unavailable, budget local to this process"
# While Redis fails, it is asked again this often (seconds); meanwhile the local log decides.
DEFAULT_RETRY_INTERVAL = 5.0

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


class RedisLog:
    """One sliding log shared by every process that uses the same `key`.

    Keys: `key` (the log) and `key + ":pause"`; the key should hold a hash of
    the credential, never the secret. Each Redis call is bounded by `timeout`
    seconds.
    """

    def __init__(
        self,
        redis: Redis,
        key: str,
        settings: BudgetSettings,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.key = key
        self._keys = [key, f"{key}:pause"]
        # On time.monotonic, as deadlines are.
        self.fallback = LocalLog(settings)
        self._acquire_script = redis.register_script(_ACQUIRE_LUA)
        self._pause_script = redis.register_script(_PAUSE_LUA)
        self._limit = settings.effective_limit
        self._span_us = round(settings.span * 1_000_000)
        self._retry_interval = retry_interval
        self._timeout = timeout
        self._members = (f"{uuid.uuid4().hex}:{n}" for n in itertools.count())
        self._retry_at: float | None = None  # time.monotonic(); set while Redis is failing
        self._outage_started = 0.0  # on the fallback's clock
        self.outage = Outage(
            "rate budget", meanwhile="it is local to this process until Redis answers", again="it is shared again"
        )

    async def wait(self, ahead: int, *, reserve: int = 0) -> float:
        answer = await self._run(ahead=ahead, record=False, reserve=reserve)
        return self.fallback.wait_now(ahead, reserve=reserve) if answer is None else answer.wait

    async def try_send(self, *, reserve: int = 0) -> float:
        answer = await self._run(ahead=0, record=True, reserve=reserve)
        if answer is None:
            # Redis is failing: this process's own log decides.
            return await self.fallback.try_send(reserve=reserve)
        if answer.wait <= 0:
            self.fallback.note_send()
        return answer.wait

    async def pause_until(self, resume_at: float) -> None:
        # The fallback holds the pause too, in case Redis fails before it ends.
        await self.fallback.pause_until(resume_at)
        milliseconds = math.ceil((resume_at - time.time()) * 1000)
        if milliseconds <= 0 or not self._redis_due():
            return
        try:
            async with asyncio.timeout(self._timeout):
                await self._pause_script(keys=self._keys[1:], args=[milliseconds])
        except REDIS_ERRORS as exc:
            self._failed(exc)

    async def status(self) -> BudgetStatus:
        answer = await self._run(ahead=0, record=False)
        if answer is None:
            local = await self.fallback.status()
            return local._replace(note=REDIS_UNAVAILABLE_NOTE)
        paused = time.time() + answer.pause if answer.pause > 0 else None
        return BudgetStatus(answer.used, self._limit, self.settings.span, paused, True, None)

    async def _run(self, *, ahead: int, record: bool, reserve: int = 0) -> _Answer | None:
        """Run the script; None while Redis is failing."""
        if not self._redis_due():
            return None
        pause_ms, backfill = 0, list[int]()
        if self._retry_at is not None:
            # Coming back: hand Redis what happened meanwhile (sends, and a pause, e.g. after a 429).
            pause_ms = math.ceil(self.fallback.pause_left() * 1000)
            backfill = [round(age * 1_000_000) for age in self.fallback.sends_since(self._outage_started)]
        args: list[int | str] = [
            # Slots kept for others are simply a smaller limit for this caller.
            max(1, self._limit - reserve),
            self._span_us,
            ahead,
            int(record),
            next(self._members),
            pause_ms,
            *backfill,
        ]
        try:
            async with asyncio.timeout(self._timeout):
                wait_us, used, pause_left_ms = await self._acquire_script(keys=self._keys, args=args)
        except REDIS_ERRORS as exc:
            self._failed(exc)
            return None
        if self._retry_at is not None:
            self.outage.recovered()
            self._retry_at = None
        return _Answer(int(wait_us) / 1_000_000, int(used), int(pause_left_ms) / 1000)

    def _redis_due(self) -> bool:
        return self._retry_at is None or time.monotonic() >= self._retry_at

    def _failed(self, exc: BaseException) -> None:
        if self._retry_at is None:
            self.outage.failed(exc)
            self._outage_started = self.fallback.clock()
        self._retry_at = time.monotonic() + self._retry_interval


class RedisBudget(Budget):
    """A budget whose log is shared by every process that uses the same `key` (see `RedisLog`)."""

    def __init__(
        self,
        redis: Redis,
        key: str,
        settings: BudgetSettings,
        *,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.log: RedisLog
        log = RedisLog(redis, key, settings, retry_interval=retry_interval, timeout=timeout)
        super().__init__(settings, log, clock=time.monotonic, sleep=asyncio.sleep)


__all__ = ["REDIS_UNAVAILABLE_NOTE", "RedisBudget", "RedisLog"]
