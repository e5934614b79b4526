"""Gofilex types: orders and the job graph inside each order."""

from __future__ import annotations

import datetime as dt

import strawberry

from gateway.loaders import OrderKey
from gateway.schema.context import Info
from gateway.schema.enums import GofilexPortal
from gateway.schema.ids import global_id
from gateway.schema.node import Node
from gateway.schema.scalars import Long, long_or_none
from gateway.upstreams.gofilex.records import (
    DcpAssetRecord,
    DcpRecord,
    GofilexJobRecord,
    OrderStatusRecord,
    PartyRecord,
    RunRecord,
    TransferProgressRecord,
)


@strawberry.type(description="A distributor or a cinema company as Gofilex names it.")
class GofilexParty:
    party_id: strawberry.ID | None
    name: str | None

    @classmethod
    def of(cls, record: PartyRecord | None) -> GofilexParty | None:
        if record is None:
            return None
        party_id = None if record.party_id is None else strawberry.ID(record.party_id)
        return cls(party_id=party_id, name=record.name)


@strawberry.type(description="Bytes transferred so far for an order.")
class GofilexOrderProgress:
    step: Long | None
    total: Long | None


@strawberry.type(description="A Gofilex order on one portal: its status, and the jobs that deliver it.")
class GofilexOrder(Node):
    order_id: strawberry.ID
    portal: GofilexPortal
    status: strawberry.Private[OrderStatusRecord | None] = None

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(global_id("GofilexOrder", self.portal.value, self.order_id))

    async def _status(self, info: Info) -> OrderStatusRecord | None:
        if self.status is None:
            self.status = await info.context.loaders.order_status.load(OrderKey(self.portal.value, self.order_id))
        return self.status

    @strawberry.field(description="The order's state from orders/status (e.g. queued); null when unknown.")
    async def state(self, info: Info) -> str | None:
        status = await self._status(info)
        return status.state if status else None

    @strawberry.field(description="Order type, e.g. transfer or key.")
    async def order_type(self, info: Info) -> str | None:
        status = await self._status(info)
        return status.type if status else None

    @strawberry.field(description="electronic or physical.")
    async def medium(self, info: Info) -> str | None:
        status = await self._status(info)
        return status.medium if status else None

    @strawberry.field(description="The distributor that owns the order.")
    async def distributor(self, info: Info) -> GofilexParty | None:
        status = await self._status(info)
        return GofilexParty.of(status.owner) if status else None

    @strawberry.field(description="The cinema company receiving the order.")
    async def company(self, info: Info) -> GofilexParty | None:
        status = await self._status(info)
        return GofilexParty.of(status.company) if status else None

    @strawberry.field(description="Bytes transferred so far, from orders/status.")
    async def progress(self, info: Info) -> GofilexOrderProgress | None:
        status = await self._status(info)
        if status is None or (status.progress_step is None and status.progress_total is None):
            return None
        return GofilexOrderProgress(step=long_or_none(status.progress_step), total=long_or_none(status.progress_total))

    @strawberry.field(description="The order's jobs (download, link, email ...); empty for a cleaned order.")
    async def jobs(self, info: Info) -> list[GofilexJob]:
        records = await info.context.loaders.order_jobs.load(OrderKey(self.portal.value, self.order_id))
        graph = JobGraph(self, records)
        return graph.jobs

    @strawberry.field(description="True when Gofilex has removed the order's jobs after delivery (no jobs left).")
    async def cleaned(self, info: Info) -> bool:
        return not await info.context.loaders.order_jobs.load(OrderKey(self.portal.value, self.order_id))


class JobGraph:
    """The jobs of one order, so dependencies resolve to job objects inside it."""

    def __init__(self, order: GofilexOrder, records: tuple[GofilexJobRecord, ...]) -> None:
        self.jobs = [GofilexJob(record=record, order=order, graph=self) for record in records]
        self.by_id = {job.record.job_id: job for job in self.jobs}

    def find(self, job_ids: tuple[str, ...]) -> list[GofilexJob]:
        # Ids outside the order cannot be resolved here and are left out.
        return [self.by_id[job_id] for job_id in job_ids if job_id in self.by_id]

    def dependents(self, job_id: str) -> list[GofilexJob]:
        return [job for job in self.jobs if job_id in _dependencies(job.record)]


def _dependencies(record: GofilexJobRecord) -> tuple[str, ...]:
    return record.resolved + record.remaining + record.rejected


@strawberry.type(description="Bytes and speed of one transfer phase of a run (download or hash).")
class GofilexTransferProgress:
    done: bool
    percentage: float
    skip: Long | None
    step: Long | None
    total: Long | None
    speed: float | None

    @classmethod
    def of(cls, record: TransferProgressRecord | None) -> GofilexTransferProgress | None:
        if record is None:
            return None
        return cls(
            done=record.done,
            percentage=record.percentage,
            skip=long_or_none(record.skip),
            step=long_or_none(record.step),
            total=long_or_none(record.total),
            speed=record.speed,
        )


@strawberry.type
class GofilexRunProgress:
    download: GofilexTransferProgress | None
    hash: GofilexTransferProgress | None


