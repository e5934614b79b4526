"""The app-level response cache, with in-flight de-duplication.

One `ResponseCache` lives on the app (never on a request) and sits between
the upstream clients and httpx. It holds parsed records, not bytes, keyed by
credential, method, URL and body, so two credentials never share an entry.

Identical concurrent reads share one upstream call: the first caller starts
the fetch as its own task and the others await the same task through
`asyncio.shield`, so a client that disconnects cancels only its own wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import cachetools

T = TypeVar("T")

DEFAULT_MAXSIZE = 10_000


@dataclass(frozen=True)
class CacheKey:
    """What makes two upstream reads identical.

    `credential` is an opaque id of the credential (a hash), never the secret.
    """

    credential: str
    method: str
    url: str
    body: bytes = b""


@dataclass
class CacheStats:
    """Counters for tests and metrics."""

    hits: int = 0
    misses: int = 0
    shared: int = 0  # callers that joined a fetch already in flight
    evictions: int = 0  # live entries dropped to respect maxsize


class _Entry(NamedTuple):
    value: Any
    ttl: float


class _Entries(cachetools.TLRUCache):
    """A TLRUCache whose per-entry lifetime is the ttl stored with the value.

    TLRU rather than LRU plus our own expiry: expired entries are dropped
    first, before any live entry is evicted for room, and each entry may have
    its own lifetime (a running order for seconds, a finished one for minutes).
    """

    def __init__(self, maxsize: int, clock: Callable[[], float], on_evict: Callable[[], None]) -> None:
        super().__init__(maxsize, ttu=_expires, timer=clock)
        self._on_evict = on_evict

    def popitem(self) -> tuple[Any, Any]:
        # cachetools calls popitem only to make room, after expired entries are gone.
        item = super().popitem()
        self._on_evict()
        return item


def _expires(key: CacheKey, entry: _Entry, now: float) -> float:
    return now + entry.ttl


class ResponseCache:
    """Parsed upstream answers by `CacheKey`, each kept for its own ttl.

    Example:
        >>> cache = ResponseCache(maxsize=1000)
        >>> job = await cache.get_or_fetch(key, fetch_job, ttl=30.0)
        >>> order = await cache.get_or_fetch(key, fetch_order, ttl=lambda o: 5.0 if o.running else 300.0)
    """

    def __init__(self, *, maxsize: int = DEFAULT_MAXSIZE, clock: Callable[[], float] = time.monotonic) -> None:
        self.stats = CacheStats()
        self._entries = _Entries(maxsize, clock, self._count_eviction)
        self._in_flight: dict[CacheKey, asyncio.Task[Any]] = {}

    async def get_or_fetch(
        self,
        key: CacheKey,
        fetch: Callable[[], Awaitable[T]],
        ttl: Callable[[T], float] | float,
    ) -> T:
        """The live cached value for `key`, else the result of one shared `fetch()`.

        The value is stored for `ttl` seconds (or `ttl(value)`; zero or less
        stores nothing). Exceptions reach every waiter and are not cached.
        """
        entry = self._entries.get(key)
        if entry is not None:
            self.stats.hits += 1
            return entry.value
        task = self._in_flight.get(key)
        if task is None:
            self.stats.misses += 1
            task = asyncio.create_task(self._fetch_and_store(key, fetch, ttl))
            # Waiters that were cancelled never look at the outcome; retrieving it
            # here keeps asyncio from logging "exception was never retrieved".
            task.add_done_callback(_retrieve_outcome)
            self._in_flight[key] = task
        else:
            self.stats.shared += 1
        return await asyncio.shield(task)

    async def _fetch_and_store(
        self,
        key: CacheKey,
        fetch: Callable[[], Awaitable[T]],
        ttl: Callable[[T], float] | float,
    ) -> T:
        task = asyncio.current_task()
        try:
            value = await fetch()
            # Skip the store when the key was invalidated while this fetch ran:
            # the value may predate the write that caused the invalidation.
            if self._in_flight.get(key) is task:
                self.put(key, value, ttl(value) if callable(ttl) else ttl)
            return value
        finally:
            if self._in_flight.get(key) is task:
                del self._in_flight[key]

    def peek(self, key: CacheKey) -> Any | None:
        """The live value for `key`, or None; never fetches."""
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def put(self, key: CacheKey, value: Any, ttl: float) -> None:
        """Store `value` for `ttl` seconds (e.g. a job read from a list page); ttl <= 0 stores nothing."""
        if ttl > 0:
            self._entries[key] = _Entry(value, ttl)

    def invalidate(self, predicate: Callable[[CacheKey], bool]) -> int:
        """Drop the live entries whose key matches, and forget matching fetches in flight.

        Returns the number of entries dropped. Fetches in flight still answer
        their waiters but no longer store their result, and new callers start
        a fresh fetch.
        """
        for key in [key for key in self._in_flight if predicate(key)]:
            del self._in_flight[key]
        with self._entries.timer:  # one instant for the whole sweep, so no entry expires half-way
            keys = [key for key in self._entries if predicate(key)]
            for key in keys:
                del self._entries[key]
        return len(keys)

    def clear(self) -> None:
        """Drop every entry and forget every fetch in flight (their waiters still get answers)."""
        self._entries.clear()
        self._in_flight.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _count_eviction(self) -> None:
        self.stats.evictions += 1


def _retrieve_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


__all__ = ["CacheKey", "CacheStats", "ResponseCache"]
