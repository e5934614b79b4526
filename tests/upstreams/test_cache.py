from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from gateway import deadline
from gateway.errors import NotFound, UpstreamTimeout, UpstreamUnavailable
from gateway.notices import StaleNotice, stale_notices
from gateway.notices import collect as collect_stale_notices
from gateway.upstreams.cache import CacheKey, CacheSettings, CacheStats, ResponseCache

JOB = CacheKey("cred-a", "GET", "http://127.0.0.1:8101/api/work_areas/10/jobs/3")
OTHER_JOB = CacheKey("cred-a", "GET", "http://127.0.0.1:8101/api/work_areas/10/jobs/4")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    """A fetch that counts its calls; `gate` holds every call until it is set."""

    def __init__(self, value: Any = "job 3", *, error: Exception | None = None) -> None:
        self.value = value
        self.error = error
        self.calls = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def fetch(self) -> Any:
        self.calls += 1
        await self.gate.wait()
        if self.error is not None:
            raise self.error
        return self.value


def run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coroutine())


def test_a_live_entry_is_returned_without_fetching() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        assert await cache.get_or_fetch(JOB, upstream.fetch, ttl=30) == "job 3"
        assert await cache.get_or_fetch(JOB, upstream.fetch, ttl=30) == "job 3"
        assert upstream.calls == 1
        assert cache.stats == CacheStats(hits=1, misses=1)

    run(scenario)


def test_an_entry_expires_after_its_ttl() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        # Without stale windows: expiry alone.
        cache = ResponseCache(CacheSettings(revalidate_within=0, stale_if_error=0), clock=clock)
        upstream = Upstream()
        await cache.get_or_fetch(JOB, upstream.fetch, ttl=30)
        clock.now += 29.9
        assert cache.peek(JOB) == "job 3"
        clock.now += 0.1
        assert cache.peek(JOB) is None
        await cache.get_or_fetch(JOB, upstream.fetch, ttl=30)
        assert upstream.calls == 2

    run(scenario)


def test_the_ttl_may_depend_on_the_value() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(clock=clock)

        def ttl(order: dict[str, Any]) -> float:
            return 5 if order["running"] else 300

        running, finished = CacheKey("c", "POST", "orders", b"1"), CacheKey("c", "POST", "orders", b"2")
        await cache.get_or_fetch(running, Upstream({"running": True}).fetch, ttl)
        await cache.get_or_fetch(finished, Upstream({"running": False}).fetch, ttl)
        clock.now += 10
        assert cache.peek(running) is None
        assert cache.peek(finished) == {"running": False}

    run(scenario)


def test_a_ttl_of_zero_or_less_stores_nothing() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        await cache.get_or_fetch(JOB, upstream.fetch, ttl=0)
        await cache.get_or_fetch(JOB, upstream.fetch, ttl=lambda value: -1)
        assert upstream.calls == 2
        assert len(cache) == 0

    run(scenario)


def test_ten_concurrent_identical_calls_share_one_fetch() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        upstream.gate.clear()
        callers = [asyncio.create_task(cache.get_or_fetch(JOB, upstream.fetch, ttl=30)) for _ in range(10)]
        await asyncio.sleep(0)
        upstream.gate.set()
        assert await asyncio.gather(*callers) == ["job 3"] * 10
        assert upstream.calls == 1
        assert cache.stats == CacheStats(misses=1, shared=9)

    run(scenario)


def test_a_concurrent_failure_reaches_every_caller_and_is_not_cached() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        error = UpstreamUnavailable("sequence", "sequence answered 503")
        failing = Upstream(error=error)
        failing.gate.clear()
        callers = [asyncio.create_task(cache.get_or_fetch(JOB, failing.fetch, ttl=30)) for _ in range(3)]
        await asyncio.sleep(0)
        failing.gate.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        assert results == [error, error, error]
        assert failing.calls == 1
        assert cache.peek(JOB) is None
        assert await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30) == "job 3"

    run(scenario)


def test_a_cancelled_waiter_does_not_cancel_the_fetch_for_the_others() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        upstream.gate.clear()
        first = asyncio.create_task(cache.get_or_fetch(JOB, upstream.fetch, ttl=30))  # starts the fetch
        second = asyncio.create_task(cache.get_or_fetch(JOB, upstream.fetch, ttl=30))
        await asyncio.sleep(0)
        first.cancel()
        await asyncio.sleep(0)
        upstream.gate.set()
        assert await second == "job 3"
        assert first.cancelled()
        assert upstream.calls == 1
        assert cache.peek(JOB) == "job 3"

    run(scenario)


