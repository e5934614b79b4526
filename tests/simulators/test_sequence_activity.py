"""Sequence simulator: the changes it makes by itself (sequence/activity.py).

The activity is driven one change at a time, and its loop with a fake
sleep, so no test waits for a Poisson process.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from typing import Any

import pytest
from starlette.applications import Starlette

from gateway.simulators.apps import build_simulators
from gateway.simulators.clock import Clock
from gateway.simulators.sequence import paths
from gateway.simulators.sequence.activity import (
    HOT_JOBS,
    KIND_WEIGHTS,
    Activity,
    ActivityLifespanMiddleware,
    ActivityLoop,
    Change,
    is_active,
)
from gateway.simulators.sequence.generate import default_work_areas, populate
from gateway.simulators.sequence.model import Job, Task
from gateway.simulators.sequence.store import SequenceStore, find_child
from gateway.simulators.server import serve_in_thread
from gateway.simulators.settings import SimulatorSettings
from tests.conftest import NOW

DURATION = re.compile(r"^\d{2}:\d{2}:\d{2}$")
# The event each kind of change records for itself.
OWN_EVENT = {
    "task_completed": "task_updated",
    "task_duration": "task_updated",
    "note_added": "note_created",
    "problem_reported": "problem_created",
    "problem_dismissed": "problem_updated",
    "asset_received": "asset_updated",
    "job_created": "job_created",
    "job_deleted": "job_deleted",
}


def generated(jobs: int = 400, seed: int = 42) -> SequenceStore:
    store = SequenceStore(Clock.at(NOW))
    populate(store, default_work_areas(jobs), seed=seed)
    return store


def job_of(store: SequenceStore, change: Change) -> Job:
    return store.work_areas[change.work_area_id].jobs[change.job_id]


def seen(store: SequenceStore, change: Change) -> Any:
    """What a reader sees now where `change` says to look."""
    job = job_of(store, change)
    if change.child_kind is None:
        return job.deleted if change.field is None else getattr(job, change.field)
    child = find_child(job, change.child_kind, change.child_id or 0)
    assert child is not None
    return getattr(child, change.field or "")


def test_each_change_is_visible_in_the_data_and_recorded_in_the_feed_as_a_clients_write() -> None:
    store = generated()
    activity = Activity(store, seed=1)
    for _ in range(400):
        change = activity.step()
        event = store.event(change.event_id)
        assert event is not None
        assert event.event_type == OWN_EVENT[change.kind], change
        if change.child_kind is None:
            assert event.subject_path == paths.job(change.work_area_id, change.job_id)
        else:
            assert event.subject_path == paths.child(
                change.work_area_id, change.job_id, change.child_kind, change.child_id or 0
            )
        if change.kind == "job_deleted":
            assert change.field is None and change.value is None
            assert seen(store, change) is True
        else:
            assert seen(store, change) == change.value, change
    assert activity.made == 400
    assert [change.seq for change in activity.log] == list(range(1, 401))


def test_every_kind_of_change_comes_and_creates_and_deletes_are_a_few_percent() -> None:
    activity = Activity(generated(), seed=2)
    kinds = Counter(activity.step().kind for _ in range(1000))
    assert set(kinds) == set(KIND_WEIGHTS)
    assert 0.01 <= (kinds["job_created"] + kinds["job_deleted"]) / 1000 <= 0.06


def test_a_task_that_requires_a_duration_gets_one_when_completed() -> None:
    store = generated()
    activity = Activity(store, seed=3)
    completed = [task_of(store, change) for change in (activity.step() for _ in range(400))]
    needing = [task for task in completed if task is not None and task.requires_duration and task.status == "completed"]
    assert needing
    assert all(task.duration and DURATION.match(task.duration) for task in needing)
    durations = [change for change in activity.log if change.kind == "task_duration"]
    assert durations and all(DURATION.match(str(change.value)) for change in durations)


def task_of(store: SequenceStore, change: Change) -> Task | None:
    """The task `change` completed, if it completed one."""
    if change.kind != "task_completed":
        return None
    return next(task for task in job_of(store, change).tasks if task.id == change.child_id)


def test_a_change_that_moves_a_jobs_statuses_records_the_derived_job_update_after_its_own() -> None:
    store = generated()
    activity = Activity(store, seed=4)
    derived = 0
    for _ in range(300):
        change = activity.step()
        following = store.event(change.event_id + 1)
        if following is not None and following.event_type == "job_updated" and change.kind != "job_created":
            assert following.subject_path == paths.job(change.work_area_id, change.job_id)
            derived += 1
    assert derived > 10


def test_the_same_seed_and_data_give_the_same_changes() -> None:
    def changes(seed: int) -> list[dict[str, Any]]:
        activity = Activity(generated(), seed=seed, wall=lambda: 0.0)
        return [activity.step().as_json() for _ in range(200)]

    assert changes(5) == changes(5)
    assert changes(5) != changes(6)


def test_changes_go_mostly_to_the_first_active_jobs_of_each_work_area() -> None:
    store = generated(jobs=1000)
    activity = Activity(store, seed=7)
    hot = active = counted = 0
    for _ in range(600):
        # The hot sets as they stand before the change.
        hot_ids = {
            area.id: set(itertools.islice((job.id for job in area.jobs.values() if live_and_active(job)), HOT_JOBS))
            for area in store.work_areas.values()
        }
        change = activity.step()
        if change.kind == "job_created":
            continue
        counted += 1
        hot += change.job_id in hot_ids[change.work_area_id]
        # Only a completion can end a job's activity, and it needs a pending task or asset.
        active += is_active(job_of(store, change)) or change.kind in ("task_completed", "asset_received")
    assert hot / counted > 0.7
    assert active / counted > 0.85
    # Both work areas change: each has first pages a UI looks at.
    assert {change.work_area_id for change in activity.log} == {10, 11}


def live_and_active(job: Job) -> bool:
    return not job.deleted and is_active(job)


def test_the_log_is_bounded_and_answers_after_a_seq_oldest_first() -> None:
    activity = Activity(generated(jobs=100), seed=8, max_logged=10)
    for _ in range(25):
        activity.step()
    assert activity.made == 25
    assert [change.seq for change in activity.changes_after(0)] == list(range(16, 26))
    assert [change.seq for change in activity.changes_after(20)] == [21, 22, 23, 24, 25]
    assert [change.seq for change in activity.changes_after(17, limit=2)] == [18, 19]
    assert activity.changes_after(25) == []


def test_the_loop_spaces_changes_as_a_poisson_process_at_the_rate() -> None:
    activity = Activity(generated(jobs=100), seed=9)
    gaps: list[float] = []

    async def no_wait(seconds: float) -> None:
        gaps.append(seconds)
        await asyncio.sleep(0)

    async def scenario() -> None:
        loop = ActivityLoop(activity, 120, seed=9, sleep=no_wait)
        loop.start()
        while activity.made < 500:
            await asyncio.sleep(0)
        await loop.stop()

    asyncio.run(scenario())
    assert len(gaps) >= 500
    # Exponential gaps with a mean of 60/120 s: the mean of 500 is within 10 %,
    # and they spread as an exponential does (a third above the mean, about e**-1).
    mean = sum(gaps) / len(gaps)
    assert 0.45 < mean < 0.55
    assert 0.3 < sum(gap > mean for gap in gaps) / len(gaps) < 0.45


def test_a_new_rate_takes_effect_during_the_wait_and_zero_pauses() -> None:
    activity = Activity(generated(jobs=100), seed=10)
    gaps: list[float] = []

    async def wait_forever(seconds: float) -> None:
        gaps.append(seconds)
        await asyncio.Event().wait()

    async def ticks() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    async def scenario() -> None:
        loop = ActivityLoop(activity, 6, seed=10, sleep=wait_forever)
        loop.start()
        await ticks()
        assert len(gaps) == 1
        loop.per_minute = 0
        await ticks()
        assert len(gaps) == 1  # paused: no new wait drawn
        loop.per_minute = 6000
        await ticks()
        assert len(gaps) == 2 and gaps[1] < 1
        await loop.stop()
        assert activity.made == 0

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="activity"):
        ActivityLoop(activity, -1, seed=1)


def test_the_loop_runs_from_lifespan_startup_to_shutdown() -> None:
    loop = ActivityLoop(Activity(generated(jobs=100), seed=11), seed=11)
    app = ActivityLifespanMiddleware(Starlette(), loop=loop)

    async def scenario() -> list[str]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        sent: list[str] = []

        async def send(message: Any) -> None:
            sent.append(message["type"])

        served = asyncio.create_task(app({"type": "lifespan", "state": {}}, inbox.get, send))
        await inbox.put({"type": "lifespan.startup"})
        while not sent:
            await asyncio.sleep(0)
        assert loop.running
        await inbox.put({"type": "lifespan.shutdown"})
        await served
        assert not loop.running
        return sent

    assert asyncio.run(scenario()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_activity_comes_from_sim_activity_and_is_off_by_default() -> None:
    assert SimulatorSettings().activity == 0
    assert SimulatorSettings.from_env({"SIM_ACTIVITY": "20"}).activity == 20
    assert SimulatorSettings.from_env({"SIM_ACTIVITY": "0.5"}).activity == 0.5
    for bad in ("-1", "many", "nan", "inf"):
        with pytest.raises(ValueError, match="SIM_ACTIVITY"):
            SimulatorSettings.from_env({"SIM_ACTIVITY": bad})
    with pytest.raises(ValueError, match="activity"):
        SimulatorSettings(activity=-2)


def test_a_served_simulator_lives_at_its_rate_and_stops_with_the_server() -> None:
    settings = SimulatorSettings(now=NOW, jobs=50, orders_per_portal=2, activity=60_000)
    simulators = build_simulators(settings)
    loop = simulators.sequence_activity
    with serve_in_thread(simulators.sequence_app):
        deadline = time.monotonic() + 10
        while loop.activity.made < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert loop.running
    assert loop.activity.made >= 3
    assert not loop.running
    assert simulators.sequence_store.event(loop.activity.log[0].event_id) is not None
