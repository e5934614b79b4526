"""Deterministic Gofilex data: per portal, orders in every state with their job graphs.

The same seed and clock give the same data, so tests and benchmarks can name
orders. Each order holds one to three DCPs; each DCP gets a `download` job and
a `link` job that depends strongly on it, and one weak `email` job depends on
all the links (the seed's graph). Runs are laid out in time so that they end
before "now", except a running download, which is still going at "now".
"""

from __future__ import annotations

import datetime as dt
import enum
import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.simulators.clock import Clock
from gateway.simulators.gofilex.model import (
    Dcp,
    Job,
    JobState,
    JobType,
    Order,
    OrderKind,
    Party,
    Run,
    RunError,
    Transfer,
)
from gateway.simulators.gofilex.names import (
    BRANDS,
    CINEMAS,
    DISTRIBUTORS,
    FEATURE_TITLES,
    TERRITORIES,
    label_token,
)
from gateway.simulators.gofilex.packages import make_dcp, meteor_id

MB = 1_000_000


class Portal(enum.StrEnum):
    EMEA = "EMEA"
    APAC = "APAC"
    MPS = "MPS"
    NORAM = "NORAM"


@dataclass(frozen=True)
class GofilexData:
    """Every portal's orders by id; portals share no ids (gofilex.md §1, inferred)."""

    portals: Mapping[Portal, Mapping[str, Order]]

    def orders(self, portal: Portal) -> Mapping[str, Order]:
        return self.portals[portal]

    def linkable_orders(self, portal: Portal) -> list[str]:
        """Ids a Sequence job may name in a tag: every order whose jobs can still be fetched."""
        return [order.id for order in self.portals[portal].values() if not order.cleaned]


def generate_gofilex(seed: int, clock: Clock, orders_per_portal: int = 120) -> GofilexData:
    moment = clock.now()
    now = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    portals = {}
    for portal in Portal:
        # A string seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED.
        generator = _PortalGenerator(random.Random(f"{seed}:gofilex:{portal}"), portal, now)
        orders = (generator.order(kind) for kind in _kinds(generator.rng, orders_per_portal))
        portals[portal] = MappingProxyType({order.id: order for order in orders})
    return GofilexData(MappingProxyType(portals))


_KIND_WEIGHTS = {
    OrderKind.COMPLETED: 40,
    OrderKind.CLEANED: 20,
    OrderKind.RUNNING: 15,
    OrderKind.FAILED: 10,
    OrderKind.QUEUED: 15,
}

# How long an order has sat since its last job ended, in days.
_IDLE_DAYS = {
    OrderKind.COMPLETED: (1.0, 45.0),
    OrderKind.CLEANED: (30.0, 120.0),
    OrderKind.FAILED: (0.05, 7.0),
    OrderKind.RUNNING: (0.0, 0.0),
    OrderKind.QUEUED: (0.0, 2.0),
}

_LINK_STATES = {
    JobState.COMPLETED: JobState.COMPLETED,
    # inferred: a strong (weak: false) dependent of a failed job can never run;
    # we call it cancelled and list the failed download in its `rejected`.
    JobState.FAILED: JobState.CANCELLED,
    JobState.RUNNING: JobState.QUEUED,
    JobState.QUEUED: JobState.QUEUED,
}


def _kinds(rng: random.Random, count: int) -> list[OrderKind]:
    """A weighted mix that holds every kind at least once when `count` allows."""
    kinds = list(OrderKind)[:count]
    kinds += rng.choices(list(_KIND_WEIGHTS), weights=list(_KIND_WEIGHTS.values()), k=max(0, count - len(kinds)))
    rng.shuffle(kinds)
    return kinds


def _duration(seconds: float) -> dt.timedelta:
    # Gofilex timestamps carry milliseconds, so every duration is whole milliseconds.
    return dt.timedelta(milliseconds=round(seconds * 1000))


@dataclass(frozen=True, slots=True)
class _Plan:
    """One DCP's download and link, before they are placed in time."""

    dcp: Dcp
    state: JobState  # of the download
    retries: int
    runs: int
    transfer: Transfer | None  # at the end of the run; for a running one, at its start
    error: RunError | None
    transfer_seconds: float  # so far, for a running download
    verify_seconds: float
    link_delay_seconds: float
    link_seconds: float
    gap_seconds: float  # before the next download starts

    @property
    def seconds(self) -> float:
        """From this download's start to the next one's."""
        if self.state is JobState.COMPLETED:
            link = self.link_delay_seconds + self.link_seconds
            return self.transfer_seconds + self.verify_seconds + link + self.gap_seconds
        if self.state is JobState.FAILED:
            return self.transfer_seconds + self.verify_seconds + self.gap_seconds
        return self.transfer_seconds


