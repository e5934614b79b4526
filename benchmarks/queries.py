"""The reference queries Q1-Q6, the data they ask about, and what they cost at least;
and the workday's two (benchmarks.workday): a page of jobs, and one job's detail.

The variables come from the simulators themselves: Sequence job ids and tags
through Sequence's API (digest authentication), Gofilex order ids from the
same deterministic generator the simulator runs (seed and pinned clock),
checked against the order ids Sequence's tags name. Every cold sample gets
variables never asked before in the run, so it meets an empty cache.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gateway.config import SEQUENCE_BUDGET
from gateway.simulators.clock import Clock
from gateway.simulators.gofilex.data import Portal, generate_gofilex
from gateway.simulators.gofilex.model import OrderKind
from gateway.simulators.settings import SimulatorSettings

PORTALS = tuple(portal.value for portal in Portal)
MAIN_WORK_AREA = "10"
LARGE_WORK_AREA = "20"
Q2_PAGE_SIZE = 50
Q5_PAGE_SIZE = 200
# The gateway's own limit on Sequence requests in flight (GATEWAY_SEQUENCE_CONCURRENCY):
# requests beyond this many wait their turn, in waves.
SEQUENCE_CONCURRENCY = SEQUENCE_BUDGET.concurrency or 1
CHILD_KINDS = 4  # tasks, assets, notes, problems

Q1 = (
    "query($wa: ID!, $job: ID!) { sequenceJob(workAreaId: $wa, jobId: $job) { jobId name dueDate beginsAt endsAt"
    " licensorName status tasksStatus assetsStatus tags titleExternalId deleted } }"
)
Q2 = (
    "query($wa: ID!) { workArea(workAreaId: $wa) { jobs(first: 50) { totalCount nodes { jobId name status"
    " tasks { taskId name status } assets { assetId typeName status } notes { noteId body }"
    " problems { problemId description dismissed } } } } }"
)
Q3 = (
    "query($order: ID!, $portal: GofilexPortal!) { gofilexOrder(orderId: $order, portal: $portal) { orderId state"
    " cleaned jobs { jobId type state dependsOn { jobId type dependsOn { jobId type } }"
    " digitalCinemaPackage { uuid size assets { uuid size role } }"
    " run { runId attempt progress { download { percentage } } } } } }"
)
# 20 orders across the four portals in one GraphQL request: one aliased field per portal.
Q4 = (
    "query("
    + ", ".join(f"${portal.lower()}: [ID!]!" for portal in PORTALS)
    + ") { "
    + " ".join(
        f"{portal.lower()}: gofilexOrders(orderIds: ${portal.lower()}, portal: {portal}) {{ orderId state }}"
        for portal in PORTALS
    )
    + " }"
)
Q5 = (
    "query($wa: ID!, $after: String) { workArea(workAreaId: $wa) { jobs(first: 200, after: $after) { totalCount"
    " pageInfo { hasNextPage endCursor } nodes { jobId name dueDate status tags } } } }"
)
Q6 = (
    "query($wa: ID!, $job: ID!) { sequenceJob(workAreaId: $wa, jobId: $job) { jobId name"
    " gofilexOrders { orderId portal state } } }"
)
HELLO = "{ hello }"

# The workday scenario's reads: a page of 50 jobs with their children, and one
# job with the same children. Both ask the same fields of a job, so either
# answer shows a change to it the same way (benchmarks.staleness).
WORKDAY_JOB_FIELDS = (
    "id name status tasks { id name status duration } assets { id status } notes { id body }"
    " problems { id description dismissed }"
)
WORKDAY_PAGE = (
    "query($wa: ID!, $after: String, $filter: SequenceJobFilter) { workArea(workAreaId: $wa) {"
    f" jobs(first: 50, after: $after, filter: $filter) {{ nodes {{ {WORKDAY_JOB_FIELDS} }} }} }} }}"
)
WORKDAY_DETAIL = (
    f"query($wa: ID!, $job: ID!) {{ sequenceJob(workAreaId: $wa, jobId: $job) {{ {WORKDAY_JOB_FIELDS} }} }}"
)

# Gofilex orders whose answers the gateway keeps for the long (finished) lifetime,
# so that warm samples stay inside the cache lifetime.
_FINISHED_KINDS = (OrderKind.COMPLETED, OrderKind.FAILED, OrderKind.CLEANED)


@dataclass(frozen=True)
class QuerySpec:
    name: str
    title: str
    text: str
    # Fewest upstream calls that can answer the query with these variables.
    min_calls: Callable[[dict[str, Any]], int]
    # Upstream round trips one after the other, given the gateway's concurrency limits.
    round_trips: Callable[[dict[str, Any]], int]
    formula: str


def q2_round_trips(children: int = CHILD_KINDS * Q2_PAGE_SIZE) -> int:
    return 1 + math.ceil(children / SEQUENCE_CONCURRENCY)


def _portals_of(variables: dict[str, Any]) -> int:
    return len(variables.get("_portals", ()))


SPECS: dict[str, QuerySpec] = {
    spec.name: spec
    for spec in (
        QuerySpec(
            "Q1",
            "one job by id, all scalar fields",
            Q1,
            lambda v: 1,
            lambda v: 1,
            "calls 1 (the job); path 1 x latency",
        ),
        QuerySpec(
            "Q2",
            "50 jobs with tasks, assets, notes, problems",
            Q2,
            lambda v: 1 + CHILD_KINDS * v.get("_jobs", Q2_PAGE_SIZE),
            lambda v: q2_round_trips(CHILD_KINDS * v.get("_jobs", Q2_PAGE_SIZE)),
            f"calls 1 + 4 x 50 = 201; path (1 + ceil(200 / {SEQUENCE_CONCURRENCY})) x latency = 5 x latency",
        ),
        QuerySpec(
            "Q3",
            "one Gofilex order, job graph two levels deep",
            Q3,
            lambda v: 2,
            lambda v: 2,
            "calls 2 (orders/status, jobs/by/order); path 2 x latency",
        ),
        QuerySpec(
            "Q4",
            "20 orders by id across the 4 portals",
            Q4,
            lambda v: sum(1 for portal in PORTALS if v.get(portal.lower())),
            lambda v: 1,
            "calls 4 (one orders/status per portal); path 1 x latency (portals in parallel)",
        ),
        QuerySpec(
            "Q5",
            "BI export: every job of the large work area, 200 per page",
            Q5,
            lambda v: v["_pages"],
            lambda v: v["_pages"],
            "calls = pages = ceil(jobs / 200); path pages x latency (a BI tool pages sequentially)",
        ),
        QuerySpec(
            "Q6",
            "a job with its linked Gofilex orders",
            Q6,
            lambda v: 1 + _portals_of(v),
            lambda v: 2 if _portals_of(v) else 1,
            "calls 1 + portals among the job's links; path 2 x latency",
        ),
    )
}


def public(variables: dict[str, Any]) -> dict[str, Any]:
    """The GraphQL variables, without the harness's own `_` notes."""
    return {key: value for key, value in variables.items() if not key.startswith("_")}


