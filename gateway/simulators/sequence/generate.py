"""Deterministic Sequence data: work areas full of jobs in every state.

The same seed and "today" give the same data, so tests and benchmarks can
name jobs. Dates spread around today so that the derived statuses cover
pending, late, done, live and passed.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway.simulators.sequence import names
from gateway.simulators.sequence.model import Asset, Hook, Job, Note, Problem, Task, WorkArea
from gateway.simulators.sequence.store import SequenceStore
from gateway.simulators.sequence.templates import TEMPLATES

# The seed's list example reports this many jobs in a work area.
LARGE_WORK_AREA_JOBS = 30_595


@dataclass(frozen=True)
class WorkAreaSpec:
    id: int
    name: str
    jobs: int
    utc_offset_hours: int = 0


def default_work_areas(jobs: int = 3000, *, large: bool = False) -> list[WorkAreaSpec]:
    specs = [
        WorkAreaSpec(10, "VOD Europe", jobs, utc_offset_hours=2),
        WorkAreaSpec(11, "VOD Americas", max(1, jobs // 4), utc_offset_hours=-5),
    ]
    if large:
        specs.append(WorkAreaSpec(20, "Catalogue Archive", LARGE_WORK_AREA_JOBS))
    return specs


def populate(
    store: SequenceStore,
    specs: Sequence[WorkAreaSpec],
    *,
    seed: int,
    gofilex_orders: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Fill `store` with generated work areas.

    `gofilex_orders` maps a portal name to order ids that exist in the Gofilex
    simulator; some jobs are tagged `gofilex:<portal>:<orderId>` (or
    `gofilex:<orderId>` for EMEA) so the gateway can link them.
    """
    today = store.clock.today()
    orders = [(portal, order_id) for portal, order_ids in (gofilex_orders or {}).items() for order_id in order_ids]
    for spec in specs:
        area = WorkArea(spec.id, spec.name, dt.timedelta(hours=spec.utc_offset_hours))
        store.work_areas[spec.id] = area
        rng = random.Random(f"{seed}:{spec.id}")
        # `spec.jobs` counts the jobs a plain list shows; deleted ones come on top.
        live = 0
        while live < spec.jobs:
            job = _job(store, rng, area, today)
            if orders and rng.random() < 0.06:
                tag = _order_tag(rng, *orders[rng.randrange(len(orders))])
                job.tag_list = _join_tags([*_split_tags(job.tag_list), tag], rng)
            area.jobs[job.id] = job
            live += not job.deleted


def _order_tag(rng: random.Random, portal: str, order_id: str) -> str:
    """A tag linking a job to a Gofilex order, in one of the forms the contract accepts."""
    if portal.upper() == "EMEA" and rng.random() < 0.5:
        return f"gofilex:{order_id}"
    return f"gofilex:{portal.lower() if rng.random() < 0.5 else portal.upper()}:{order_id}"


def _job(store: SequenceStore, rng: random.Random, area: WorkArea, today: dt.date) -> Job:
    template = TEMPLATES[rng.choice(names.TEMPLATE_WEIGHTS)]
    begins_at = today + dt.timedelta(days=rng.randint(-240, 150))
    due_date = template.due_date(begins_at)
    ends_at = begins_at + dt.timedelta(days=rng.choice((30, 60, 90, 180, 365)))
    job = Job(
        id=store.next_id("job"),
        work_area_id=area.id,
        name=names.title(rng),
        begins_at=begins_at,
        due_date=due_date,
        ends_at=ends_at,
        licensor_name=rng.choice(names.LICENSORS),
        template=template.name,
        tag_list=_join_tags(rng.sample(names.TAGS, rng.randint(0, 3)), rng),
        title_external_id=f"TTL-{rng.randint(100000, 999999)}" if rng.random() < 0.9 else None,
        scheduling_id=rng.randint(1000, 999999),
        title_id=rng.randint(1000, 999999),
    )
    # Work that starts soon or started long ago is mostly finished.
    progress = min(1.0, max(0.0, 0.75 + (today - due_date).days / 120 + rng.uniform(-0.5, 0.3)))
    _add_tasks(store, rng, job, progress)
    _add_assets(store, rng, job, progress)
    _add_notes(store, rng, job)
    _add_problems(store, rng, job)
    if rng.random() < 0.2:
        hook = Hook(store.next_id("hook"), job.id, rng.choice(names.HOOK_EVENTS), rng.choice(names.HOOK_URLS))
        hook.active = rng.random() < 0.9
        job.hooks.append(hook)
    job.deleted = rng.random() < 0.03
    return job


def _add_tasks(store: SequenceStore, rng: random.Random, job: Job, progress: float) -> None:
    for position, task in enumerate(TEMPLATES[job.template].tasks, start=1):
        completed = rng.random() < progress
        duration = _duration(rng) if task.requires_duration and (completed or rng.random() < 0.2) else None
        responsible = rng.choice(names.OPERATORS) if rng.random() < 0.7 else None
        status = "completed" if completed else "pending"
        item = Task(store.next_id("task"), job.id, task.name, status, position, task.requires_duration, duration)
        item.responsible_email = responsible
        job.tasks.append(item)


def _add_assets(store: SequenceStore, rng: random.Random, job: Job, progress: float) -> None:
    for type_name in TEMPLATES[job.template].assets:
        received = rng.random() < progress + 0.1
        status = "received" if received else ("claimed" if rng.random() < 0.25 else "pending")
        percent = 100 if received else rng.choice((0, 0, 20, 50, 80))
        job.assets.append(Asset(store.next_id("asset"), job.id, type_name, status, percent))


def _add_notes(store: SequenceStore, rng: random.Random, job: Job) -> None:
    for _ in range(rng.choice((1, 1, 2, 3))):
        created = dt.datetime.combine(job.due_date, dt.time(rng.randint(7, 19), rng.randint(0, 59)), dt.UTC)
        created -= dt.timedelta(days=rng.randint(1, 30))
        body, creator = rng.choice(names.NOTES), rng.choice(names.OPERATORS)
        job.notes.append(Note(store.next_id("note"), job.id, body, creator, created))


def _add_problems(store: SequenceStore, rng: random.Random, job: Job) -> None:
    # Every job has problems, but most were dismissed long ago, so only some
    # jobs are problematic.
    active = rng.random() < 0.15
    for index in range(rng.choice((1, 1, 1, 2))):
        description, reporter = rng.choice(names.PROBLEMS), rng.choice(names.OPERATORS)
        dismissed = not (active and index == 0)
        job.problems.append(Problem(store.next_id("problem"), job.id, description, reporter, dismissed))


def _duration(rng: random.Random) -> str:
    seconds = rng.randint(20 * 60, 3 * 3600)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _split_tags(tag_list: str) -> list[str]:
    return [tag.strip() for tag in tag_list.split(",") if tag.strip()]


def _join_tags(tags: Sequence[str], rng: random.Random) -> str:
    # Sequence answers `tag_list` both as "Drama,Surreal" and "Drama, Surreal".
    return (", " if rng.random() < 0.3 else ",").join(tags)
