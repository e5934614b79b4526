"""`python -m benchmarks workday`: a working day's reads under Sequence's documented limit.

Every other benchmark runs the simulators with the rate limit off, so none of
them shows what the limit does to readers: one cold page of 50 jobs with their
tasks, assets, notes and problems costs 201 Sequence requests, more than the
135 the gateway allows itself per 31 s (issue 10). This scenario runs with the
limit on (150 per 30 s), 80 ± 20 ms per request, and Sequence changing its own
data 20 times a minute (`gateway simulate --activity 20`).

20 readers (`Reader`) each open, every 3 to 8 s, either a page of 50 jobs of
work area 10 with their children (70 %: page 1-10 and one of three filters,
both Zipf-distributed) or one job they have seen on a page, with the same
children (30 %). Every choice is drawn from a seeded generator, the same
draws in the same order whatever the answers, so both runs ask the same.

The workload runs twice, each time on fresh simulators and a fresh gateway
with the same seed: with the gateway's default settings (event-coherent cache
lifetimes) and with time-based lifetimes (GATEWAY_CACHE_LIFETIMES=time), the
baseline. Figures are taken after the warm-up only: a fixed span at the start
(3 minutes; `--warm-up`), the same in both runs, so the windows compare. The
cold pages cannot all be read inside it (see `cold_cost`): the report says
when every page of the plan had first been answered complete, if ever.

What is measured and how: latency and completeness per answer (no `errors`),
stale answers (`extensions.stale`) and their ages, staleness of changes
(benchmarks.staleness), Sequence requests from the simulator's `/_sim/stats`
(all of them: reads, the events poller's, digest challenges), 429s, and the
gateway's own `/readyz` (cache mode, poll interval, budget spent by class).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import datetime as dt
import itertools
import math
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import processes, report, targets
from benchmarks.measure import Calls, GraphQL, UpstreamStats, percentile
from benchmarks.queries import MAIN_WORK_AREA, WORKDAY_DETAIL, WORKDAY_PAGE
from benchmarks.staleness import Change, Interner, Shown, job_views, observe, summary
from gateway.config import SEQUENCE_BUDGET
from gateway.schema.ids import cursor

NOW = "2026-11-23T12:00:00Z"
PAGE_SIZE = 50
PAGES = 10
# None is the unfiltered list. RECEIVED and NOT_PROBLEMATIC share the most jobs
# with it of all the schema's filters, so the 30 pages hold the fewest distinct
# jobs (693 of the 3,000 with seed 42, where NOT_COMPLETED and PROBLEMATIC
# would make it 1,141): the cold cost is the warm-up's floor. Each still
# moves with the activity: an asset received joins RECEIVED, a problem leaves
# NOT_PROBLEMATIC.
FILTERS: tuple[str | None, ...] = (None, "RECEIVED", "NOT_PROBLEMATIC")
ZIPF_EXPONENT = 1.0
PAGE_SHARE = 0.7
THINK_SECONDS = (3.0, 8.0)
CHILD_KINDS = 4  # tasks, assets, notes, problems: one request each per job
SAMPLE_SECONDS = 5.0
READYZ_TIMEOUT = 60.0
MINUTES, WARM_UP_MINUTES = 10.0, 3.0
QUICK_MINUTES, QUICK_WARM_UP_MINUTES = 1.0, 0.3
GATEWAY_MODULE = "gateway"


@dataclass(frozen=True)
class Mode:
    """One run of the workload: a name, a label for the tables, and the gateway's environment on top of the defaults."""

    name: str
    label: str
    env: dict[str, str]


MODES = {
    "default": Mode("default", "default (event lifetimes)", {}),
    "baseline": Mode("baseline", "baseline (time lifetimes)", {"GATEWAY_CACHE_LIFETIMES": "time"}),
}


@dataclass
class Plan:
    quick: bool
    minutes: float
    warm_up_minutes: float
    users: int
    activity: float
    jobs: int
    seed: int
    now: str
    latency_ms: float
    jitter_ms: float
    modes: tuple[str, ...]
    gateway_env: dict[str, str]  # on top of the defaults, in every run (the mode's own win)

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def warm_up_seconds(self) -> float:
        return self.warm_up_minutes * 60


