"""`sequenceEvents` over graphql-transport-ws and SSE, fed by polling the real Sequence simulator.

The app here is built from the events pieces alone (the relay and its hub,
schema, SSE endpoint), the way the gateway wires them: one poller per process
whose events first invalidate the cache and are then fanned out to subscribers.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.schema.config import StrawberryConfig
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from gateway.events import EventHub
from gateway.events.relay import EventRelay
from gateway.loaders import Loaders
from gateway.schema import NODE_TYPES
from gateway.schema.context import Context
from gateway.schema.query import Query
from gateway.schema.scalars import SCALARS
from gateway.schema.subscription import Subscription
from gateway.simulators.server import serve_in_thread
from gateway.sse import create_sse_endpoint
from gateway.upstreams.registry import open_upstreams
from tests.conftest import RunningSimulators
from tests.integration.conftest import gateway_settings

POLL_INTERVAL = 0.2
# Within a couple of poll intervals, with room for a slow machine.
DELIVERY_WITHIN = 3.0
WA = "10"
SUBSCRIPTION = """
subscription Events($workAreaId: ID) {
  sequenceEvents(workAreaId: $workAreaId) {
    eventId eventType timestamp changes workAreaId jobId subjectKind childId
    job { jobId name }
  }
}
"""


@dataclass
class EventsContext(Context):
    events: EventHub | None = None


@dataclass
class EventsGateway:
    url: str
    hub: EventHub
    running: RunningSimulators

    def wait_for_subscribers(self, count: int) -> None:
        deadline = time.monotonic() + DELIVERY_WITHIN
        while self.hub.subscribers != count:
            assert time.monotonic() < deadline, f"{self.hub.subscribers} subscribers, expected {count}"
            time.sleep(0.01)

    def events_requests(self) -> int:
        stats = httpx.get(self.running.sequence_url + "/_sim/stats").json()
        return stats["by_route"].get("GET /api/events", 0)


def build_app(running: RunningSimulators, hub: EventHub) -> Starlette:
    settings = gateway_settings(running, GATEWAY_EVENTS_MIN_INTERVAL=str(POLL_INTERVAL))
    schema = strawberry.Schema(
        query=Query, subscription=Subscription, types=NODE_TYPES, config=StrawberryConfig(scalar_map=SCALARS)
    )

    async def get_context(connection: HTTPConnection, response: Any = None) -> EventsContext:
        upstreams = connection.state.upstreams
        return EventsContext(upstreams, Loaders(upstreams), request=connection, response=response, events=hub)

    class EventsGraphQL(GraphQL[EventsContext, None]):
        async def get_context(self, request: Any, response: Any) -> EventsContext:
            return await get_context(request, response)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with open_upstreams(settings) as upstreams:
            relay = EventRelay(upstreams, settings, hub=hub)
            # The budget in these settings is large, so the relay polls at its shortest interval.
            assert relay.interval(ask=False) == POLL_INTERVAL
            await relay.start()
            try:
                yield {"upstreams": upstreams}
            finally:
                await relay.stop()

    graphql = EventsGraphQL(schema)

    async def sse_context(request: Request) -> EventsContext:
        return await get_context(request)

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/graphql/stream", create_sse_endpoint(schema, sse_context), methods=["GET", "POST"]),
        ],
        lifespan=lifespan,
    )


@pytest.fixture(scope="module")
def events_gateway(running: RunningSimulators) -> Iterator[EventsGateway]:
    hub = EventHub()
    with serve_in_thread(build_app(running, hub)) as url:
        yield EventsGateway(url, hub, running)


@pytest.fixture
def job_id(sequence_json: httpx.Client) -> str:
    """A live job of the work area, renamed by the test."""
    return str(sequence_json.get(f"/api/work_areas/{WA}/jobs").json()["entries"][0]["id"])


def rename(sequence_json: httpx.Client, job_id: str, name: str) -> None:
    sequence_json.put(f"/api/work_areas/{WA}/jobs/{job_id}", json={"name": name}).raise_for_status()


@contextlib.contextmanager
def websocket_subscription(gateway: EventsGateway, variables: dict[str, Any]) -> Iterator[ClientConnection]:
    url = gateway.url.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], proxy=None, open_timeout=5) as websocket:
        websocket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(websocket.recv(timeout=5))["type"] == "connection_ack"
        message = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": variables}}
        websocket.send(json.dumps(message))
        yield websocket
        websocket.send(json.dumps({"id": "1", "type": "complete"}))


def next_websocket_event(websocket: ClientConnection, matches: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + DELIVERY_WITHIN
    while True:
        message = json.loads(websocket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        event = message["payload"]["data"]["sequenceEvents"]
        if matches(event):
            return event


@contextlib.contextmanager
def sse_subscription(gateway: EventsGateway, variables: dict[str, Any]) -> Iterator[Iterator[str]]:
    body = {"query": SUBSCRIPTION, "variables": variables}
    timeout = httpx.Timeout(5, read=DELIVERY_WITHIN)
    with (
        httpx.Client(base_url=gateway.url, timeout=timeout) as client,
        client.stream("POST", "/graphql/stream", json=body, headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield response.iter_lines()


def next_sse_event(lines: Iterator[str], matches: Callable[[dict], bool]) -> dict:
    deadline = time.monotonic() + DELIVERY_WITHIN
    kind = None
    for line in lines:
        assert time.monotonic() < deadline, "no matching event in time"
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "next":
            payload = json.loads(line.removeprefix("data: "))
            assert "errors" not in payload, payload
            if matches(payload["data"]["sequenceEvents"]):
                return payload["data"]["sequenceEvents"]
    raise AssertionError("the stream ended")


def renamed(job_id: str, name: str) -> Callable[[dict], bool]:
    def matches(event: dict) -> bool:
        return event["jobId"] == job_id and event["eventType"] == "job_updated" and event["job"]["name"] == name

    return matches


def query_job_name(gateway: EventsGateway, job_id: str) -> str:
    query = "query($wa: ID!, $job: ID!) { sequenceJob(workAreaId: $wa, jobId: $job) { name } }"
    response = httpx.post(gateway.url + "/graphql", json={"query": query, "variables": {"wa": WA, "job": job_id}})
    return response.json()["data"]["sequenceJob"]["name"]


def test_a_change_at_sequence_reaches_a_websocket_subscriber_with_the_changed_job(
    events_gateway: EventsGateway, sequence_json: httpx.Client, job_id: str
) -> None:
    before = query_job_name(events_gateway, job_id)  # now cached by the gateway
    with websocket_subscription(events_gateway, {"workAreaId": WA}) as websocket:
        events_gateway.wait_for_subscribers(1)
        rename(sequence_json, job_id, "Renamed over websocket")
        started = time.monotonic()
        event = next_websocket_event(websocket, renamed(job_id, "Renamed over websocket"))
        assert time.monotonic() - started < DELIVERY_WITHIN
        # The same subscription reads the job afresh for each event.
        rename(sequence_json, job_id, "Renamed twice")
        next_websocket_event(websocket, renamed(job_id, "Renamed twice"))
        rename(sequence_json, job_id, "Renamed over websocket")
        next_websocket_event(websocket, renamed(job_id, "Renamed over websocket"))
    assert event["changes"] == ["name"]
    assert (event["workAreaId"], event["subjectKind"], event["childId"]) == (WA, "job", None)
    assert event["timestamp"]
    # The event invalidated the cached job: queries see the change too.
    assert before != "Renamed over websocket"
    assert query_job_name(events_gateway, job_id) == "Renamed over websocket"
    events_gateway.wait_for_subscribers(0)


def test_a_change_at_sequence_reaches_an_sse_subscriber_which_leaves_cleanly(
    events_gateway: EventsGateway, sequence_json: httpx.Client, job_id: str
) -> None:
    with sse_subscription(events_gateway, {"workAreaId": WA}) as lines:
        events_gateway.wait_for_subscribers(1)
        rename(sequence_json, job_id, "Renamed over SSE")
        event = next_sse_event(lines, renamed(job_id, "Renamed over SSE"))
    assert (event["eventType"], event["jobId"], event["changes"]) == ("job_updated", job_id, ["name"])
    # Closing the stream ends the subscription at the gateway.
    events_gateway.wait_for_subscribers(0)


def test_subscribers_of_other_work_areas_hear_nothing_of_this_one(
    events_gateway: EventsGateway, sequence_json: httpx.Client, job_id: str
) -> None:
    with (
        websocket_subscription(events_gateway, {"workAreaId": "999"}) as elsewhere,
        websocket_subscription(events_gateway, {}) as everywhere,
    ):
        events_gateway.wait_for_subscribers(2)
        rename(sequence_json, job_id, "Renamed for everyone")
        next_websocket_event(everywhere, renamed(job_id, "Renamed for everyone"))
        with pytest.raises(TimeoutError):
            elsewhere.recv(timeout=2 * POLL_INTERVAL)


def test_two_subscribers_cost_one_poll_stream(
    events_gateway: EventsGateway, sequence_json: httpx.Client, job_id: str
) -> None:
    with (
        websocket_subscription(events_gateway, {"workAreaId": WA}) as websocket,
        sse_subscription(events_gateway, {}) as lines,
    ):
        events_gateway.wait_for_subscribers(2)
        httpx.delete(events_gateway.running.sequence_url + "/_sim/stats").raise_for_status()
        started = time.monotonic()
        rename(sequence_json, job_id, "Renamed for two")
        next_websocket_event(websocket, renamed(job_id, "Renamed for two"))
        next_sse_event(lines, renamed(job_id, "Renamed for two"))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        polls = events_gateway.events_requests()
        elapsed = time.monotonic() - started
    # One poller at POLL_INTERVAL, whatever the number of subscribers.
    assert 1 <= polls <= elapsed / POLL_INTERVAL + 2