class _PortalGenerator:
    def __init__(self, rng: random.Random, portal: Portal, now: dt.datetime) -> None:
        self.rng = rng
        self.portal = portal
        self.now = now
        self._ids: set[str] = set()
        # Gofilex numbers versions and orders from one counter (the seed's 698217, 698219, 698246).
        self._serial = rng.randint(600_000, 700_000)
        self.owners = [(distributor, Party(self.id(), distributor.name)) for distributor in DISTRIBUTORS[portal]]
        self.cinemas = [Party(self.id(), name) for name in CINEMAS[portal]]

    def id(self) -> str:
        while (new := meteor_id(self.rng)) in self._ids:
            pass
        self._ids.add(new)
        return new

    def serial(self) -> int:
        self._serial += self.rng.randint(1, 30)
        return self._serial

    def order(self, kind: OrderKind) -> Order:
        rng = self.rng
        order_id = self.id()
        distributor, owner = rng.choice(self.owners)
        company = rng.choice(self.cinemas)
        territory = rng.choice(TERRITORIES[self.portal])
        # inferred: physical (disk) orders are rare and, their jobs being
        # undocumented, get the same job graph as electronic ones.
        medium = "physical" if rng.random() < 0.1 else "electronic"
        film = rng.choice(FEATURE_TITLES)
        idle = dt.timedelta(days=rng.uniform(*_IDLE_DAYS[kind]))
        mastered = (self.now - idle - dt.timedelta(days=rng.randint(3, 150))).date()
        dcps = tuple(
            make_dcp(
                rng,
                kind=content,
                title=title,
                distributor=distributor,
                territory=territory,
                mastered=mastered,
                serial=self.serial(),
            )
            for content, title in self._content(film)
        )
        standard = "SMPTE" if dcps[0].standard == "SMPTE" else "IOP"
        label = f"{self.serial()}_{label_token(film)}-{standard}_{territory.audio_language}-{territory.country}"
        jobs = () if kind is OrderKind.CLEANED else self._jobs(kind, dcps, label, idle)
        return Order(order_id, kind, medium, owner, company, label, dcps, jobs)

    def _content(self, film: str) -> list[tuple[str, str]]:
        """(content kind, title) of each DCP: a feature with its trailers, or a pre-show reel."""
        rng = self.rng
        if rng.random() < 0.4:
            trailers = [(rng.choice(("trailer", "trailer", "teaser")), rng.choice(FEATURE_TITLES)) for _ in range(2)]
            return [("feature", film), *trailers[: rng.randint(0, 2)]]
        kinds = rng.choices(("trailer", "teaser", "advertisement", "short"), weights=(5, 1, 2, 1), k=rng.randint(1, 3))
        return [(kind, rng.choice(BRANDS if kind == "advertisement" else FEATURE_TITLES)) for kind in kinds]

    def _download_states(self, kind: OrderKind, count: int) -> list[JobState]:
        if kind is OrderKind.QUEUED:
            return [JobState.QUEUED] * count
        states = [JobState.COMPLETED] * count
        if kind is OrderKind.FAILED:
            states[self.rng.randrange(count)] = JobState.FAILED
        elif kind is OrderKind.RUNNING:
            running = self.rng.randrange(count)
            states[running:] = [JobState.RUNNING] + [JobState.QUEUED] * (count - running - 1)
        return states

    def _plan(self, dcp: Dcp, state: JobState) -> _Plan:
        rng = self.rng
        total = dcp.size
        # inferred: `_retries` is the retry budget, not a count of retries made:
        # the seed's completed downloads show `_runs: 1` with `_retries: 2`.
        retries = rng.choice((1, 2, 2, 3)) if state is JobState.FAILED else rng.choice((0, 1, 2, 2, 2, 3))
        runs, transfer, error, seconds = 0, None, None, 0.0
        if state is JobState.COMPLETED:
            runs = 2 if retries and rng.random() < 0.2 else 1
            skip = int(total * rng.uniform(0.1, 0.6)) if runs > 1 else 0
            transfer = Transfer(total, skip, total, 0)
            seconds = (total - skip) / (rng.randint(20, 110) * MB)
        elif state is JobState.FAILED:
            # The last attempt resumed where earlier ones stopped (the seed's
            # failed run skips 80% and stops at 93.5%); attempt -1 = none left.
            runs = retries + 1
            skip = int(total * rng.uniform(0.3, 0.85))
            step = skip + int((total - skip) * rng.uniform(0.1, 0.9))
            transfer = Transfer(total, skip, step, 0)
            seconds = (step - skip) / (rng.randint(2, 12) * MB)
            error = self._error(dcp)
        elif state is JobState.RUNNING:
            runs = 2 if retries and rng.random() < 0.3 else 1
            skip = int(total * rng.uniform(0.2, 0.5)) if runs > 1 else 0
            # Slower than the seed's finished trailers (45-57 MB/s) so that a
            # run stays visibly in progress for a while under a wall clock.
            speed = rng.randint(3, 60) * MB
            transfer = Transfer(total, skip, skip, speed)
            seconds = (total * rng.uniform(skip / total + 0.05, 0.75) - skip) / speed
        return _Plan(
            dcp,
            state,
            retries,
            runs,
            transfer,
            error,
            transfer_seconds=seconds,
            verify_seconds=rng.uniform(2.0, 6.0),
            link_delay_seconds=rng.uniform(3.0, 8.0),
            link_seconds=rng.uniform(0.1, 0.3),
            gap_seconds=rng.uniform(5.0, 70.0),
        )

    def _error(self, dcp: Dcp) -> RunError:
        picture = next(asset for asset in dcp.assets if asset.role == "picture")
        part = f"/data/gofilex/library/{picture.uuid}.pic.part"
        host = f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        # The seed's error, drawn twice as often as three inferred Node.js errors.
        return self.rng.choice(
            (
                RunError("ENOENT", f"ENOENT, rename '{part}'"),
                RunError("ENOENT", f"ENOENT, rename '{part}'"),
                RunError("ENOSPC", f"ENOSPC, write '{part}'"),
                RunError("ECONNRESET", "socket hang up"),
                RunError("ETIMEDOUT", f"connect ETIMEDOUT {host}:443"),
            )
        )

    def _jobs(self, kind: OrderKind, dcps: tuple[Dcp, ...], label: str, idle: dt.timedelta) -> tuple[Job, ...]:
        rng = self.rng
        priority = rng.choice((0, 0, 0, 0, 0, 0, 1, 5))
        states = self._download_states(kind, len(dcps))
        plans = [self._plan(dcp, state) for dcp, state in zip(dcps, states, strict=True)]
        email_delay, email_seconds = rng.uniform(0.5, 60.0), rng.uniform(0.3, 0.6)
        busy = _duration(sum(plan.seconds for plan in plans))
        # A running download is still going now; otherwise the last job ended `idle` ago.
        cursor = self.now - busy
        if kind is not OrderKind.RUNNING:
            cursor -= _duration(email_delay + email_seconds) + idle
        jobs: list[Job] = []
        settled: list[dt.datetime] = []
        for plan in plans:
            download_id, link_id = self.id(), self.id()
            download_run = link_run = None
            if plan.state is JobState.RUNNING:
                download_run = Run(self.id(), download_id, cursor, None, None, plan.transfer)
            elif plan.state is not JobState.QUEUED:
                update = cursor + _duration(plan.transfer_seconds)
                finish = update + _duration(plan.verify_seconds)
                download_run = Run(self.id(), download_id, cursor, update, finish, plan.transfer, plan.error)
                settled.append(finish)
                if plan.state is JobState.COMPLETED:
                    # A link run is instant: its update is its start (seed).
                    start = finish + _duration(plan.link_delay_seconds)
                    link_finish = start + _duration(plan.link_seconds)
                    link_run = Run(self.id(), link_id, start, start, link_finish, None)
                    settled.append(link_finish)
            cursor += _duration(plan.seconds)
            jobs.append(
                Job(
                    download_id,
                    JobType.DOWNLOAD,
                    plan.state,
                    plan.runs,
                    plan.retries,
                    priority,
                    # The seed's download jobs depend on nothing.
                    weak=False,
                    resolved=(),
                    remaining=(),
                    rejected=(),
                    description=plan.dcp.description,
                    dcp=plan.dcp,
                    run=download_run,
                )
            )
            link_state, dependency = _LINK_STATES[plan.state], {download_id: plan.state}
            jobs.append(_dependent(link_id, JobType.LINK, link_state, priority, dependency, plan, link_run))
        links = {job.id: job.state for job in jobs if job.type is JobType.LINK}
        email_id, email_run = self.id(), None
        # Weak: the email goes out once every link has settled, even when one
        # was cancelled (gofilex.md §6 reading of `weak`, inferred).
        if JobState.QUEUED not in links.values():
            start = max(settled) + _duration(email_delay)
            email_run = Run(self.id(), email_id, start, start, start + _duration(email_seconds), None)
        email_state = JobState.QUEUED if email_run is None else JobState.COMPLETED
        jobs.append(_dependent(email_id, JobType.EMAIL, email_state, priority, links, label, email_run))
        # The seed lists an order's jobs sorted by `_id` (Mongo's natural order, inferred).
        return tuple(sorted(jobs, key=lambda job: job.id))


def _dependent(
    job_id: str,
    job_type: JobType,
    state: JobState,
    priority: int,
    dependencies: Mapping[str, JobState],
    subject: _Plan | str,
    run: Run | None,
) -> Job:
    """A link or email job; `subject` is the link's DCP plan or the email's description.

    Links depend strongly on their download, the email weakly on every link (seed).
    """
    settled = {JobState.COMPLETED: "resolved", JobState.FAILED: "rejected", JobState.CANCELLED: "rejected"}
    lists: dict[str, list[str]] = {"resolved": [], "remaining": [], "rejected": []}
    for dependency, dependency_state in dependencies.items():
        lists[settled.get(dependency_state, "remaining")].append(dependency)
    return Job(
        job_id,
        job_type,
        state,
        runs=0 if run is None else 1,
        retries=0,
        priority=priority,
        weak=job_type is JobType.EMAIL,
        resolved=tuple(lists["resolved"]),
        remaining=tuple(lists["remaining"]),
        rejected=tuple(lists["rejected"]),
        description=subject if isinstance(subject, str) else subject.dcp.description,
        dcp=None if isinstance(subject, str) else subject.dcp,
        run=run,
    )