# The readers ------------------------------------------------------------------


def zipf_cumulative(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative Zipf shares of ranks 1..count (rank k weighs 1 / k**exponent)."""
    weights = list(itertools.accumulate(1 / rank**exponent for rank in range(1, count + 1)))
    return [weight / weights[-1] for weight in weights]


def zipf_rank(cumulative: Sequence[float], roll: float) -> int:
    """The rank (from 1) that a uniform `roll` in [0, 1) falls on."""
    return min(bisect.bisect_right(cumulative, roll), len(cumulative) - 1) + 1


def page_variables(filter_name: str | None, page: int) -> dict[str, Any]:
    """Variables of WORKDAY_PAGE for page `page` (from 1): the cursor of the job before it."""
    after = cursor(PAGE_SIZE * (page - 1) - 1) if page > 1 else None
    return {"wa": MAIN_WORK_AREA, "after": after, "filter": filter_name}


def page_key(filter_name: str | None, page: int) -> str:
    return f"{filter_name or 'ALL'} p{page}"


@dataclass(frozen=True)
class Action:
    kind: str  # "page" or "detail"
    filter: str | None
    page: int
    job: str | None
    think: float  # seconds from this request's start to the next one's

    @property
    def key(self) -> str:
        return page_key(self.filter, self.page) if self.kind == "page" else "detail"

    def request(self) -> tuple[str, dict[str, Any]]:
        if self.kind == "page":
            return WORKDAY_PAGE, page_variables(self.filter, self.page)
        return WORKDAY_DETAIL, {"wa": MAIN_WORK_AREA, "job": self.job}


class Reader:
    """One simulated user: what they open next, from a generator seeded by the run's seed and their number.

    Each step draws the same five numbers whatever it then opens, so two runs
    with the same seed ask the same while their readers have seen the same jobs.
    """

    _pages = zipf_cumulative(PAGES)
    _filters = zipf_cumulative(len(FILTERS))

    def __init__(self, seed: int, index: int) -> None:
        self.index = index
        self.rng = random.Random(f"workday:{seed}:{index}")
        self.first_delay = self.rng.uniform(0, THINK_SECONDS[1])
        self.seen: list[str] = []
        self._seen: set[str] = set()

    def next(self) -> Action:
        kind, page, filter_roll, job, think = (
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
            self.rng.random(),
            self.rng.uniform(*THINK_SECONDS),
        )
        if kind < PAGE_SHARE or not self.seen:
            chosen = FILTERS[zipf_rank(self._filters, filter_roll) - 1]
            return Action("page", chosen, zipf_rank(self._pages, page), None, think)
        return Action("detail", None, 0, self.seen[int(job * len(self.seen))], think)

    def saw(self, job_ids: Sequence[str]) -> None:
        for job_id in job_ids:
            if job_id not in self._seen:
                self._seen.add(job_id)
                self.seen.append(job_id)


@dataclass
class Answer:
    reader: int
    key: str  # "ALL p1", "RECEIVED p3" ... or "detail"
    started: float  # epoch seconds
    latency_ms: float
    complete: bool  # no `errors`
    codes: tuple[str, ...]  # the errors' codes
    stale_ages: tuple[float, ...]  # extensions.stale ageSeconds
    shown: Shown


def error_codes(body: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str((error.get("extensions") or {}).get("code") or error.get("message", "?"))[:80]
        for error in body.get("errors") or ()
    )


def stale_ages(body: dict[str, Any]) -> tuple[float, ...]:
    """The ages of the stale values an answer used (gateway.schema.request_scope)."""
    stale = (body.get("extensions") or {}).get("stale") or ()
    return tuple(float(notice.get("ageSeconds") or 0.0) for notice in stale)


# One run ------------------------------------------------------------------------


class ModeRun:
    """The workload on fresh simulators and a fresh gateway, in one mode."""

    def __init__(self, plan: Plan, mode: Mode, fleet: processes.Fleet, log: Any) -> None:
        self.plan = plan
        self.mode = mode
        self.fleet = fleet
        self.log = log
        self.answers: list[Answer] = []
        self.samples: list[tuple[float, int, int]] = []  # (seconds since start, Sequence requests, 429s)
        self.interner = Interner()

    async def run(self) -> dict[str, Any]:
        plan = self.plan
        self.log(f"{self.mode.name}: simulators (limit on, activity {plan.activity:g}/min), then the gateway")
        sims = processes.start_simulators(
            self.fleet,
            seed=plan.seed,
            now=plan.now,
            latency_ms=plan.latency_ms,
            jitter_ms=plan.jitter_ms,
            large=False,
            jobs=plan.jobs,
            rate_limit=True,
            activity=plan.activity,
        )
        env = sims.env | {"GATEWAY_HOST": processes.LOOPBACK, "GATEWAY_PORT": "0"} | plan.gateway_env | self.mode.env
        gateway, url = processes.start_graphql_server(
            self.fleet, f"gateway {self.mode.name}", GATEWAY_MODULE, ["serve"], env
        )
        stats = UpstreamStats(sims.sequence_base, sims.gofilex_base)
        # /readyz probes Sequence through the gateway's budget, so it may wait
        # for a window to open when the readers have spent it.
        control = httpx.AsyncClient(timeout=READYZ_TIMEOUT, trust_env=False)
        client = GraphQL(url, connections=plan.users + 4)
        try:
            return await self._measure(sims, url.removesuffix("/graphql"), stats, control, client)
        finally:
            await client.aclose()
            await control.aclose()
            await stats.aclose()
            self.fleet.stop(gateway)
            self.fleet.stop(sims.server)

    async def _measure(
        self,
        sims: processes.Simulators,
        base: str,
        stats: UpstreamStats,
        control: httpx.AsyncClient,
        client: GraphQL,
    ) -> dict[str, Any]:
        plan = self.plan
        activity = await _json(control, f"{sims.sequence_base}/_sim/activity")
        ready_start = await _json(control, f"{base}/readyz")
        start_calls = await stats.read(sequence_only=True)
        self.t0 = time.time()
        self.started = time.monotonic()
        until = self.started + plan.seconds
        self.log(
            f"{self.mode.name}: {plan.users} readers for {plan.minutes:g} min, warm-up {plan.warm_up_minutes:g} min"
        )
        readers = [Reader(plan.seed, index) for index in range(plan.users)]
        sampler = asyncio.create_task(self._sample(stats, until))
        # Counters and /readyz at the end of warm-up and at the end of the run;
        # requests still in flight then finish, but what they cost is not counted.
        warm = asyncio.create_task(self._snapshot(self.started + plan.warm_up_seconds, stats, control, base))
        end = asyncio.create_task(self._snapshot(until, stats, control, base))
        await asyncio.gather(*(self._read(reader, client, until) for reader in readers))
        final_calls = await stats.read(sequence_only=True)
        (warm_calls, ready_warm), (end_calls, ready_end) = await warm, await end
        await sampler
        changes = await _changes(control, sims.sequence_base)
        self.log(f"{self.mode.name}: {len(self.answers)} answers, {len(changes)} changes at the simulator")
        return self._analyse(
            changes=changes,
            calls={"start": start_calls, "warm": warm_calls, "end": end_calls, "final": final_calls},
            ready={"start": ready_start, "warm": ready_warm, "end": ready_end},
            activity=activity,
        )

    async def _read(self, reader: Reader, client: GraphQL, until: float) -> None:
        await asyncio.sleep(reader.first_delay)
        while time.monotonic() < until:
            action = reader.next()
            begun = time.monotonic()
            answer = await self._ask(reader.index, client, action)
            self.answers.append(answer)
            reader.saw(list(answer.shown.jobs))
            # The next request comes `think` seconds after this one started, or
            # as soon as this one is answered when it took longer.
            next_at = max(time.monotonic(), begun + action.think)
            if next_at >= until:
                return
            await asyncio.sleep(next_at - time.monotonic())

    async def _ask(self, index: int, client: GraphQL, action: Action) -> Answer:
        text, variables = action.request()
        started = time.time()
        try:
            seconds, body = await client.run(text, variables)
        except httpx.HTTPError as exc:
            seconds, body = time.time() - started, {"errors": [{"message": f"{type(exc).__name__}: {exc}"}]}
        data = body.get("data")
        return Answer(
            reader=index,
            key=action.key,
            started=started,
            latency_ms=seconds * 1000,
            complete=not body.get("errors"),
            codes=error_codes(body),
            stale_ages=stale_ages(body),
            shown=Shown(started, started + seconds, job_views(data if isinstance(data, dict) else None, self.interner)),
        )

    async def _sample(self, stats: UpstreamStats, until: float) -> None:
        while True:
            calls = await stats.read(sequence_only=True)
            self.samples.append((time.monotonic() - self.started, calls.total, calls.limited))
            left = until - time.monotonic()
            if left <= 0:
                return
            await asyncio.sleep(min(SAMPLE_SECONDS, left))

    async def _snapshot(
        self, moment: float, stats: UpstreamStats, control: httpx.AsyncClient, base: str
    ) -> tuple[Calls, dict[str, Any]]:
        """Sequence's counters and the gateway's /readyz at `moment` (monotonic seconds)."""
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        return await stats.read(sequence_only=True), await _json(control, f"{base}/readyz")

    # analysis -------------------------------------------------------------------------
    def _analyse(
        self,
        *,
        changes: list[Change],
        calls: dict[str, Any],
        ready: dict[str, dict[str, Any]],
        activity: dict[str, Any],
    ) -> dict[str, Any]:
        plan = self.plan
        warm_at = self.t0 + plan.warm_up_seconds
        end_at = self.t0 + plan.seconds
        after = [answer for answer in self.answers if answer.started >= warm_at]
        latencies = [answer.latency_ms for answer in after]
        stale = [answer for answer in after if answer.stale_ages]
        ages = [max(answer.stale_ages) for answer in stale]
        codes = Counter(code for answer in after for code in answer.codes)
        window = [change for change in changes if warm_at <= change.at <= end_at]
        observations = observe(window, [answer.shown for answer in self.answers])
        upstream = calls["end"].since(calls["warm"])
        interval = _dig(ready["end"], "events", "intervalSeconds")
        spent_end = _dig(ready["end"], "protection", "sequence", "budget", "spentByClass")
        spent_warm = _dig(ready["warm"], "protection", "sequence", "budget", "spentByClass")
        by_kind: dict[str, list[float]] = {}
        for answer in after:
            by_kind.setdefault("detail" if answer.key == "detail" else "page", []).append(answer.latency_ms)
        return {
            "mode": self.mode.name,
            "label": self.mode.label,
            "gateway_env": self.mode.env,
            "cache_lifetimes": {
                moment: _dig(ready[moment], "events", "cacheLifetimes") for moment in ("start", "warm", "end")
            },
            "interval_seconds": interval,
            "activity": activity,
            "answers": {
                "all": len(self.answers),
                "after_warm_up": len(after),
                "pages": len(by_kind.get("page", [])),
                "details": len(by_kind.get("detail", [])),
            },
            "latency": {
                "p50_ms": percentile(latencies, 0.50),
                "p95_ms": percentile(latencies, 0.95),
                "max_ms": max(latencies, default=math.nan),
                "page_p95_ms": percentile(by_kind.get("page", []), 0.95),
                "detail_p95_ms": percentile(by_kind.get("detail", []), 0.95),
            },
            "complete_share": sum(answer.complete for answer in after) / len(after) if after else math.nan,
            "errors_by_code": dict(codes.most_common()),
            "stale": {
                "answers": len(stale),
                "share": len(stale) / len(after) if after else math.nan,
                "age_p50_s": percentile(ages, 0.50),
                "age_p95_s": percentile(ages, 0.95),
                "age_max_s": max(ages, default=math.nan),
            },
            "staleness": summary(observations, untimed=sum(1 for change in window if not change.timed)),
            "upstream": {
                "sequence_requests": upstream.total,
                "reads": upstream.calls,
                "events_polls": upstream.events,
                "challenges": upstream.challenges,
                "by_route": upstream.by_route,
                "changes": len(window),
                "reads_per_change": upstream.total / len(window) if window else math.nan,
                "reads_per_change_without_polls": (upstream.total - upstream.events) / len(window)
                if window
                else math.nan,
                "limited_after_warm_up": upstream.limited,
                "limited_all": calls["final"].limited,
                "requests_all": calls["final"].total,
            },
            "budget_spent_by_class": {
                "end": spent_end,
                "after_warm_up": _minus(spent_end, spent_warm),
            },
            "warm": self._warm(),
            "timeline": {
                "t": [round(answer.started - self.t0, 2) for answer in self.answers],
                "ms": [round(answer.latency_ms, 1) for answer in self.answers],
                "complete": [answer.complete for answer in self.answers],
            },
            "upstream_samples": [list(sample) for sample in self.samples],
        }

    def _warm(self) -> dict[str, Any]:
        """When each page of the plan was first answered complete, and when all of them had been."""
        first: dict[str, float] = {}
        for answer in sorted(self.answers, key=lambda item: item.shown.finished):
            if answer.complete and answer.key != "detail":
                first.setdefault(answer.key, answer.shown.finished - self.t0)
        keys = [page_key(name, page) for name in FILTERS for page in range(1, PAGES + 1)]
        asked = {answer.key for answer in self.answers if answer.key != "detail"}
        done = [first[key] for key in keys if key in first]
        return {
            "pages": len(keys),
            "asked": len(asked),
            "complete_once": len(done),
            "every_page_complete_s": max(done) if len(done) == len(keys) else None,
            "first_complete_s": {key: round(first[key], 1) for key in keys if key in first},
        }


async def _json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The JSON body of a GET (a 503 from /readyz still carries its report); {} when there is none."""
    try:
        response = await client.get(url)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


async def _changes(client: httpx.AsyncClient, sequence_base: str) -> list[Change]:
    """The simulator's whole change log, a thousand entries a request."""
    changes: list[Change] = []
    after = 0
    while True:
        response = await client.get(f"{sequence_base}/_sim/changes", params={"after": after})
        response.raise_for_status()
        batch = [Change.from_log(entry) for entry in response.json()["changes"]]
        if not batch:
            return changes
        changes += batch
        after = max(change.seq for change in batch)


def _dig(body: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def _minus(end: Any, start: Any) -> dict[str, int] | None:
    if not isinstance(end, dict):
        return None
    start = start if isinstance(start, dict) else {}
    return {name: int(count) - int(start.get(name, 0)) for name, count in end.items()}


# The cold cost ---------------------------------------------------------------------


def cold_cost(plan: Plan) -> dict[str, Any]:
    """What the plan's pages cost to read once, cold, from the same data the simulator generates.

    Every distinct job on them needs one request per child kind; each page one
    list request at least. At 135 requests per 31 s that sets the floor of any
    warm-up, whatever the gateway does.
    """
    from gateway.simulators.apps import build_simulators
    from gateway.simulators.settings import SimulatorSettings

    store = build_simulators(SimulatorSettings(seed=plan.seed, now=plan.now, jobs=plan.jobs)).sequence_store
    jobs: set[int] = set()
    first_page: set[int] = set()
    pages = 0
    for name in FILTERS:
        listed = store.jobs(int(MAIN_WORK_AREA), deleted=False, filter_name=name.lower() if name else None)
        for page in range(PAGES):
            ids = {job.id for job in listed[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]}
            pages += 1
            jobs |= ids
            if name is None and page == 0:
                first_page = ids
    reads = pages + CHILD_KINDS * len(jobs)
    rate = SEQUENCE_BUDGET.effective_limit / SEQUENCE_BUDGET.span
    return {
        "pages": pages,
        "distinct_jobs": len(jobs),
        "reads": reads,
        "minutes_at_budget": reads / rate / 60,
        "first_page_reads": 1 + CHILD_KINDS * len(first_page),
        "budget": f"{SEQUENCE_BUDGET.effective_limit} per {SEQUENCE_BUDGET.span:g} s",
    }


# The whole run ------------------------------------------------------------------------


class Workday:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.fleet = processes.Fleet()
        self.results: dict[str, Any] = {
            "scenario": "workday",
            "meta": {
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "quick": plan.quick,
                "minutes": plan.minutes,
                "warm_up_minutes": plan.warm_up_minutes,
                "users": plan.users,
                "activity_per_minute": plan.activity,
                "jobs": plan.jobs,
                "seed": plan.seed,
                "now": plan.now,
                "latency_ms": plan.latency_ms,
                "jitter_ms": plan.jitter_ms,
                "filters": [name or "none" for name in FILTERS],
                "pages": PAGES,
                "page_share": PAGE_SHARE,
                "think_seconds": list(THINK_SECONDS),
                "gateway_env": plan.gateway_env,
                "zipf_exponent": ZIPF_EXPONENT,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "modes": {},
            "notes": [],
        }

    def log(self, message: str) -> None:
        print(f"[workday {time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)

    async def main(self) -> None:
        self.started = time.monotonic()
        try:
            self.results["cold_cost"] = await asyncio.to_thread(cold_cost, self.plan)
            for name in self.plan.modes:
                self.results["modes"][name] = await ModeRun(self.plan, MODES[name], self.fleet, self.log).run()
        finally:
            self.fleet.stop_all()
        self.results["meta"]["wall_seconds"] = time.monotonic() - self.started


def plan_for(args: argparse.Namespace) -> Plan:
    return Plan(
        quick=args.quick,
        minutes=args.minutes,
        warm_up_minutes=args.warm_up,
        users=args.users,
        activity=args.activity,
        jobs=args.jobs,
        seed=args.seed,
        now=args.now,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        modes=tuple(args.modes.split(",")),
        gateway_env=dict(setting.split("=", 1) for setting in args.gateway_env),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks workday",
        description="20 readers for 10 minutes under Sequence's rate limit, with event and with time lifetimes.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_MINUTES:g} minutes a run, {QUICK_WARM_UP_MINUTES:g} of them warm-up (about 3 minutes in all)",
    )
    parser.add_argument("--minutes", type=float, help=f"length of each run (default {MINUTES:g})")
    parser.add_argument(
        "--warm-up", type=float, help=f"minutes not reported at the start (default {WARM_UP_MINUTES:g})"
    )
    parser.add_argument("--users", type=int, default=20, help="simulated readers (default 20)")
    parser.add_argument("--activity", type=float, default=20.0, help="Sequence changes per minute (default 20)")
    parser.add_argument("--jobs", type=int, default=3000, help="jobs in work area 10 (default 3000)")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="upstream latency per request (default 80)")
    parser.add_argument("--jitter-ms", type=float, default=20.0, help="uniform jitter, +- (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="data and readers' seed (default 42)")
    parser.add_argument("--now", default=NOW, help=f"the simulators' pinned clock (default {NOW})")
    parser.add_argument(
        "--modes", default=",".join(MODES), help=f"runs, comma-separated, of {', '.join(MODES)} (default both)"
    )
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a gateway setting for every run, on top of its defaults (repeatable; the smoke test shortens deadlines)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="where workday.* go")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails (default: report only)")
    args = parser.parse_args(argv)
    if args.minutes is None:
        args.minutes = QUICK_MINUTES if args.quick else MINUTES
    if args.warm_up is None:
        args.warm_up = QUICK_WARM_UP_MINUTES if args.quick else WARM_UP_MINUTES
    if args.minutes <= 0:
        parser.error("--minutes must be > 0")
    if not 0 <= args.warm_up < args.minutes:
        parser.error("--warm-up must be >= 0 and shorter than the run")
    if args.users < 1:
        parser.error("--users must be >= 1")
    malformed = [setting for setting in args.gateway_env if "=" not in setting]
    if malformed:
        parser.error(f"--gateway-env takes KEY=VALUE, got {malformed[0]!r}")
    unknown = [name for name in args.modes.split(",") if name not in MODES]
    if unknown:
        parser.error(f"unknown modes {unknown}; expected some of {', '.join(MODES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_for(args)
    processes.unwind_on_sigterm()
    run = Workday(plan)
    try:
        asyncio.run(run.main())
    except KeyboardInterrupt:
        print("interrupted; every server started was stopped", file=sys.stderr)
        return 130
    finally:
        run.fleet.stop_all()
    evaluated = targets.evaluate_workday(run.results)
    paths = report.write_workday(run.results, evaluated, args.out)
    print(report.render_workday_text(run.results, evaluated))
    print("wrote " + ", ".join(str(path) for path in paths.values()))
    failed = [target for target in evaluated if target.passed is False]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
