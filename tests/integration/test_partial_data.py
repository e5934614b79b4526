"""With one upstream failing, the other's fields still answer (real servers, injected faults)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.simulators.gofilex.data import Portal
from tests.integration.conftest import Gateway


@pytest.fixture
def gofilex_down(gateway: Gateway) -> Iterator[None]:
    faults = gateway.running.gofilex_url + "/_sim/faults"
    httpx.put(faults, json={"error_rate": 1.0}).raise_for_status()
    yield
    httpx.put(faults, json={"error_rate": 0.0}).raise_for_status()


def test_sequence_answers_while_gofilex_fails(gateway: Gateway, gofilex_down: None) -> None:
    order_id = next(iter(gateway.running.simulators.gofilex_data.orders(Portal.EMEA)))
    body = gateway.query(f'{{ workAreas {{ workAreaId }} gofilexOrder(orderId: "{order_id}") {{ orderId state }} }}')
    assert [area["workAreaId"] for area in body["data"]["workAreas"]] == ["10", "11"]
    assert body["data"]["gofilexOrder"] is None
    assert [(error["path"], error["extensions"]["code"]) for error in body["errors"]] == [
        (["gofilexOrder"], "UPSTREAM_UNAVAILABLE")
    ]


def test_a_jobs_gofilex_orders_fail_alone(gateway: Gateway, gofilex_down: None) -> None:
    store = gateway.running.simulators.sequence_store
    linked = next(job for job in store.work_areas[10].jobs.values() if "gofilex:" in job.tag_list and not job.deleted)
    body = gateway.query(
        f'{{ sequenceJob(workAreaId: "10", jobId: "{linked.id}") {{ name gofilexOrders {{ orderId portal state }} }} }}'
    )
    job = body["data"]["sequenceJob"]
    assert job["name"] == linked.name
    assert job["gofilexOrders"] and all(order["state"] is None for order in job["gofilexOrders"])
    assert {error["extensions"]["code"] for error in body["errors"]} == {"UPSTREAM_UNAVAILABLE"}
    assert all(error["path"][-1] == "state" for error in body["errors"])
