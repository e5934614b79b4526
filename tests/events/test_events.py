"""Freshness from Sequence's events feed: events, invalidation rules, the hub and the poller."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.schema.config import StrawberryConfig

from gateway.config import Settings
from gateway.errors import UpstreamRateLimited, UpstreamUnavailable
from gateway.events import (
    EventHub,
    EventPoller,
    SequenceEvent,
    SubscriberTooSlow,
    event_from_record,
)
from gateway.events.relay import EventRelay
from gateway.schema import NODE_TYPES
from gateway.schema.query import Query
from gateway.schema.scalars import SCALARS
from gateway.schema.subscription import Subscription
from gateway.sse import _events as sse_events
from gateway.sse import create_sse_endpoint
from gateway.upstreams.cache import CacheKey, ResponseCache
from gateway.upstreams.registry import Upstreams
from gateway.upstreams.sequence.invalidation import Staleness
from gateway.upstreams.sequence.records import EventRecord
from tests.events.samples import BASE, WHEN, event, record


def run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coroutine())


def covering(changes: Iterable[SequenceEvent]) -> Callable[[CacheKey], bool]:
    """What the in-process cache asks: the keys `changes` make stale."""
    return Staleness(changes).covers_key


# events ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "link", "ids", "subject_kind"),
    [
        # a job
        ("job_updated", f"{BASE}/work_areas/10/jobs/7", ("10", "7", None, None), "job"),
        # a child of a job
        ("task_updated", f"{BASE}/work_areas/10/jobs/7/tasks/3", ("10", "7", "tasks", "3"), "task"),
        ("hook_created", f"{BASE}/work_areas/10/jobs/7/hooks/12", ("10", "7", "hooks", "12"), "hook"),
        # a deleted job and a child of one, read through the deleted view
        ("job_deleted", f"{BASE}/work_areas/10/jobs/7?deleted", ("10", "7", None, None), "job"),
        ("note_deleted", f"{BASE}/work_areas/10/jobs/7/notes/4?deleted", ("10", "7", "notes", "4"), "note"),
        # a children list
        ("asset_created", f"{BASE}/work_areas/10/jobs/7/assets", ("10", "7", "assets", None), "asset"),
        # behind a proxy's path prefix, with a trailing slash
        ("job_updated", "https://proxy.example/sequence/api/work_areas/10/jobs/7/", ("10", "7", None, None), "job"),
        # a sub-resource we do not know: still under its job
        ("attachment_created", f"{BASE}/work_areas/10/jobs/7/attachments/2", ("10", "7", None, None), "attachment"),
        # a work area
        ("work_area_updated", f"{BASE}/work_areas/10", ("10", None, None, None), "work_area"),
        # shapes we do not know, and no link at all
        ("user_updated", f"{BASE}/users/5", (None, None, None, None), "user"),
        ("job_updated", f"{BASE}/work_areas/ten/jobs/7", (None, None, None, None), "job"),
        ("job_created", f"{BASE}/work_areas/10/jobs", (None, None, None, None), "job"),  # a list is no subject
        ("job_updated", None, (None, None, None, None), "job"),
        ("mystery", f"{BASE}/work_areas/10/jobs/7/tasks/3/extra", (None, None, None, None), None),
    ],
)
def test_event_from_record_reads_ids_from_the_subject_links_path(
    event_type: str, link: str | None, ids: tuple, subject_kind: str | None
) -> None:
    parsed = event_from_record(EventRecord("42", event_type, WHEN, link, ("status", "name")))
    assert (parsed.work_area_id, parsed.job_id, parsed.kind, parsed.child_id) == ids
    assert parsed.subject_kind == subject_kind
    assert (parsed.event_id, parsed.event_type, parsed.timestamp) == ("42", event_type, WHEN)
    assert (parsed.changes, parsed.subject_link) == (("status", "name"), link)


# the relay -----------------------------------------------------------------------------------------


def get(path: str, credential: str = "cred-a") -> CacheKey:
    return CacheKey(credential, "GET", BASE + path)


def test_the_relay_drops_stale_reads_before_subscribers_hear() -> None:
    cache = ResponseCache()
    job, other = get("/work_areas/10/jobs/7"), get("/work_areas/10/jobs/8")
    cache.put(job, "job 7", 60)
    cache.put(other, "job 8", 60)
    seen: list[tuple[str, Any]] = []

    class Hub(EventHub):
        def publish(self, published: SequenceEvent) -> None:
            seen.append((published.event_id, cache.peek(job)))

    class Sequence:
        async def invalidate(self, changes: list[SequenceEvent], *, redis_layer: bool = True) -> None:
            cache.invalidate(covering(changes))

    upstreams = Upstreams(cache, sequence_client=Sequence())  # type: ignore[arg-type]  # a fake with invalidate only
    relay = EventRelay(upstreams, Settings(), hub=Hub())
    run(lambda: relay._apply([event("10", "7", "1"), event("10", "7", "2")]))
    assert seen == [("1", None), ("2", None)]
    assert cache.peek(other) == "job 8"


def test_a_batch_from_another_replica_spares_the_redis_layer_and_a_malformed_one_is_ignored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[tuple[list[str], bool]] = []

    class Sequence:
        async def invalidate(self, changes: list[SequenceEvent], *, redis_layer: bool = True) -> None:
            calls.append(([change.event_id for change in changes], redis_layer))

    upstreams = Upstreams(ResponseCache(), sequence_client=Sequence())  # type: ignore[arg-type]  # invalidate only
    relay = EventRelay(upstreams, Settings())
    good = json.dumps([{**dataclasses.asdict(event("10", "7", "5")), "timestamp": None, "changes": []}])
    hostile = json.dumps([{**dataclasses.asdict(event("10", "7", "6")), "job_id": "7/../8", "timestamp": None}])

    run(lambda: relay._on_remote(good))
    run(lambda: relay._on_remote(hostile))

    # The replica that polled swept the Redis layer: this one drops only its own entries.
    assert calls == [(["5"], False)]
    assert "malformed event message" in caplog.text


# hub -----------------------------------------------------------------------------------------------


async def take(events: Any, count: int) -> list[str]:
    return [(await asyncio.wait_for(anext(events), 1)).event_id for _ in range(count)]


def test_hub_filters_a_subscriber_to_its_work_area() -> None:
    async def scenario() -> None:
        hub = EventHub()
        async with hub.subscribe("10") as tens, hub.subscribe() as everything:
            for published in (event("10", "1", "1"), event("11", "1", "2"), event(None, None, "3"), event("10")):
                hub.publish(published)
            assert await take(tens, 2) == ["1", "1"]
            assert await take(everything, 4) == ["1", "2", "3", "1"]
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(anext(tens), 0.05)

    run(scenario)


def test_hub_fans_each_event_out_to_every_subscriber_in_order() -> None:
    async def scenario() -> None:
        hub = EventHub()

        async def listen(received: list[str]) -> None:
            async with hub.subscribe() as events:
                ready.release()
                received.extend(await take(events, 3))

        ready = asyncio.Semaphore(0)
        lists: list[list[str]] = [[] for _ in range(5)]
        listeners = [asyncio.create_task(listen(received)) for received in lists]
        for _ in lists:
            await ready.acquire()
        assert hub.subscribers == 5
        for event_id in ("1", "2", "3"):
            hub.publish(event(event_id=event_id))
        await asyncio.gather(*listeners)
        assert lists == [["1", "2", "3"]] * 5
        assert hub.subscribers == 0

    run(scenario)


def test_hub_ends_a_subscriber_that_falls_its_buffer_behind() -> None:
    async def scenario() -> None:
        hub = EventHub()
        async with hub.subscribe(buffer=3) as slow, hub.subscribe(buffer=3) as keeping_up:
            for event_id in ("1", "2", "3"):
                hub.publish(event(event_id=event_id))
            assert await take(keeping_up, 3) == ["1", "2", "3"]
            hub.publish(event(event_id="4"))  # slow is now four behind
            assert hub.subscribers == 1
            with pytest.raises(SubscriberTooSlow) as raised:
                await anext(slow)
            assert raised.value.extensions["code"] == "SUBSCRIBER_TOO_SLOW"
            hub.publish(event(event_id="5"))
            assert await take(keeping_up, 2) == ["4", "5"]

    run(scenario)


def test_hub_forgets_a_subscriber_when_it_leaves() -> None:
    async def scenario() -> None:
        hub = EventHub()
        async with hub.subscribe("10"):
            assert hub.subscribers == 1
        assert hub.subscribers == 0
        hub.publish(event())  # nobody to tell

        with pytest.raises(RuntimeError):
            async with hub.subscribe():
                raise RuntimeError("the subscriber failed")
        assert hub.subscribers == 0

        with pytest.raises(ValueError):
            async with hub.subscribe(buffer=0):
                pass

    run(scenario)


# poller --------------------------------------------------------------------------------------------


class Feed:
    """Sequence's events feed: oldest first, at most `page_size` a page."""

    def __init__(self, count: int = 0, *, page_size: int = 3) -> None:
        self.records: list[EventRecord] = []
        self.page_size = page_size
        self.calls: list[str | None] = []
        self.errors: list[Exception] = []
        self.add(count)

    def add(self, count: int, link: str = f"{BASE}/work_areas/10/jobs/7") -> None:
        start = len(self.records) + 1
        self.records += [record(event_id, link=link) for event_id in range(start, start + count)]

    async def fetch(self, newer_than: str | None) -> tuple[EventRecord, ...]:
        self.calls.append(newer_than)
        if self.errors:
            raise self.errors.pop(0)
        if newer_than is None:
            return tuple(self.records[-self.page_size :])
        return tuple(r for r in self.records if int(r.event_id) > int(newer_than))[: self.page_size]


