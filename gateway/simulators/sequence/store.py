"""Sequence's data in memory, and every write with the events it records.

The events feed is the documented way to follow changes: each create, update
and delete of a job or one of its children appends an event, and so does a
change of a job's derived statuses caused by a child's update.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.simulators.clock import Clock
from gateway.simulators.sequence import paths
from gateway.simulators.sequence.model import JOB_FILTERS, Asset, Event, Hook, Job, Note, Problem, Task, WorkArea
from gateway.simulators.sequence.templates import TEMPLATES

# Kinds of children, in the order the job links them, with their singular.
CHILD_KINDS = {"tasks": "task", "assets": "asset", "notes": "note", "problems": "problem", "hooks": "hook"}
Child = Task | Asset | Note | Problem | Hook

JOB_WRITABLE = ("name", "begins_at", "ends_at", "licensor_name", "tag_list", "title_external_id")


class SequenceStore:
    def __init__(self, clock: Clock, *, max_events: int = 100_000) -> None:
        self.clock = clock
        self.work_areas: dict[int, WorkArea] = {}
        self.events: deque[Event] = deque(maxlen=max_events)
        self._ids = {kind: itertools.count(1) for kind in ("job", *CHILD_KINDS.values(), "event")}

    # ids -----------------------------------------------------------------
    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # reads -----------------------------------------------------------------
    def job(self, work_area_id: int, job_id: int) -> Job | None:
        area = self.work_areas.get(work_area_id)
        return area.jobs.get(job_id) if area else None

    def jobs(self, work_area_id: int, *, deleted: bool, filter_name: str | None) -> list[Job]:
        predicate = JOB_FILTERS[filter_name] if filter_name else None
        return [
            job
            for job in self.work_areas[work_area_id].jobs.values()
            if job.deleted == deleted and (predicate is None or predicate(job))
        ]

    def events_after(self, newer_than: int | None, limit: int) -> list[Event]:
        if newer_than is None:
            # Inferred: without `newer_than` the feed answers its newest page,
            # which is where a new poller starts from.
            return list(itertools.islice(reversed(self.events), limit))[::-1]
        return list(itertools.islice((event for event in self.events if event.id > newer_than), limit))

    def event(self, event_id: int) -> Event | None:
        return next((event for event in self.events if event.id == event_id), None)

    # events ----------------------------------------------------------------
    def record(self, event_type: str, subject_path: str, changes: Iterable[str] = ()) -> None:
        changed = ",".join(changes) or None
        self.events.append(Event(self.next_id("event"), event_type, self.clock.now(), subject_path, changed))

    def _record_derived(self, job: Job, before: Mapping[str, str]) -> None:
        after = job.derived(self.clock.today())
        changed = [name for name in after if after[name] != before[name]]
        if changed:
            self.record("job_updated", paths.job(job.work_area_id, job.id), changed)

    # job writes --------------------------------------------------------------
    def create_job(self, work_area_id: int, fields: Mapping[str, Any]) -> Job:
        """Create a job from validated fields (`template` names a known template)."""
        template = TEMPLATES[fields["template"]]
        begins_at: dt.date = fields["begins_at"]
        due_date = template.due_date(begins_at)
        ends_at = fields.get("ends_at") or _add_months(due_date, 2)
        job = Job(
            id=self.next_id("job"),
            work_area_id=work_area_id,
            name=fields["name"],
            begins_at=begins_at,
            due_date=due_date,
            ends_at=ends_at,
            licensor_name=fields["licensor_name"],
            template=template.name,
            tag_list=fields.get("tag_list") or "",
            title_external_id=fields.get("title_external_id"),
        )
        for position, task in enumerate(template.tasks, start=1):
            job.tasks.append(Task(self.next_id("task"), job.id, task.name, "pending", position, task.requires_duration))
        for type_name in template.assets:
            job.assets.append(Asset(self.next_id("asset"), job.id, type_name, "pending", 0))
        self.work_areas[work_area_id].jobs[job.id] = job
        self.record("job_created", paths.job(work_area_id, job.id))
        for kind in ("tasks", "assets"):
            for item in getattr(job, kind):
                self.record(f"{CHILD_KINDS[kind]}_created", paths.child(work_area_id, job.id, kind, item.id))
        return job

    def update_job(self, job: Job, fields: Mapping[str, Any]) -> None:
        before = {name: getattr(job, name) for name in (*JOB_WRITABLE, "due_date")}
        derived_before = job.derived(self.clock.today())
        for name in JOB_WRITABLE:
            if name in fields:
                setattr(job, name, fields[name])
        if "begins_at" in fields:
            job.due_date = TEMPLATES[job.template].due_date(job.begins_at)
        after = job.derived(self.clock.today())
        changed = [name for name in before if getattr(job, name) != before[name]]
        changed += [name for name in after if after[name] != derived_before[name]]
        self.record("job_updated", paths.job(job.work_area_id, job.id), changed)

    def delete_job(self, job: Job) -> None:
        job.deleted = True
        self.record("job_deleted", paths.job(job.work_area_id, job.id))

    # child writes --------------------------------------------------------------
    def add_child(self, job: Job, kind: str, item: Child) -> None:
        before = job.derived(self.clock.today())
        getattr(job, kind).append(item)
        self.record(f"{CHILD_KINDS[kind]}_created", paths.child(job.work_area_id, job.id, kind, item.id))
        self._record_derived(job, before)

    def update_child(self, job: Job, kind: str, item: Child, fields: Mapping[str, Any]) -> None:
        before = job.derived(self.clock.today())
        changed = [name for name, value in fields.items() if getattr(item, name) != value]
        for name in changed:
            setattr(item, name, fields[name])
        self.record(f"{CHILD_KINDS[kind]}_updated", paths.child(job.work_area_id, job.id, kind, item.id), changed)
        self._record_derived(job, before)


def find_child(job: Job, kind: str, child_id: int) -> Child | None:
    return next((item for item in getattr(job, kind) if item.id == child_id), None)


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))
