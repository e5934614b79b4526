"""Sequence's resources as the gateway holds them, free of wire formats.

Ids are strings, as the graph exposes them. Children carry no `id` on the
wire: theirs come from the last segment of their self link. A job keeps its
external links by rel (Movida's scheduling, metadata and title, the web UI),
because they are data the graph shows; the API's own links are read for ids
and dropped, since the gateway builds its requests from ids under its
configured origin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WorkAreaRecord:
    work_area_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class JobRecord:
    work_area_id: str
    job_id: str
    name: str
    status: str
    tasks_status: str
    assets_status: str
    due_date: dt.date | None = None
    begins_at: dt.date | None = None
    ends_at: dt.date | None = None
    licensor_name: str | None = None
    tags: tuple[str, ...] = ()
    title_external_id: str | None = None
    deleted: bool = False
    links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JobPage:
    jobs: tuple[JobRecord, ...]
    # Present when the list was paginated (total_entries / <total-entries>).
    total_entries: int | None = None
    has_next: bool = False


@dataclass(frozen=True, slots=True)
class JobWindow:
    """Jobs [offset, offset + count) of a work area's list, and how many the list holds."""

    jobs: tuple[JobRecord, ...]
    total: int


@dataclass(frozen=True, slots=True)
class TaskRecord:
    task_id: str
    name: str
    status: str
    position: int | None = None
    requires_duration: bool = False
    duration: str | None = None
    responsible_email: str | None = None

    @property
    def child_id(self) -> str:
        return self.task_id


@dataclass(frozen=True, slots=True)
class AssetRecord:
    asset_id: str
    type_name: str
    status: str
    progress: int | None = None

    @property
    def child_id(self) -> str:
        return self.asset_id


@dataclass(frozen=True, slots=True)
class NoteRecord:
    note_id: str
    body: str
    creator: str | None = None
    created_at: dt.datetime | None = None

    @property
    def child_id(self) -> str:
        return self.note_id


@dataclass(frozen=True, slots=True)
class ProblemRecord:
    problem_id: str
    description: str
    dismissed: bool = False
    reporter: str | None = None

    @property
    def child_id(self) -> str:
        return self.problem_id


@dataclass(frozen=True, slots=True)
class HookRecord:
    """A job's hook. Sequence documents only that a job links to its hooks, so
    a hook is known by its self link alone: the id is its last segment."""

    hook_id: str

    @property
    def child_id(self) -> str:
        return self.hook_id


@dataclass(frozen=True, slots=True)
class EventRecord:
    event_id: str
    event_type: str
    timestamp: dt.datetime | None
    subject_link: str | None
    changes: tuple[str, ...] = ()


ChildRecord = TaskRecord | AssetRecord | NoteRecord | ProblemRecord | HookRecord
