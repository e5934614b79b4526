"""Per-request DataLoaders: each upstream resource is fetched at most once per
GraphQL request, and order statuses in one call per portal.

Built fresh for every request (in the GraphQL context) so nothing outlives
it; the app-level response cache is what spans requests.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from aiodataloader import DataLoader

from gateway.config import DEFAULT_GOFILEX_BATCH_SIZE
from gateway.upstreams.gofilex.records import GofilexJobRecord, OrderStatusRecord
from gateway.upstreams.registry import Upstreams
from gateway.upstreams.sequence.pages import MAX_PER_PAGE
from gateway.upstreams.sequence.paths import Kind
from gateway.upstreams.sequence.records import ChildRecord, JobRecord, JobWindow, WorkAreaRecord

# The most jobs one window of a work area's list may hold: Sequence's largest page.
MAX_WINDOW = MAX_PER_PAGE
# The one key of the list of work areas.
ALL_WORK_AREAS = "all"

__all__ = [
    "ALL_WORK_AREAS",
    "MAX_WINDOW",
    "ChildrenKey",
    "JobKey",
    "Kind",
    "Loaders",
    "OrderKey",
    "WindowKey",
]

K = TypeVar("K")
V = TypeVar("V")


class WindowKey(NamedTuple):
    """Jobs [offset, offset + size) of a work area's list; `paging_forward` when the
    client asked for the window after a cursor (its next windows are read ahead)."""

    work_area_id: str
    offset: int
    size: int  # not `count`, which would hide tuple.count
    filter_name: str | None = None
    deleted: bool = False
    paging_forward: bool = False


class JobKey(NamedTuple):
    work_area_id: str
    job_id: str
    deleted: bool = False


class ChildrenKey(NamedTuple):
    work_area_id: str
    job_id: str
    deleted: bool
    kind: Kind


class OrderKey(NamedTuple):
    portal: str
    order_id: str


async def _each(keys: Sequence[K], load: Callable[[K], Awaitable[V]]) -> list[V | BaseException]:
    """Load keys concurrently; a failure stays with its own key."""
    results = await asyncio.gather(*(load(key) for key in keys), return_exceptions=True)
    return list(results)


class Loaders:
    def __init__(self, upstreams: Upstreams, *, gofilex_batch_size: int = DEFAULT_GOFILEX_BATCH_SIZE) -> None:
        self.upstreams = upstreams
        self.batch_size = gofilex_batch_size
        self.work_areas: DataLoader[str, tuple[WorkAreaRecord, ...]] = DataLoader(self._load_work_areas)
        self.work_area: DataLoader[str, WorkAreaRecord] = DataLoader(self._load_work_area)
        self.job_window: DataLoader[WindowKey, JobWindow] = DataLoader(self._load_job_windows)
        self.job: DataLoader[JobKey, JobRecord] = DataLoader(self._load_jobs)
        self.children: DataLoader[ChildrenKey, tuple[ChildRecord, ...]] = DataLoader(self._load_children)
        self.order_status: DataLoader[OrderKey, OrderStatusRecord | None] = DataLoader(self._load_statuses)
        self.order_jobs: DataLoader[OrderKey, tuple[GofilexJobRecord, ...]] = DataLoader(self._load_order_jobs)

    def prime_jobs(self, jobs: Sequence[JobRecord]) -> None:
        """A job that came in a page is not fetched again by id."""
        for job in jobs:
            self.job.prime(JobKey(job.work_area_id, job.job_id, job.deleted), job)

    async def _load_work_areas(self, keys: Sequence[str]) -> list[Any]:
        sequence = self.upstreams.sequence
        return await _each(keys, lambda key: sequence.work_areas())

    async def _load_work_area(self, keys: Sequence[str]) -> list[Any]:
        sequence = self.upstreams.sequence
        return await _each(keys, sequence.work_area)

    async def _load_job_windows(self, keys: Sequence[WindowKey]) -> list[Any]:
        sequence = self.upstreams.sequence

        async def load(key: WindowKey) -> JobWindow:
            window = await sequence.job_window(
                key.work_area_id,
                offset=key.offset,
                count=key.size,
                filter_name=key.filter_name,
                deleted=key.deleted,
                read_ahead=key.paging_forward,
            )
            self.prime_jobs(window.jobs)
            return window

        return await _each(keys, load)

    async def _load_jobs(self, keys: Sequence[JobKey]) -> list[Any]:
        sequence = self.upstreams.sequence
        return await _each(keys, lambda key: sequence.job(key.work_area_id, key.job_id, deleted=key.deleted))

    async def _load_children(self, keys: Sequence[ChildrenKey]) -> list[Any]:
        sequence = self.upstreams.sequence
        return await _each(
            keys,
            lambda key: sequence.children(key.work_area_id, key.job_id, key.kind, deleted=key.deleted),
        )

    async def _load_statuses(self, keys: Sequence[OrderKey]) -> list[Any]:
        """One orders/status call per portal (per chunk of `batch_size` ids)."""
        by_portal: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            by_portal[key.portal].append(key.order_id)

        async def portal_statuses(portal: str, order_ids: list[str]) -> dict[str, OrderStatusRecord]:
            client = self.upstreams.gofilex(portal)
            chunks = [order_ids[i : i + self.batch_size] for i in range(0, len(order_ids), self.batch_size)]
            found: dict[str, OrderStatusRecord] = {}
            for part in await asyncio.gather(*(client.order_statuses(chunk) for chunk in chunks)):
                found.update(part)
            return found

        portals = list(by_portal)
        answers = await asyncio.gather(
            *(portal_statuses(portal, by_portal[portal]) for portal in portals), return_exceptions=True
        )
        per_portal = dict(zip(portals, answers, strict=True))
        results: list[Any] = []
        for key in keys:
            answer = per_portal[key.portal]
            results.append(answer if isinstance(answer, BaseException) else answer.get(key.order_id))
        return results

    async def _load_order_jobs(self, keys: Sequence[OrderKey]) -> list[Any]:
        return await _each(keys, lambda key: self.upstreams.gofilex(key.portal).jobs(key.order_id))
