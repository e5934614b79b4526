"""Sequence's URL layout: the one place that knows its paths.

Requests are built here from ids, as paths relative to the API root
(`Origin.url` puts them under the configured origin), following the Job
page of the seed:

    work_areas
    work_areas/{wa}
    work_areas/{wa}/jobs?pagination=true&page=..&per_page=..[&filter=..][&deleted]
    work_areas/{wa}/jobs/{job}[?deleted]
    work_areas/{wa}/jobs/{job}/{kind}[?deleted]      kind: tasks, assets, notes, problems, hooks
    events[?newer_than={id}]

`locate()` reads the same layout back out of a link or URL: a job's self
link, an event's subject link and a cached read's URL each name a place in
it. Links are data; the gateway never requests them.

Ids placed in a path are digits only, as Sequence's are, so a client's
argument can never change the path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import parse_qs, urlsplit

from gateway.errors import BadUserInput

Kind = Literal["tasks", "assets", "notes", "problems", "hooks"]

# A job's children, by the path segment Sequence gives them.
CHILD_KINDS: tuple[Kind, ...] = get_args(Kind)
# Each kind's resource type is its singular: "tasks" -> "task".
RESOURCE_TYPES: Mapping[Kind, str] = {kind: kind.removesuffix("s") for kind in CHILD_KINDS}

# `[.../]work_areas[/{wa}[/jobs[/{job}[/{kind}[/{id}]]]]]`, after any path prefix (`/api`, a proxy's).
_LOCATION = re.compile(
    r"(?:^|/)work_areas"
    r"(?:/(?P<work_area>\d+)(?P<jobs>/jobs(?:/(?P<job>\d+)(?:/(?P<kind>[a-z_]+)(?:/(?P<child>[^/]+))?)?)?)?)?"
    r"/?$"
)


def segment(value: str) -> str:
    """An id placed in a path: refused (BadUserInput) unless it is digits only."""
    if not value.isdigit():
        raise BadUserInput(f"{value!r} is not a Sequence id (digits only)")
    return value


def work_areas() -> str:
    return "work_areas"


def work_area(work_area_id: str) -> str:
    return f"work_areas/{segment(work_area_id)}"


def jobs(work_area_id: str) -> str:
    """A work area's job list without a query: the parent of its pages and its jobs."""
    return f"{work_area(work_area_id)}/jobs"


def job_page(
    work_area_id: str, *, page: int, per_page: int, filter_name: str | None = None, deleted: bool = False
) -> str:
    query = f"pagination=true&page={page}&per_page={per_page}"
    if filter_name:
        query += f"&filter={filter_name}"
    if deleted:
        query += "&deleted"
    return f"{jobs(work_area_id)}?{query}"


def job(work_area_id: str, job_id: str, *, deleted: bool = False) -> str:
    return _view(f"{jobs(work_area_id)}/{segment(job_id)}", deleted)


def children(work_area_id: str, job_id: str, kind: Kind, *, deleted: bool = False) -> str:
    if kind not in RESOURCE_TYPES:
        raise ValueError(f"unknown kind of job child: {kind!r}")
    return _view(f"{job(work_area_id, job_id)}/{kind}", deleted)


def events(newer_than: str | None = None) -> str:
    return "events" if newer_than is None else f"events?newer_than={segment(newer_than)}"


def _view(path: str, deleted: bool) -> str:
    # A bare `?deleted` flag: the seed's links write it so, and Sequence reads it so.
    return path + "?deleted" if deleted else path


@dataclass(frozen=True, slots=True)
class Location:
    """A place in Sequence's layout; a field is None where the path does not reach it.

    `jobs` is True under a work area's jobs (a job list, or a job and what
    is under it). `kind` is the segment under a job as it came, known to
    CHILD_KINDS or not; `child_kind` is it when known. `deleted` is the
    deleted view: `?deleted`, as the builders write it, or `?deleted=true`,
    as the seed's JSON links also do. `filter_name` is a job list's filter.
    """

    work_area_id: str | None
    jobs: bool = False
    job_id: str | None = None
    kind: str | None = None
    child_id: str | None = None
    deleted: bool = False
    filter_name: str | None = None

    @property
    def child_kind(self) -> Kind | None:
        return next((kind for kind in CHILD_KINDS if kind == self.kind), None)

    @property
    def is_job(self) -> bool:
        """A job itself, live or deleted: nothing under it."""
        return self.job_id is not None and self.kind is None

    @property
    def is_job_list(self) -> bool:
        """A work area's job list (a page, a filter, the deleted view)."""
        return self.jobs and self.job_id is None


def locate(link: str) -> Location | None:
    """Where `link` (an absolute URL or a path, any query) points in the layout; None outside it."""
    parts = urlsplit(link)
    match = _LOCATION.search(parts.path)
    if match is None:
        return None
    query = parse_qs(parts.query, keep_blank_values=True) if parts.query else {}
    return Location(
        work_area_id=match["work_area"],
        jobs=match["jobs"] is not None,
        job_id=match["job"],
        kind=match["kind"],
        child_id=match["child"],
        deleted=_deleted_view(query),
        filter_name=query["filter"][-1] if query.get("filter") else None,
    )


def _deleted_view(query: Mapping[str, list[str]]) -> bool:
    values = query.get("deleted")
    return values is not None and values[-1].lower() not in ("false", "0")


__all__ = [
    "CHILD_KINDS",
    "RESOURCE_TYPES",
    "Kind",
    "Location",
    "children",
    "events",
    "job",
    "job_page",
    "jobs",
    "locate",
    "segment",
    "work_area",
    "work_areas",
]
