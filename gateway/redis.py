"""Redis, for running many replicas: the connection, its errors, outages, and two primitives.

- `connect()` opens a client with short timeouts, or answers None.
- `REDIS_ERRORS` is what a Redis call raises when Redis is unwell.
- `Outage` logs each outage of one Redis user once, and its recovery once,
  and tells whether that user is healthy now.
- `Lease` is a key one replica holds at a time (the events poller's lock).
- `Channel` carries a message from one replica to all the others (pub/sub).

Its users: the rate budget (gateway.upstreams.budget.redis_log), the
response cache's Redis layer (gateway.upstreams.redis_layer) and the events
relay (gateway.events.relay). Each degrades instead of failing: while Redis
does not answer, the budget is local, the layer misses, the lease is held by
everyone and publishes are dropped. Redis holds only what callers pass in
(hashes of credentials, upstream URLs, bodies), never a secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import re
import uuid
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
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


class Channel:
    """Redis pub/sub between replicas: what one instance publishes, the others handle.

    Messages are tagged with this instance's id, so an instance does not
    handle its own. Pub/sub delivers at most once: messages published while a
    listener is disconnected are lost to it. `subscribed` is set while the
    listener is subscribed.
    """

    def __init__(self, redis: Redis, channel: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._redis = redis
        self.channel = channel
        self.instance_id = uuid.uuid4().hex
        self.subscribed = asyncio.Event()
        self._timeout = timeout
        self.outage = Outage(f"channel {channel}", meanwhile="messages are dropped until it answers")

    async def publish(self, message: str) -> None:
        """Send `message` to the other instances; dropped (logged once) while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.publish(self.channel, f"{self.instance_id} {message}")
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return
        self.outage.recovered()

    async def listen(self, handler: Handler, *, max_backoff: float = 10.0) -> None:
        """Call `handler` with each message from another instance, until cancelled.

        A handler's exception is logged and the next message handled; Redis
        errors close the subscription and it is opened again after a backoff.
        """
        backoff = 0.1
        while True:
            pubsub = self._redis.pubsub()
            try:
                await self._subscribe(pubsub)
                self.outage.recovered()
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        await self._dispatch(message["data"], handler)
            except REDIS_ERRORS as exc:
                self.outage.failed(exc)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, max_backoff)

    async def _subscribe(self, pubsub: PubSub) -> None:
        await pubsub.subscribe(self.channel)
        # Wait for the confirmation: from then on, nothing published is missed.
        async with asyncio.timeout(self._timeout * 5):
            while True:
                reply = await pubsub.get_message(timeout=self._timeout)
                if reply is not None and reply["type"] == "subscribe":
                    break
        self.subscribed.set()

    async def _dispatch(self, data: bytes | str, handler: Handler) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else data
        sender, _, message = text.partition(" ")
        if sender == self.instance_id:
            return
        try:
            result = handler(message)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("a handler of channel %s failed on %r", self.channel, message)


__all__ = ["DEFAULT_TIMEOUT", "REDIS_ERRORS", "Channel", "Lease", "Outage", "connect", "escape_glob", "where"]