class Batches:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, events: list[SequenceEvent]) -> None:
        self.batches.append([e.event_id for e in events])


def poller_for(feed: Feed, on_events: Any = None, **options: Any) -> EventPoller:
    return EventPoller(
        feed.fetch, on_events=on_events or Batches(), interval=lambda: 1.0, page_size=feed.page_size, **options
    )


def test_poller_starts_from_the_newest_event_without_replaying_older_ones() -> None:
    async def scenario() -> None:
        feed, batches = Feed(5), Batches()
        poller = poller_for(feed, batches)
        await poller.start()
        try:
            assert poller.last_event_id == "5"
            assert feed.calls == [None]
            assert batches.batches == []
            feed.add(2)
            await poller.poll()
            assert batches.batches == [["6", "7"]]
            assert poller.last_event_id == "7"
        finally:
            await poller.stop()

    run(scenario)


def test_poller_over_an_empty_feed_hands_on_the_first_events_from_the_newest_page() -> None:
    async def scenario() -> None:
        feed, batches = Feed(0), Batches()
        poller = poller_for(feed, batches)
        await poller.poll()
        assert poller.last_event_id is None
        feed.add(2)
        await poller.poll()
        assert feed.calls == [None, None]
        assert batches.batches == [["1", "2"]]

    run(scenario)


