"""Which cached Sequence reads a change makes stale, in every cache layer: exactly what it can change.

An event names its subject (a link: which work area, job and child), its
type (`{resource}_{created|updated|deleted}`) and, for an update, the
attributes that changed. From those:

| event                         | stale                                                          |
|-------------------------------|----------------------------------------------------------------|
| a task, asset or problem      | its kind's list and items under the job, and the job itself    |
|                               | (its derived statuses)                                         |
| a problem                     | also the work area's `problematic`/`not_problematic` lists     |
| a note or hook                | its kind's list and items only                                 |
| `job_updated`, known changes  | the job; the filtered lists whose membership the changed       |
|                               | attributes can move; the job's copy in every other cached list |
|                               | page is re-read and put in place (`patches`), not dropped      |
| `job_created`                 | the job; every live list of the work area (pages shift)        |
| `job_deleted`                 | the job and all under it; every list, the deleted ones too     |
| a work area                   | everything under it, and the list of work areas               |
| a shape we do not know        | the job and all under it and every list of its work area,      |
|                               | or, without a job, everything under `work_areas`: as safe as   |
|                               | before events were read this closely                           |

A child's change moves its job's derived statuses (`status`,
`tasks_status`, `assets_status`); the filtered lists follow from the
`job_updated` that Sequence records for that change. The events page
documents entries for "any of its attributes" changing (upstreams/sequence.md
§3.8); that derived attributes count is inferred, and the simulator does so.
It is also inferred that a list's order does not depend on a job's
attributes (the simulator lists by id), so an update moves no job between
pages of the same list.

`Staleness` is that rule, once. The in-process cache asks it about each key
(`covers_key`); the Redis layer deletes by path (`scopes`), which cannot
tell a page's filter or view apart nor patch a body, so it drops every list
of a work area whose lists changed at all: a superset, never less.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple, Protocol

from gateway.upstreams.cache import CacheKey
from gateway.upstreams.sequence import paths

# A job's attributes as Sequence names them in `changes`, and the list filters
# whose membership a change of each can move (the filters' rules: the Job page).
_MOVES_FILTERS: dict[str, frozenset[str]] = {
    "status": frozenset({"ready", "pending"}),
    "tasks_status": frozenset({"completed", "not_completed", "ready", "pending"}),
    "assets_status": frozenset({"received", "not_received", "ready", "pending"}),
    **dict.fromkeys(
        ("name", "due_date", "begins_at", "ends_at", "licensor_name", "tag_list", "title_external_id"), frozenset()
    ),
}
# Kinds whose change moves the job's derived statuses, so the job is read again.
_MOVES_JOB: frozenset[paths.Kind] = frozenset({"tasks", "assets", "problems"})
# The filters a problem's change can move a job in or out of.
_PROBLEM_FILTERS = frozenset({"problematic", "not_problematic"})
# Every list of a work area, whatever its filter.
ALL_LISTS: frozenset[str | None] = frozenset({"*"})


class Subject(Protocol):
    """What changed: the ids of its subject link, its type and changed attributes (a SequenceEvent is one)."""

    @property
    def work_area_id(self) -> str | None: ...

    @property
    def job_id(self) -> str | None: ...

    @property
    def kind(self) -> paths.Kind | None: ...

    @property
    def event_type(self) -> str: ...

    @property
    def changes(self) -> tuple[str, ...]: ...


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
        self.subtrees: set[tuple[str, str]] = set()  # these jobs and everything under them
        self.jobs: set[tuple[str, str]] = set()  # these jobs themselves, in either view
        self.children: set[tuple[str, str, str]] = set()  # a kind's list and items under a job
        self.lists: dict[str, set[str | None]] = {}  # live lists by work area: these filters (None: unfiltered)
        self.deleted_lists: set[str] = set()  # the deleted view's lists of these work areas
        self.patches: set[tuple[str, str]] = set()  # jobs whose copies in cached list pages are re-read
        for subject in subjects:
            self._add(subject)

    def _add(self, subject: Subject) -> None:
        work_area_id, job_id = subject.work_area_id, subject.job_id
        if work_area_id is None:
            self.everything = True
            return
        if job_id is None:
            self.work_areas.add(work_area_id)
            return
        job = (work_area_id, job_id)
        resource, _, operation = subject.event_type.rpartition("_")
        if subject.kind is not None:
            self.children.add((work_area_id, job_id, subject.kind))
            if subject.kind in _MOVES_JOB:
                self.jobs.add(job)
            if subject.kind == "problems":
                self._lists(work_area_id, _PROBLEM_FILTERS)
        elif resource == "job" and operation == "created":
            self.jobs.add(job)
            self._lists(work_area_id, ALL_LISTS)
        elif resource == "job" and operation == "updated" and _known(subject.changes):
            self.jobs.add(job)
            self._lists(work_area_id, frozenset().union(*(_MOVES_FILTERS[name] for name in subject.changes)))
            self.patches.add(job)
        else:
            # A delete, an update that says not what changed, a subject we do not know.
            self.subtrees.add(job)
            self._lists(work_area_id, ALL_LISTS)
            self.deleted_lists.add(work_area_id)

    def _lists(self, work_area_id: str, filters: frozenset[str | None]) -> None:
        lists = self.lists.setdefault(work_area_id, set())
        lists.update(filters)

    def __bool__(self) -> bool:
        return self.everything or bool(
            self.work_areas or self.subtrees or self.jobs or self.children or self.lists or self.deleted_lists
        )

    def covers(self, location: paths.Location) -> bool:
        if self.everything:
            return True
        work_area_id = location.work_area_id
        if work_area_id is None:
            return bool(self.work_areas)  # the list of work areas shows what a work area change may change
        if work_area_id in self.work_areas:
            return True
        if not location.jobs:
            return False
        if location.job_id is None:
            if location.deleted:
                return work_area_id in self.deleted_lists
            filters = self.lists.get(work_area_id, ())
            return "*" in filters or location.filter_name in filters
        job = (work_area_id, location.job_id)
        if job in self.subtrees:
            return True
        if location.is_job:
            return job in self.jobs
        return (work_area_id, location.job_id, location.kind or "") in self.children

    def covers_key(self, key: CacheKey) -> bool:
        """The predicate for `ResponseCache.invalidate`."""
        location = _location(key)
        return location is not None and self.covers(location)

    def holds_patched(self, key: CacheKey) -> bool:
        """Whether `key` is a live list page of a work area with a patched job: a page
        that may hold an outdated copy of it (`patches`), though it is not dropped."""
        location = _location(key)
        return (
            location is not None
            and location.is_job_list
            and not location.deleted
            and any(work_area_id == location.work_area_id for work_area_id, _ in self.patches)
        )

    def scopes(self) -> list[Scope]:
        if self.everything:
            return [Scope(paths.work_areas(), below=True)]
        whole = self.work_areas
        scopes = [Scope(paths.work_area(work_area_id), below=True) for work_area_id in sorted(whole)]
        if whole:
            scopes.append(Scope(paths.work_areas(), below=False))
        # A path-prefix delete cannot tell a page's filter or view: every list of the work area goes.
        listed = (set(self.lists) | self.deleted_lists | {work_area_id for work_area_id, _ in self.patches}) - whole
        scopes += [Scope(paths.jobs(work_area_id), below=False) for work_area_id in sorted(listed)]
        subtrees = {job for job in self.subtrees if job[0] not in whole}
        scopes += [Scope(paths.job(*job), below=True) for job in sorted(subtrees)]
        jobs = {job for job in self.jobs if job[0] not in whole and job not in subtrees}
        scopes += [Scope(paths.job(*job), below=False) for job in sorted(jobs)]
        for work_area_id, job_id, kind in sorted(self.children):
            if work_area_id not in whole and (work_area_id, job_id) not in subtrees:
                scopes.append(Scope(paths.children(work_area_id, job_id, _kind(kind)), below=True))
        return scopes


def _known(changes: tuple[str, ...]) -> bool:
    return bool(changes) and all(name in _MOVES_FILTERS for name in changes)


def _kind(kind: str) -> paths.Kind:
    return next(known for known in paths.CHILD_KINDS if known == kind)


def _location(key: CacheKey) -> paths.Location | None:
    # Only GET reads are cached results of Sequence; other keys never match.
    return paths.locate(key.url) if key.method == "GET" else None


__all__ = ["ALL_LISTS", "Scope", "Staleness", "Subject"]
