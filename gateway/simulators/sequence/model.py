"""Sequence's resources and the rules that derive a job's statuses.

The derivation rules are the Job page's (seed 000): a job is late or pending
while any task or asset is pending, depending on its due date; once all are
complete it is live inside its scheduling window, passed after it, done
before it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

TASK_STATUSES = ("pending", "completed")
# The Asset page lists "one of four states" and its stored copy stops after
# three; only the documented three are produced here.
ASSET_STATUSES = ("pending", "received", "claimed")


@dataclass(slots=True)
class Task:
    id: int
    job_id: int
    name: str
    status: str
    position: int
    requires_duration: bool = False
    duration: str | None = None
    responsible_email: str | None = None


@dataclass(slots=True)
class Asset:
    id: int
    job_id: int
    type_name: str
    status: str
    progress: int | None = None


@dataclass(slots=True)
class Note:
    id: int
    job_id: int
    body: str
    creator: str
    created_at: dt.datetime


@dataclass(slots=True)
class Problem:
    id: int
    job_id: int
    description: str
    reporter: str
    dismissed: bool = False


@dataclass(slots=True)
class Hook:
    """A job's hook. Only the `hooks` link is documented; the fields are inferred
    (an HTTP callback fired on a job event)."""

    id: int
    job_id: int
    event: str
    url: str
    active: bool = True


@dataclass(slots=True)
class Job:
    id: int
    work_area_id: int
    name: str
    begins_at: dt.date
    due_date: dt.date
    ends_at: dt.date | None
    licensor_name: str
    template: str
    tag_list: str = ""
    title_external_id: str | None = None
    # Ids on the Movida side; jobs created through the API have none yet
    # (the seed's create response carries no scheduling/metadata/title links).
    scheduling_id: int | None = None
    title_id: int | None = None
    deleted: bool = False
    tasks: list[Task] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)

    @property
    def tasks_completed(self) -> bool:
        return all(task.status == "completed" for task in self.tasks)

    @property
    def assets_received(self) -> bool:
        return all(asset.status == "received" for asset in self.assets)

    @property
    def problematic(self) -> bool:
        return any(not problem.dismissed for problem in self.problems)

    @property
    def tasks_status(self) -> str:
        done = sum(task.status == "completed" for task in self.tasks)
        if done == len(self.tasks):
            return "completed"
        return "in_progress" if done else "pending"

    @property
    def assets_status(self) -> str:
        received = sum(asset.status == "received" for asset in self.assets)
        if received == len(self.assets):
            return "received"
        return "partly_received" if received else "not_received"

    def status(self, today: dt.date) -> str:
        if not (self.tasks_completed and self.assets_received):
            return "late" if self.due_date < today else "pending"
        if today < self.begins_at:
            return "done"
        if self.ends_at is not None and today > self.ends_at:
            return "passed"
        return "live"

    def derived(self, today: dt.date) -> dict[str, str]:
        """The read-only attributes that follow from the children and the date."""
        return {"status": self.status(today), "tasks_status": self.tasks_status, "assets_status": self.assets_status}


# The eight documented values of the jobs list's `filter` parameter.
JOB_FILTERS: dict[str, Callable[[Job], bool]] = {
    "ready": lambda job: job.assets_received and job.tasks_completed,
    "pending": lambda job: not (job.assets_received and job.tasks_completed),
    "completed": lambda job: job.tasks_completed,
    "not_completed": lambda job: not job.tasks_completed,
    "received": lambda job: job.assets_received,
    "not_received": lambda job: not job.assets_received,
    "problematic": lambda job: job.problematic,
    "not_problematic": lambda job: not job.problematic,
}


@dataclass(slots=True)
class WorkArea:
    id: int
    name: str
    # Dates written with a time carry the work area's offset, as the seed's
    # `ends-at` does (`2011-01-31T00:00:00+02:00`).
    utc_offset: dt.timedelta = dt.timedelta(0)
    jobs: dict[int, Job] = field(default_factory=dict)


@dataclass(slots=True)
class Event:
    id: int
    event_type: str
    timestamp: dt.datetime
    subject_path: str
    changes: str | None = None
