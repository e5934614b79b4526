"""The Redis layer of the response cache: upstream bodies shared between replicas.

Behind each process's in-process cache: a read that misses locally looks
here before it costs an upstream call (`read_through`), and every body
fetched is put here for the other replicas. Bodies are stored as the
upstream sent them and parsed again on a hit, so nothing but upstream data
goes through Redis. While Redis fails, reads miss and writes are dropped
(logged once, gateway.redis.Outage).

- `RedisResponseStore` keeps bytes by string key in Redis, each with its ttl
  and the wall-clock time it was stored.
- `RedisLayer` maps the cache's keys onto it, and drops what a change made stale.

A read in flight across an invalidation never stores its (maybe older)
answer: each credential has a generation counter, which every invalidation
increments before it deletes; a read notes the generation when it misses,
and its answer is stored only if the generation is still the same (one Lua
step). That holds across replicas: the replica that polled the events
feed sweeps Redis, while another one's read is still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
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
# v3 added the time a body was stored, so a reader can judge its age.
_FORMAT = b"v3"
# The generation a failed read reports: nothing read then may be stored.
UNKNOWN_GENERATION = -1

# KEYS: the entry, the generation counter. ARGV: the value, ttl in ms, the generation the read saw.
_SET_IF_GENERATION_LUA = """
local seen = redis.call('GET', KEYS[2]) or '0'
if seen ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Stored:
    """A stored upstream answer: its media type, its body and when it was stored (epoch seconds)."""

    media_type: str
    body: bytes
    stored_at: float


class ResponseStore(Protocol):
    async def get(self, key: str, generation_key: str) -> tuple[Stored | None, int]:
        """The stored answer (None on a miss) and the generation now (UNKNOWN_GENERATION on error)."""
        ...

    async def set(self, key: str, value: Stored, ttl: float, *, generation_key: str, generation: int) -> None:
        """Store `value` for `ttl` seconds, unless the generation is no longer `generation`."""
        ...

    async def bump(self, generation_key: str) -> None:
        """A new generation: what was read before it is stored no more."""
        ...

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
        self._set_if_generation = redis.register_script(_SET_IF_GENERATION_LUA)
        self.outage = Outage("response store", meanwhile="reads miss and writes are dropped")

    @property
    def healthy(self) -> bool:
        """False while Redis is failing."""
        return self.outage.healthy

    async def get(self, key: str, generation_key: str) -> tuple[Stored | None, int]:
        """The stored answer (None on a miss) and the generation, in one round trip;
        (None, UNKNOWN_GENERATION) while Redis fails."""
        try:
            async with asyncio.timeout(self._timeout):
                raw, generation = await self._redis.mget(self.prefix + key, self.prefix + generation_key)
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return None, UNKNOWN_GENERATION
        self.outage.recovered()
        return (None if raw is None else _decode(raw)), int(generation or 0)

    async def set(self, key: str, value: Stored, ttl: float, *, generation_key: str, generation: int) -> None:
        """Store `value` for `ttl` seconds if the generation is still `generation`;
        a ttl of zero or less, or an unknown generation, stores nothing."""
        milliseconds = round(ttl * 1000)
        if milliseconds <= 0 or generation == UNKNOWN_GENERATION:
            return
        data = _encode(value)
        try:
            async with asyncio.timeout(self._timeout):
                await self._set_if_generation(
                    keys=[self.prefix + key, self.prefix + generation_key], args=[data, milliseconds, generation]
                )
        except REDIS_ERRORS as exc:
            self.outage.failed(exc)
            return
        self.outage.recovered()

    async def bump(self, generation_key: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._redis.incr(self.prefix + generation_key)
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


def _encode(value: Stored) -> bytes:
    if "\n" in value.media_type or "\r" in value.media_type:
        raise ValueError("a content type holds no line breaks")
    return b"%s\n%s\n%.3f\n%s" % (_FORMAT, value.media_type.encode(), value.stored_at, value.body)


def _decode(raw: bytes) -> Stored | None:
    # Anything unreadable (another version's format) counts as a miss.
    parts = raw.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != _FORMAT:
        return None
    try:
        return Stored(parts[1].decode(), parts[3], float(parts[2]))
    except ValueError:
        return None


class RedisLayer:
    """The cache's keys on a `ResponseStore`: one entry per credential, method, URL and body."""

    def __init__(self, store: ResponseStore, *, wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.wall = wall

    @staticmethod
    def key(key: CacheKey) -> str:
        # URLs first so that everything under a path can be deleted by prefix.
        body = hashlib.sha256(key.body).hexdigest()[:16] if key.body else ""
        return f"{key.credential}|{key.method}|{key.url}|{body}"

    @staticmethod
    def generation_key(credential: str) -> str:
        # Not a credential hash followed by "|", so no invalidation prefix matches it.
        return f"generation:{credential}"

    async def get(self, key: CacheKey) -> tuple[Stored | None, int]:
        """The stored answer for `key` (None on a miss), and the generation to `put` a fresh one with."""
        return await self.store.get(self.key(key), self.generation_key(key.credential))

    async def put(self, key: CacheKey, body: bytes, media_type: str, ttl: float, *, generation: int) -> None:
        """Store an answer read in `generation`: dropped when an invalidation came in between."""
        if ttl > 0:
            stored = Stored(media_type, body, self.wall())
            await self.store.set(
                self.key(key), stored, ttl, generation_key=self.generation_key(key.credential), generation=generation
            )

    async def invalidate(self, credential: str, method: str, url: str, *, below: bool = False) -> int:
        """Drop the stored bodies of `credential` read from `url` with any query (every
        page and view of it), and with `below` from every URL under it; the number dropped.

        The generation moves first, so reads in flight store nothing afterwards.
        """
        await self.store.bump(self.generation_key(credential))
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
    usable: Callable[[float], bool] | None = None,
) -> R:
    """The value of `key`: parsed from the body another replica stored, else
    sent for, parsed and stored for `ttl` seconds (or `ttl(value)`).

    `usable(stored_at)` says whether a body stored then (epoch seconds) may
    still answer; without it, any stored body may (Redis expires it with its
    ttl). A stored body that no longer parses is ignored; an upstream body
    that does not parse is the upstream's fault: UPSTREAM_BAD_RESPONSE.
    """
    stored, generation = await layer.get(key) if layer else (None, UNKNOWN_GENERATION)
    if stored is not None and (usable is None or usable(stored.stored_at)):
        with contextlib.suppress(PayloadError):
            return parse(stored.body, stored.media_type)
    response = await send()
    media_type = response.headers.get("content-type", "")
    try:
        value = parse(response.content, media_type)
    except PayloadError as exc:
        raise UpstreamBadResponse(upstream, f"{upstream} sent an unexpected body: {exc}") from exc
    if layer:
        await layer.put(key, response.content, media_type, ttl(value) if callable(ttl) else ttl, generation=generation)
    return value