def test_a_failure_nobody_waits_for_is_not_logged_as_never_retrieved(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        failing = Upstream(error=UpstreamUnavailable("sequence", "sequence could not be reached"))
        failing.gate.clear()
        waiter = asyncio.create_task(cache.get_or_fetch(JOB, failing.fetch, ttl=30))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.sleep(0)
        failing.gate.set()
        for _ in range(3):
            await asyncio.sleep(0)
        assert failing.calls == 1

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(scenario)
        gc.collect()  # "never retrieved" is logged when the task is collected
    assert "never retrieved" not in caplog.text


def test_different_credentials_never_share_entries_or_fetches() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        alice = Upstream("alice's job")
        bob = Upstream("bob's job")
        alice.gate.clear()
        key_a = CacheKey("cred-a", "GET", JOB.url)
        key_b = CacheKey("cred-b", "GET", JOB.url)
        pending = asyncio.create_task(cache.get_or_fetch(key_a, alice.fetch, ttl=30))
        await asyncio.sleep(0)
        assert await cache.get_or_fetch(key_b, bob.fetch, ttl=30) == "bob's job"
        alice.gate.set()
        assert await pending == "alice's job"
        assert (alice.calls, bob.calls) == (1, 1)
        assert cache.peek(key_a) == "alice's job"

    run(scenario)


def test_keys_differ_by_method_and_body() -> None:
    assert CacheKey("c", "POST", "u", b"[1]") != CacheKey("c", "POST", "u", b"[2]")
    assert CacheKey("c", "GET", "u") != CacheKey("c", "POST", "u")
    assert CacheKey("c", "GET", "u") == CacheKey("c", "GET", "u", b"")


def test_invalidate_drops_the_entries_matching_the_predicate() -> None:
    cache = ResponseCache()
    work_area_11 = CacheKey("cred-a", "GET", "http://127.0.0.1:8101/api/work_areas/11/jobs")
    for key in (JOB, OTHER_JOB, work_area_11):
        cache.put(key, key.url, ttl=30)
    assert cache.invalidate(lambda key: "/work_areas/10/" in key.url) == 2
    assert cache.peek(JOB) is None
    assert cache.peek(OTHER_JOB) is None
    assert cache.peek(work_area_11) == work_area_11.url


def test_invalidate_keeps_a_fetch_in_flight_from_storing_a_stale_value() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        before_write = Upstream("before the write")
        before_write.gate.clear()
        pending = asyncio.create_task(cache.get_or_fetch(JOB, before_write.fetch, ttl=30))
        await asyncio.sleep(0)
        cache.invalidate(lambda key: key == JOB)
        after_write = Upstream("after the write")
        assert await cache.get_or_fetch(JOB, after_write.fetch, ttl=30) == "after the write"
        before_write.gate.set()
        assert await pending == "before the write"
        assert cache.peek(JOB) == "after the write"

    run(scenario)


def test_put_primes_an_entry_that_get_or_fetch_then_hits() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        cache.put(JOB, "job 3 from the list page", ttl=30)
        upstream = Upstream()
        assert await cache.get_or_fetch(JOB, upstream.fetch, ttl=30) == "job 3 from the list page"
        assert upstream.calls == 0

    run(scenario)


def test_clear_drops_everything() -> None:
    cache = ResponseCache()
    cache.put(JOB, 1, ttl=30)
    cache.put(OTHER_JOB, 2, ttl=30)
    cache.clear()
    assert len(cache) == 0
    assert cache.peek(JOB) is None


def test_the_cache_holds_at_most_maxsize_entries_evicting_the_least_recently_used() -> None:
    cache = ResponseCache(CacheSettings(max_entries=3))
    keys = [CacheKey("c", "GET", f"jobs/{n}") for n in range(4)]
    for key in keys[:3]:
        cache.put(key, key.url, ttl=30)
    assert cache.peek(keys[0]) == "jobs/0"  # now the most recently used
    cache.put(keys[3], "jobs/3", ttl=30)
    assert len(cache) == 3
    assert cache.peek(keys[1]) is None
    assert [cache.peek(key) for key in (keys[0], keys[2], keys[3])] == ["jobs/0", "jobs/2", "jobs/3"]
    assert cache.stats.evictions == 1


def test_expired_entries_make_room_before_live_ones_are_evicted() -> None:
    clock = FakeClock()
    cache = ResponseCache(CacheSettings(max_entries=2, revalidate_within=0, stale_if_error=0), clock=clock)
    short, long, new = (CacheKey("c", "GET", name) for name in ("short", "long", "new"))
    cache.put(long, "long", ttl=300)
    cache.put(short, "short", ttl=5)
    clock.now += 10
    cache.put(new, "new", ttl=300)
    assert cache.peek(long) == "long"
    assert cache.stats.evictions == 0


def test_a_just_expired_entry_is_served_at_once_and_refreshed_in_the_background() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(CacheSettings(revalidate_within=10, stale_if_error=600), clock=clock)
        values = iter(["v1", "v2"])

        async def fetch() -> str:
            return next(values)

        with collect_stale_notices() as notices:
            assert await cache.get_or_fetch(JOB, fetch, ttl=30, upstream="sequence") == "v1"
            clock.now += 35
            assert await cache.get_or_fetch(JOB, fetch, ttl=30, upstream="sequence") == "v1"
            await asyncio.sleep(0)  # the background refresh runs
            assert cache.peek(JOB) == "v2"
        assert notices == [StaleNotice("sequence", 35.0, "REVALIDATING")]

    run(scenario)


def test_the_last_good_value_stands_in_when_the_upstream_fails() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(CacheSettings(revalidate_within=10, stale_if_error=600), clock=clock)
        await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30)
        clock.now += 100

        async def down() -> str:
            raise UpstreamUnavailable("sequence", "sequence answered 503", retryable=True)

        with collect_stale_notices() as notices:
            assert await cache.get_or_fetch(JOB, down, ttl=30, upstream="sequence") == "job 3"
        assert notices == [StaleNotice("sequence", 100.0, "UPSTREAM_UNAVAILABLE")]
        assert cache.stats.stale == 1

    run(scenario)


