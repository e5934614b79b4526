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
from gateway.upstreams.sequence.records import EventRecord
from tests.events.samples import BASE, WHEN, event
from tests.upstreams.fakes import MemoryStore


def get(path: str, credential: str = "cred-a") -> CacheKey:
    return CacheKey(credential, "GET", BASE + path)


# Every kind of read the client caches, around job 7 of work area 10.
UNIVERSE = (
    "/work_areas",
    "/work_areas/10",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50",
    "/work_areas/10/jobs?pagination=true&page=2&per_page=50",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50&filter=completed",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50&filter=received",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50&filter=problematic",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50&filter=not_problematic",
    "/work_areas/10/jobs?pagination=true&page=1&per_page=50&deleted",
    "/work_areas/10/jobs/7",
    "/work_areas/10/jobs/7?deleted",
    "/work_areas/10/jobs/7/tasks",
    "/work_areas/10/jobs/7/tasks/3",
    "/work_areas/10/jobs/7/assets",
    "/work_areas/10/jobs/7/notes",
    "/work_areas/10/jobs/7/notes?deleted",
    "/work_areas/10/jobs/7/problems",
    "/work_areas/10/jobs/7/hooks",
    "/work_areas/10/jobs/70",
    "/work_areas/10/jobs/8/tasks",
    "/work_areas/11/jobs/7",
    "/work_areas/11/jobs?pagination=true&page=1&per_page=50",
)
JOB = "/work_areas/10/jobs/7"
LISTS = "/work_areas/10/jobs?pagination=true&page="
ALL_LIVE_LISTS = {path for path in UNIVERSE if path.startswith(LISTS) and not path.endswith("&deleted")}


def under(path: str) -> set[str]:
    return {each for each in UNIVERSE if each == path or each.startswith((path + "/", path + "?"))}


def job_and(*more: str) -> set[str]:
    return {JOB, JOB + "?deleted", *more}


def lists(*filters: str) -> set[str]:
    return {LISTS + "1&per_page=50&filter=" + name for name in filters}


def sequence_event(event_type: str, subject: str, changes: tuple[str, ...] = ()) -> SequenceEvent:
    return event_from_record(EventRecord("1", event_type, WHEN, BASE + subject, changes))


@pytest.mark.parametrize(
    ("change", "stale", "patched"),
    [
        # a task: the job's task list and the task, and the job itself (its derived statuses)
        (sequence_event("task_updated", JOB + "/tasks/3", ("status",)), job_and(*under(JOB + "/tasks")), False),
        # an asset: the asset list, and the job
        (sequence_event("asset_updated", JOB + "/assets/5", ("status",)), job_and(JOB + "/assets"), False),
        # a note: the note list only, in both views
        (sequence_event("note_created", JOB + "/notes/9"), {JOB + "/notes", JOB + "/notes?deleted"}, False),
        # a hook: its list only
        (sequence_event("hook_created", JOB + "/hooks/2"), {JOB + "/hooks"}, False),
        # a problem: the problem list, the job, and the lists whose membership it moves
        (
            sequence_event("problem_created", JOB + "/problems/4"),
            job_and(JOB + "/problems", *lists("problematic", "not_problematic")),
            False,
        ),
        # a job's name: the job; its copies in the pages are put in place, no list is dropped
        (sequence_event("job_updated", JOB, ("name",)), job_and(), True),
        # its derived statuses: the job, and the filtered lists those move
        (sequence_event("job_updated", JOB, ("tasks_status", "status")), job_and(*lists("completed")), True),
        (sequence_event("job_updated", JOB, ("assets_status",)), job_and(*lists("received")), True),
        # an update that says not what changed, or names an attribute we do not know: as safe as before
        (sequence_event("job_updated", JOB), under(JOB) | ALL_LIVE_LISTS | {LISTS + "1&per_page=50&deleted"}, False),
        (
            sequence_event("job_updated", JOB, ("name", "scheduling")),
            under(JOB) | ALL_LIVE_LISTS | {LISTS + "1&per_page=50&deleted"},
            False,
        ),
        # a new job shifts the live pages
        (sequence_event("job_created", JOB), job_and(*ALL_LIVE_LISTS), False),
        # a deleted one shifts the deleted pages too, and takes all under it
        (sequence_event("job_deleted", JOB), under(JOB) | ALL_LIVE_LISTS | {LISTS + "1&per_page=50&deleted"}, False),
        # a sub-resource we do not know: all of its job and every list, as before
        (
            sequence_event("widget_updated", JOB + "/widgets/1", ("x",)),
            under(JOB) | ALL_LIVE_LISTS | {LISTS + "1&per_page=50&deleted"},
            False,
        ),
        # a work area: all under it, and the list of work areas
        (
            sequence_event("work_area_updated", "/work_areas/10", ("name",)),
            {"/work_areas", *under("/work_areas/10")},
            False,
        ),
        # a subject we cannot place: everything
        (sequence_event("job_updated", "/somewhere/else", ("name",)), set(UNIVERSE), False),
    ],
)
def test_an_event_makes_exactly_what_it_can_change_stale(change: SequenceEvent, stale: set[str], patched: bool) -> None:
    staleness = Staleness([change])
    assert {path for path in UNIVERSE if staleness.covers_key(get(path))} == stale
    # The live pages of the job's work area that are kept hold a copy that is read again and put in place.
    kept_pages = {path for path in ALL_LIVE_LISTS - stale if staleness.holds_patched(get(path))}
    assert kept_pages == (ALL_LIVE_LISTS - stale if patched else set())
    # The Redis layer, which deletes by path, drops at least as much.
    for path in stale | kept_pages:
        location = paths.locate(path)
        assert location is not None
        assert any(_scope_holds(scope, path.lstrip("/")) for scope in staleness.scopes()), path


def _scope_holds(scope: Scope, path: str) -> bool:
    rest = path.removeprefix(scope.path)
    return rest != path and (rest == "" or rest[0] == "?" or (scope.below and rest[0] == "/"))


def test_writes_gofilex_and_the_feed_are_never_stale() -> None:
    stale = covering([event(None, None)])
    assert not stale(CacheKey("cred-a", "POST", BASE + "/work_areas/10/jobs/7", b"{}"))
    assert not stale(CacheKey("cred-g", "POST", "http://127.0.0.1:8102/api/publication/v1/orders/status", b"[]"))
    assert not stale(get("/events?newer_than=3"))
    assert stale(get("/work_areas/10/jobs/7", credential="cred-b"))  # every credential's reads


def test_a_batch_is_the_union_of_its_events() -> None:
    stale = covering([event("10", "7"), event("11", "2")])
    assert stale(get("/work_areas/10/jobs/7")) and stale(get("/work_areas/11/jobs/2"))
    assert not stale(get("/work_areas/10/jobs/2")) and not stale(get("/work_areas/12/jobs"))
    assert not covering([])(get("/work_areas/10/jobs"))


def covering(changes: Iterable[SequenceEvent]) -> Callable[[CacheKey], bool]:
    """What the in-process cache asks: the keys `changes` make stale."""
    return Staleness(changes).covers_key


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
        # a deleted job: the job, its views and children, and the lists go; its neighbours stay
        (
            [sequence_event("job_deleted", "/work_areas/10/jobs/7")],
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
            await store.put(key, path.encode(), "application/json", 60, generation=0)

        dropped = await client.invalidate(changes)

        assert dropped == len(READS) - len(left)
        assert {path for path, key in zip(READS, keys_of(client, *READS), strict=True) if cache.peek(key)} == left
        shared = {entry.body.decode() for entry in memory.entries.values()}
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
