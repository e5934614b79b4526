"""A naive gateway: the reference queries (Q1-Q6) answered by plain Strawberry
resolvers that call the upstreams themselves, per field.

This is the GraphQL server one would write by hand over the same two APIs: a
shared `httpx.AsyncClient` (keep-alive, digest auth for Sequence, a bearer
token for Gofilex, JSON through `Accept`), async resolvers, and nothing else:
no data loaders, no cache, no batching, no rate budget. So a job's `tasks`
GETs the job's tasks, an order's `state` POSTs `orders/status` for that one
order, an order's `jobs` and `cleaned` each POST `jobs/by/order`, and a job's
`dependsOn` POSTs `jobs/by/order` again to find its dependencies. Root fields
that may answer null (an unknown job or order) ask the upstream whether it
exists first.

Field names, types and nullability are the gateway's (schema.graphql) for the
fields the reference queries use, so both answer the same JSON for the same
data. Connection cursors are the gateway's too (base64url "cursor:<offset>").

    python -m benchmarks.baselines.naive

reads SEQUENCE_*, GOFILEX_* and GATEWAY_HOST/GATEWAY_PORT like `gateway
serve`, prints `GraphQL: http://HOST:PORT/graphql` on stderr once it listens,
and serves until terminated.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import enum
import re
from collections.abc import AsyncIterator
from typing import Any, NewType
from urllib.parse import quote, urlsplit

import httpx
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig

from benchmarks.baselines import serve
from gateway.config import Settings

GOFILEX_API = "api/publication/v1"
MAX_FIRST = 200
# gofilex:<orderId> (EMEA) or gofilex:<portal>:<orderId>, portal in either case.
GOFILEX_TAG = re.compile(r"^gofilex:(?:(emea|apac|mps|noram):)?([A-Za-z0-9]+)$", re.IGNORECASE)


# upstream access ------------------------------------------------------------------
class Upstreams:
    """The two APIs over one shared HTTP client."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        if settings.sequence is None:
            raise ValueError("SEQUENCE_URL is missing")
        self.settings = settings
        self.http = http
        self.sequence_url = settings.sequence.url
        self.digest = httpx.DigestAuth(settings.sequence.username, settings.sequence.password)

    async def sequence(self, path: str) -> Any | None:
        """GET a Sequence resource as JSON; None when it does not exist."""
        response = await self.http.get(
            f"{self.sequence_url}/{path}", auth=self.digest, headers={"Accept": "application/json"}
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    async def job(self, work_area_id: str, job_id: str, deleted: bool) -> dict[str, Any] | None:
        return await self.sequence(
            f"work_areas/{quote(work_area_id, safe='')}/jobs/{quote(job_id, safe='')}" + _view(deleted)
        )

    async def jobs(self, work_area_id: str, page: int, per_page: int) -> dict[str, Any]:
        path = f"work_areas/{quote(work_area_id, safe='')}/jobs?pagination=true&page={page}&per_page={per_page}"
        found = await self.sequence(path)
        if found is None:
            raise ValueError(f"Sequence has no work area {work_area_id}")
        return found

    async def children(self, work_area_id: str, job_id: str, deleted: bool, kind: str) -> list[dict[str, Any]]:
        path = f"work_areas/{quote(work_area_id, safe='')}/jobs/{quote(job_id, safe='')}/{kind}" + _view(deleted)
        found = await self.sequence(path)
        return found["entries"] if found else []

    async def gofilex(self, portal: str, path: str, body: dict[str, Any]) -> Any:
        configured = self.settings.portals.get(portal)
        if configured is None:
            raise ValueError(f"Gofilex portal {portal} is not configured")
        response = await self.http.post(
            f"{configured.url}/{GOFILEX_API}/{path}",
            json=body,
            headers={"Authorization": f"Bearer {configured.token}", "Accept": "application/json"},
        )
        response.raise_for_status()
        return response.json()

    async def order_statuses(self, portal: str, order_ids: list[str]) -> list[dict[str, Any]]:
        return await self.gofilex(portal, "orders/status", {"orderIds": order_ids})

    async def order_jobs(self, portal: str, order_id: str) -> list[dict[str, Any]]:
        return await self.gofilex(portal, "jobs/by/order", {"orderId": order_id})


def _view(deleted: bool) -> str:
    return "?deleted" if deleted else ""


def upstreams(info: strawberry.Info) -> Upstreams:
    return info.context["request"].state.upstreams


def id_from_link(link: str) -> str:
    return urlsplit(link).path.rsplit("/", 1)[-1]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"cursor:{offset}".encode()).decode().rstrip("=")


