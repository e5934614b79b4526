"""The large-result yardstick: 10,000 jobs x 10 fields from in-memory data, in-process.

Two schemas answer `{ jobs { jobId name dueDate ... } }` over the same
`JobRecord`s, and each run includes `json.dumps` of the result's data, as a
server would send it:

- `default`: Strawberry as the tutorial writes it, no tuning: `Job` is a
  `@strawberry.type` whose ten fields each have an `async def` resolver.
- `gateway`: the gateway's own `SequenceJob` type (its real field resolvers),
  in a schema built with the gateway's configuration (its scalars and Node
  types).

The target (the issue): the gateway's result at least 3x faster than the
default's. Times are the best of `repeats` runs; peak memory (tracemalloc) is
measured in a separate run of each, so tracing does not distort the timing.

    python -m benchmarks.large_result [--jobs N] [--fields N] [--repeats N]

prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import enum
import json
import random
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from gateway.schema import NODE_TYPES
from gateway.schema.scalars import SCALARS
from gateway.schema.sequence import SequenceJob
from gateway.upstreams.sequence.records import JobRecord

# SequenceJob's scalar fields, in the order the query selects them.
FIELDS = (
    "jobId",
    "name",
    "dueDate",
    "beginsAt",
    "endsAt",
    "licensorName",
    "status",
    "tasksStatus",
    "assetsStatus",
    "titleExternalId",
)

_NAMES = ("Lord of The Rings", "Last Night in Soho", "Dune", "Arrival", "Paddington 2", "The Favourite", "Roma")
_LICENSORS = ("Warner Bros.", "Universal", "StudioCanal", "Entertainment One", None)


def build_records(jobs: int = 10_000, seed: int = 42) -> list[JobRecord]:
    """`jobs` job records with every scalar field set (some optional ones empty), always the same for a seed."""
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    records = []
    for index in range(1, jobs + 1):
        begins = start + dt.timedelta(days=rng.randrange(700))
        records.append(
            JobRecord(
                work_area_id="20",
                job_id=str(index),
                name=f"{rng.choice(_NAMES)} ({index})",
                status=rng.choice(("pending", "late", "done", "live", "passed")),
                tasks_status=rng.choice(("pending", "in_progress", "completed")),
                assets_status=rng.choice(("not_received", "partly_received", "received")),
                due_date=begins - dt.timedelta(days=rng.randrange(1, 30)),
                begins_at=begins,
                ends_at=begins + dt.timedelta(days=rng.randrange(30, 365)) if rng.random() < 0.9 else None,
                licensor_name=rng.choice(_LICENSORS),
                tags=tuple(rng.sample(("Drama", "Comedy", "Surreal", "Kids", "4K"), rng.randint(0, 3))),
                title_external_id=f"TT{rng.randrange(10**7):07d}" if rng.random() < 0.8 else None,
            )
        )
    return records


def query_for(fields: int = 10) -> str:
    if not 1 <= fields <= len(FIELDS):
        raise ValueError(f"fields must be between 1 and {len(FIELDS)}, got {fields}")
    return "{ jobs { " + " ".join(FIELDS[:fields]) + " } }"


# default Strawberry -----------------------------------------------------------------
@strawberry.enum
class JobStatus(enum.Enum):
    PENDING = "pending"
    LATE = "late"
    DONE = "done"
    LIVE = "live"
    PASSED = "passed"


@strawberry.enum
class TasksStatus(enum.Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@strawberry.enum
class AssetsStatus(enum.Enum):
    NOT_RECEIVED = "not_received"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"


@strawberry.type
class Job:
    record: strawberry.Private[JobRecord]

    @strawberry.field
    async def job_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.job_id)

    @strawberry.field
    async def name(self) -> str:
        return self.record.name

    @strawberry.field
    async def due_date(self) -> dt.date | None:
        return self.record.due_date

    @strawberry.field
    async def begins_at(self) -> dt.date | None:
        return self.record.begins_at

    @strawberry.field
    async def ends_at(self) -> dt.date | None:
        return self.record.ends_at

    @strawberry.field
    async def licensor_name(self) -> str | None:
        return self.record.licensor_name

    @strawberry.field
    async def status(self) -> JobStatus:
        return JobStatus(self.record.status)

    @strawberry.field
    async def tasks_status(self) -> TasksStatus:
        return TasksStatus(self.record.tasks_status)

    @strawberry.field
    async def assets_status(self) -> AssetsStatus:
        return AssetsStatus(self.record.assets_status)

    @strawberry.field
    async def title_external_id(self) -> str | None:
        return self.record.title_external_id


@strawberry.type(name="Query")
class DefaultQuery:
    @strawberry.field
    async def jobs(self, info: strawberry.Info) -> list[Job]:
        return [Job(record=record) for record in info.context["records"]]


def default_schema() -> strawberry.Schema:
    return strawberry.Schema(query=DefaultQuery)


# the gateway's types ----------------------------------------------------------------
@strawberry.type(name="Query")
class GatewayQuery:
    @strawberry.field
    async def jobs(self, info: strawberry.Info) -> list[SequenceJob]:
        return [SequenceJob(record=record) for record in info.context["records"]]


def gateway_schema() -> strawberry.Schema:
    return strawberry.Schema(query=GatewayQuery, types=NODE_TYPES, config=StrawberryConfig(scalar_map=SCALARS))


# measuring --------------------------------------------------------------------------
async def execute(schema: strawberry.Schema, query: str, records: Sequence[JobRecord]) -> str:
    """The query's result encoded as a server would send it; raises when it has errors."""
    result = await schema.execute(query, context_value={"records": records})
    if result.errors:
        raise RuntimeError(f"the query failed: {result.errors[0]}")
    return json.dumps({"data": result.data})


