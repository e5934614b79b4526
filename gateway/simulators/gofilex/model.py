"""Gofilex orders and their job graphs, as the simulator stores them.

Everything is frozen: the data is generated once, and the only thing that
changes over time is a running download's progress, which is derived from the
clock when a response is rendered (wire.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from dataclasses import dataclass


class OrderKind(enum.StrEnum):
    """How far an order got; chosen by the generator, read by tests."""

    COMPLETED = "completed"
    CLEANED = "cleaned"
    RUNNING = "running"
    FAILED = "failed"
    QUEUED = "queued"


class JobType(enum.StrEnum):
    DOWNLOAD = "download"
    LINK = "link"
    EMAIL = "email"


class JobState(enum.StrEnum):
    # Documented: completed (JBO), failed (seed). The rest are inferred.
    COMPLETED = "completed"
    FAILED = "failed"
    RUNNING = "running"
    QUEUED = "queued"
    # inferred: a strong dependent of a failed job can never run.
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Party:
    """A distributor (an order's `_owner`) or a cinema (its `company`)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Asset:
    uuid: str
    hash: str  # base64 SHA-1, as in DCP packing lists
    role: str
    size: int
    path: str


@dataclass(frozen=True, slots=True)
class Dcp:
    uuid: str  # the asset map's uuid, as in the seed
    description: str
    content_kind: str
    standard: str
    assets: tuple[Asset, ...]

    @property
    def size(self) -> int:
        return sum(asset.size for asset in self.assets)


@dataclass(frozen=True, slots=True)
class Transfer:
    """Byte counters of a download run; the seed reports the same ones for download and hash."""

    total: int
    skip: int  # bytes already on disk from an earlier attempt
    step: int  # bytes on disk, `skip` included
    speed: int  # bytes per second; 0 once the run has ended


@dataclass(frozen=True, slots=True)
class RunError:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    job_id: str
    start: dt.datetime
    # Both None while running: the last update is "now" and there is no finish yet.
    update: dt.datetime | None
    finish: dt.datetime | None
    transfer: Transfer | None  # downloads only; for a running run, as it was at `start`
    error: RunError | None = None

    @property
    def running(self) -> bool:
        return self.finish is None

    def update_at(self, now: dt.datetime) -> dt.datetime:
        return self.update if self.update is not None else max(self.start, now)

    def transfer_at(self, now: dt.datetime) -> Transfer | None:
        if self.transfer is None or not self.running:
            return self.transfer
        elapsed = max(0.0, (now - self.start).total_seconds())
        # The data never changes, so a run cannot complete on its own: it
        # stalls just short of the end instead of reaching 100%.
        ceiling = self.transfer.total * 999 // 1000
        step = min(ceiling, self.transfer.skip + int(self.transfer.speed * elapsed))
        return dataclasses.replace(self.transfer, step=max(step, self.transfer.step))


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    type: JobType
    state: JobState
    runs: int
    retries: int
    priority: int
    weak: bool
    resolved: tuple[str, ...]
    remaining: tuple[str, ...]
    rejected: tuple[str, ...]
    description: str
    dcp: Dcp | None  # None for email jobs
    run: Run | None  # None until the job first runs

    @property
    def dependencies(self) -> tuple[str, ...]:
        return (*self.resolved, *self.remaining, *self.rejected)

    def bytes_at(self, now: dt.datetime) -> tuple[int, int]:
        """(step, total) of a download job; a job that never ran has moved nothing."""
        if self.dcp is None:
            raise ValueError(f"{self.type} job {self.id} moves no bytes")
        transfer = self.run.transfer_at(now) if self.run is not None else None
        return (transfer.step, transfer.total) if transfer is not None else (0, self.dcp.size)


# inferred: only `queued` is documented (OST); the other order states are guesses.
_ORDER_STATES = {
    OrderKind.COMPLETED: "completed",
    # The assets were removed after delivery (gofilex.md §4), so it was delivered.
    OrderKind.CLEANED: "completed",
    OrderKind.RUNNING: "transferring",
    OrderKind.FAILED: "failed",
    OrderKind.QUEUED: "queued",
}


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    kind: OrderKind
    medium: str  # "electronic" | "physical"
    owner: Party
    company: Party
    label: str  # the email job's description, e.g. "698246_LAST-NIGHT-IN-SOHO-SMPTE_EN-CAN"
    dcps: tuple[Dcp, ...]
    jobs: tuple[Job, ...]  # empty once cleaned: Gofilex deletes a cleaned order's jobs (seed)

    @property
    def cleaned(self) -> bool:
        return self.kind is OrderKind.CLEANED

    @property
    def state(self) -> str:
        return _ORDER_STATES[self.kind]

    def bytes_at(self, now: dt.datetime) -> tuple[int, int]:
        """(step, total) over the order's downloads, for `orders/status`."""
        if self.cleaned:
            total = sum(dcp.size for dcp in self.dcps)
            return total, total
        counters = [job.bytes_at(now) for job in self.jobs if job.type is JobType.DOWNLOAD]
        return sum(step for step, _ in counters), sum(total for _, total in counters)
