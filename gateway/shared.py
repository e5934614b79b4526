"""Redis building blocks for running many replicas.

- `connect()` opens a client with short timeouts, or answers None.
- `RedisResponseStore` is the second cache layer, behind the in-process one:
  upstream bodies shared between replicas.
- `InvalidationChannel` carries an invalidation seen by one replica to all
  the others.

Each degrades instead of failing: while Redis does not answer, the store
misses, publishes are dropped and the listener reconnects with backoff; each
outage is logged once. Redis holds only what callers pass in (hashes of
credentials, upstream URLs, bodies), never a secret.
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
_REDIS_ERRORS = (RedisError, OSError, TimeoutError)
_FORMAT = b"v1"
_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


async def connect(url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Redis | None:
    """A client for `url` that answered PING, or None (logged once) when Redis does not answer.

    Commands time out after `timeout` seconds and are retried once at once, so
    a dead Redis costs a request little; the helpers here degrade on errors.
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
    except _REDIS_ERRORS as exc:
        logger.warning(
            "Redis at %s does not answer (%s: %s): cache and rate budget stay local to this process",
            _where(url),
            type(exc).__name__,
            exc,
        )
        await client.aclose()
        return None
    return client


def _where(url: str) -> str:
    """The host and port of a Redis URL, without its credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def escape_glob(text: str) -> str:
    """`text` with Redis' glob characters escaped, to match it literally in SCAN MATCH."""
    return _GLOB_SPECIAL.sub(r"\\\1", text)


class _Outage:
    """Logs the first failure of an outage and the recovery, once each."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.failing = False

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            self.failing = True
            logger.warning("Redis unavailable for the %s (%s: %s); degrading", self.what, type(exc).__name__, exc)

    def recovered(self) -> None:
        if self.failing:
            self.failing = False
            logger.info("Redis answers again for the %s", self.what)


class RedisResponseStore:
    """Upstream answers `(status, content_type, body)` by key, each with its own ttl.

    Values are stored as bytes, so the client must not decode responses.
    """

    def __init__(self, redis: Redis, *, prefix: str = "gw:cache:", timeout: float = DEFAULT_TIMEOUT) -> None:
        if redis.get_connection_kwargs().get("decode_responses"):
            raise ValueError("RedisResponseStore needs a Redis client with decode_responses=False")
        self._redis = redis
        self.prefix = prefix
        self._timeout = timeout
        self._outage = _Outage("response store")

    @property
    def healthy(self) -> bool:
        """False while Redis is failing."""
        return not self._outage.failing

    async def get(self, key: str) -> tuple[int, str, bytes] | None:
        """The stored answer, or None on a miss or while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._redis.get(self.prefix + key)
        except _REDIS_ERRORS as exc:
            self._outage.failed(exc)
            return None
        self._outage.recovered()
        return None if raw is None else _decode(raw)

    async def set(self, key: str, value: tuple[int, str, bytes], ttl: float) -> None:
        """Store `value` for `ttl` seconds; a ttl of zero or less stores nothing."""
        milliseconds = round(ttl * 1000)
        if milliseconds <= 0:
            return
        data = _encode(value)
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self.prefix + key, data, px=milliseconds)
        except _REDIS_ERRORS as exc:
            self._outage.failed(exc)
            return
        self._outage.recovered()

    async def delete_prefix(self, key_prefix: str) -> int:
        """Delete every entry whose key starts with `key_prefix`; the number deleted (0 on error)."""
        pattern = escape_glob(self.prefix + key_prefix) + "*"
        deleted = 0
        batch: list[bytes] = []
        try:
            async for key in self._redis.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 500:
                    deleted += await self._redis.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += await self._redis.unlink(*batch)
        except _REDIS_ERRORS as exc:
            self._outage.failed(exc)
            return 0
        self._outage.recovered()
        return deleted


def _encode(value: tuple[int, str, bytes]) -> bytes:
    status, content_type, body = value
    if "\n" in content_type or "\r" in content_type:
        raise ValueError("a content type holds no line breaks")
    return b"%s\n%d\n%s\n%s" % (_FORMAT, status, content_type.encode(), body)


def _decode(raw: bytes) -> tuple[int, str, bytes] | None:
    # Anything unreadable (another version's format) counts as a miss.
    parts = raw.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != _FORMAT:
        return None
    try:
        status = int(parts[1])
        content_type = parts[2].decode()
    except ValueError:
        return None
    return status, content_type, parts[3]


Handler = Callable[[str], Awaitable[None] | None]


class InvalidationChannel:
    """Redis pub/sub for invalidations: what one replica publishes, the others handle.

    Messages are tagged with this instance's id, so a replica does not handle
    its own. Pub/sub delivers at most once: messages published while a
    listener is disconnected are lost to it. `subscribed` is set while the
    listener is subscribed.
    """

    def __init__(self, redis: Redis, channel: str = "gw:invalidate", *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._redis = redis
        self.channel = channel
        self.instance_id = uuid.uuid4().hex
        self.subscribed = asyncio.Event()
        self._timeout = timeout
        self._outage = _Outage("invalidation channel")

    async def publish(self, message: str) -> None:
        """Send `message` to the other instances; dropped (logged once) while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.publish(self.channel, f"{self.instance_id} {message}")
        except _REDIS_ERRORS as exc:
            self._outage.failed(exc)
            return
        self._outage.recovered()

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
                self._outage.recovered()
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message["type"] == "message":
                        await self._dispatch(message["data"], handler)
            except _REDIS_ERRORS as exc:
                self._outage.failed(exc)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(*_REDIS_ERRORS):
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
            logger.exception("invalidation handler failed on %r", message)
