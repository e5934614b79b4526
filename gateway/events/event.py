"""One entry of Sequence's events feed, with the ids its subject link names.

The subject link is data: its path says which work area, job and child the
event is about, and it is never requested.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from gateway.upstreams.sequence.records import EventRecord

# A job's children by the path segment Sequence gives them, and their singular names.
KINDS = {"tasks": "task", "assets": "asset", "notes": "note", "problems": "problem", "hooks": "hook"}

# `.../work_areas/{wa}[/jobs/{job}[/{kind}[/{id}]]]`, after any path prefix (`/api`, a proxy's).
_SUBJECT = re.compile(
    r"/work_areas/(?P<work_area>\d+)"
    r"(?:/jobs/(?P<job>\d+)(?:/(?P<kind>[a-z_]+)(?:/(?P<child>[^/]+))?)?)?/?$"
)


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
    kind: str | None  # tasks, assets, notes, problems or hooks; None for the job itself
    child_id: str | None

    @property
    def subject_kind(self) -> str | None:
        """job, task, asset ... : the child's kind, else the resource the event type names."""
        if self.kind is not None:
            return KINDS[self.kind]
        resource, _, _ = self.event_type.rpartition("_")
        return resource or None


def event_from_record(record: EventRecord) -> SequenceEvent:
    work_area_id = job_id = kind = child_id = None
    if record.subject_link:
        match = _SUBJECT.search(urlsplit(record.subject_link).path)
        if match:
            work_area_id, job_id = match["work_area"], match["job"]
            # A sub-resource we do not know is still under its job: the job's ids hold.
            if match["kind"] in KINDS:
                kind, child_id = match["kind"], match["child"]
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


__all__ = ["KINDS", "SequenceEvent", "event_from_record"]
