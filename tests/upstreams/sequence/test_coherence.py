"""Which lifetimes Sequence's cached reads have: the events' while the poller is healthy, else the short one."""

from __future__ import annotations

import pytest

from gateway.upstreams.cache import CacheKey, CacheSettings, ResponseCache
from gateway.upstreams.sequence.coherence import Coherence, Lifetimes

KEY = CacheKey("cred", "GET", "http://127.0.0.1:8101/api/work_areas/10/jobs/7")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def coherence(clock: Clock, lifetimes: Lifetimes = Lifetimes.EVENTS) -> tuple[Coherence, list[bool]]:
    health = [True]
    made = Coherence(lifetimes, short_ttl=30, safety_ttl=3600, clock=clock, wall=lambda: 1_800_000_000 + clock.now)
    made.follow(lambda: health[0])
    return made, health


def test_while_the_poller_is_healthy_an_entry_lives_until_the_safety_lifetime() -> None:
    clock = Clock()
    judge, health = coherence(clock)
    cache = ResponseCache(CacheSettings(revalidate_within=0), clock=clock)
    cache.put(KEY, "job", judge.store_ttl, judge=judge)
    clock.now += 600
    assert cache.peek(KEY) == "job"
    assert judge.in_force is Lifetimes.EVENTS
    # The poller falls behind or fails: the same entry is as old as it is.
    health[0] = False
    assert judge.in_force is Lifetimes.TIME
    assert cache.peek(KEY) is None
    # Healthy again, having replayed what it missed: the entry is valid again ...
    health[0] = True
    assert cache.peek(KEY) == "job"
    # ... until the safety lifetime.
    clock.now += 3001
    assert cache.peek(KEY) is None


def test_a_gap_that_cannot_be_replayed_trusts_older_entries_for_the_short_lifetime_only() -> None:
    clock = Clock()
    judge, _ = coherence(clock)
    cache = ResponseCache(CacheSettings(revalidate_within=0), clock=clock)
    cache.put(KEY, "before", judge.store_ttl, judge=judge)
    clock.now += 60
    judge.broken("a relay was missed")
    assert cache.peek(KEY) is None
    cache.put(KEY, "after", judge.store_ttl, judge=judge)
    clock.now += 60
    assert cache.peek(KEY) == "after"
    assert judge.report()["coherenceBreaks"] == 1
    # Bodies in the shared layer were swept by whichever replica polls: they keep their trust,
    # from the time the replicas say every event has been swept.
    assert judge.trusts_stored(1_800_000_000 + clock.now - 90)
    judge.share_since(1_800_000_000 + clock.now - 60)
    assert judge.trusts_stored(1_800_000_000 + clock.now - 30)
    assert not judge.trusts_stored(1_800_000_000 + clock.now - 90)


def test_time_based_lifetimes_ignore_the_events() -> None:
    clock = Clock()
    judge, _ = coherence(clock, Lifetimes.TIME)
    assert judge.store_ttl == 30
    assert judge.in_force is Lifetimes.TIME
    assert judge.lifetime(30, clock.now) == 30


def test_the_setting_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="sequence_lifetimes"):
        CacheSettings(sequence_lifetimes="forever")  # type: ignore[arg-type]
