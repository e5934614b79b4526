"""Sequence types: work areas, their jobs as a Relay connection, and each job's children."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

import strawberry

from gateway.errors import BadUserInput
from gateway.loaders import MAX_WINDOW, ChildrenKey, Kind, OrderKey, WindowKey
from gateway.schema.context import Info
from gateway.schema.enums import (
    SequenceAssetsStatus,
    SequenceJobFilter,
    SequenceJobStatus,
    SequenceTasksStatus,
    from_upstream,
    upstream_value,
)
from gateway.schema.gofilex import GofilexOrder, order_of
from gateway.schema.ids import cursor, global_id, parse_cursor
from gateway.schema.node import Node
from gateway.upstreams.gofilex.portals import DEFAULT_PORTAL, PORTALS
from gateway.upstreams.sequence.records import (
    AssetRecord,
    HookRecord,
    JobRecord,
    NoteRecord,
    ProblemRecord,
    TaskRecord,
)

DEFAULT_FIRST = 50

R = TypeVar("R")
# gofilex:<orderId> (the EMEA portal) or gofilex:<portal>:<orderId>, portal in either case.
GOFILEX_TAG = re.compile(rf"^gofilex:(?:({'|'.join(PORTALS)}):)?([A-Za-z0-9]+)$", re.IGNORECASE)


def gofilex_links(tags: tuple[str, ...]) -> list[tuple[str, str]]:
    """(portal, order id) pairs named by a job's tags, in tag order, without repeats."""
    links: dict[tuple[str, str], None] = {}
    for tag in tags:
        match = GOFILEX_TAG.match(tag.strip())
        if match:
            links[((match.group(1) or DEFAULT_PORTAL.value).upper(), match.group(2))] = None
    return list(links)


@strawberry.type(description="A step of a job's workflow.")
class SequenceTask(Node):
    record: strawberry.Private[TaskRecord]
    job: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(child_id("SequenceTask", self.job, self.record.task_id))

    @strawberry.field
    def task_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.task_id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="pending or completed (Sequence may add values).")
    def status(self) -> str:
        return self.record.status

    @strawberry.field
    def position(self) -> int | None:
        return self.record.position

    @strawberry.field
    def requires_duration(self) -> bool:
        return self.record.requires_duration

    @strawberry.field(description="hh:mm:ss, on tasks that require a duration.")
    def duration(self) -> str | None:
        return self.record.duration

    @strawberry.field
    def responsible_email(self) -> str | None:
        return self.record.responsible_email


@strawberry.type(description="A material the job needs in place before it can be processed.")
class SequenceAsset(Node):
    record: strawberry.Private[AssetRecord]
    job: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(child_id("SequenceAsset", self.job, self.record.asset_id))

    @strawberry.field
    def asset_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.asset_id)

    @strawberry.field(description="feature_film, trailer, box_art ... or any string.")
    def type_name(self) -> str:
        return self.record.type_name

    @strawberry.field(
        description="pending, received, claimed ... (Sequence documents a fourth value we have not seen)."
    )
    def status(self) -> str:
        return self.record.status

    @strawberry.field(description="Percentage received, 0 to 100.")
    def progress(self) -> int | None:
        return self.record.progress


@strawberry.type(description="Free information attached to a job.")
class SequenceNote(Node):
    record: strawberry.Private[NoteRecord]
    job: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(child_id("SequenceNote", self.job, self.record.note_id))

    @strawberry.field
    def note_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.note_id)

    @strawberry.field
    def body(self) -> str:
        return self.record.body

    @strawberry.field(description="Login of the user who wrote the note.")
    def creator(self) -> str | None:
        return self.record.creator

    @strawberry.field
    def created_at(self) -> dt.datetime | None:
        return self.record.created_at


@strawberry.type(description="Anything stopping the job from being completed.")
class SequenceProblem(Node):
    record: strawberry.Private[ProblemRecord]
    job: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(child_id("SequenceProblem", self.job, self.record.problem_id))

    @strawberry.field
    def problem_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.problem_id)

    @strawberry.field
    def description(self) -> str:
        return self.record.description

    @strawberry.field(description="A dismissed problem no longer makes the job problematic.")
    def dismissed(self) -> bool:
        return self.record.dismissed

    @strawberry.field(description="Login of the user who reported it.")
    def reporter(self) -> str | None:
        return self.record.reporter


