"""Jobs as they came in list pages: what another read already answered is not read again.

- A job that came in a cached list page answers a read of it by id, as
  fresh as the page is, instead of costing a call. Only an index from job to
  page is kept (bounded, `max_jobs`), never the jobs one by one: a BI export
  pages through tens of thousands of them and must not push the pages (and
  everything else) out of the cache.
- A job whose attributes changed (`job_updated` with known changes) is read
  again once, and its new version put in place in every cached live page of
  its work area that holds it (`ResponseCache.revise`), instead of every page
  being read again. Until that read is back, a page read that holds the job
  waits for it (one upstream read), so no reader sees the old copy after the
  change was heard of; pages in flight meanwhile store nothing. Should the
  read fail, those pages are dropped, as they were before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

import cachetools

from gateway import deadline
from gateway.upstreams.budget import priority as priorities
from gateway.upstreams.budget.priority import Priority
from gateway.upstreams.cache import CacheKey, ResponseCache
from gateway.upstreams.sequence.invalidation import Staleness
from gateway.upstreams.sequence.records import JobPage, JobRecord

logger = logging.getLogger(__name__)

DEFAULT_MAX_JOBS = 20_000

_JobId = tuple[str, str, bool]  # work area, job, deleted view
ReadJob = Callable[[str, str], Awaitable[JobRecord]]


class ListedJobs:
    def __init__(self, cache: ResponseCache, *, timeout: float, max_jobs: int = DEFAULT_MAX_JOBS) -> None:
        self.cache = cache
        self.timeout = timeout  # for a patch's read, which belongs to no request
        self._pages: cachetools.LRUCache[_JobId, CacheKey] = cachetools.LRUCache(maxsize=max_jobs)
        self._patching: dict[tuple[str, str], asyncio.Task[JobRecord]] = {}

    # job by id --------------------------------------------------------------
    def note(self, key: CacheKey, page: JobPage) -> JobPage:
        """Remember which page `page`'s jobs came in (called as a page is read); returns it."""
        for job in page.jobs:
            self._pages[(job.work_area_id, job.job_id, job.deleted)] = key
        return page

    def copy(self, work_area_id: str, job_id: str, deleted: bool) -> JobRecord | None:
        """The job as a fresh cached page holds it; None when none does or it is being read again."""
        if (work_area_id, job_id) in self._patching:
            return None
        key = self._pages.get((work_area_id, job_id, deleted))
        page = self.cache.peek(key) if key is not None else None
        if not isinstance(page, JobPage):
            return None
        return next((job for job in page.jobs if job.job_id == job_id and job.deleted == deleted), None)

    # patching ---------------------------------------------------------------
    def patch(self, stale: Staleness, read_job: ReadJob) -> None:
        """Read each of `stale.patches` again and put it in the cached pages that hold it."""
        if not stale.patches:
            return
        # A page read in flight may carry the old copy: it answers its waiters but stores nothing.
        self.cache.forget_in_flight(stale.holds_patched)
        for work_area_id, job_id in stale.patches:
            job = (work_area_id, job_id)
            previous = self._patching.get(job)
            if previous is not None:
                # A read begun before this change must not put its older version in place after ours.
                previous.cancel()
            task = asyncio.create_task(self._refresh(job, read_job, stale), name=f"patch job {job_id}")
            task.add_done_callback(_retrieve_outcome)  # a failure is logged in _refresh
            self._patching[job] = task

    async def current(self, jobs: Sequence[JobRecord]) -> tuple[JobRecord, ...]:
        """`jobs` with each job being read again replaced by its new version (waiting for it)."""
        patching = self._patching
        if not patching:
            return tuple(jobs)
        found = []
        for job in jobs:
            key = (job.work_area_id, job.job_id)
            task = patching.get(key) if not job.deleted else None
            while task is not None:
                try:
                    job = await asyncio.shield(task)
                    break
                except asyncio.CancelledError:
                    if not task.cancelled():
                        raise  # this reader was cancelled, not the read
                    task = patching.get(key)  # superseded by a later change's read
                except Exception:
                    break  # the read failed: its pages are dropped, this reader keeps what it has
            found.append(job)
        return tuple(found)

    async def _refresh(
        self,
        job: tuple[str, str],
        read_job: ReadJob,
        stale: Staleness,
    ) -> JobRecord:
        work_area_id, job_id = job
        try:
            # What a reader of the page waits for: a client read's class.
            with deadline.scope(self.timeout), priorities.scope(Priority.INTERACTIVE):
                fresh = await read_job(work_area_id, job_id)
        except Exception:
            logger.warning("could not read job %s again; the pages that hold it are dropped", job_id, exc_info=True)
            self.cache.invalidate(lambda key: stale.holds_patched(key) and self._holds(key, job_id))
            raise
        else:
            self.cache.revise(stale.holds_patched, lambda page: _with(page, fresh))
            return fresh
        finally:
            if self._patching.get(job) is asyncio.current_task():
                del self._patching[job]

    def _holds(self, key: CacheKey, job_id: str) -> bool:
        page = self.cache.peek(key)
        return isinstance(page, JobPage) and any(job.job_id == job_id for job in page.jobs)


def _retrieve_outcome(task: asyncio.Task[JobRecord]) -> None:
    if not task.cancelled():
        task.exception()


def _with(page: object, fresh: JobRecord) -> JobPage | None:
    """`page` with `fresh` in place of the job's old copy; None when it does not hold the job."""
    if not isinstance(page, JobPage):
        return None
    if not any(job.job_id == fresh.job_id and not job.deleted for job in page.jobs):
        return None
    jobs = tuple(fresh if job.job_id == fresh.job_id and not job.deleted else job for job in page.jobs)
    return JobPage(jobs, page.total_entries, page.has_next)


__all__ = ["DEFAULT_MAX_JOBS", "ListedJobs"]
