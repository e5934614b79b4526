"""How long a cached Sequence read may be trusted: until an event says it changed, or for a short time.

Sequence records every change in its events feed, and the gateway polls it
(gateway.events). While the poller is healthy, every change reaches the
cache within one poll interval and drops exactly what it made stale
(gateway.upstreams.sequence.invalidation), so an entry stays valid until an
event makes it stale; a long safety lifetime (`safety_ttl`, 1 h) still
bounds what a change that no event reported can cost. Upstream calls then
follow changes, not the clock.

When the poller is not healthy (it has not polled successfully within a few
intervals, it is falling behind, or it has not started), nothing says what
changed meanwhile, and the short time-based lifetime (`short_ttl`, 30 s)
applies to every entry, automatically, until it is healthy again: an entry
stored an hour ago is then as old as it is.

A gap the poller cannot replay (its place in the feed is lost, a relay from
another replica was missed) is worse: what changed in it will never be
reported. `broken()` then stops trusting everything stored before it
beyond the short lifetime, even once the poller is healthy again.

`lifetimes="time"` keeps the short lifetimes always: the behaviour before
events were trusted, and the workday benchmark's baseline.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

DEFAULT_SAFETY_TTL = 3600.0


class Lifetimes(enum.StrEnum):
    EVENTS = "events"  # valid until an event says otherwise, while the poller is healthy
    TIME = "time"  # the short time-based lifetime, always


Health = Callable[[], bool]


def _never() -> bool:
    return False


class Coherence:
    """Which lifetimes are in force for Sequence's cached reads, and for how long one entry is fresh.

    Example:
        >>> coherence = Coherence(Lifetimes.EVENTS, short_ttl=30, safety_ttl=3600)
        >>> coherence.follow(poller_is_healthy)
        >>> coherence.lifetime(coherence.store_ttl, stored_at)  # 3600 while healthy, 30 when not
    """

    def __init__(
        self,
        lifetimes: Lifetimes,
        *,
        short_ttl: float,
        safety_ttl: float = DEFAULT_SAFETY_TTL,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.lifetimes = lifetimes
        self.short_ttl = short_ttl
        self.safety_ttl = max(safety_ttl, short_ttl)
        self.clock = clock
        self.wall = wall
        self._health: Health = _never
        # Entries stored before these instants (on `clock`, and on the wall for
        # bodies the shared layer holds: `share_since`) are trusted only for the short lifetime.
        self.trusted_since = clock()
        self.trusted_since_wall = wall()
        self.breaks = 0

    def follow(self, health: Health) -> None:
        """Trust events while `health()` says the poller is healthy (the relay's)."""
        self._health = health

    @property
    def follows_events(self) -> bool:
        return self.lifetimes is Lifetimes.EVENTS

    @property
    def in_force(self) -> Lifetimes:
        """The lifetimes that apply now: EVENTS only while they are set and the poller is healthy."""
        return Lifetimes.EVENTS if self.follows_events and self._health() else Lifetimes.TIME

    @property
    def store_ttl(self) -> float:
        """The lifetime a read is stored with; `lifetime` shortens it while events cannot be trusted."""
        return self.safety_ttl if self.follows_events else self.short_ttl

    def lifetime(self, ttl: float, stored_at: float) -> float:
        """Seconds an entry stored at `stored_at` (on `clock`) with `ttl` is fresh, judged now."""
        if ttl <= self.short_ttl or self.trusts(stored_at, self.trusted_since):
            return ttl
        return self.short_ttl

    def trusts_stored(self, stored_wall: float) -> bool:
        """Whether a body stored at `stored_wall` (epoch seconds, by any replica) is valid now
        without its age mattering, short of the safety lifetime."""
        return self.trusts(stored_wall, self.trusted_since_wall)

    def trusts(self, stored: float, since: float) -> bool:
        return stored >= since and self.in_force is Lifetimes.EVENTS

    def share_since(self, wall: float) -> None:
        """Bodies in the shared layer stored since `wall` (epoch seconds) had every event swept
        from them (gateway.events.replicas): they are valid until an event says otherwise."""
        self.trusted_since_wall = wall

    def broken(self, why: str) -> None:
        """A gap no event will ever fill in this process: stop trusting what it stored before now.

        The shared layer is swept by whichever replica polls, so its bodies keep their trust.
        """
        self.trusted_since = self.clock()
        self.breaks += 1
        logger.warning("cached Sequence reads from before now are trusted for %.0f s only: %s", self.short_ttl, why)

    def report(self) -> dict[str, object]:
        return {
            "cacheLifetimes": self.in_force.value,
            "cacheLifetimesSetting": self.lifetimes.value,
            "safetyTtlSeconds": self.safety_ttl,
            "shortTtlSeconds": self.short_ttl,
            "coherenceBreaks": self.breaks,
        }


__all__ = ["DEFAULT_SAFETY_TTL", "Coherence", "Health", "Lifetimes"]