def parse_links(tag_list: str) -> list[tuple[str, str]]:
    """(portal, order id) for each `gofilex:<id>` (EMEA) or `gofilex:<portal>:<id>` tag."""
    links = []
    for tag in (part.strip() for part in tag_list.split(",")):
        if not tag.lower().startswith("gofilex:"):
            continue
        parts = tag.split(":")
        if len(parts) == 2 and parts[1]:
            links.append(("EMEA", parts[1]))
        elif len(parts) == 3 and parts[1].upper() in PORTALS and parts[2]:
            links.append((parts[1].upper(), parts[2]))
    return links


@dataclass
class Workload:
    """Variables for every sample of a run: `cold[Q]` one set per cold sample, `warm[Q]` one set."""

    cold: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warm: dict[str, dict[str, Any]] = field(default_factory=dict)
    prime: dict[str, Any] = field(default_factory=dict)  # Q1 variables used only to prime a process
    q5: dict[str, Any] = field(default_factory=dict)
    q5_jobs: int = 0
    notes: list[str] = field(default_factory=list)


def _sequence_jobs(env: dict[str, str], work_area: str) -> tuple[list[dict[str, Any]], int]:
    """Every job of `work_area` (id and tags) through Sequence's paged JSON list."""
    auth = httpx.DigestAuth(env["SEQUENCE_USERNAME"], env["SEQUENCE_PASSWORD"])
    jobs: list[dict[str, Any]] = []
    total = 0
    with httpx.Client(
        base_url=env["SEQUENCE_URL"] + "/",
        auth=auth,
        headers={"Accept": "application/json"},
        timeout=30,
        trust_env=False,
    ) as client:
        page = 1
        while True:
            response = client.get(
                f"work_areas/{work_area}/jobs", params={"pagination": "true", "per_page": 200, "page": page}
            )
            response.raise_for_status()
            body = response.json()
            total = body["total_entries"]
            jobs += [{"id": str(entry["id"]), "tags": entry.get("tag_list") or ""} for entry in body["entries"]]
            if not body.get("next_link") or not body["entries"]:
                return jobs, total
            page += 1


def _total_jobs(env: dict[str, str], work_area: str) -> int:
    auth = httpx.DigestAuth(env["SEQUENCE_USERNAME"], env["SEQUENCE_PASSWORD"])
    with httpx.Client(
        base_url=env["SEQUENCE_URL"] + "/", auth=auth, headers={"Accept": "application/json"}, trust_env=False
    ) as client:
        response = client.get(f"work_areas/{work_area}/jobs", params={"pagination": "true", "per_page": 1})
        response.raise_for_status()
        return int(response.json()["total_entries"])


def _take(pool: list[Any], count: int, what: str) -> list[Any]:
    if len(pool) < count:
        raise ValueError(f"the simulators hold too few {what}: {len(pool)} for {count} samples")
    taken, pool[:] = pool[:count], pool[count:]
    return taken