def test_poller_drains_full_pages_and_hands_them_on_in_id_order() -> None:
    async def scenario() -> None:
        feed, batches = Feed(1), Batches()
        poller = poller_for(feed, batches)
        await poller.poll()
        feed.add(7)
        await poller.poll()
        assert feed.calls == [None, "1", "4", "7"]
        assert batches.batches == [["2", "3", "4"], ["5", "6", "7"], ["8"]]

        # A page out of order, with an id already seen: ids compare as numbers.
        async def shuffled(newer_than: str | None) -> tuple[EventRecord, ...]:
            return (record(10), record(8), record(9), record(11))

        poller.fetch = shuffled
        poller.page_size = 50
        await poller.poll()
        assert batches.batches[-1] == ["9", "10", "11"]

    run(scenario)


def test_poller_reads_at_most_max_pages_a_round() -> None:
    async def scenario() -> None:
        feed = Feed(1)
        poller = poller_for(feed, max_pages=2)
        await poller.poll()
        feed.add(20)
        await poller.poll()
        assert feed.calls == [None, "1", "4"]
        assert poller.last_event_id == "7"
        await poller.poll()
        assert feed.calls[-2:] == ["7", "10"]

    run(scenario)


def test_poller_keeps_its_place_across_upstream_errors_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        feed, batches = Feed(2), Batches()
        poller = poller_for(feed, batches)
        await poller.poll()
        first_ok = poller.last_poll_ok
        assert first_ok is not None and poller.last_error is None
        feed.add(2)
        feed.errors = [UpstreamUnavailable("sequence", "sequence is unavailable")] * 2
        await poller.poll()
        await poller.poll()
        assert poller.last_event_id == "2"
        assert poller.last_error == "UPSTREAM_UNAVAILABLE: sequence is unavailable"
        assert poller.last_poll_ok == first_ok
        await poller.poll()
        assert batches.batches == [["3", "4"]]
        assert poller.last_error is None and poller.last_poll_ok is not None and poller.last_poll_ok >= first_ok

    with caplog.at_level(logging.WARNING, logger="gateway.events.poller"):
        run(scenario)
    # One warning for the outage, not one a round.
    assert [r.getMessage() for r in caplog.records] == [
        "polling the Sequence events feed failed, retrying: UPSTREAM_UNAVAILABLE: sequence is unavailable"
    ]


