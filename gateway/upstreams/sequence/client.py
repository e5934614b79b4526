"""Reads from Sequence: JSON through `Accept`, digest authentication, cached.

Paths come from `paths` (built from ids) and go under the configured
origin; links in payloads are data (ids are read from them) and are never
requested. Every read goes through the response cache, which also shares
identical in-flight reads between client requests, and `invalidate` drops
what a change makes stale from every cache layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import httpx

from gateway import deadline
from gateway.config import DEFAULT_READ_AHEAD_PAGES, SequenceSettings
from gateway.upstreams.cache import CacheKey, ResponseCache, credential_id
from gateway.upstreams.guard import UpstreamGuard
from gateway.upstreams.http import Origin, raise_for_status, upstream_errors
from gateway.upstreams.redis_layer import RedisLayer, read_through
from gateway.upstreams.sequence import parse, paths
from gateway.upstreams.sequence.coherence import Coherence, Lifetimes
from gateway.upstreams.sequence.invalidation import Staleness, Subject
from gateway.upstreams.sequence.listed import ListedJobs
from gateway.upstreams.sequence.pages import Page, pages_ahead, window_pages
from gateway.upstreams.sequence.records import (
    ChildRecord,
    EventRecord,
    JobPage,
    JobRecord,
    JobWindow,
    WorkAreaRecord,
)

UPSTREAM = "sequence"
JSON = {"Accept": "application/json"}

R = TypeVar("R")


class SequenceClient:
    def __init__(
        self,
        settings: SequenceSettings,
        http: httpx.AsyncClient,
        cache: ResponseCache,
        *,
        ttl: float,
        guard: UpstreamGuard,
        redis_layer: RedisLayer | None = None,
        background_timeout: float = deadline.DEFAULT_REQUEST_TIMEOUT,
        read_ahead_pages: int = DEFAULT_READ_AHEAD_PAGES,
        coherence: Coherence | None = None,
    ) -> None:
        self.origin = Origin(settings.url)
        # Job pages to fetch ahead of a client paging forward (GATEWAY_READ_AHEAD_PAGES).
        self.read_ahead_pages = read_ahead_pages
        # The time a read-ahead fetch may take: it belongs to no request.
        self.background_timeout = background_timeout
        self.http = http
        self.cache = cache
        # How long a read stays valid: until an event says otherwise, or `ttl`.
        self.coherence = coherence if coherence is not None else Coherence(Lifetimes.TIME, short_ttl=ttl)
        self.guard = guard
        self.redis_layer = redis_layer
        # Jobs as list pages hold them: reads by id, and updates put in place.
        self.listed = ListedJobs(cache, timeout=background_timeout)
        self.auth = httpx.DigestAuth(settings.username, settings.password)
        # Cache keys name the credential without holding the secret.
        self.credential = sequence_credential(settings)
        # Until one request has met the digest challenge, requests go one at a
        # time: a cold burst would otherwise pay one 401 round trip each.
        self._challenge_met = False
        self._challenge_lock = asyncio.Lock()

    def key(self, path: str) -> CacheKey:
        return CacheKey(self.credential, "GET", self.origin.url(path))

    # reads ------------------------------------------------------------------
    async def work_areas(self) -> tuple[WorkAreaRecord, ...]:
        return await self._read(paths.work_areas(), parse.parse_work_areas)

    async def work_area(self, work_area_id: str) -> WorkAreaRecord:
        return await self._read(paths.work_area(work_area_id), parse.parse_work_area)

    async def job(self, work_area_id: str, job_id: str, *, deleted: bool = False) -> JobRecord:
        """The job by id; a cached list page's copy answers when the job itself is not cached."""
        path = paths.job(work_area_id, job_id, deleted=deleted)
        if self.cache.peek(self.key(path)) is None:
            listed = self.listed.copy(work_area_id, job_id, deleted)
            if listed is not None:
                return listed
        return await self._read(path, parse.parse_job)

    async def _job_itself(self, work_area_id: str, job_id: str) -> JobRecord:
        """The live job read by id, never from a page's copy (what a patch puts into the pages)."""
        return await self._read(paths.job(work_area_id, job_id), parse.parse_job)

    async def job_window(
        self,
        work_area_id: str,
        *,
        offset: int,
        count: int,
        filter_name: str | None = None,
        deleted: bool = False,
        read_ahead: bool = False,
    ) -> JobWindow:
        """Jobs [offset, offset + count) of a work area's list (`pages`), with the list's total.

        `read_ahead` says the caller is paging forward (a BI export reads
        every page in turn): the pages of its next windows are then fetched
        in the background, so its next request finds them cached or joins
        their fetch.
        """
        if count == 0:
            page = await self._job_page(work_area_id, Page(1, 1), filter_name, deleted)
            return JobWindow((), page.total_entries or 0)
        wanted = window_pages(offset, count)
        found = await asyncio.gather(*(self._job_page(work_area_id, each, filter_name, deleted) for each in wanted))
        jobs = [job for listed in found for job in listed.jobs]
        start = offset - wanted[0].offset
        # A job whose update is being read again comes in its new version.
        window = JobWindow(await self.listed.current(jobs[start : start + count]), found[0].total_entries or 0)
        if read_ahead:
            for ahead in pages_ahead(offset, count, window.total, self.read_ahead_pages):
                self._read_ahead(work_area_id, ahead, filter_name, deleted)
        return window

    async def _job_page(self, work_area_id: str, page: Page, filter_name: str | None, deleted: bool) -> JobPage:
        """One page of a work area's jobs.

        Its jobs are not cached one by one: a BI export pages through tens of
        thousands of jobs, which would push every page (and everything else)
        out of the cache. Within a request the loaders are primed instead, and
        across requests `listed` answers a job by id from its page.
        """
        return await self._read(*self._job_page_read(work_area_id, page, filter_name, deleted))

    def _job_page_read(
        self, work_area_id: str, page: Page, filter_name: str | None, deleted: bool
    ) -> tuple[str, Callable[[bytes, str], JobPage]]:
        path = self._job_page_path(work_area_id, page, filter_name, deleted)
        key = self.key(path)
        return path, lambda body, media_type: self.listed.note(key, parse.parse_job_page(body, media_type))

    def _read_ahead(self, work_area_id: str, page: Page, filter_name: str | None, deleted: bool) -> bool:
        """Start fetching a job page no one has asked for yet, in the background.

        Only while Sequence's circuit is closed; the read spends budget like
        any other. Returns whether a fetch started.
        """
        if self.guard.breaker.state != "closed":
            return False
        key, fetch = self._fetcher(*self._job_page_read(work_area_id, page, filter_name, deleted))

        async def fetch_in_time() -> JobPage:
            with deadline.scope(self.background_timeout):
                return await fetch()

        return self.cache.prefetch(key, fetch_in_time, self.coherence.store_ttl, judge=self.coherence)

    @staticmethod
    def _job_page_path(work_area_id: str, page: Page, filter_name: str | None, deleted: bool) -> str:
        return paths.job_page(
            work_area_id, page=page.number, per_page=page.per_page, filter_name=filter_name, deleted=deleted
        )

    async def children(
        self, work_area_id: str, job_id: str, kind: paths.Kind, *, deleted: bool = False
    ) -> tuple[ChildRecord, ...]:
        path = paths.children(work_area_id, job_id, kind, deleted=deleted)
        return await self._read(path, lambda body, media_type: parse.parse_children(kind, body, media_type))

    async def events(self, newer_than: str | None = None) -> tuple[EventRecord, ...]:
        """A page of the events feed after `newer_than` (the newest page without it); never cached."""
        key = self.key(paths.events(newer_than))
        return await read_through(None, key, lambda: self._get(key.url), parse.parse_events, 0, upstream=UPSTREAM)

    # invalidation -----------------------------------------------------------
    async def invalidate(self, changes: Iterable[Subject], *, redis_layer: bool = True) -> int:
        """Drop what `changes` (events, by their subjects' ids) make stale, from every cache layer.

        Returns the number of in-process entries dropped. The Redis layer's
        entries of this credential go too, for every replica, unless
        `redis_layer` is False (another replica has swept it already).
        """
        stale = Staleness(changes)
        if not stale:
            return 0
        dropped = self.cache.invalidate(stale.covers_key)
        layer = self.redis_layer
        if layer is not None and redis_layer:
            for scope in stale.scopes():
                await layer.invalidate(self.credential, "GET", self.origin.url(scope.path), below=scope.below)
        # After the Redis sweep, so the jobs read again are not an older replica's bodies.
        self.listed.patch(stale, self._job_itself)
        return dropped

    # plumbing -------------------------------------------------------------------
    async def _read(self, path: str, parser: Callable[[bytes, str], R]) -> R:
        key, fetch = self._fetcher(path, parser)
        coherence = self.coherence
        return await self.cache.get_or_fetch(key, fetch, coherence.store_ttl, upstream=UPSTREAM, judge=coherence)

    def _fetcher(self, path: str, parser: Callable[[bytes, str], R]) -> tuple[CacheKey, Callable[[], Awaitable[R]]]:
        """The cache key of `path` and the fetch that reads and parses it (the Redis layer first)."""
        key = self.key(path)

        def fetch() -> Awaitable[R]:
            return read_through(
                self.redis_layer,
                key,
                lambda: self._get(key.url),
                parser,
                self.coherence.store_ttl,
                upstream=UPSTREAM,
                usable=self._usable,
            )

        return key, fetch

    def _usable(self, stored_at: float) -> bool:
        """Whether a body another replica stored at `stored_at` (epoch seconds) may answer now."""
        coherence = self.coherence
        return coherence.trusts_stored(stored_at) or coherence.wall() - stored_at < coherence.short_ttl

    async def _get(self, url: str) -> httpx.Response:
        if self._challenge_met:
            return await self._send(url)
        async with self._challenge_lock:
            response = await self._send(url)
            self._challenge_met = True
            return response

    async def _send(self, url: str) -> httpx.Response:
        return await self.guard.call(lambda timeout: self._attempt(url, timeout), safe=True)

    async def _attempt(self, url: str, timeout: float) -> httpx.Response:
        with upstream_errors(UPSTREAM):
            response = await self.http.get(url, headers=JSON, auth=self.auth, timeout=timeout)
        raise_for_status(UPSTREAM, response, error_messages=parse.error_messages)
        return response


def sequence_credential(settings: SequenceSettings) -> str:
    return credential_id(settings.url, settings.username, settings.password)
