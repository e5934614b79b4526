"""The root Query: the contract's entry points and `node(id:)`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from gateway.errors import BadUserInput, NotFound
from gateway.loaders import ALL_WORK_AREAS, ChildrenKey, JobKey, Kind, OrderKey
from gateway.schema.context import Info
from gateway.schema.enums import GofilexPortal
from gateway.schema.gofilex import GofilexOrder, JobGraph, order_of
from gateway.schema.ids import parse_global_id, sequence_id
from gateway.schema.node import Node
from gateway.schema.sequence import (
    SequenceAsset,
    SequenceHook,
    SequenceJob,
    SequenceNote,
    SequenceProblem,
    SequenceTask,
    WorkArea,
)
from gateway.upstreams.gofilex.portals import DEFAULT_PORTAL

MAX_ORDER_IDS = 1000


async def _sequence_job(info: Info, work_area_id: str, job_id: str, deleted: bool) -> SequenceJob | None:
    try:
        record = await info.context.loaders.job.load(JobKey(work_area_id, job_id, deleted))
    except NotFound:
        return None
    return SequenceJob(record=record)


async def _order(info: Info, portal: str, order_id: str) -> GofilexOrder | None:
    status = await info.context.loaders.order_status.load(OrderKey(portal, order_id))
    return order_of(portal, order_id, status) if status else None


# How each Node type is fetched again from the parts of its global id.
async def _node_work_area(info: Info, parts: list[str]) -> Node | None:
    (work_area_id,) = parts
    record = await info.context.loaders.work_area.load(work_area_id)
    return WorkArea(work_area_id=strawberry.ID(record.work_area_id), name_value=record.name)


async def _node_job(info: Info, parts: list[str]) -> Node | None:
    work_area_id, job_id = parts
    # A job deleted since its id was handed out is found in the deleted view.
    return await _sequence_job(info, work_area_id, job_id, False) or await _sequence_job(
        info, work_area_id, job_id, True
    )


NodeResolver = Callable[[Info, list[str]], Awaitable[Node | None]]


def _node_child(kind: Kind, make: Callable[..., Node]) -> NodeResolver:
    async def resolve(info: Info, parts: list[str]) -> Node | None:
        work_area_id, job_id, view, child_id = parts
        deleted = view == "deleted"
        try:
            job = await info.context.loaders.job.load(JobKey(work_area_id, job_id, deleted))
            children = await info.context.loaders.children.load(ChildrenKey(work_area_id, job_id, deleted, kind))
        except NotFound:
            return None
        return next((make(record=child, job=job) for child in children if child.child_id == child_id), None)

    return resolve


async def _node_order(info: Info, parts: list[str]) -> Node | None:
    portal, order_id = parts
    return await _order(info, _portal(portal).value, order_id)


async def _node_gofilex_job(info: Info, parts: list[str]) -> Node | None:
    portal, order_id, job_id = parts
    order = order_of(_portal(portal).value, order_id)
    try:
        records = await info.context.loaders.order_jobs.load(OrderKey(order.portal.value, order_id))
    except NotFound:
        return None
    return JobGraph(order, records).by_id.get(job_id)


NODE_RESOLVERS: dict[str, tuple[int, NodeResolver]] = {
    "WorkArea": (1, _node_work_area),
    "SequenceJob": (2, _node_job),
    "SequenceTask": (4, _node_child("tasks", SequenceTask)),
    "SequenceAsset": (4, _node_child("assets", SequenceAsset)),
    "SequenceNote": (4, _node_child("notes", SequenceNote)),
    "SequenceProblem": (4, _node_child("problems", SequenceProblem)),
    "SequenceHook": (4, _node_child("hooks", SequenceHook)),
    "GofilexOrder": (2, _node_order),
    "GofilexJob": (3, _node_gofilex_job),
}


def _portal(value: str) -> GofilexPortal:
    try:
        return GofilexPortal(value)
    except ValueError:
        raise BadUserInput(f"{value!r} is not a Gofilex portal") from None


@strawberry.type
class Query:
    @strawberry.field(description="Any object with a global id, fetched again; null when it no longer exists.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, parts = parse_global_id(id)
        entry = NODE_RESOLVERS.get(type_name)
        if entry is None or len(parts) != entry[0]:
            raise BadUserInput(f"{id!r} is not a valid node id")
        return await entry[1](info, parts)

    @strawberry.field(description="The Sequence work areas the gateway's user can see.")
    async def work_areas(self, info: Info) -> list[WorkArea]:
        records = await info.context.loaders.work_areas.load(ALL_WORK_AREAS)
        return [WorkArea(work_area_id=strawberry.ID(area.work_area_id), name_value=area.name) for area in records]

    @strawberry.field(description="One work area; its fields fail with NOT_FOUND when Sequence has no such work area.")
    def work_area(self, work_area_id: strawberry.ID) -> WorkArea | None:
        return WorkArea(work_area_id=strawberry.ID(sequence_id(work_area_id)))

    @strawberry.field(description="One Sequence job; `deleted: true` reads it through the deleted view.")
    async def sequence_job(
        self, info: Info, work_area_id: strawberry.ID, job_id: strawberry.ID, deleted: bool = False
    ) -> SequenceJob | None:
        return await _sequence_job(info, str(work_area_id), str(job_id), deleted)

    @strawberry.field(description="One Gofilex order of a portal; null when the portal does not know it.")
    async def gofilex_order(
        self, info: Info, order_id: strawberry.ID, portal: GofilexPortal = DEFAULT_PORTAL
    ) -> GofilexOrder | None:
        return await _order(info, portal.value, str(order_id))

    @strawberry.field(description="Gofilex orders of a portal in one orders/status call; null for unknown ids.")
    async def gofilex_orders(
        self, info: Info, order_ids: list[strawberry.ID], portal: GofilexPortal = DEFAULT_PORTAL
    ) -> list[GofilexOrder | None]:
        if len(order_ids) > MAX_ORDER_IDS:
            raise BadUserInput(f"at most {MAX_ORDER_IDS} order ids per query, got {len(order_ids)}")
        keys = [OrderKey(portal.value, str(order_id)) for order_id in order_ids]
        statuses = await info.context.loaders.order_status.load_many(keys)
        return [
            order_of(key.portal, key.order_id, status) if status else None
            for key, status in zip(keys, statuses, strict=True)
        ]
