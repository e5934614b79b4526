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
    links = _order_links(random.Random(f"{seed}:links"), gofilex_orders or {})
    for spec in specs:
        area = WorkArea(spec.id, spec.name, dt.timedelta(hours=spec.utc_offset_hours))
        store.work_areas[spec.id] = area
        rng = random.Random(f"{seed}:{spec.id}")
        for _ in range(spec.jobs):
            job = _job(store, rng, area, today)
            if links and rng.random() < 0.06:
                job.tag_list = _join_tags([*_split_tags(job.tag_list), links[rng.randrange(len(links))]], rng)
            area.jobs[job.id] = job


def _order_links(rng: random.Random, orders: Mapping[str, Sequence[str]]) -> list[str]:
    links = []
    for portal, order_ids in orders.items():
        for order_id in order_ids:
            if portal.upper() == "EMEA" and rng.random() < 0.5:
                links.append(f"gofilex:{order_id}")
            else:
                # The contract accepts the portal in either case.
                links.append(f"gofilex:{portal.lower() if rng.random() < 0.5 else portal.upper()}:{order_id}")
    return links


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
    for position, task in enumerate(template.tasks, start=1):
        completed = rng.random() < progress
        duration = _duration(rng) if task.requires_duration and (completed or rng.random() < 0.2) else None
        job.tasks.append(
            Task(
                store.next_id("task"),
                job.id,
                task.name,
                "completed" if completed else "pending",
                position,
                task.requires_duration,
                duration,
                rng.choice(names.OPERATORS) if rng.random() < 0.7 else None,
            )
        )
    for type_name in template.assets:
        received = rng.random() < progress + 0.1
        status = "received" if received else ("claimed" if rng.random() < 0.25 else "pending")
        job.assets.append(
            Asset(
                store.next_id("asset"), job.id, type_name, status, 100 if received else rng.choice((0, 0, 20, 50, 80))
            )
        )
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        created = dt.datetime.combine(due_date, dt.time(rng.randint(7, 19), rng.randint(0, 59)), dt.UTC)
        created -= dt.timedelta(days=rng.randint(1, 30))
        job.notes.append(
            Note(store.next_id("note"), job.id, rng.choice(names.NOTES), rng.choice(names.OPERATORS), created)
        )
    if rng.random() < 0.15:
        dismissed = rng.random() < 0.4
        job.problems.append(
            Problem(
                store.next_id("problem"), job.id, rng.choice(names.PROBLEMS), rng.choice(names.OPERATORS), dismissed
            )
        )
    if rng.random() < 0.2:
        job.hooks.append(
            Hook(
                store.next_id("hook"),
                job.id,
                rng.choice(names.HOOK_EVENTS),
                rng.choice(names.HOOK_URLS),
                rng.random() < 0.9,
            )
        )
    job.deleted = rng.random() < 0.03
    return job


def _duration(rng: random.Random) -> str:
    seconds = rng.randint(20 * 60, 3 * 3600)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _split_tags(tag_list: str) -> list[str]:
    return [tag.strip() for tag in tag_list.split(",") if tag.strip()]


def _join_tags(tags: Sequence[str], rng: random.Random) -> str:
    # Sequence answers `tag_list` both as "Drama,Surreal" and "Drama, Surreal".
    return (", " if rng.random() < 0.3 else ",").join(tags)
