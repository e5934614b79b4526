"""The app-level response cache, with in-flight de-duplication.

One `ResponseCache` lives on the app (never on a request) and sits between
the upstream clients and httpx. It holds parsed records, not bytes, keyed by
credential, method, URL and body, so two credentials never share an entry.

Identical concurrent reads share one upstream call: the first caller starts
the fetch as its own task and the others await the same task through
`asyncio.shield`, so a client that disconnects cancels only its own wait.

Entries outlive their freshness by a stale window:
- stale-while-revalidate: an entry expired less than `revalidate_within`
  seconds ago is answered at once while one background fetch refreshes it;
- stale-if-error: when the upstream fails (unavailable, timing out, rate
  limited, answering garbage), the last good value is answered instead of
  the error, up to `stale_if_error` seconds after it expired.
Both are recorded as the request's notices (gateway.notices), which the
GraphQL layer reports in the response's extensions. Invalidated entries are dropped
entirely: an entry known to be outdated is never served, even as stale.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, cast

import cachetools

from gateway import checks, notices
from gateway.errors import UpstreamError
from gateway.upstreams.budget import priority as priorities
from gateway.upstreams.budget.priority import Priority

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds a read stays fresh: Sequence's reads, and Gofilex orders once
# finished (they change no more) and while running (they move by the second).
DEFAULT_SEQUENCE_TTL = 30.0
DEFAULT_GOFILEX_FINISHED_TTL = 300.0
DEFAULT_GOFILEX_RUNNING_TTL = 5.0
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_REVALIDATE_WITHIN = 10.0
DEFAULT_STALE_IF_ERROR = 600.0


@dataclass(frozen=True)
class CacheSettings:
    """How long each upstream's reads stay fresh, and how the cache keeps them.

    Example:
        >>> ResponseCache(CacheSettings(max_entries=1000, stale_if_error=0))
    """

    sequence_ttl: float = DEFAULT_SEQUENCE_TTL
    gofilex_finished_ttl: float = DEFAULT_GOFILEX_FINISHED_TTL
    gofilex_running_ttl: float = DEFAULT_GOFILEX_RUNNING_TTL
    max_entries: int = DEFAULT_MAX_ENTRIES
    # An entry expired less than this is answered while refreshed in the background.
    revalidate_within: float = DEFAULT_REVALIDATE_WITHIN
    # An entry expired less than this stands in when its upstream fails.
    stale_if_error: float = DEFAULT_STALE_IF_ERROR

    def __post_init__(self) -> None:
        for field in (
            "sequence_ttl",
            "gofilex_finished_ttl",
            "gofilex_running_ttl",
            "revalidate_within",
            "stale_if_error",
        ):
            checks.number(self, field, low=0)
        checks.whole(self, "max_entries", low=1)


def credential_id(*parts: str) -> str:
    """An opaque, stable id of a credential (URL, user, secret ...) that never reveals it."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


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
    stale: int = 0  # answers served past their freshness
    prefetched: int = 0  # fetches started ahead of any caller (read-ahead)


DEFAULT_CACHE = CacheSettings()


class _Entry(NamedTuple):
    value: Any
    ttl: float  # seconds the value is fresh
    stored_at: float
    keep: float  # seconds the entry is kept in all: ttl plus the stale window


class _Entries(cachetools.TLRUCache[CacheKey, _Entry]):
    """A TLRUCache whose per-entry lifetime is the ttl stored with the value.

    TLRU rather than LRU plus our own expiry: expired entries are dropped
    first, before any live entry is evicted for room, and each entry may have
    its own lifetime (a running order for seconds, a finished one for minutes).
    """

    def __init__(self, maxsize: int, clock: Callable[[], float], on_evict: Callable[[], None]) -> None:
        super().__init__(maxsize, ttu=_expires, timer=clock)
        self._on_evict = on_evict

    def popitem(self) -> tuple[CacheKey, _Entry]:
        # cachetools calls popitem only to make room, after expired entries are gone.
        item = super().popitem()
        self._on_evict()
        return item


def _expires(key: CacheKey, entry: _Entry, now: float) -> float:
    return now + entry.keep


