"""The benchmarks' reference implementations work: the naive gateway answers the
reference queries with the gateway's data, hello answers, and the large-result
yardstick runs both schemas to the same result. No timing is asserted here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks import large_result
from benchmarks.queries import Q1, Q2, Q3, Q4, Q5, Q6
from gateway.app import create_app
from gateway.simulators.apps import environment
from gateway.simulators.gofilex.data import Portal
from gateway.simulators.server import serve_in_thread
from tests.conftest import RunningSimulators
from tests.integration.conftest import gateway_settings

ROOT = Path(__file__).resolve().parents[2]

# The harness's own reference queries, Q2 on a small page; and one portal's orders.
Q2_FIRST_5 = Q2.replace("jobs(first: 50)", "jobs(first: 5)")
Q4_ONE_PORTAL = (
    "query($ids: [ID!]!, $portal: GofilexPortal!) { gofilexOrders(orderIds: $ids, portal: $portal) { orderId state } }"
)
UNKNOWN_ORDER = "unknownorder00000"


class Server:
    """A baseline started as the benchmarks start it: its own process, announcing its URL on stderr."""

    def __init__(self, module: str, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=os.environ | env | {"GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": "0", "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        self.announced = self.process.stderr.readline()
        # Whatever the server logs later is kept, so a full pipe never stalls it.
        self.log: list[str] = []
        self._drain = threading.Thread(target=self.log.extend, args=(self.process.stderr,), daemon=True)
        self._drain.start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._drain.join(timeout=10)
        assert self.process.stderr is not None
        self.process.stderr.close()

    @property
    def url(self) -> str:
        prefix = "GraphQL: "
        assert self.announced.startswith(prefix) and self.announced.endswith("/graphql\n"), self.announced
        return self.announced.removeprefix(prefix).strip()


@pytest.fixture(scope="module")
def naive(running: RunningSimulators) -> Iterator[Server]:
    server = Server(
        "benchmarks.baselines.naive", environment(running.settings, running.sequence_url, running.gofilex_url)
    )
    try:
        yield server
    finally:
        server.stop()
    # Every query answered without a resolver error (Strawberry logs those on stderr).
    assert not server.log, "".join(server.log)


@pytest.fixture(scope="module")
def clients(running: RunningSimulators, naive: Server) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """(naive, gateway): one client of each, the gateway in-thread over the same simulators."""
    app = create_app(gateway_settings(running), poll_events=False)
    with (
        serve_in_thread(app) as gateway_url,
        httpx.Client(base_url=naive.url.removesuffix("/graphql"), timeout=30) as naive_client,
        httpx.Client(base_url=gateway_url, timeout=30) as gateway_client,
    ):
        yield naive_client, gateway_client


def answer(client: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def same(clients: tuple[httpx.Client, httpx.Client], query: str, variables: dict[str, Any]) -> dict[str, Any]:
    naive, gateway = clients
    data = answer(naive, query, variables)
    assert data == answer(gateway, query, variables), variables
    return data


def order_ids(running: RunningSimulators, portal: Portal) -> list[str]:
    return list(running.simulators.gofilex_data.orders(portal))


def test_naive_announces_its_url_on_stderr(naive: Server) -> None:
    assert naive.url.startswith("http://127.0.0.1:")
    assert not naive.url.endswith(":0/graphql")


def test_q1_one_job_and_a_missing_one(running: RunningSimulators, clients: tuple[httpx.Client, httpx.Client]) -> None:
    jobs = list(running.simulators.sequence_store.work_areas[10].jobs.values())
    untitled = next(job for job in jobs if job.title_external_id is None and not job.tag_list and not job.deleted)
    for job in (jobs[0], jobs[7], untitled):
        data = same(clients, Q1, {"wa": "10", "job": str(job.id)})
        assert data["sequenceJob"]["jobId"] == str(job.id)
    # Deleted (outside the live view) or never there: null from both.
    deleted = next(job for job in jobs if job.deleted)
    for job_id in (str(deleted.id), "999999"):
        assert same(clients, Q1, {"wa": "10", "job": job_id}) == {"sequenceJob": None}


def test_q2_a_page_with_every_child(clients: tuple[httpx.Client, httpx.Client]) -> None:
    data = same(clients, Q2_FIRST_5, {"wa": "10"})
    nodes = data["workArea"]["jobs"]["nodes"]
    assert len(nodes) == 5
    assert all(job["tasks"] and job["assets"] for job in nodes)


def test_q3_orders_of_every_kind_two_levels_deep(
    running: RunningSimulators, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    kinds: dict[str, tuple[Portal, str]] = {}
    for portal in Portal:
        for order_id, order in running.simulators.gofilex_data.orders(portal).items():
            kinds.setdefault(order.kind.value, (portal, order_id))
    assert {"completed", "cleaned", "running", "failed"} <= kinds.keys()
    deep = 0
    for portal, order_id in kinds.values():
        order = same(clients, Q3, {"order": order_id, "portal": portal.value})["gofilexOrder"]
        assert order["orderId"] == order_id
        deep += sum(1 for job in order["jobs"] for dependency in job["dependsOn"] if dependency["dependsOn"])
    assert deep, "no order has dependencies two levels deep"
    assert same(clients, Q3, {"order": UNKNOWN_ORDER, "portal": "EMEA"}) == {"gofilexOrder": None}


def test_q4_five_orders_of_each_portal_or_many_of_one(
    running: RunningSimulators, clients: tuple[httpx.Client, httpx.Client]
) -> None:
    each = {portal.value.lower(): order_ids(running, portal)[:5] for portal in Portal}
    data = same(clients, Q4, each)
    assert [order["orderId"] for order in data["noram"]] == each["noram"]
    for portal in Portal:
        ids = [*order_ids(running, portal), UNKNOWN_ORDER]
        orders = same(clients, Q4_ONE_PORTAL, {"ids": ids, "portal": portal.value})["gofilexOrders"]
        assert orders[-1] is None
        assert all(order["state"] for order in orders[:-1])


def test_q5_pages_to_the_end(running: RunningSimulators, clients: tuple[httpx.Client, httpx.Client]) -> None:
    seen, after = [], None
    while True:
        page = same(clients, Q5, {"wa": "10", "after": after})["workArea"]["jobs"]
        seen += [job["jobId"] for job in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    jobs = running.simulators.sequence_store.work_areas[10].jobs.values()
    assert seen == [str(job.id) for job in jobs if not job.deleted]


def test_q6_a_jobs_gofilex_orders(running: RunningSimulators, clients: tuple[httpx.Client, httpx.Client]) -> None:
    jobs = running.simulators.sequence_store.work_areas[10].jobs.values()
    linked = [job for job in jobs if "gofilex:" in job.tag_list and not job.deleted]
    for job in linked[:4]:
        data = same(clients, Q6, {"wa": "10", "job": str(job.id)})
        assert data["sequenceJob"]["gofilexOrders"], job.tag_list


def test_hello_answers_world() -> None:
    server = Server("benchmarks.baselines.hello", {})
    try:
        with httpx.Client(timeout=10) as client:
            response = client.post(server.url, json={"query": "{ hello }"})
        assert response.json() == {"data": {"hello": "world"}}
    finally:
        server.stop()
    assert not server.log, "".join(server.log)


def test_large_result_measures_both_schemas() -> None:
    figures = large_result.measure(jobs=200, repeats=1)
    assert figures.keys() == {
        "jobs",
        "fields",
        "default_seconds",
        "gateway_seconds",
        "speedup",
        "default_peak_mb",
        "gateway_peak_mb",
    }
    assert (figures["jobs"], figures["fields"]) == (200, 10)
    assert figures["default_seconds"] > 0 and figures["gateway_seconds"] > 0
    assert figures["default_peak_mb"] > 0 and figures["gateway_peak_mb"] > 0


def test_large_result_schemas_answer_the_same_json() -> None:
    records = large_result.build_records(200)
    query = large_result.query_for(10)

    async def both() -> tuple[str, str]:
        default = await large_result.execute(large_result.default_schema(), query, records)
        gateway = await large_result.execute(large_result.gateway_schema(), query, records)
        return default, gateway

    default, gateway = asyncio.run(both())
    assert default == gateway
    assert query == "{ jobs { " + " ".join(large_result.FIELDS) + " } }"
    assert len(large_result.FIELDS) == 10
    assert '"jobId": "200"' in gateway
