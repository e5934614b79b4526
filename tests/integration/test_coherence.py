"""Sequence's cache follows the events feed, end to end: over the simulators, counting their calls.

While the poller is healthy an entry outlives the short lifetime, and a
change costs what it can change (a renamed job: one read of the job, put in
place in the cached pages); with time-based lifetimes, or without a healthy
poller, the short lifetime holds as before.
"""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import RunningSimulators
from tests.integration.conftest import Gateway

POLL = "0.2"
SHORT_TTL = "0.5"
PAGE = '{ workArea(workAreaId: "10") { jobs(first: 10) { nodes { jobId name } } } }'


def live_jobs(running: RunningSimulators, count: int) -> list[Any]:
    jobs = running.simulators.sequence_store.work_areas[10].jobs.values()
    return [job for job in jobs if not job.deleted][:count]


def reads(gateway: Gateway) -> dict[str, int]:
    """Sequence's reads by route, less the events feed (the poller's)."""
    routes = gateway.sequence_stats()["by_route"]
    return {route: count for route, count in routes.items() if route.startswith("GET") and "/events" not in route}


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def job_query(job_id: int) -> str:
    return f'{{ sequenceJob(workAreaId: "10", jobId: "{job_id}") {{ name tasks {{ name }} }} }}'


def test_entries_outlive_the_short_lifetime_while_the_poller_is_healthy(make_gateway, running) -> None:
    gateway = make_gateway(poll_events=True, GATEWAY_EVENTS_MIN_INTERVAL=POLL, GATEWAY_CACHE_SEQUENCE_TTL=SHORT_TTL)
    job = live_jobs(running, 1)[0]
    body = gateway.query(job_query(job.id))
    assert body["extensions"]["cacheLifetimes"] == {"sequence": "events"}
    time.sleep(3 * float(SHORT_TTL))
    gateway.reset_stats()
    assert gateway.data(job_query(job.id)) == body["data"]
    assert reads(gateway) == {}
    events = gateway.client.get("/readyz").json()["events"]
    assert (events["healthy"], events["cacheLifetimes"], events["cacheLifetimesSetting"]) == (True, "events", "events")


def test_time_based_lifetimes_read_again_after_the_short_lifetime(make_gateway, running) -> None:
    gateway = make_gateway(
        poll_events=True,
        GATEWAY_EVENTS_MIN_INTERVAL=POLL,
        GATEWAY_CACHE_SEQUENCE_TTL=SHORT_TTL,
        GATEWAY_CACHE_LIFETIMES="time",
        GATEWAY_CACHE_REVALIDATE_WITHIN="0",
    )
    job = live_jobs(running, 2)[1]
    body = gateway.query(job_query(job.id))
    assert body["extensions"]["cacheLifetimes"] == {"sequence": "time"}
    time.sleep(3 * float(SHORT_TTL))
    gateway.reset_stats()
    gateway.data(job_query(job.id))
    assert sum(reads(gateway).values()) == 2  # the job and its tasks


def test_without_the_poller_the_short_lifetime_holds(make_gateway, running) -> None:
    gateway = make_gateway(GATEWAY_CACHE_SEQUENCE_TTL=SHORT_TTL, GATEWAY_CACHE_REVALIDATE_WITHIN="0")
    job = live_jobs(running, 3)[2]
    assert gateway.query(job_query(job.id))["extensions"]["cacheLifetimes"] == {"sequence": "time"}
    time.sleep(3 * float(SHORT_TTL))
    gateway.reset_stats()
    gateway.data(job_query(job.id))
    assert sum(reads(gateway).values()) == 2


def test_a_job_read_by_id_after_its_page_costs_no_call(make_gateway, running) -> None:
    gateway = make_gateway()
    gateway.data(PAGE)
    job = live_jobs(running, 4)[3]
    gateway.reset_stats()
    found = gateway.data(f'{{ sequenceJob(workAreaId: "10", jobId: "{job.id}") {{ jobId name }} }}')
    assert found["sequenceJob"] == {"jobId": str(job.id), "name": job.name}
    assert gateway.sequence_stats()["total"] == 0


def test_a_renamed_job_is_read_once_and_put_in_place_in_the_cached_pages(make_gateway, running) -> None:
    gateway = make_gateway(poll_events=True, GATEWAY_EVENTS_MIN_INTERVAL=POLL)
    longer_page = '{ workArea(workAreaId: "10") { jobs(first: 200) { nodes { jobId name } } } }'
    gateway.data(PAGE)
    gateway.data(longer_page)
    job = live_jobs(running, 5)[4]
    gateway.reset_stats()
    with running.sequence(json=True) as sequence:
        sequence.put(f"/api/work_areas/10/jobs/{job.id}", json={"name": "Renamed in place"}).raise_for_status()

    def renamed() -> bool:
        nodes = gateway.data(PAGE)["workArea"]["jobs"]["nodes"]
        return any(node["name"] == "Renamed in place" for node in nodes)

    wait_for(renamed, 3 * float(POLL) + 2, "the rename did not show through the cached page")
    gateway.data(longer_page)
    # One read of the job; neither page was read again.
    assert reads(gateway) == {"GET /api/work_areas/{id}/jobs/{id}": 1}