# Sequence documents no field of a hook, only the job's link to its hooks:
# a hook shows what its link says (its id), and nothing the gateway would
# have to guess (upstreams/sequence.md §3.9).
@strawberry.type(
    description="A job's hook. Sequence documents only that a job links to its hooks, so a hook shows its id alone."
)
class SequenceHook(Node):
    record: strawberry.Private[HookRecord]
    job: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(child_id("SequenceHook", self.job, self.record.hook_id))

    @strawberry.field(description="Sequence's id of the hook: the last segment of its self link.")
    def hook_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.hook_id)


def child_id(type_name: str, job: JobRecord, child: str) -> str:
    return global_id(type_name, job.work_area_id, job.job_id, "deleted" if job.deleted else "live", child)


@strawberry.type(description="A work order: the tasks and assets a title needs before its due date.")
class SequenceJob(Node):
    record: strawberry.Private[JobRecord]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        job = self.record
        return strawberry.ID(global_id("SequenceJob", job.work_area_id, job.job_id))

    @strawberry.field(description="Sequence's own id of the job.")
    def job_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.job_id)

    @strawberry.field
    def name(self) -> str:
        return self.record.name

    @strawberry.field(description="When the job should be complete.")
    def due_date(self) -> dt.date | None:
        return self.record.due_date

    @strawberry.field(description="Start of the availability window.")
    def begins_at(self) -> dt.date | None:
        return self.record.begins_at

    @strawberry.field(description="End of the availability window.")
    def ends_at(self) -> dt.date | None:
        return self.record.ends_at

    @strawberry.field
    def licensor_name(self) -> str | None:
        return self.record.licensor_name

    @strawberry.field
    def status(self) -> SequenceJobStatus:
        return from_upstream(SequenceJobStatus, self.record.status)

    @strawberry.field
    def tasks_status(self) -> SequenceTasksStatus:
        return from_upstream(SequenceTasksStatus, self.record.tasks_status)

    @strawberry.field
    def assets_status(self) -> SequenceAssetsStatus:
        return from_upstream(SequenceAssetsStatus, self.record.assets_status)

    @strawberry.field(description="The status as Sequence sent it, for values the enum does not know yet.")
    def upstream_status(self) -> str:
        return self.record.status

    @strawberry.field(description="The tasks status as Sequence sent it.")
    def upstream_tasks_status(self) -> str:
        return self.record.tasks_status

    @strawberry.field(description="The assets status as Sequence sent it.")
    def upstream_assets_status(self) -> str:
        return self.record.assets_status

    @strawberry.field
    def tags(self) -> list[str]:
        return list(self.record.tags)

    @strawberry.field
    def title_external_id(self) -> str | None:
        return self.record.title_external_id

    @strawberry.field(description="True for a job read through Sequence's deleted view.")
    def deleted(self) -> bool:
        return self.record.deleted

    @strawberry.field
    def work_area(self) -> WorkArea:
        return WorkArea(work_area_id=strawberry.ID(self.record.work_area_id))

    async def _children(self, info: Info, kind: Kind, record_type: type[R]) -> list[R]:
        job = self.record
        key = ChildrenKey(job.work_area_id, job.job_id, job.deleted, kind)
        # A kind's list holds records of its type only (the parser builds them
        # by kind); the check makes that known to the type checker too.
        return [record for record in await info.context.loaders.children.load(key) if isinstance(record, record_type)]

    @strawberry.field
    async def tasks(self, info: Info) -> list[SequenceTask]:
        return [SequenceTask(record=r, job=self.record) for r in await self._children(info, "tasks", TaskRecord)]

    @strawberry.field
    async def assets(self, info: Info) -> list[SequenceAsset]:
        return [SequenceAsset(record=r, job=self.record) for r in await self._children(info, "assets", AssetRecord)]

    @strawberry.field
    async def notes(self, info: Info) -> list[SequenceNote]:
        return [SequenceNote(record=r, job=self.record) for r in await self._children(info, "notes", NoteRecord)]

    @strawberry.field
    async def problems(self, info: Info) -> list[SequenceProblem]:
        children = await self._children(info, "problems", ProblemRecord)
        return [SequenceProblem(record=r, job=self.record) for r in children]

    @strawberry.field
    async def hooks(self, info: Info) -> list[SequenceHook]:
        return [SequenceHook(record=r, job=self.record) for r in await self._children(info, "hooks", HookRecord)]

    @strawberry.field(description="The job's scheduling in Mediagenix On-Demand (Movida).")
    def scheduling_url(self) -> str | None:
        return self.record.links.get("scheduling")

    @strawberry.field(description="The scheduling's metadata in Mediagenix On-Demand.")
    def metadata_url(self) -> str | None:
        return self.record.links.get("metadata")

    @strawberry.field(description="The title in Mediagenix On-Demand.")
    def title_url(self) -> str | None:
        return self.record.links.get("title")

    @strawberry.field(description="The job's page in Sequence.")
    def web_url(self) -> str | None:
        return self.record.links.get("web")

    @strawberry.field(
        description="Gofilex orders named by the job's tags (gofilex:<orderId> for EMEA, gofilex:<portal>:<orderId>)."
        " Orders Gofilex does not know are left out."
    )
    async def gofilex_orders(self, info: Info) -> list[GofilexOrder]:
        links = gofilex_links(self.record.tags)
        if not links:
            return []
        loader = info.context.loaders.order_status
        try:
            statuses = await loader.load_many([OrderKey(portal, order_id) for portal, order_id in links])
        except Exception:
            # Gofilex failing must not take the job's Sequence data with it:
            # answer the linked orders unresolved, and let their own fields
            # (state, jobs ...) carry the error.
            return [order_of(portal, order_id) for portal, order_id in links]
        return [
            order_of(portal, order_id, status)
            for (portal, order_id), status in zip(links, statuses, strict=True)
            if status is not None
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
    node: SequenceJob | None = strawberry.field(description="Null only when the job failed to resolve (see errors).")


@strawberry.type(description="A page of a work area's jobs, over Sequence's own pages.")
class SequenceJobConnection:
    total_count: int = strawberry.field(description="Jobs matching the filter, from Sequence's total_entries.")
    page_info: PageInfo
    edges: list[SequenceJobEdge]

    @strawberry.field(description="The jobs of the page, without cursors.")
    def nodes(self) -> list[SequenceJob | None]:
        return [edge.node for edge in self.edges]


@strawberry.type(description="A Sequence work area (a video service): the jobs of one operation.")
class WorkArea(Node):
    work_area_id: strawberry.ID
    name_value: strawberry.Private[str | None] = None

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("WorkArea", self.work_area_id))

    @strawberry.field(description="The work area's name.")
    async def name(self, info: Info) -> str | None:
        if self.name_value is None:
            self.name_value = (await info.context.loaders.work_area.load(str(self.work_area_id))).name
        return self.name_value

    @strawberry.field(description="The work area's jobs, a page at a time.")
    async def jobs(
        self,
        info: Info,
        filter: SequenceJobFilter | None = None,
        deleted: bool = False,
        first: int | None = DEFAULT_FIRST,
        after: str | None = None,
    ) -> SequenceJobConnection:
        count = DEFAULT_FIRST if first is None else first
        if not 0 <= count <= MAX_WINDOW:
            raise BadUserInput(f"first must be between 0 and {MAX_WINDOW}, got {count}")
        offset = parse_cursor(after) + 1 if after else 0
        window = await info.context.loaders.job_window.load(
            WindowKey(
                str(self.work_area_id),
                offset,
                count,
                filter_name=upstream_value(filter) if filter else None,
                deleted=deleted,
                paging_forward=bool(after),
            )
        )
        edges = [
            SequenceJobEdge(cursor=cursor(offset + index), node=SequenceJob(record=job))
            for index, job in enumerate(window.jobs)
        ]
        page_info = PageInfo(
            has_next_page=offset + len(window.jobs) < window.total,
            has_previous_page=offset > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )
        return SequenceJobConnection(total_count=window.total, page_info=page_info, edges=edges)