def test_stale_values_do_not_stand_in_for_errors_about_the_request() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(clock=clock)
        await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30)
        clock.now += 100

        async def gone() -> str:
            raise NotFound("sequence: not found")

        with pytest.raises(NotFound):
            await cache.get_or_fetch(JOB, gone, ttl=30)

    run(scenario)


def test_stale_values_expire_after_the_stale_window() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(CacheSettings(revalidate_within=10, stale_if_error=60), clock=clock)
        await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30)
        clock.now += 91

        async def down() -> str:
            raise UpstreamTimeout("sequence", "slow", retryable=True)

        with pytest.raises(UpstreamTimeout):
            await cache.get_or_fetch(JOB, down, ttl=30)

    run(scenario)


def test_invalidated_entries_are_never_served_stale() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30)
        cache.invalidate(lambda key: True)

        async def down() -> str:
            raise UpstreamUnavailable("sequence", "down", retryable=True)

        with pytest.raises(UpstreamUnavailable):
            await cache.get_or_fetch(JOB, down, ttl=30)

    run(scenario)


def test_an_entry_invalidated_while_its_refresh_fails_is_not_served_stale() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        cache = ResponseCache(CacheSettings(revalidate_within=0, stale_if_error=600), clock=clock)
        await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30)
        clock.now += 100

        async def invalidated_then_down() -> str:
            cache.invalidate(lambda key: key == JOB)  # an event arrives while the read is on its way
            raise UpstreamUnavailable("sequence", "down", retryable=True)

        with pytest.raises(UpstreamUnavailable):
            await cache.get_or_fetch(JOB, invalidated_then_down, ttl=30)
        assert cache.stats.stale == 0

    run(scenario)


# Read-ahead ------------------------------------------------------------------


def test_a_prefetch_is_joined_by_the_caller_that_asks_next() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        upstream.gate.clear()
        assert cache.prefetch(JOB, upstream.fetch, ttl=30)
        await asyncio.sleep(0)
        waiter = asyncio.create_task(cache.get_or_fetch(JOB, upstream.fetch, ttl=30))
        await asyncio.sleep(0)
        upstream.gate.set()
        assert await waiter == "job 3"
        assert await cache.get_or_fetch(JOB, upstream.fetch, ttl=30) == "job 3"
        assert upstream.calls == 1
        assert (cache.stats.prefetched, cache.stats.shared, cache.stats.hits) == (1, 1, 1)

    run(scenario)


def test_nothing_is_prefetched_that_is_fresh_or_already_in_flight() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        upstream = Upstream()
        await cache.get_or_fetch(JOB, upstream.fetch, ttl=30)
        assert not cache.prefetch(JOB, upstream.fetch, ttl=30)
        upstream.gate.clear()
        assert cache.prefetch(OTHER_JOB, upstream.fetch, ttl=30)
        assert not cache.prefetch(OTHER_JOB, upstream.fetch, ttl=30)
        upstream.gate.set()
        await asyncio.sleep(0.01)
        assert upstream.calls == 2
        assert cache.peek(OTHER_JOB) == "job 3"

    run(scenario)


def test_a_failed_prefetch_stores_nothing_and_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        failing = Upstream(error=UpstreamUnavailable("sequence", "down"))
        assert cache.prefetch(JOB, failing.fetch, ttl=30)
        await asyncio.sleep(0.01)
        assert cache.peek(JOB) is None
        # The next caller fetches for itself.
        assert await cache.get_or_fetch(JOB, Upstream().fetch, ttl=30) == "job 3"

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        run(scenario)
        gc.collect()
    assert "never retrieved" not in caplog.text


def test_a_prefetch_runs_outside_the_request_that_started_it() -> None:
    async def scenario() -> None:
        cache = ResponseCache()
        seen: list[object] = []

        async def fetch() -> str:
            seen.append((stale_notices.get(), deadline.current()))
            return "page 3"

        with collect_stale_notices(), deadline.scope(0.5):
            cache.prefetch(JOB, fetch, ttl=30)
        await asyncio.sleep(0.01)
        assert seen == [(None, None)]

    run(scenario)