class ResponseCache:
    """Parsed upstream answers by `CacheKey`, each kept for its own ttl.

    Example:
        >>> cache = ResponseCache(CacheSettings(max_entries=1000))
        >>> job = await cache.get_or_fetch(key, fetch_job, ttl=30.0)
        >>> order = await cache.get_or_fetch(key, fetch_order, ttl=lambda o: 5.0 if o.running else 300.0)
    """

    def __init__(self, settings: CacheSettings | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        settings = settings if settings is not None else DEFAULT_CACHE
        self.stats = CacheStats()
        self.revalidate_within = settings.revalidate_within
        self.stale_if_error = settings.stale_if_error
        self.clock = clock
        self._entries = _Entries(settings.max_entries, clock, self._count_eviction)
        self._in_flight: dict[CacheKey, asyncio.Task[Any]] = {}

    async def get_or_fetch(
        self,
        key: CacheKey,
        fetch: Callable[[], Awaitable[T]],
        ttl: Callable[[T], float] | float,
        *,
        upstream: str = "upstream",
    ) -> T:
        """The fresh cached value for `key`, else the result of one shared `fetch()`.

        The value is fresh for `ttl` seconds (or `ttl(value)`; zero or less
        stores nothing). Exceptions reach every waiter and are not cached;
        when the upstream is unwell a stale value stands in (see the module).
        """
        entry = self._entries.get(key)
        if entry is not None:
            age = self.clock() - entry.stored_at
            if age < entry.ttl:
                self.stats.hits += 1
                return _value(entry, fetch)
            if age < entry.ttl + self.revalidate_within:
                self.stats.stale += 1
                self._start_fetch(key, fetch, ttl, priority=Priority.REFRESH)
                notices.record(upstream, age, "REVALIDATING")
                return _value(entry, fetch)
        try:
            return await self._shared_fetch(key, fetch, ttl)
        except Exception as error:
            stale = self.peek_stale(key, error)
            if stale is None:
                raise
            value, age = stale
            logger.warning("serving a %.0f s old %s answer: %s", age, upstream, error)
            self.note_stale(upstream, age, error)
            return cast(T, value)

    def prefetch(self, key: CacheKey, fetch: Callable[[], Awaitable[T]], ttl: Callable[[T], float] | float) -> bool:
        """Start fetching `key` in the background unless it is fresh or already in flight.

        A caller that asks for `key` meanwhile joins the fetch instead of
        starting its own. The fetch runs in a context of its own: it carries
        no request's deadline or stale notices. Returns whether it started.
        """
        if key in self._in_flight or self.peek(key) is not None:
            return False
        self.stats.prefetched += 1
        self._start_fetch(key, fetch, ttl, context=contextvars.Context(), priority=Priority.BACKGROUND)
        return True

    def _start_fetch(
        self,
        key: CacheKey,
        fetch: Callable[[], Awaitable[T]],
        ttl: Callable[[T], float] | float,
        *,
        context: contextvars.Context | None = None,
        priority: Priority | None = None,
    ) -> asyncio.Task[T]:
        task = self._in_flight.get(key)
        if task is None:
            self.stats.misses += 1
            if priority is not None:
                fetch = _in_class(priority, fetch)
            task = asyncio.create_task(self._fetch_and_store(key, fetch, ttl), context=context)
            # Waiters that were cancelled never look at the outcome; retrieving it
            # here keeps asyncio from logging "exception was never retrieved".
            task.add_done_callback(_retrieve_outcome)
            self._in_flight[key] = task
        return task

    async def _shared_fetch(
        self, key: CacheKey, fetch: Callable[[], Awaitable[T]], ttl: Callable[[T], float] | float
    ) -> T:
        task = self._in_flight.get(key)
        if task is None:
            task = self._start_fetch(key, fetch, ttl)
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
        """The fresh value for `key`, or None; never fetches."""
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry.stored_at >= entry.ttl:
            return None
        return entry.value

    def peek_stale(self, key: CacheKey, error: BaseException) -> tuple[Any, float] | None:
        """The last good value for `key` that may stand in for `error`, with its age; None when there is none.

        This is stale-if-error, for every caller: a value stands in only for a
        transient upstream error (`UpstreamError.transient`), and only until
        `stale_if_error` seconds after it expired. An invalidated entry is
        gone, so it never stands in. Records nothing: a caller that serves
        it says so with `note_stale`.
        """
        if not (isinstance(error, UpstreamError) and error.transient):
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        age = self.clock() - entry.stored_at
        return (entry.value, age) if age < entry.ttl + self.stale_if_error else None

    def note_stale(self, upstream: str, age: float, error: BaseException) -> None:
        """Record that a stale value stood in for `error` in the current request."""
        self.stats.stale += 1
        notices.record(upstream, age, getattr(error, "code", "UPSTREAM_UNAVAILABLE"))

    def put(self, key: CacheKey, value: Any, ttl: float) -> None:
        """Store `value`, fresh for `ttl` seconds (e.g. a job read from a list page); ttl <= 0 stores nothing."""
        if ttl > 0:
            stale_window = max(self.revalidate_within, self.stale_if_error)
            self._entries[key] = _Entry(value, ttl, self.clock(), ttl + stale_window)

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


def _value(entry: _Entry, fetch: Callable[[], Awaitable[T]]) -> T:
    """An entry's value as what `fetch` returns: entries of one key all come
    from the same kind of fetch, so the value is a T (the cache cannot check)."""
    return cast(T, entry.value)


def _in_class(priority: Priority, fetch: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """`fetch`, spending the budget in `priority`'s class (a refresh, a read-ahead)."""

    async def run() -> T:
        with priorities.scope(priority):
            return await fetch()

    return run


def _retrieve_outcome(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_GOFILEX_FINISHED_TTL",
    "DEFAULT_GOFILEX_RUNNING_TTL",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_REVALIDATE_WITHIN",
    "DEFAULT_SEQUENCE_TTL",
    "DEFAULT_STALE_IF_ERROR",
    "CacheKey",
    "CacheSettings",
    "CacheStats",
    "ResponseCache",
]
