"""Sequence events for tests: a record of the feed, and the event read from it."""

from __future__ import annotations

import datetime as dt

from gateway.events import SequenceEvent, event_from_record
from gateway.upstreams.sequence.records import EventRecord

BASE = "http://127.0.0.1:8101/api"
WHEN = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def record(event_id: int | str, event_type: str = "job_updated", link: str | None = None) -> EventRecord:
    return EventRecord(str(event_id), event_type, WHEN, link, ("name",) if event_type.endswith("updated") else ())


def event(work_area_id: str | None = "10", job_id: str | None = "7", event_id: str = "1") -> SequenceEvent:
    """An event whose subject is a job (or, without a job id, a work area; without either, nothing we know)."""
    link = None
    if work_area_id is not None:
        link = f"{BASE}/work_areas/{work_area_id}" + (f"/jobs/{job_id}" if job_id else "")
    return event_from_record(record(event_id, link=link))
