"""Injected upstream faults against the whole gateway: retries where allowed,
the breaker, stale-if-error in extensions, and the request deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tests.integration.conftest import Gateway

QUERY = "{ workAreas { workAreaId name } }"


def sequence_statuses(gateway: Gateway) -> dict[str, int]:
    return gateway.sequence_stats()["by_status"]


def warmed(make_gateway: Callable[..., Gateway], **env: str) -> Gateway:
    """A gateway that has met the digest challenge, with the stats reset."""
    gateway = make_gateway(**env)
    gateway.data('{ workArea(workAreaId: "11") { jobs(first: 1) { totalCount } } }')
    gateway.reset_stats()
    return gateway


def test_a_503_is_retried_and_answered(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway)
    sequence_faults(script=["503"])
    assert gateway.data(QUERY)["workAreas"]
    assert sequence_statuses(gateway) == {"503": 1, "200": 1}


def test_a_dropped_connection_is_retried_and_answered(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway)
    sequence_faults(script=["drop"])
    assert gateway.data(QUERY)["workAreas"]
    assert sequence_statuses(gateway)["200"] == 1


def test_a_timeout_is_retried_and_answered(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway, GATEWAY_UPSTREAM_TIMEOUT="0.5")
    sequence_faults(script=["timeout"], hang_seconds=5)
    started = time.perf_counter()
    assert gateway.data(QUERY)["workAreas"]
    assert time.perf_counter() - started < 3


def test_a_500_is_not_retried(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway)
    sequence_faults(script=["500"])
    body = gateway.query(QUERY)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert sequence_statuses(gateway) == {"500": 1}


def test_a_malformed_body_is_a_bad_response_and_not_retried(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway)
    sequence_faults(script=["malformed"])
    body = gateway.query(QUERY)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_BAD_RESPONSE"
    assert sequence_statuses(gateway) == {"200": 1}


def test_retries_stop_at_the_configured_attempts(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway, GATEWAY_RETRY_ATTEMPTS="3")
    sequence_faults(script=["503", "502", "504"])
    body = gateway.query(QUERY)
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert sum(sequence_statuses(gateway).values()) == 3


def test_the_breaker_opens_fails_fast_and_half_opens_to_probe(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway, GATEWAY_RETRY_ATTEMPTS="1", GATEWAY_BREAKER_OPEN_SECONDS="1")
    sequence_faults(error_rate=1.0)
    for index in range(10):  # the breaker's minimum of calls, all failing
        gateway.query(f'{{ workArea(workAreaId: "10") {{ jobs(first: {index + 1}) {{ totalCount }} }} }}')
    sent = gateway.sequence_stats()["total"]
    body = gateway.query('{ workArea(workAreaId: "10") { jobs(first: 42) { totalCount } } }')
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert "stopped calling" in error["message"]
    assert gateway.sequence_stats()["total"] == sent  # failed fast: nothing sent
    ready = gateway.client.get("/readyz").json()
    assert ready["protection"]["sequence"]["breaker"]["state"] == "open"
    sequence_faults(error_rate=0.0)
    time.sleep(1.1)
    # Half-open: one probe goes through, succeeds, and closes the breaker.
    assert gateway.data('{ workArea(workAreaId: "10") { jobs(first: 43) { totalCount } } }')
    assert gateway.client.get("/readyz").json()["protection"]["sequence"]["breaker"]["state"] == "closed"


def test_the_last_good_value_answers_while_sequence_fails_and_the_client_is_told(make_gateway, sequence_faults) -> None:
    gateway = warmed(
        make_gateway, GATEWAY_CACHE_SEQUENCE_TTL="0.3", GATEWAY_CACHE_REVALIDATE_WITHIN="0", GATEWAY_RETRY_ATTEMPTS="1"
    )
    fresh = gateway.query(QUERY)
    assert "stale" not in fresh.get("extensions", {})
    time.sleep(0.4)
    sequence_faults(error_rate=1.0)
    stale = gateway.query(QUERY)
    assert stale["data"] == fresh["data"]
    assert "errors" not in stale
    (notice,) = stale["extensions"]["stale"]
    assert notice["upstream"] == "sequence"
    assert notice["reason"] == "UPSTREAM_UNAVAILABLE"
    assert notice["ageSeconds"] >= 0.3


def test_the_request_deadline_is_respected(make_gateway, sequence_faults) -> None:
    gateway = warmed(make_gateway, GATEWAY_REQUEST_TIMEOUT="1")
    sequence_faults(latency_ms=3000)
    started = time.perf_counter()
    body = gateway.query(QUERY)
    elapsed = time.perf_counter() - started
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    assert elapsed < 1.8


def test_gofilex_faults_fail_only_gofilex_fields(make_gateway, running) -> None:
    gateway = make_gateway(GATEWAY_RETRY_ATTEMPTS="1")
    httpx.put(running.gofilex_url + "/_sim/faults", json={"script": ["503"]}).raise_for_status()
    # gofilexOrder is nullable, so its failure stays in its own field (a failing
    # non-null root field, such as gofilexOrders, nulls the whole answer).
    body = gateway.query('{ workAreas { workAreaId } gofilexOrder(orderId: "x") { orderId } }')
    assert body["data"]["workAreas"]
    assert body["data"]["gofilexOrder"] is None
    assert [error["path"] for error in body["errors"]] == [["gofilexOrder"]]
