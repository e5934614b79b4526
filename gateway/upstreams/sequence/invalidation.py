"""Which cached Sequence reads a change makes stale, in every cache layer.

A change to a job or one of its children makes stale the job's subtree
(`work_areas/{wa}/jobs/{job}[/...]`: the job by id, its children's lists
and items, live or `?deleted`) and every job list of its work area
(`work_areas/{wa}/jobs?...`: pages, filters and totals move). A job being
created or deleted needs no more than that. A change whose subject names a
work area but no job makes that whole work area stale, and the list of work
areas; one whose subject has a shape we do not know makes everything under
`work_areas` stale, to be safe. Only GET reads are cached results of
Sequence; other keys never match.

`Staleness` is that rule, once. The in-process cache asks it about each
key (`covers_key`); the Redis layer deletes by path (`scopes`). Both views
come from the same sets, so for every path the client builds the layers
agree. (A path deeper than a child, which the client never builds, is
located by neither view in process but would go from Redis with its job.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol

from gateway.upstreams.cache import CacheKey
from gateway.upstreams.sequence import paths


class Subject(Protocol):
    """What changed, by the ids of its subject link (a SequenceEvent is one)."""

    @property
    def work_area_id(self) -> str | None: ...

    @property
    def job_id(self) -> str | None: ...


class Scope(NamedTuple):
    """A path (relative to the API root) whose reads are stale: the path itself
    in any view (`?deleted`, a page's query), and with `below` every path under it."""

    path: str
    below: bool


class Staleness:
    """What a batch of changes makes stale; one sweep of each layer per batch, not one per change."""

    def __init__(self, subjects: Iterable[Subject]) -> None:
        self.everything = False
        self.work_areas: set[str] = set()  # every read under these work areas
        self.jobs: set[tuple[str, str]] = set()  # these jobs' subtrees, and their work areas' job lists
        for subject in subjects:
            if subject.work_area_id is None:
                self.everything = True
            elif subject.job_id is None:
                self.work_areas.add(subject.work_area_id)
            else:
                self.jobs.add((subject.work_area_id, subject.job_id))
        self.job_lists = {work_area_id for work_area_id, _ in self.jobs}

    def __bool__(self) -> bool:
        return self.everything or bool(self.work_areas or self.jobs)

    def covers(self, location: paths.Location) -> bool:
        if self.everything:
            return True
        if location.work_area_id is None:
            return bool(self.work_areas)  # the list of work areas shows what a work area change may change
        if location.work_area_id in self.work_areas:
            return True
        if not location.jobs:
            return False
        if location.job_id is None:
            return location.work_area_id in self.job_lists
        return (location.work_area_id, location.job_id) in self.jobs

    def covers_key(self, key: CacheKey) -> bool:
        """The predicate for `ResponseCache.invalidate`."""
        if key.method != "GET":
            return False
        location = paths.locate(key.url)
        return location is not None and self.covers(location)

    def scopes(self) -> list[Scope]:
        if self.everything:
            return [Scope(paths.work_areas(), below=True)]
        scopes = [Scope(paths.work_area(work_area_id), below=True) for work_area_id in sorted(self.work_areas)]
        if self.work_areas:
            scopes.append(Scope(paths.work_areas(), below=False))
        for work_area_id in sorted(self.job_lists - self.work_areas):
            scopes.append(Scope(paths.jobs(work_area_id), below=False))
        for work_area_id, job_id in sorted(self.jobs):
            if work_area_id not in self.work_areas:
                scopes.append(Scope(paths.job(work_area_id, job_id), below=True))
        return scopes


__all__ = ["Scope", "Staleness", "Subject"]