@strawberry.type(description="Why a run failed. The upstream's stack trace is not exposed.")
class GofilexRunError:
    code: str | None
    message: str | None
    name: str | None


@strawberry.type(description="The latest run of a job.")
class GofilexRun:
    run_id: strawberry.ID
    attempt: int | None = strawberry.field(description="The attempt number; -1 once the job has given up.")
    start: dt.datetime | None
    update: dt.datetime | None
    finish: dt.datetime | None
    progress: GofilexRunProgress | None
    error: GofilexRunError | None

    @classmethod
    def of(cls, record: RunRecord | None) -> GofilexRun | None:
        if record is None:
            return None
        progress = None
        if record.download or record.hash:
            progress = GofilexRunProgress(
                download=GofilexTransferProgress.of(record.download), hash=GofilexTransferProgress.of(record.hash)
            )
        error = record.error
        return cls(
            run_id=strawberry.ID(record.run_id),
            attempt=record.attempt,
            start=record.start,
            update=record.update,
            finish=record.finish,
            progress=progress,
            error=GofilexRunError(code=error.code, message=error.message, name=error.name) if error else None,
        )


@strawberry.type(description="One file of a DCP.")
class DcpAsset:
    uuid: strawberry.ID
    hash: str | None
    role: str
    size: Long | None
    path: str | None

    @classmethod
    def of(cls, record: DcpAssetRecord) -> DcpAsset:
        return cls(
            uuid=strawberry.ID(record.uuid),
            hash=record.hash,
            role=record.role,
            size=long_or_none(record.size),
            path=record.path,
        )


@strawberry.type(description="A Digital Cinema Package a job delivers.")
class DigitalCinemaPackage:
    uuid: strawberry.ID
    description: str | None
    content_kind: str | None
    standard: str | None
    size: Long | None
    assets: list[DcpAsset]

    @classmethod
    def of(cls, record: DcpRecord | None) -> DigitalCinemaPackage | None:
        if record is None:
            return None
        return cls(
            uuid=strawberry.ID(record.uuid),
            description=record.description,
            content_kind=record.content_kind,
            standard=record.standard,
            size=long_or_none(record.size),
            assets=[DcpAsset.of(asset) for asset in record.assets],
        )


@strawberry.type(description="A job of a Gofilex order (download, link, email ...), a node of the order's graph.")
class GofilexJob(Node):
    record: strawberry.Private[GofilexJobRecord]
    order: GofilexOrder = strawberry.field(description="The order this job belongs to.")
    graph: strawberry.Private[JobGraph]

    @strawberry.field(description="Global id.")
    def id(self) -> strawberry.ID:
        record = self.record
        return strawberry.ID(global_id("GofilexJob", record.portal, record.order_id, record.job_id))

    @strawberry.field
    def job_id(self) -> strawberry.ID:
        return strawberry.ID(self.record.job_id)

    @strawberry.field(description="download, link, email ... (Gofilex may add types).")
    def type(self) -> str:
        return self.record.type

    @strawberry.field(description="completed, running, failed, queued ... (Gofilex may add states).")
    def state(self) -> str:
        return self.record.state

    @strawberry.field
    def category(self) -> str | None:
        return self.record.category

    @strawberry.field
    def running(self) -> bool:
        return self.record.running

    @strawberry.field
    def completed(self) -> bool:
        return self.record.completed

    @strawberry.field
    def runs(self) -> int:
        return self.record.runs

    @strawberry.field
    def retries(self) -> int:
        return self.record.retries

    @strawberry.field
    def priority(self) -> int:
        return self.record.priority

    @strawberry.field(description="True when the job runs once its dependencies settle, even if some failed.")
    def weak_dependencies(self) -> bool:
        return self.record.weak_dependencies

    @strawberry.field(description="Every job of the order this job depends on.")
    def depends_on(self) -> list[GofilexJob]:
        return self.graph.find(_dependencies(self.record))

    @strawberry.field(description="Dependencies that completed.")
    def resolved_dependencies(self) -> list[GofilexJob]:
        return self.graph.find(self.record.resolved)

    @strawberry.field(description="Dependencies still to complete.")
    def remaining_dependencies(self) -> list[GofilexJob]:
        return self.graph.find(self.record.remaining)

    @strawberry.field(description="Dependencies that failed.")
    def rejected_dependencies(self) -> list[GofilexJob]:
        return self.graph.find(self.record.rejected)

    @strawberry.field(description="Jobs of the order that depend on this one.")
    def dependents(self) -> list[GofilexJob]:
        return self.graph.dependents(self.record.job_id)

    @strawberry.field
    def description(self) -> str | None:
        return self.record.description

    @strawberry.field
    def digital_cinema_package(self) -> DigitalCinemaPackage | None:
        return DigitalCinemaPackage.of(self.record.dcp)

    @strawberry.field(description="The latest run, with its progress or error.")
    def run(self) -> GofilexRun | None:
        return GofilexRun.of(self.record.run)


def order_of(portal: str, order_id: str, status: OrderStatusRecord | None = None) -> GofilexOrder:
    return GofilexOrder(order_id=strawberry.ID(order_id), portal=GofilexPortal(portal), status=status)