def decode_cursor(value: str) -> int:
    text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    prefix, _, offset = text.partition(":")
    if prefix != "cursor" or not offset.isdigit():
        raise ValueError(f"{value!r} is not a valid cursor")
    return int(offset)


def _date(value: str | None) -> dt.date | None:
    return dt.datetime.fromisoformat(value).date() if value else None


# scalars and enums ----------------------------------------------------------------
Long = NewType("Long", int)
SCALARS: dict[object, Any] = {Long: strawberry.scalar(name="Long", serialize=int, parse_value=int)}


@strawberry.enum
class SequenceJobStatus(enum.Enum):
    PENDING = "pending"
    LATE = "late"
    DONE = "done"
    LIVE = "live"
    PASSED = "passed"
    UNKNOWN = "unknown"


@strawberry.enum
class SequenceTasksStatus(enum.Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    UNKNOWN = "unknown"


@strawberry.enum
class SequenceAssetsStatus(enum.Enum):
    NOT_RECEIVED = "not_received"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    UNKNOWN = "unknown"


@strawberry.enum
class GofilexPortal(enum.Enum):
    EMEA = "EMEA"
    APAC = "APAC"
    MPS = "MPS"
    NORAM = "NORAM"


def _status(kind: type[enum.Enum], value: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        return kind["UNKNOWN"]


# Sequence -------------------------------------------------------------------------
@strawberry.type
class SequenceTask:
    task_id: strawberry.ID
    name: str
    status: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceTask:
        return cls(task_id=strawberry.ID(id_from_link(data["self_link"])), name=data["name"], status=data["status"])


@strawberry.type
class SequenceAsset:
    asset_id: strawberry.ID
    type_name: str
    status: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceAsset:
        return cls(
            asset_id=strawberry.ID(id_from_link(data["self_link"])), type_name=data["type_name"], status=data["status"]
        )


@strawberry.type
class SequenceNote:
    note_id: strawberry.ID
    body: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceNote:
        return cls(note_id=strawberry.ID(id_from_link(data["self_link"])), body=data["body"])


@strawberry.type
class SequenceProblem:
    problem_id: strawberry.ID
    description: str
    dismissed: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceProblem:
        return cls(
            problem_id=strawberry.ID(id_from_link(data["self_link"])),
            description=data["description"],
            dismissed=bool(data.get("dismissed")),
        )


@strawberry.type
class SequenceJob:
    job_id: strawberry.ID
    name: str
    due_date: dt.date | None
    begins_at: dt.date | None
    ends_at: dt.date | None
    licensor_name: str | None
    status: SequenceJobStatus
    tasks_status: SequenceTasksStatus
    assets_status: SequenceAssetsStatus
    tags: list[str]
    title_external_id: str | None
    deleted: bool
    work_area_id: strawberry.Private[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SequenceJob:
        self_link = data["self_link"]
        return cls(
            job_id=strawberry.ID(str(data["id"])),
            name=data["name"],
            due_date=_date(data.get("due_date")),
            begins_at=_date(data.get("begins_at")),
            ends_at=_date(data.get("ends_at")),
            licensor_name=data.get("licensor_name"),
            status=_status(SequenceJobStatus, data["status"]),
            tasks_status=_status(SequenceTasksStatus, data["tasks_status"]),
            assets_status=_status(SequenceAssetsStatus, data["assets_status"]),
            tags=[tag.strip() for tag in (data.get("tag_list") or "").split(",") if tag.strip()],
            title_external_id=data.get("title_external_id"),
            deleted="deleted" in urlsplit(self_link).query,
            work_area_id=id_from_link(data["work_area_link"]),
        )

    async def _children(self, info: strawberry.Info, kind: str) -> list[dict[str, Any]]:
        return await upstreams(info).children(self.work_area_id, self.job_id, self.deleted, kind)

    @strawberry.field
    async def tasks(self, info: strawberry.Info) -> list[SequenceTask]:
        return [SequenceTask.from_json(item) for item in await self._children(info, "tasks")]

    @strawberry.field
    async def assets(self, info: strawberry.Info) -> list[SequenceAsset]:
        return [SequenceAsset.from_json(item) for item in await self._children(info, "assets")]

    @strawberry.field
    async def notes(self, info: strawberry.Info) -> list[SequenceNote]:
        return [SequenceNote.from_json(item) for item in await self._children(info, "notes")]

    @strawberry.field
    async def problems(self, info: strawberry.Info) -> list[SequenceProblem]:
        return [SequenceProblem.from_json(item) for item in await self._children(info, "problems")]

    @strawberry.field
    async def gofilex_orders(self, info: strawberry.Info) -> list[GofilexOrder]:
        by_portal: dict[str, list[str]] = {}
        for tag in self.tags:
            match = GOFILEX_TAG.match(tag)
            if match:
                portal = (match.group(1) or "EMEA").upper()
                if match.group(2) not in by_portal.setdefault(portal, []):
                    by_portal[portal].append(match.group(2))
        # Which of the linked orders Gofilex knows: one orders/status call per portal, concurrently.
        answers = await asyncio.gather(
            *(upstreams(info).order_statuses(portal, order_ids) for portal, order_ids in by_portal.items())
        )
        return [
            GofilexOrder(order_id=strawberry.ID(order_id), portal=GofilexPortal(portal))
            for (portal, order_ids), statuses in zip(by_portal.items(), answers, strict=True)
            for order_id in order_ids
            if order_id in {status["_id"] for status in statuses}
        ]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class SequenceJobEdge:
    cursor: str
    node: SequenceJob | None


@strawberry.type
class SequenceJobConnection:
    total_count: int
    page_info: PageInfo
    edges: list[SequenceJobEdge]

    @strawberry.field
    def nodes(self) -> list[SequenceJob | None]:
        return [edge.node for edge in self.edges]


@strawberry.type
class WorkArea:
    work_area_id: strawberry.ID

    @strawberry.field
    async def jobs(
        self, info: strawberry.Info, first: int | None = 50, after: str | None = None
    ) -> SequenceJobConnection:
        count = 50 if first is None else first
        if not 0 <= count <= MAX_FIRST:
            raise ValueError(f"first must be between 0 and {MAX_FIRST}, got {count}")
        offset = decode_cursor(after) + 1 if after else 0
        per_page = max(count, 1)
        page = offset // per_page + 1
        found = await upstreams(info).jobs(self.work_area_id, page, per_page)
        start = offset - (page - 1) * per_page
        entries = found["entries"][start : start + count]
        total = found["total_entries"]
        edges = [
            SequenceJobEdge(cursor=encode_cursor(offset + index), node=SequenceJob.from_json(entry))
            for index, entry in enumerate(entries)
        ]
        page_info = PageInfo(
            has_next_page=offset + len(edges) < total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return SequenceJobConnection(total_count=total, page_info=page_info, edges=edges)


# Gofilex --------------------------------------------------------------------------
@strawberry.type
class DcpAsset:
    uuid: strawberry.ID
    role: str
    size: Long | None


@strawberry.type
class DigitalCinemaPackage:
    uuid: strawberry.ID
    size: Long | None
    assets: list[DcpAsset]


@strawberry.type
class GofilexTransferProgress:
    done: bool
    percentage: float


@strawberry.type
class GofilexRunProgress:
    download: GofilexTransferProgress | None
    hash: GofilexTransferProgress | None


@strawberry.type
class GofilexRun:
    run_id: strawberry.ID
    attempt: int | None
    progress: GofilexRunProgress | None


def _transfer(data: dict[str, Any] | None) -> GofilexTransferProgress | None:
    if data is None:
        return None
    return GofilexTransferProgress(done=bool(data.get("done")), percentage=data["percentage"])


@strawberry.type
class GofilexJob:
    job_id: strawberry.ID
    type: str
    state: str
    data: strawberry.Private[dict[str, Any]]
    order: strawberry.Private[GofilexOrder]

    @strawberry.field
    async def depends_on(self, info: strawberry.Info) -> list[GofilexJob]:
        dependencies = self.data.get("_dependencies") or {}
        wanted = [
            *dependencies.get("resolved", ()),
            *dependencies.get("remaining", ()),
            *dependencies.get("rejected", ()),
        ]
        jobs = {job.job_id: job for job in await order_jobs(info, self.order)}
        return [jobs[job_id] for job_id in wanted if job_id in jobs]

    @strawberry.field
    def digital_cinema_package(self) -> DigitalCinemaPackage | None:
        package = (self.data.get("payload") or {}).get("digitalCinemaPackage")
        if package is None:
            return None
        assets = [
            DcpAsset(uuid=strawberry.ID(asset["uuid"]), role=asset["role"], size=asset.get("size"))
            for asset in package.get("assets", ())
        ]
        return DigitalCinemaPackage(uuid=strawberry.ID(package["uuid"]), size=package.get("size"), assets=assets)

    @strawberry.field
    def run(self) -> GofilexRun | None:
        run = self.data.get("_run")
        if run is None:
            return None
        progress = run.get("progress")
        return GofilexRun(
            run_id=strawberry.ID(run["_id"]),
            attempt=run.get("attempt"),
            progress=GofilexRunProgress(
                download=_transfer(progress.get("download")), hash=_transfer(progress.get("hash"))
            )
            if progress
            else None,
        )


@strawberry.type
class GofilexOrder:
    order_id: strawberry.ID
    portal: GofilexPortal

    @strawberry.field
    async def state(self, info: strawberry.Info) -> str | None:
        statuses = await upstreams(info).order_statuses(self.portal.value, [self.order_id])
        return (statuses[0].get("_status") or {}).get("state") if statuses else None

    @strawberry.field
    async def jobs(self, info: strawberry.Info) -> list[GofilexJob]:
        return await order_jobs(info, self)

    @strawberry.field
    async def cleaned(self, info: strawberry.Info) -> bool:
        return not await upstreams(info).order_jobs(self.portal.value, self.order_id)


async def order_jobs(info: strawberry.Info, order: GofilexOrder) -> list[GofilexJob]:
    """The order's jobs, fetched from Gofilex (every time: nothing is kept)."""
    found = await upstreams(info).order_jobs(order.portal.value, order.order_id)
    return [
        GofilexJob(job_id=strawberry.ID(item["_id"]), type=item["_type"], state=item["_state"], data=item, order=order)
        for item in found
    ]


# root -----------------------------------------------------------------------------
@strawberry.type
class Query:
    @strawberry.field
    def work_area(self, work_area_id: strawberry.ID) -> WorkArea | None:
        return WorkArea(work_area_id=work_area_id)

    @strawberry.field
    async def sequence_job(
        self, info: strawberry.Info, work_area_id: strawberry.ID, job_id: strawberry.ID, deleted: bool = False
    ) -> SequenceJob | None:
        found = await upstreams(info).job(work_area_id, job_id, deleted)
        return SequenceJob.from_json(found) if found else None

    @strawberry.field
    async def gofilex_order(
        self, info: strawberry.Info, order_id: strawberry.ID, portal: GofilexPortal = GofilexPortal.EMEA
    ) -> GofilexOrder | None:
        statuses = await upstreams(info).order_statuses(portal.value, [order_id])
        return GofilexOrder(order_id=order_id, portal=portal) if statuses else None

    @strawberry.field
    async def gofilex_orders(
        self, info: strawberry.Info, order_ids: list[strawberry.ID], portal: GofilexPortal = GofilexPortal.EMEA
    ) -> list[GofilexOrder | None]:
        known = {status["_id"] for status in await upstreams(info).order_statuses(portal.value, list(order_ids))}
        return [GofilexOrder(order_id=order_id, portal=portal) if order_id in known else None for order_id in order_ids]


schema = strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map=SCALARS))


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=settings.upstream_timeout) as http:
            yield {"upstreams": Upstreams(settings, http)}

    graphql = GraphQL(schema)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])], lifespan=lifespan)


def main() -> int:
    return serve(create_app, name="naive gateway", require_upstreams=True)


if __name__ == "__main__":
    raise SystemExit(main())
