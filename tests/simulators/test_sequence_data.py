"""Sequence simulator: the generated data is deterministic, realistic and varied."""

from __future__ import annotations

import datetime as dt

import httpx

from gateway.simulators.clock import Clock
from gateway.simulators.sequence.app import create_sequence_app
from gateway.simulators.sequence.generate import LARGE_WORK_AREA_JOBS, default_work_areas, populate
from gateway.simulators.sequence.store import SequenceStore
from gateway.simulators.server import serve_in_thread
from tests.conftest import NOW


def generated(seed: int = 42, jobs: int = 200) -> SequenceStore:
    store = SequenceStore(Clock.at(NOW))
    populate(store, default_work_areas(jobs), seed=seed, gofilex_orders={"EMEA": ["a" * 17], "NORAM": ["b" * 17]})
    return store


def snapshot(store: SequenceStore) -> list[tuple]:
    return [
        (job.id, job.name, job.begins_at, job.tag_list, [task.status for task in job.tasks], job.deleted)
        for area in store.work_areas.values()
        for job in area.jobs.values()
    ]


def test_same_seed_and_clock_give_the_same_data() -> None:
    assert snapshot(generated(seed=1)) == snapshot(generated(seed=1))
    assert snapshot(generated(seed=1)) != snapshot(generated(seed=2))


def test_every_job_has_tasks_assets_notes_and_problems() -> None:
    for job in generated().work_areas[10].jobs.values():
        assert job.tasks and job.assets and job.notes and job.problems, job.id


def test_dates_spread_around_today() -> None:
    today = dt.date.fromisoformat(NOW[:10])
    begins = [job.begins_at for job in generated().work_areas[10].jobs.values()]
    assert min(begins) < today - dt.timedelta(days=120)
    assert max(begins) > today + dt.timedelta(days=60)


def test_some_jobs_are_deleted_and_some_problematic_but_few() -> None:
    jobs = list(generated(jobs=1000).work_areas[10].jobs.values())
    deleted = sum(job.deleted for job in jobs) / len(jobs)
    problematic = sum(job.problematic for job in jobs) / len(jobs)
    assert 0.005 < deleted < 0.1
    assert 0.05 < problematic < 0.3


def test_gofilex_links_use_both_tag_forms_and_both_cases() -> None:
    tags = [
        tag.strip()
        for job in generated(jobs=2000).work_areas[10].jobs.values()
        for tag in job.tag_list.split(",")
        if tag.strip().startswith("gofilex:")
    ]
    assert "gofilex:" + "a" * 17 in tags
    assert "gofilex:EMEA:" + "a" * 17 in tags or "gofilex:emea:" + "a" * 17 in tags
    assert {"gofilex:NORAM:" + "b" * 17, "gofilex:noram:" + "b" * 17} <= set(tags)


def test_large_work_area_lists_the_seeds_30595_jobs() -> None:
    store = SequenceStore(Clock.at(NOW))
    populate(store, default_work_areas(10, large=True), seed=42)
    with serve_in_thread(create_sequence_app(store)) as url:
        response = httpx.get(
            url + "/api/work_areas/20/jobs?pagination=true&per_page=200",
            headers={"Accept": "application/json"},
            timeout=30,
        )
    body = response.json()
    assert body["total_entries"] == LARGE_WORK_AREA_JOBS
    assert len(body["entries"]) == 200
