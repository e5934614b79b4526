"""The whole gateway stays fresh from Sequence's events feed: a change made
directly at Sequence shows through the cache within a poll interval, and
reaches subscribers over SSE and graphql-transport-ws."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from tests.conftest import RunningSimulators

POLL = "0.2"
SUBSCRIPTION = 'subscription { sequenceEvents(workAreaId: "10") { eventType jobId job { name } } }'


def live_job(running: RunningSimulators) -> Any:
    return next(job for job in running.simulators.sequence_store.work_areas[10].jobs.values() if not job.deleted)


def rename_at_sequence(running: RunningSimulators, job_id: int, name: str) -> None:
    with running.sequence(json=True) as client:
        client.put(f"/api/work_areas/10/jobs/{job_id}", json={"name": name}).raise_for_status()


def test_a_change_at_sequence_shows_through_the_cache_within_a_poll_interval(make_gateway, running) -> None:
    gateway = make_gateway(poll_events=True, GATEWAY_EVENTS_MIN_INTERVAL=POLL)
    job = live_job(running)
    query = f'{{ sequenceJob(workAreaId: "10", jobId: "{job.id}") {{ name }} }}'
    assert gateway.data(query)["sequenceJob"]["name"] == job.name  # now cached for 30 s
    rename_at_sequence(running, job.id, "Renamed at Sequence")
    changed_at = time.perf_counter()
    while gateway.data(query)["sequenceJob"]["name"] != "Renamed at Sequence":
        assert time.perf_counter() - changed_at < 3 * float(POLL) + 1, "the change did not show through"
        time.sleep(0.05)
    events = gateway.client.get("/readyz").json()["events"]
    assert events["polling"] is True
    assert events["lastEventId"] is not None


def test_a_subscriber_over_sse_receives_the_event(make_gateway, running) -> None:
    gateway = make_gateway(poll_events=True, GATEWAY_EVENTS_MIN_INTERVAL=POLL)
    job = live_job(running)
    received: list[dict[str, Any]] = []

    def listen() -> None:
        headers = {"Accept": "text/event-stream"}
        with (
            httpx.Client(timeout=10) as client,
            client.stream(
                "POST", gateway.url + "/graphql/stream", json={"query": SUBSCRIPTION}, headers=headers
            ) as stream,
        ):
            for line in stream.iter_lines():
                if line.startswith("data:") and line[5:].strip():
                    received.append(json.loads(line[5:]))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)  # subscribed
    rename_at_sequence(running, job.id, "Renamed for SSE")
    listener.join(timeout=5)
    (result,) = received
    event = result["data"]["sequenceEvents"]
    assert (event["eventType"], event["jobId"], event["job"]["name"]) == ("job_updated", str(job.id), "Renamed for SSE")


def test_a_subscriber_over_graphql_transport_ws_receives_the_event(make_gateway, running) -> None:
    gateway = make_gateway(poll_events=True, GATEWAY_EVENTS_MIN_INTERVAL=POLL)
    job = live_job(running)
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=5) as socket:
        socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "connection_ack"
        socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
        time.sleep(0.3)
        rename_at_sequence(running, job.id, "Renamed for websockets")
        message = json.loads(socket.recv(timeout=5))
        socket.send(json.dumps({"id": "1", "type": "complete"}))
    assert message["type"] == "next"
    event = message["payload"]["data"]["sequenceEvents"]
    assert (event["jobId"], event["job"]["name"]) == (str(job.id), "Renamed for websockets")
