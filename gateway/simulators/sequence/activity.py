"""A Sequence that changes by itself, as a busy operations team would change it.

A gateway whose cache trusts the events feed is only tested by an upstream
that changes: this makes the simulator complete tasks, set durations, add
notes, report and dismiss problems, receive assets and, now and then, create
or delete a job. Every change goes through the store's writes, so the feed
records it exactly as it records a client's write (derived `job_updated`
events included), and the change log says when each one was made, for the
benchmarks that measure how long a change takes to reach a reader.

Work goes where a team's attention is: mostly to the first pages of each
work area's active jobs (those the `pending` filter lists: pending or late),
so a UI looking at the first pages sees changes; less to any active job;
least to any job at all.

The changes come as a Poisson process (exponential gaps, mean 60/N s), not
evenly spaced: a team's changes are independent of each other, and evenly
spaced changes could fall into step with the gateway's poll interval and
make every change wait the same part of it, which would bias the measured
staleness.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.simulators.sequence import names
from gateway.simulators.sequence.model import JOB_FILTERS, Job, Note, Problem, WorkArea
from gateway.simulators.sequence.store import SequenceStore

logger = logging.getLogger(__name__)

ChangeKind = Literal[
    "task_completed",
    "task_duration",
    "note_added",
    "problem_reported",
    "problem_dismissed",
    "asset_received",
    "job_created",
    "job_deleted",
]
# How often each kind comes, in percent when all apply to the chosen job;
# kinds that do not apply (no pending task, no open problem ...) drop out.
# Dismissals weigh more than reports because they apply only to the jobs with
# an open problem: so about a quarter of the busy jobs stay problematic.
KIND_WEIGHTS: dict[ChangeKind, int] = {
    "task_completed": 28,
    "task_duration": 6,
    "note_added": 20,
    "problem_reported": 6,
    "problem_dismissed": 24,
    "asset_received": 13,
    "job_created": 2,
    "job_deleted": 1,
}
# The hot set: the first active jobs of a work area's list, two pages of 50.
HOT_JOBS = 100
# Where a change goes: the hot set, any active job, any job of the work area.
HOT_SHARE, ACTIVE_SHARE = 0.75, 0.15
# Tries at finding an active (or any live) job at random before giving up.
SAMPLE_TRIES = 50
MAX_LOGGED_CHANGES = 100_000
MAX_CHANGES_PER_ANSWER = 1000

is_active = JOB_FILTERS["pending"]
JSONValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Change:
    """One change the activity made, and what a reader will see once it is visible.

    `event_id` is the event recorded for the change itself (not the derived
    `job_updated`); `field` and `value` name what a reader finds on the job
    (`child_kind` and `child_id` None) or on its child once the change shows.
    """

    seq: int
    at: float
    event_id: int
    kind: ChangeKind
    work_area_id: int
    job_id: int
    child_kind: str | None
    child_id: int | None
    field: str | None
    value: JSONValue

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "eventId": self.event_id,
            "kind": self.kind,
            "workAreaId": self.work_area_id,
            "jobId": self.job_id,
            "childKind": self.child_kind,
            "childId": self.child_id,
            "field": self.field,
            "value": self.value,
        }


@dataclass(frozen=True, slots=True)
class _Applied:
    job: Job
    child_kind: str | None = None
    child_id: int | None = None
    field: str | None = None
    value: JSONValue = None


class Activity:
    """Chooses and applies one change at a time to `store`, and keeps their log.

    The same seed, data and writes in between give the same changes.
    """

    def __init__(
        self,
        store: SequenceStore,
        *,
        seed: int,
        wall: Callable[[], float] = time.time,
        max_logged: int = MAX_LOGGED_CHANGES,
    ) -> None:
        self.store = store
        self.log: deque[Change] = deque(maxlen=max_logged)
        self.made = 0
        self._rng = random.Random(f"{seed}:activity")
        self._wall = wall

    def step(self) -> Change:
        """Choose one change, make it through the store and log it."""
        area = self._rng.choice(list(self.store.work_areas.values()))
        job = self._job(area)
        if job is None:
            kind: ChangeKind = "job_created"
        else:
            kinds = [kind for kind in KIND_WEIGHTS if _applies(kind, job)]
            kind = self._rng.choices(kinds, [KIND_WEIGHTS[kind] for kind in kinds])[0]
        before = self.store.events[-1].id if self.store.events else 0
        applied = self._create_job(area) if job is None or kind == "job_created" else self._apply(kind, job)
        self.made += 1
        change = Change(
            seq=self.made,
            at=self._wall(),
            event_id=self._first_event_after(before),
            kind=kind,
            work_area_id=area.id,
            job_id=applied.job.id,
            child_kind=applied.child_kind,
            child_id=applied.child_id,
            field=applied.field,
            value=applied.value,
        )
        self.log.append(change)
        return change

    def changes_after(self, seq: int, limit: int = MAX_CHANGES_PER_ANSWER) -> list[Change]:
        """Logged changes with a `seq` above `seq`, oldest first, at most `limit`."""
        if not self.log:
            return []
        # Sequence numbers run without gaps, so the first one wanted has a known place.
        start = max(0, seq - self.log[0].seq + 1)
        return list(itertools.islice(self.log, start, start + limit))

    # choosing --------------------------------------------------------------------
    def _job(self, area: WorkArea) -> Job | None:
        roll = self._rng.random()
        if roll < HOT_SHARE:
            hot = list(itertools.islice((job for job in area.jobs.values() if _live(job) and is_active(job)), HOT_JOBS))
            if hot:
                return self._rng.choice(hot)
        jobs = list(area.jobs.values())
        wanted = is_active if roll < HOT_SHARE + ACTIVE_SHARE else None
        for _ in range(SAMPLE_TRIES if jobs else 0):
            job = self._rng.choice(jobs)
            if _live(job) and (wanted is None or wanted(job)):
                return job
        # Few live (or active) jobs left: take the first one there is.
        return next((job for job in jobs if _live(job)), None)

    # applying --------------------------------------------------------------------
    def _apply(self, kind: ChangeKind, job: Job) -> _Applied:
        store = self.store
        if kind == "task_completed":
            # Teams work down the workflow: the first pending task.
            task = next(task for task in job.tasks if task.status != "completed")
            # Completing a task that requires a duration needs one: it is set
            # in the same write, before the status, as a client would send it.
            fields: dict[str, Any] = {"status": "completed"}
            if task.requires_duration and not task.duration:
                fields = {"duration": self._duration(), "status": "completed"}
            store.update_child(job, "tasks", task, fields)
            return _Applied(job, "tasks", task.id, "status", "completed")
        if kind == "task_duration":
            task = self._rng.choice([task for task in job.tasks if task.requires_duration])
            duration = self._duration()
            while duration == task.duration:
                duration = self._duration()
            store.update_child(job, "tasks", task, {"duration": duration})
            return _Applied(job, "tasks", task.id, "duration", duration)
        if kind == "note_added":
            body, creator = self._rng.choice(names.NOTES), self._rng.choice(names.OPERATORS)
            note = Note(store.next_id("note"), job.id, body, creator, store.clock.now())
            store.add_child(job, "notes", note)
            return _Applied(job, "notes", note.id, "body", body)
        if kind == "problem_reported":
            description, reporter = self._rng.choice(names.PROBLEMS), self._rng.choice(names.OPERATORS)
            problem = Problem(store.next_id("problem"), job.id, description, reporter)
            store.add_child(job, "problems", problem)
            return _Applied(job, "problems", problem.id, "description", description)
        if kind == "problem_dismissed":
            problem = next(problem for problem in job.problems if not problem.dismissed)
            store.update_child(job, "problems", problem, {"dismissed": True})
            return _Applied(job, "problems", problem.id, "dismissed", True)
        if kind == "asset_received":
            asset = self._rng.choice([asset for asset in job.assets if asset.status != "received"])
            store.update_child(job, "assets", asset, {"status": "received", "progress": 100})
            return _Applied(job, "assets", asset.id, "status", "received")
        if kind == "job_deleted":
            store.delete_job(job)
            return _Applied(job)
        raise ValueError(f"not a change of an existing job: {kind}")

    def _create_job(self, area: WorkArea) -> _Applied:
        # Work planned ahead: the window opens weeks from now, so the new job
        # is pending, not late.
        begins_at = self.store.clock.today() + dt.timedelta(days=self._rng.randint(21, 150))
        fields = {
            "template": self._rng.choice(names.TEMPLATE_WEIGHTS),
            "name": names.title(self._rng),
            "begins_at": begins_at,
            "licensor_name": self._rng.choice(names.LICENSORS),
            "tag_list": ",".join(self._rng.sample(names.TAGS, self._rng.randint(0, 3))),
        }
        job = self.store.create_job(area.id, fields)
        return _Applied(job, None, None, "name", job.name)

    def _duration(self) -> str:
        seconds = self._rng.randint(20 * 60, 3 * 3600)
        return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

    def _first_event_after(self, event_id: int) -> int:
        """The first event recorded after `event_id`: the change's own, before any derived one."""
        first = event_id
        for event in reversed(self.store.events):
            if event.id <= event_id:
                break
            first = event.id
        return first


