"""Which cached Sequence reads an event makes stale.

A change to a job or one of its children makes stale the job's subtree
(`/work_areas/{wa}/jobs/{job}[/...]`: the job by id, its children's lists
and items, live or `?deleted`) and every job list of its work area
(`/work_areas/{wa}/jobs?...`: pages, filters and totals move). A job being
created or deleted needs no more than that. An event whose subject names a
work area but no job makes that whole work area stale; one whose subject
has a shape we do not know makes everything under `/work_areas` stale, to be
safe. Only GET reads are cached results of Sequence; other keys never match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple
from urllib.parse import urlsplit

from gateway.events.event import SequenceEvent
from gateway.events.hub import EventHub
from gateway.upstreams.cache import CacheKey, ResponseCache

# The tail of a cached read's path, after any prefix (`/api`, a proxy's).
_READ = re.compile(r"/work_areas(?:/(?P<work_area>\d+)(?P<jobs>/jobs(?:/(?P<job>\d+)(?:/.*)?)?)?)?/?$")


class _Read(NamedTuple):
    work_area_id: str | None  # None for the list of work areas
    jobs: bool  # a job list, or a job and what is under it
    job_id: str | None  # None for a job list


def _read_of(key: CacheKey) -> _Read | None:
    if key.method != "GET":
        return None
    match = _READ.search(urlsplit(key.url).path)
    if match is None:
        return None
    return _Read(match["work_area"], match["jobs"] is not None, match["job"])


def invalidates(event: SequenceEvent) -> Callable[[CacheKey], bool]:
    """A predicate for `ResponseCache.invalidate`: True for the reads `event` makes stale."""
    return invalidates_any([event])


def invalidates_any(events: Iterable[SequenceEvent]) -> Callable[[CacheKey], bool]:
    """One predicate for a batch of events, so the cache is swept once per batch, not once per event."""
    everything = False
    work_areas: set[str] = set()  # every read under these work areas
    jobs: set[tuple[str, str]] = set()  # these jobs' subtrees, and their work areas' job lists
    for event in events:
        if event.work_area_id is None:
            everything = True
        elif event.job_id is None:
            work_areas.add(event.work_area_id)
        else:
            jobs.add((event.work_area_id, event.job_id))
    lists = {work_area_id for work_area_id, _ in jobs}

    def stale(key: CacheKey) -> bool:
        read = _read_of(key)
        if read is None:
            return False
        if everything:
            return True
        if read.work_area_id is None:
            return bool(work_areas)  # the list of work areas shows what a work area event may change
        if read.work_area_id in work_areas:
            return True
        if not read.jobs:
            return False
        if read.job_id is None:
            return read.work_area_id in lists
        return (read.work_area_id, read.job_id) in jobs

    return stale


def invalidate_then_publish(cache: ResponseCache, hub: EventHub) -> Callable[[list[SequenceEvent]], None]:
    """An `on_events` for the poller: drop what a batch makes stale, then tell subscribers.

    In that order, so a subscriber that reads the changed job on hearing of
    it gets the new version, not the cached one.
    """

    def on_events(events: Iterable[SequenceEvent]) -> None:
        events = list(events)
        cache.invalidate(invalidates_any(events))
        for event in events:
            hub.publish(event)

    return on_events


__all__ = ["invalidate_then_publish", "invalidates", "invalidates_any"]
