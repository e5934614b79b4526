"""Where each Sequence resource lives. Links are built from these paths and
the base URL the client used, so the simulator answers with its own host."""

from __future__ import annotations

API = "/api"


def work_areas() -> str:
    return f"{API}/work_areas"


def work_area(work_area_id: int) -> str:
    return f"{API}/work_areas/{work_area_id}"


def jobs(work_area_id: int) -> str:
    return f"{work_area(work_area_id)}/jobs"


def job(work_area_id: int, job_id: int) -> str:
    return f"{jobs(work_area_id)}/{job_id}"


def children(work_area_id: int, job_id: int, kind: str) -> str:
    return f"{job(work_area_id, job_id)}/{kind}"


def child(work_area_id: int, job_id: int, kind: str, child_id: int) -> str:
    return f"{children(work_area_id, job_id, kind)}/{child_id}"


def events() -> str:
    return f"{API}/events"


def event(event_id: int) -> str:
    return f"{API}/events/{event_id}"


def web(work_area_id: int, job_id: int) -> str:
    # The job's page in Sequence's UI, which calls a work area a video service.
    return f"/video_services/{work_area_id}/scheduled_titles/{job_id}/workflow"
