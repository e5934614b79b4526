"""One entry of Sequence's events feed, with the ids its subject link names.

The subject link is data: its path says which work area, job and child the
event is about, and it is never requested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.upstreams.sequence import paths
from gateway.upstreams.sequence.records import EventRecord


@dataclass(frozen=True, slots=True)
class SequenceEvent:
    """A change Sequence recorded; the ids are None where the subject link does not name them."""

    event_id: str
    event_type: str  # {resource}_{created|updated|deleted}
    timestamp: datetime | None
    changes: tuple[str, ...]
    subject_link: str | None
    work_area_id: str | None
    job_id: str | None
    kind: paths.Kind | None  # tasks, assets, notes, problems or hooks; None for the job itself
    child_id: str | None

    @property
    def subject_kind(self) -> str | None:
        """job, task, asset ... : the child's kind, else the resource the event type names."""
        if self.kind is not None:
            return paths.RESOURCE_TYPES[self.kind]
        resource, _, _ = self.event_type.rpartition("_")
        return resource or None


def event_from_record(record: EventRecord) -> SequenceEvent:
    location = paths.locate(record.subject_link) if record.subject_link else None
    work_area_id = job_id = kind = child_id = None
    # A work area, a job, or something under a job; a job list is no subject (unknown, as before).
    if location is not None and location.work_area_id is not None and (location.job_id or not location.jobs):
        work_area_id, job_id = location.work_area_id, location.job_id
        # A sub-resource we do not know is still under its job: the job's ids hold.
        kind = location.child_kind
        child_id = location.child_id if kind is not None else None
    return SequenceEvent(
        event_id=record.event_id,
        event_type=record.event_type,
        timestamp=record.timestamp,
        changes=record.changes,
        subject_link=record.subject_link,
        work_area_id=work_area_id,
        job_id=job_id,
        kind=kind,
        child_id=child_id,
    )


__all__ = ["SequenceEvent", "event_from_record"]
