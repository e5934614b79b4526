"""The Redis layer of the response cache: upstream bodies shared between replicas.

Behind each process's in-process cache: a read that misses locally looks
here before it costs an upstream call (`read_through`), and every body
fetched is put here for the other replicas. Bodies are stored as the
upstream sent them and parsed again on a hit, so nothing but upstream data
goes through Redis. While Redis fails, reads miss and writes are dropped
(logged once, gateway.redis.Outage).

- `RedisResponseStore` keeps bytes by string key in Redis, each with its ttl.
- `RedisLayer` maps the cache's keys onto it, and drops what a change made stale.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx
from redis.asyncio import Redis

from gateway.errors import UpstreamBadResponse
from gateway.redis import DEFAULT_TIMEOUT, REDIS_ERRORS, Outage, escape_glob
from gateway.upstreams.cache import CacheKey
from gateway.upstreams.payload import PayloadError

R = TypeVar("R")

# v2 dropped the status that v1 stored and nobody read: only 2xx bodies are stored.
_FORMAT = b"v2"


class ResponseStore(Protocol):
    async def get(self, key: str) -> tuple[str, bytes] | None: ...
    async def set(self, key: str, value: tuple[str, bytes], ttl: float) -> None: ...
    async def delete_prefix(self, key_prefix: str, *, then: str = "") -> int:
        """Delete the entries whose key starts with `key_prefix` followed (when
        `then` is given) by one of the characters of `then`; the number deleted."""
        ...


class RedisResponseStore:
    """Upstream answers `(content_type, body)` by key, each with its own ttl.

    Values are stored as bytes, so the client must not decode responses.
    """

    def __init__(self, redis: Redis, *, prefix: str = "gw:cache:", timeout: float = DEFAULT_TIMEOUT) -> None:
        # redis-py leaves get_connection_kwargs unannotated.
        if redis.get_connection_kwargs().get("decode_responses"):  # type: ignore[no-untyped-call]
            raise ValueError("RedisResponseStore needs a Redis client with decode_responses=False")
        self._redis = redis
        self.prefix = prefix
        self._timeout = timeout
        self.outage = Outage("response store", meanwhile="reads miss and writes are dropped")

    @property
    def healthy(self) -> bool:
        """False while Redis is failing."""
        return self.outage.healthy

    async def get(self, key: str) -> tuple[str, bytes] | None:
        """The stored answer, or None on a miss or while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                raw = await self._redis.get(self.prefix + key)
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return None
        self.outage.recovered()
        return None if raw is None else _decode(raw)

    async def set(self, key: str, value: tuple[str, bytes], ttl: float) -> None:
        """Store `value` for `ttl` seconds; a ttl of zero or less stores nothing."""
        milliseconds = round(ttl * 1000)
        if milliseconds <= 0:
            return
        data = _encode(value)
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.set(self.prefix + key, data, px=milliseconds)
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return
        self.outage.recovered()

    async def delete_prefix(self, key_prefix: str, *, then: str = "") -> int:
        """Delete every entry whose key starts with `key_prefix` (and then one of the
        characters of `then`, when given); the number deleted (0 on error).

        One SCAN walks the whole keyspace whatever it matches, so one pattern
        with a character class costs one walk where a prefix per character
        would cost one each.
        """
        pattern = escape_glob(self.prefix + key_prefix)
        if then:
            pattern += "[" + escape_glob(then) + "]"
        pattern += "*"
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
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return 0
        self.outage.recovered()
        return deleted


def _encode(value: tuple[str, bytes]) -> bytes:
    content_type, body = value
    if "\n" in content_type or "\r" in content_type:
        raise ValueError("a content type holds no line breaks")
    return b"%s\n%s\n%s" % (_FORMAT, content_type.encode(), body)


def _decode(raw: bytes) -> tuple[str, bytes] | None:
    # Anything unreadable (another version's format) counts as a miss.
    parts = raw.split(b"\n", 2)
    if len(parts) != 3 or parts[0] != _FORMAT:
        return None
    try:
        content_type = parts[1].decode()
    except ValueError:
        return None
    return content_type, parts[2]


@dataclass(frozen=True)
class StoredBody:
    body: bytes
    media_type: str


class RedisLayer:
    """The cache's keys on a `ResponseStore`: one entry per credential, method, URL and body."""

    def __init__(self, store: ResponseStore) -> None:
        self.store = store

    @staticmethod
    def key(key: CacheKey) -> str:
        # URLs first so that everything under a path can be deleted by prefix.
        body = hashlib.sha256(key.body).hexdigest()[:16] if key.body else ""
        return f"{key.credential}|{key.method}|{key.url}|{body}"

    async def get(self, key: CacheKey) -> StoredBody | None:
        found = await self.store.get(self.key(key))
        if found is None:
            return None
        media_type, body = found
        return StoredBody(body, media_type)

    async def put(self, key: CacheKey, body: bytes, media_type: str, ttl: float) -> None:
        if ttl > 0:
            await self.store.set(self.key(key), (media_type, body), ttl)

    async def invalidate(self, credential: str, method: str, url: str, *, below: bool = False) -> int:
        """Drop the stored bodies of `credential` read from `url` with any query (every
        page and view of it), and with `below` from every URL under it; the number dropped."""
        # A key's URL ends at the "|" before the body hash (see `key`): after the
        # URL comes "|" (the URL itself), "?" (a query) or, below it, "/".
        return await self.store.delete_prefix(f"{credential}|{method}|{url}", then="|?/" if below else "|?")


async def read_through(
    layer: RedisLayer | None,
    key: CacheKey,
    send: Callable[[], Awaitable[httpx.Response]],
    parse: Callable[[bytes, str], R],
    ttl: Callable[[R], float] | float,
    *,
    upstream: str,
) -> R:
    """The value of `key`: parsed from the body another replica stored, else
    sent for, parsed and stored for `ttl` seconds (or `ttl(value)`).

    A stored body that no longer parses is ignored; an upstream body that
    does not parse is the upstream's fault: UPSTREAM_BAD_RESPONSE.
    """
    stored = await layer.get(key) if layer else None
    if stored is not None:
        with contextlib.suppress(PayloadError):
            return parse(stored.body, stored.media_type)
    response = await send()
    media_type = response.headers.get("content-type", "")
    try:
        value = parse(response.content, media_type)
    except PayloadError as exc:
        raise UpstreamBadResponse(upstream, f"{upstream} sent an unexpected body: {exc}") from exc
    if layer:
        await layer.put(key, response.content, media_type, ttl(value) if callable(ttl) else ttl)
    return value
