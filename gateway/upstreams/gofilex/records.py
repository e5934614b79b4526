"""Gofilex orders and jobs as the gateway holds them (seed 002, upstreams/gofilex.md).

Types and states stay strings: Gofilex may add values at any time and an
unknown one must never fail a query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartyRecord:
    party_id: str | None
    name: str | None


@dataclass(frozen=True, slots=True)
class OrderStatusRecord:
    order_id: str
    portal: str
    type: str | None = None
    medium: str | None = None
    owner: PartyRecord | None = None
    company: PartyRecord | None = None
    state: str | None = None
    progress_step: int | None = None
    progress_total: int | None = None


@dataclass(frozen=True, slots=True)
class DcpAssetRecord:
    uuid: str
    role: str
    hash: str | None = None
    size: int | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class DcpRecord:
    uuid: str
    description: str | None = None
    content_kind: str | None = None
    standard: str | None = None
    size: int | None = None
    assets: tuple[DcpAssetRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class TransferProgressRecord:
    done: bool
    percentage: float
    skip: int | None = None
    step: int | None = None
    total: int | None = None
    speed: float | None = None


@dataclass(frozen=True, slots=True)
class RunErrorRecord:
    # The upstream's `stack` is deliberately not kept: it is server internals.
    code: str | None = None
    message: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    attempt: int | None = None
    start: dt.datetime | None = None
    update: dt.datetime | None = None
    finish: dt.datetime | None = None
    download: TransferProgressRecord | None = None
    hash: TransferProgressRecord | None = None
    error: RunErrorRecord | None = None


@dataclass(frozen=True, slots=True)
class GofilexJobRecord:
    job_id: str
    order_id: str
    portal: str
    type: str
    state: str
    running: bool = False
    completed: bool = False
    runs: int = 0
    retries: int = 0
    priority: int = 0
    category: str | None = None
    weak_dependencies: bool = False
    resolved: tuple[str, ...] = ()
    remaining: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    description: str | None = None
    dcp: DcpRecord | None = None
    run: RunRecord | None = None