def pick_workload(
    env: dict[str, str],
    *,
    seed: int,
    now: str,
    cold: dict[str, int],
    large: bool,
    q5_pages: int | None,
) -> Workload:
    """Variables for `cold[Q]` cold samples of each query, all distinct, plus the warm ones.

    Call it with the simulators' latency at zero: it pages through a work area.
    """
    workload = Workload()
    rng = random.Random(seed)
    jobs, _ = _sequence_jobs(env, MAIN_WORK_AREA)
    if len(jobs) < 2 * Q2_PAGE_SIZE:
        raise ValueError(f"work area {MAIN_WORK_AREA} holds {len(jobs)} jobs; the benchmark needs at least 100")
    gofilex = generate_gofilex(seed, Clock.at(now), SimulatorSettings().orders_per_portal)
    kinds = {(portal.value, order.id): order.kind for portal in Portal for order in gofilex.orders(portal).values()}

    linked = [(job, parse_links(job["tags"])) for job in jobs]
    unknown = [link for _, links in linked for link in links if link not in kinds]
    if unknown:
        raise ValueError(
            f"Sequence's tags name Gofilex orders the in-process generator does not know, e.g. {unknown[0]}:"
            " the simulators' data is not the one generated for this seed and clock"
        )

    # Q6: jobs whose links all name finished orders; most portals first. No two
    # samples share an order, so each one is cold on the Gofilex side too.
    used_orders: set[tuple[str, str]] = set()
    candidates = [
        (job, links) for job, links in linked if links and all(kinds[link] in _FINISHED_KINDS for link in links)
    ]
    candidates.sort(key=lambda item: -len({portal for portal, _ in item[1]}))
    q6: list[dict[str, Any]] = []
    for job, links in candidates:
        if len(q6) == cold["Q6"] + 1:
            break
        if used_orders.isdisjoint(links):
            used_orders.update(links)
            portals = sorted({portal for portal, _ in links})
            q6.append({"wa": MAIN_WORK_AREA, "job": job["id"], "_portals": portals, "_links": len(links)})
    if len(q6) < cold["Q6"] + 1:
        raise ValueError("too few Sequence jobs link finished Gofilex orders for the Q6 samples")
    workload.cold["Q6"] = q6[: cold["Q6"]]
    workload.warm["Q6"] = workload.cold["Q6"][-1]

    # Q1: untagged jobs past the first Q2 page, in a seeded order.
    q6_jobs = {variables["job"] for variables in q6}
    plain = [job["id"] for job, links in linked[Q2_PAGE_SIZE:] if not links and job["id"] not in q6_jobs]
    rng.shuffle(plain)
    workload.prime = {"wa": MAIN_WORK_AREA, "job": _take(plain, 1, "jobs")[0]}
    workload.cold["Q1"] = [{"wa": MAIN_WORK_AREA, "job": job_id} for job_id in _take(plain, cold["Q1"], "jobs")]
    workload.warm["Q1"] = workload.cold["Q1"][-1]

    # Q3 and Q4: finished orders no other sample asks for.
    pools: dict[str, dict[OrderKind, list[str]]] = {}
    for portal in Portal:
        by_kind: dict[OrderKind, list[str]] = {kind: [] for kind in OrderKind}
        for order in gofilex.orders(portal).values():
            if (portal.value, order.id) not in used_orders:
                by_kind[order.kind].append(order.id)
        for ids in by_kind.values():
            rng.shuffle(ids)
        pools[portal.value] = by_kind
    # Q3: completed orders (every job finished), one portal after the other.
    q3_portals = [PORTALS[i % len(PORTALS)] for i in range(cold["Q3"])]
    workload.cold["Q3"] = [
        {"order": _take(pools[portal][OrderKind.COMPLETED], 1, f"completed {portal} orders")[0], "portal": portal}
        for portal in q3_portals
    ]
    workload.warm["Q3"] = workload.cold["Q3"][-1]
    finished = {portal: [i for kind in _FINISHED_KINDS for i in pools[portal][kind]] for portal in PORTALS}
    for ids in finished.values():
        rng.shuffle(ids)
    workload.cold["Q4"] = [
        {portal.lower(): _take(finished[portal], 5, f"finished {portal} orders") for portal in PORTALS}
        for _ in range(cold["Q4"])
    ]
    workload.warm["Q4"] = workload.cold["Q4"][-1]

    # Q2: the first page of the main work area; every cold sample on a fresh gateway process.
    q2 = {"wa": MAIN_WORK_AREA, "_jobs": min(Q2_PAGE_SIZE, len(jobs))}
    workload.cold["Q2"] = [dict(q2) for _ in range(cold["Q2"])]
    workload.warm["Q2"] = dict(q2)

    # Q5: the large work area to the end (or the main one, limited, in quick runs).
    q5_area = LARGE_WORK_AREA if large else MAIN_WORK_AREA
    total = _total_jobs(env, q5_area)
    pages = math.ceil(total / Q5_PAGE_SIZE)
    if q5_pages is not None:
        pages = min(pages, q5_pages)
    workload.q5 = {"wa": q5_area, "_pages": pages, "_total": total}
    workload.q5_jobs = min(total, pages * Q5_PAGE_SIZE)
    return workload
