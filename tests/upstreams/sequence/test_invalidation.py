"""Which cached Sequence reads a change makes stale, in the in-process cache and the Redis layer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

import httpx
import pytest

from gateway.config import SequenceSettings
from gateway.events import SequenceEvent, event_from_record
from gateway.upstreams.budget import BudgetSettings, LocalBudget
from gateway.upstreams.cache import CacheKey, ResponseCache
from gateway.upstreams.guard import UpstreamGuard
from gateway.upstreams.redis_layer import RedisLayer
from gateway.upstreams.resilience import CircuitBreaker, RetryPolicy
from gateway.upstreams.sequence import paths
from gateway.upstreams.sequence.client import SequenceClient
from gateway.upstreams.sequence.invalidation import Scope, Staleness
from tests.events.samples import BASE, event, record
from tests.upstreams.fakes import MemoryStore


def get(path: str, credential: str = "cred-a") -> CacheKey:
    return CacheKey(credential, "GET", BASE + path)


@pytest.mark.parametrize(
    ("key", "stale"),
    [
        # the job, live and deleted
        (get("/work_areas/10/jobs/7"), True),
        (get("/work_areas/10/jobs/7?deleted"), True),
        # its children lists and items, live and deleted
        (get("/work_areas/10/jobs/7/tasks"), True),
        (get("/work_areas/10/jobs/7/problems?deleted"), True),
        (get("/work_areas/10/jobs/7/notes/3"), True),
        (get("/work_areas/10/jobs/7/assets/5?deleted"), True),
        # read with another credential
        (get("/work_areas/10/jobs/7", credential="cred-b"), True),
        # every job list of the work area: pages, filters, the deleted view
        (get("/work_areas/10/jobs"), True),
        (get("/work_areas/10/jobs?pagination=true&page=3&per_page=50&filter=ready"), True),
        (get("/work_areas/10/jobs?pagination=true&page=1&per_page=200&deleted"), True),
        # other jobs, including one whose id starts with the same digits
        (get("/work_areas/10/jobs/70"), False),
        (get("/work_areas/10/jobs/8"), False),
        (get("/work_areas/10/jobs/8/tasks"), False),
        # another work area
        (get("/work_areas/11/jobs/7"), False),
        (get("/work_areas/11/jobs?pagination=true&page=1&per_page=50"), False),
        # the work area itself, the work areas, the feed
        (get("/work_areas/10"), False),
        (get("/work_areas"), False),
        (get("/events?newer_than=3"), False),
        # writes and Gofilex's POST reads are never touched
        (CacheKey("cred-a", "POST", BASE + "/work_areas/10/jobs/7", b"{}"), False),
        (CacheKey("cred-g", "POST", "http://127.0.0.1:8102/api/publication/v1/orders/status", b"[]"), False),
    ],
)
def test_a_job_event_makes_the_job_its_children_and_its_work_areas_lists_stale(key: CacheKey, stale: bool) -> None:
    assert covering([event("10", "7")])(key) is stale


@pytest.mark.parametrize(
    "link",
    [
        f"{BASE}/work_areas/10/jobs/7/tasks/3",  # a child
        f"{BASE}/work_areas/10/jobs/7?deleted",  # a deleted job
    ],
)
def test_a_child_or_deleted_job_event_invalidates_like_its_job(link: str) -> None:
    job_event = covering([event("10", "7")])
    other = covering([event_from_record(record(2, "task_updated", link))])
    keys = [get(path) for path in ("/work_areas/10/jobs/7/tasks", "/work_areas/10/jobs", "/work_areas/10/jobs/8")]
    assert [other(key) for key in keys] == [job_event(key) for key in keys] == [True, True, False]


def test_an_event_of_unknown_shape_makes_every_job_list_and_job_stale() -> None:
    stale = covering([event(None, None)])
    assert stale(get("/work_areas/10/jobs/7/tasks"))
    assert stale(get("/work_areas/11/jobs?pagination=true&page=2&per_page=50"))
    assert stale(get("/work_areas/12/jobs/1?deleted"))
    assert not stale(CacheKey("cred-a", "POST", BASE + "/work_areas/10/jobs"))
    assert not stale(get("/events"))


def test_a_work_area_event_makes_that_work_area_stale_and_no_other() -> None:
    stale = covering([event("10", None)])
    assert stale(get("/work_areas/10"))
    assert stale(get("/work_areas"))
    assert stale(get("/work_areas/10/jobs/3/notes"))
    assert not stale(get("/work_areas/11/jobs/3"))


def test_a_batch_predicate_is_the_union_of_its_events() -> None:
    stale = covering([event("10", "7"), event("11", "2")])
    assert stale(get("/work_areas/10/jobs/7")) and stale(get("/work_areas/11/jobs/2/tasks"))
    assert stale(get("/work_areas/11/jobs?page=1"))
    assert not stale(get("/work_areas/10/jobs/2")) and not stale(get("/work_areas/12/jobs"))
    assert not covering([])(get("/work_areas/10/jobs"))


def covering(changes: Iterable[SequenceEvent]) -> Callable[[CacheKey], bool]:
    """What the in-process cache asks: the keys `changes` make stale."""
    return Staleness(changes).covers_key


# the Redis layer's view of the same rule ---------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "scopes"),
    [
        # a job: its subtree, and its work area's lists (not the jobs by id beside it)
        ([event("10", "7")], [Scope("work_areas/10/jobs", False), Scope("work_areas/10/jobs/7", True)]),
        # a work area: everything under it, and the list of work areas
        ([event("10", None)], [Scope("work_areas/10", True), Scope("work_areas", False)]),
        # a shape we do not know: everything
        ([event(None, None), event("10", "7")], [Scope("work_areas", True)]),
        # a job inside a work area that is stale as a whole adds nothing
        ([event("10", None), event("10", "7")], [Scope("work_areas/10", True), Scope("work_areas", False)]),
        # nothing
        ([], []),
    ],
)
def test_scopes_name_what_covers_matches(events: list[SequenceEvent], scopes: list[Scope]) -> None:
    stale = Staleness(events)
    assert stale.scopes() == scopes
    assert bool(stale) is bool(events)
    # Every path a scope names is one the in-process view calls stale, and its views and children with it.
    for scope in scopes:
        below = [scope.path + tail for tail in ("/12", "/jobs/5", "/tasks")] if scope.below else []
        for path in (scope.path, scope.path + "?deleted", *below):
            location = paths.locate(path)
            if location is not None:
                assert stale.covers(location), path


def sequence_client(layer: RedisLayer | None, cache: ResponseCache) -> SequenceClient:
    guard = UpstreamGuard(
        "sequence",
        budget=LocalBudget(BudgetSettings()),
        breaker=CircuitBreaker("sequence"),
        retry=RetryPolicy(),
        attempt_timeout=1.0,
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(500)))
    return SequenceClient(
        SequenceSettings(BASE, "robot", "secret"), http, cache, ttl=60, guard=guard, redis_layer=layer
    )


def keys_of(client: SequenceClient, *relative: str) -> list[CacheKey]:
    return [client.key(path) for path in relative]


READS = (
    "work_areas",
    "work_areas/10",
    "work_areas/10/jobs?pagination=true&page=1&per_page=50",
    "work_areas/10/jobs/7",
    "work_areas/10/jobs/7?deleted",
    "work_areas/10/jobs/7/notes",
    "work_areas/10/jobs/70",
    "work_areas/10/jobs/8/tasks",
    "work_areas/11/jobs/7",
)


@pytest.mark.parametrize(
    ("changes", "left"),
    [
        # a job: the job, its views and children, and the lists go; its neighbours stay
        (
            [event("10", "7")],
            {
                "work_areas",
                "work_areas/10",
                "work_areas/10/jobs/70",
                "work_areas/10/jobs/8/tasks",
                "work_areas/11/jobs/7",
            },
        ),
        # a work area: all of it and the list of work areas
        ([event("10", None)], {"work_areas/11/jobs/7"}),
        # a change of a shape we do not know: everything
        ([event(None, None)], set()),
    ],
)
def test_invalidate_drops_the_same_reads_from_both_layers(changes: list[SequenceEvent], left: set[str]) -> None:
    async def main() -> None:
        cache = ResponseCache()
        memory = MemoryStore()
        client = sequence_client(RedisLayer(memory), cache)
        store = RedisLayer(memory)
        for path, key in zip(READS, keys_of(client, *READS), strict=True):
            cache.put(key, path, 60)
            await store.put(key, path.encode(), "application/json", 60)

        dropped = await client.invalidate(changes)

        assert dropped == len(READS) - len(left)
        assert {path for path, key in zip(READS, keys_of(client, *READS), strict=True) if cache.peek(key)} == left
        shared = {entry[1].decode() for entry in memory.entries.values()}
        assert shared == left
        await client.http.aclose()

    asyncio.run(main())


def test_invalidate_without_changes_touches_nothing() -> None:
    async def main() -> None:
        memory = MemoryStore()
        client = sequence_client(RedisLayer(memory), ResponseCache())
        empty: Iterable[SequenceEvent] = ()
        assert await client.invalidate(empty) == 0
        assert memory.deleted == []
        await client.http.aclose()

    asyncio.run(main())