def test_poller_that_cannot_read_the_feed_at_start_learns_the_newest_id_later() -> None:
    async def scenario() -> None:
        feed, batches = Feed(4), Batches()
        feed.errors = [UpstreamUnavailable("sequence", "down")]
        poller = poller_for(feed, batches)
        await poller.start()  # does not raise
        await poller.stop()
        assert poller.last_event_id is None and poller.last_error is not None
        await poller.poll()
        assert poller.last_event_id == "4"
        assert batches.batches == []

    run(scenario)


def test_poller_awaits_an_async_on_events_and_survives_one_that_fails(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        feed = Feed(1)
        handled: list[list[str]] = []

        async def on_events(events: list[SequenceEvent]) -> None:
            await asyncio.sleep(0)
            if events[0].event_id == "2":
                raise RuntimeError("boom")
            handled.append([e.event_id for e in events])

        poller = poller_for(feed, on_events)
        await poller.poll()
        feed.add(1)
        await poller.poll()
        feed.add(1)
        await poller.poll()
        assert handled == [["3"]]
        assert poller.last_event_id == "3"

    with caplog.at_level(logging.ERROR, logger="gateway.events.poller"):
        run(scenario)
    assert "handling Sequence events 2..2 failed" in caplog.text


def test_poller_asks_interval_before_each_wait_and_stops_cleanly() -> None:
    async def scenario() -> None:
        feed = Feed(1)
        waits: list[float] = []
        intervals = iter([2.0, 3.0, 4.0, 5.0, 6.0])
        rounds = asyncio.Event()

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 4:
                rounds.set()
                await asyncio.Event().wait()  # the poller is stopped while waiting
            await asyncio.sleep(0)

        poller = EventPoller(
            feed.fetch, on_events=Batches(), interval=lambda: next(intervals), clock=lambda: 100.0, sleep=sleep
        )
        await poller.start()
        await asyncio.wait_for(rounds.wait(), 1)
        assert poller.running
        await poller.stop()
        assert not poller.running
        assert waits == [2.0, 3.0, 4.0, 5.0]
        assert feed.calls == [None, "1", "1", "1"]
        await poller.stop()  # twice is harmless

    run(scenario)


def test_poller_waits_out_the_interval_less_the_time_the_round_took_and_a_rate_limit() -> None:
    async def scenario() -> None:
        now = [0.0]
        waits: list[float] = []

        async def fetch(newer_than: str | None) -> tuple[EventRecord, ...]:
            now[0] += 0.5  # each round takes half a second
            if len(waits) == 1:
                raise UpstreamRateLimited("sequence", "rate limited", retry_after=30.0)
            return ()

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 3:
                await asyncio.Event().wait()
            await asyncio.sleep(0)

        poller = EventPoller(fetch, on_events=Batches(), interval=lambda: 2.0, clock=lambda: now[0], sleep=sleep)
        await poller.start()
        while len(waits) < 3:
            await asyncio.sleep(0)
        await poller.stop()
        assert waits == [1.5, 30.0, 1.5]

    run(scenario)


# the subscription and the SSE endpoint, in process ------------------------------------------------------


SCHEMA = strawberry.Schema(
    query=Query, subscription=Subscription, types=NODE_TYPES, config=StrawberryConfig(scalar_map=SCALARS)
)


class NoEvents:
    events = None


def test_subscription_without_an_event_hub_fails_with_not_configured() -> None:
    async def scenario() -> None:
        results = await SCHEMA.subscribe("subscription { sequenceEvents { eventId } }", context_value=NoEvents())
        result = await anext(results)
        await results.aclose()
        assert result.errors and (result.errors[0].extensions or {})["code"] == "UPSTREAM_NOT_CONFIGURED"

    run(scenario)


def sse_request(method: str, **options: Any) -> httpx.Response:
    """One request to an SSE endpoint over SCHEMA, whose context has no event hub."""

    async def context(request: Any) -> NoEvents:
        return NoEvents()

    app = Starlette(routes=[Route("/stream", create_sse_endpoint(SCHEMA, context), methods=["GET", "POST"])])
    headers = {"Accept": "text/event-stream", **options.pop("headers", {})}

    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            return await client.request(method, "/stream", headers=headers, **options)

    return asyncio.run(send())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "subscription { sequenceEvents { nope } }"}, "Cannot query field 'nope'"),
        ({"query": "subscription {"}, "Syntax Error"),
        ({"query": "{ workAreas { workAreaId } }"}, "only subscriptions are served here"),
        (
            {"query": "subscription($w: ID!) { sequenceEvents(workAreaId: $w) { eventId } }", "variables": {}},
            "Variable '$w' has invalid value",
        ),
        ({"variables": {}}, "no GraphQL query found"),
        ({"query": "subscription { sequenceEvents { eventId } }", "variables": [1]}, "variables must be"),
    ],
)
def test_sse_endpoint_answers_400_with_errors_before_streaming(body: dict, message: str) -> None:
    response = sse_request("POST", json=body)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in response.json()["errors"][0]["message"]