async def _best(schema: strawberry.Schema, query: str, records: Sequence[JobRecord], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        await execute(schema, query, records)
        best = min(best, time.perf_counter() - started)
    return best


async def _peak_mb(schema: strawberry.Schema, query: str, records: Sequence[JobRecord]) -> float:
    # Started after the records exist: the peak is what executing and encoding allocate.
    tracemalloc.start()
    try:
        await execute(schema, query, records)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


async def measure_async(jobs: int = 10_000, fields: int = 10, repeats: int = 5) -> dict[str, Any]:
    if jobs < 1 or repeats < 1:
        raise ValueError("jobs and repeats must be at least 1")
    query = query_for(fields)
    records = build_records(jobs)
    default, gateway = default_schema(), gateway_schema()
    # Both must answer the same JSON, or the comparison means nothing; this run also warms both up.
    if await execute(default, query, records) != await execute(gateway, query, records):
        raise RuntimeError("the default and the gateway schemas answered different results")
    default_seconds = await _best(default, query, records, repeats)
    gateway_seconds = await _best(gateway, query, records, repeats)
    return {
        "jobs": jobs,
        "fields": fields,
        "default_seconds": default_seconds,
        "gateway_seconds": gateway_seconds,
        "speedup": default_seconds / gateway_seconds,
        "default_peak_mb": await _peak_mb(default, query, records),
        "gateway_peak_mb": await _peak_mb(gateway, query, records),
    }


def measure(jobs: int = 10_000, fields: int = 10, repeats: int = 5) -> dict[str, Any]:
    """Time `jobs` x `fields` through default Strawberry and through the gateway's types, best of `repeats`."""
    return asyncio.run(measure_async(jobs, fields, repeats))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.large_result", description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs in the result (default 10000)")
    parser.add_argument(
        "--fields", type=int, default=10, help=f"scalar fields per job, 1 to {len(FIELDS)} (default 10)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each; the best counts (default 5)")
    args = parser.parse_args(argv)
    try:
        figures = measure(args.jobs, args.fields, args.repeats)
    except ValueError as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