def _live(job: Job) -> bool:
    return not job.deleted


def _applies(kind: ChangeKind, job: Job) -> bool:
    if kind == "task_completed":
        return any(task.status != "completed" for task in job.tasks)
    if kind == "task_duration":
        return any(task.requires_duration for task in job.tasks)
    if kind == "problem_dismissed":
        return any(not problem.dismissed for problem in job.problems)
    if kind == "asset_received":
        return any(asset.status != "received" for asset in job.assets)
    return True


Sleep = Callable[[float], Coroutine[Any, Any, None]]


class ActivityLoop:
    """Runs an Activity at `per_minute` changes a minute on the running event loop.

    `per_minute` may be changed at run time (0 pauses): the wait in progress
    is drawn again at the new rate, which a Poisson process allows since it
    has no memory. The gaps come from a random stream of their own, so the
    changes made do not depend on the rates they were made at. `sleep` is
    the clock's seam for tests.
    """

    def __init__(self, activity: Activity, per_minute: float = 0.0, *, seed: int, sleep: Sleep = asyncio.sleep) -> None:
        self.activity = activity
        self._per_minute = checked_rate(per_minute)
        self._gaps = random.Random(f"{seed}:activity:gaps")
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self._rate_changed: asyncio.Event | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def per_minute(self) -> float:
        return self._per_minute

    @per_minute.setter
    def per_minute(self, value: float) -> None:
        # Called on the loop that runs the activity (the control API's).
        self._per_minute = checked_rate(value)
        if self._rate_changed is not None:
            self._rate_changed.set()

    def start(self) -> None:
        """Start running on the current event loop; a second start does nothing."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="sequence activity")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Make changes until cancelled."""
        # Made here, so that it belongs to the loop that waits on it.
        rate_changed = self._rate_changed = asyncio.Event()
        while True:
            if self._per_minute == 0:
                await rate_changed.wait()
                rate_changed.clear()
                continue
            if await self._pause(self._gaps.expovariate(self._per_minute / 60), rate_changed):
                continue
            try:
                self.activity.step()
            except Exception:
                # A change that fails is a simulator bug; the activity goes on.
                logger.exception("the Sequence simulator's activity failed to make a change")

    async def _pause(self, seconds: float, rate_changed: asyncio.Event) -> bool:
        """Wait `seconds`; True when the rate changed meanwhile."""
        changed = asyncio.ensure_future(rate_changed.wait())
        slept = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait((changed, slept), return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            slept.cancel()
        if rate_changed.is_set():
            rate_changed.clear()
            return True
        return False


def checked_rate(value: object) -> float:
    """`value` as a rate of changes per minute; ValueError unless a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"activity must be a number of changes per minute >= 0, got {value!r}")
    return float(value)


class ActivityLifespanMiddleware:
    """Runs `loop` while the app is served: from lifespan startup to shutdown.

    The lifespan messages pass on to the app unchanged, so its own lifespan
    runs as before.
    """

    def __init__(self, app: ASGIApp, *, loop: ActivityLoop) -> None:
        self.app = app
        self.loop = loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def following_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop.start()
            elif message["type"] == "lifespan.shutdown":
                await self.loop.stop()
            return message

        await self.app(scope, following_receive, send)