def test_sse_endpoint_refuses_bad_json_and_clients_that_do_not_accept_event_streams() -> None:
    bad = sse_request("POST", content=b"{")
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["errors"][0]["message"] == "the request body is not valid JSON"
    query = {"query": "subscription { sequenceEvents { eventId } }"}
    refused = sse_request("POST", json=query, headers={"Accept": "application/json"})
    assert refused.status_code == HTTPStatus.NOT_ACCEPTABLE


def test_sse_endpoint_streams_errors_of_a_running_subscription_then_completes() -> None:
    response = sse_request("GET", params={"query": "subscription { sequenceEvents { eventId } }"})
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"].startswith("text/event-stream")
    next_event, complete, _ = response.text.split("\n\n")
    assert next_event.startswith("event: next\ndata: ")
    assert '"UPSTREAM_NOT_CONFIGURED"' in next_event
    assert complete == "event: complete\ndata:"


def test_sse_stream_sends_keep_alive_comments_while_idle_and_closes_the_subscription_when_left() -> None:
    async def scenario() -> None:
        closed = asyncio.Event()

        async def idle_results() -> AsyncGenerator[Any, None]:
            try:
                await asyncio.Event().wait()
                yield None
            finally:
                closed.set()

        stream = sse_events(idle_results(), keep_alive=0.01)
        assert [await anext(stream), await anext(stream)] == [": keep-alive\n\n"] * 2
        await stream.aclose()  # what the response does when the client goes away
        assert closed.is_set()

    run(scenario)
