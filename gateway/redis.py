"""Redis, for running many replicas: the connection, its errors, outages, and two primitives.

- `connect()` opens a client with short timeouts, or answers None.
- `REDIS_ERRORS` is what a Redis call raises when Redis is unwell.
- `Outage` logs each outage of one Redis user once, and its recovery once,
  and tells whether that user is healthy now.
- `Lease` is a key one replica holds at a time (the events poller's lock).
- `Stream` carries messages from one replica to all the others, at least
  once and in order, replayed after a lost connection (a Redis stream).

Its users: the rate budget (gateway.upstreams.budget.redis_log), the
response cache's Redis layer (gateway.upstreams.redis_layer) and the events
relay (gateway.events.relay). Each degrades instead of failing: while Redis
does not answer, the budget is local, the layer misses, the lease is held by
everyone and appends are dropped. Redis holds only what callers pass in
(hashes of credentials, upstream URLs, bodies), never a secret.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 1.0
# What a Redis call raises when Redis is down, slow or gone away.
REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


async def connect(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Redis | None:
    """A client for `url` that answered PING, or None (logged once) when Redis does not answer.

    Commands time out after `timeout` seconds and are retried once at once, so
    a dead Redis costs a request little; the users degrade on errors. The
    client does not decode responses: bodies are stored as bytes.
    """
    client = Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=15,
        # One immediate retry covers a pooled connection the server closed; more would stall requests.
        retry=Retry(NoBackoff(), 1),
        decode_responses=False,
    )
    try:
        async with asyncio.timeout(timeout * 3):
            await client.ping()
    except REDIS_ERRORS as exc:
        logger.warning(
            "Redis at %s does not answer (%s: %s): cache and rate budget stay local to this process",
            where(url),
            type(exc).__name__,
            exc,
        )
        await client.aclose()
        return None
    return client


def where(url: str) -> str:
    """The host and port of a Redis URL, without its credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def escape_glob(text: str) -> str:
    """`text` with Redis' glob characters escaped, to match it literally in SCAN MATCH."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class Outage:
    """The health of one Redis user: the first failure of an outage and the recovery are logged once each.

    Example:
        >>> outage = Outage("response store", meanwhile="reads miss and writes are dropped")
        >>> try:
        ...     await redis.get(key)
        ... except REDIS_ERRORS as exc:
        ...     outage.failed(exc)
        ... else:
        ...     outage.recovered()
    """

    def __init__(self, what: str, *, meanwhile: str, again: str = "") -> None:
        self.what = what
        self.meanwhile = meanwhile
        self.again = again
        self.failing = False

    @property
    def healthy(self) -> bool:
        """False from a failure until the next success."""
        return not self.failing

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            logger.warning(
                "Redis unavailable for the %s (%s: %s): %s", self.what, type(exc).__name__, exc, self.meanwhile
            )

    def recovered(self) -> None:
        if self.failing:
            self.failing = False
            logger.info("Redis answers again for the %s%s", self.what, f": {self.again}" if self.again else "")


# KEYS: the lease. ARGV: this holder's id, ttl in ms. Takes a free lease or
# renews our own in one step, so a lease that expires between the check and
# the renewal is never renewed for someone else. Returns 1 when held.
_HOLD_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class Lease:
    """A key that one holder at a time keeps by renewing it before its ttl runs out.

    While Redis fails, `hold` answers True: every replica then acts for
    itself, as a lone process would, rather than none of them acting.
    """

    def __init__(self, redis: Redis, key: str, *, what: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.key = key
        self.holder = uuid.uuid4().hex
        self._script = redis.register_script(_HOLD_LUA)
        self._timeout = timeout
        self.outage = Outage(what, meanwhile="every replica acts for itself")

    async def hold(self, ttl: float) -> bool:
        """Take the lease or renew ours for `ttl` seconds; whether we hold it now."""
        try:
            async with asyncio.timeout(self._timeout):
                held = await self._script(keys=[self.key], args=[self.holder, max(1, round(ttl * 1000))])
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return True
        self.outage.recovered()
        return bool(held)


Handler = Callable[[str], Awaitable[None] | None]


# KEYS: the stream, its counter. ARGV: max length, sender, message. Numbers each
# entry in one step, so a listener can tell that it missed one.
_APPEND_LUA = """
local n = redis.call('INCR', KEYS[2])
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'from', ARGV[2], 'data', ARGV[3], 'n', n)
"""


class Stream:
    """A Redis stream between replicas: what one instance appends, the others handle, at least once and in order.

    Each listener keeps the id of the last entry it handled; after a lost
    connection it reads on from there, so nothing appended meanwhile is
    missed. The stream is trimmed to about `max_len` entries, so a listener
    that fell further behind than that loses entries: entries are numbered
    one by one (`{key}:n`), and a listener that finds a number skipped is
    told so (`on_gap`). Entries are tagged with this instance's id, so an
    instance does not handle its own. `connected` is set while the listener
    is reading.
    """

    def __init__(self, redis: Redis, key: str, *, max_len: int = 10_000, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._redis = redis
        self.key = key
        self.max_len = max_len
        self.instance_id = uuid.uuid4().hex
        self.connected = asyncio.Event()
        self.last_id: str | None = None  # the last entry handled (or skipped as our own)
        self.last_number: int | None = None  # its number
        self._append = redis.register_script(_APPEND_LUA)
        self._keys = [key, f"{key}:n"]
        self._timeout = timeout
        # A blocking read waits at most half the client's socket timeout, which would cut it off.
        self._block_ms = max(1, round(timeout * 500))
        self.outage = Outage(f"stream {key}", meanwhile="entries wait in Redis until it answers")

    async def append(self, message: str) -> bool:
        """Add `message` for the other instances; False (logged once) while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._append(keys=self._keys, args=[self.max_len, self.instance_id, message])
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return False
        self.outage.recovered()
        return True

    async def newest(self) -> str | None:
        """The newest entry's message, whoever appended it (None when empty or unreadable)."""
        try:
            async with asyncio.timeout(self._timeout):
                found = await self._redis.xrevrange(self.key, count=1)
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return None
        if not found:
            return None
        _, fields = found[0]
        return _text(fields.get(b"data", b""))

    async def listen(self, handler: Handler, *, on_gap: Callable[[], None], max_backoff: float = 10.0) -> None:
        """Call `handler` with each message from another instance, from the newest
        entry on (the first time) or from the last one handled, until cancelled.

        A handler's exception is logged and the next message handled; Redis
        errors end the read and it starts again after a backoff.
        """
        backoff = 0.1
        while True:
            try:
                await self._resume(on_gap)
                self.connected.set()
                self.outage.recovered()
                backoff = 0.1
                while True:
                    async with asyncio.timeout(self._timeout + self._block_ms / 1000):
                        read = await self._redis.xread({self.key: self.last_id or "$"}, count=100, block=self._block_ms)
                    for _, entries in read or ():
                        for entry_id, fields in entries:
                            self._follow(_text(entry_id), fields, on_gap)
                            if _text(fields.get(b"from", b"")) != self.instance_id:
                                await self._dispatch(_text(fields.get(b"data", b"")), handler)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            finally:
                self.connected.clear()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, max_backoff)

    async def _resume(self, on_gap: Callable[[], None]) -> None:
        """The first time, start after the newest entry; after a break, read on from the last one,
        telling `on_gap` at once when what came after it is no longer all there."""
        if self.last_id is not None:
            async with asyncio.timeout(self._timeout):
                following = await self._redis.xrange(self.key, min="(" + self.last_id, count=1)
                counted = int(await self._redis.get(self._keys[1]) or 0)
            if following:
                number = following[0][1].get(b"n", b"")
                expected = str(self.last_number + 1).encode() if self.last_number is not None else None
                if number != expected:
                    on_gap()
                    self.last_number = None  # counted again from the next entry
            elif self.last_number is not None and counted != self.last_number:
                on_gap()
                self.last_number = counted
            return
        async with asyncio.timeout(self._timeout):
            newest = await self._redis.xrevrange(self.key, count=1)
            counted = await self._redis.get(self._keys[1])
        if newest:
            entry_id, fields = newest[0]
            self._follow(_text(entry_id), fields, on_gap)
        else:
            self.last_id = "0-0"
            self.last_number = int(counted or 0)

    def _follow(self, entry_id: str, fields: dict[bytes, bytes], on_gap: Callable[[], None]) -> None:
        try:
            number: int | None = int(fields.get(b"n", b""))
        except ValueError:
            number = None
        if self.last_number is not None and (number is None or number != self.last_number + 1):
            on_gap()
        self.last_id, self.last_number = entry_id, number

    async def _dispatch(self, message: str, handler: Handler) -> None:
        try:
            result = handler(message)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("a handler of stream %s failed on %r", self.key, message[:200])


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


__all__ = ["DEFAULT_TIMEOUT", "REDIS_ERRORS", "Lease", "Outage", "Stream", "connect", "escape_glob", "where"]
