"""How the replicas of one gateway share Sequence's events through Redis: one polls, all apply, none misses.

- A lease (`gw:poller:{credential}`) lets one replica at a time poll the
  feed; while Redis fails, every replica polls for itself.
- Each batch the poller applied goes on a Redis stream
  (`gw:sequence-events:{credential}`), which every other replica reads in
  order from the last entry it handled, so one that was cut off replays what
  it missed; one that fell further behind than the stream keeps is told so.
- The newest entry says where the feed was read to: a replica that takes
  the lease over, or one started after every replica was stopped, resumes
  polling from there instead of from the feed's newest event, so no change
  in between goes unapplied.
- The poller vouches for the feed after each good round
  (`gw:poller-ok:{credential}`, expiring after a few intervals), so the
  others know whether to trust events.
- `gw:coherent-since:{credential}` is the time since when every event has
  been swept from the Redis layer: bodies stored since then are valid until
  an event says otherwise, across gateway restarts. It moves to now when
  that chain broke (no place in the feed to resume from, a batch not shared).

Keys hold a hash of the credential, never the secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis

from gateway.redis import DEFAULT_TIMEOUT, REDIS_ERRORS, Handler, Lease, Stream

logger = logging.getLogger(__name__)


class ReplicaLink:
    def __init__(self, redis: Redis, credential: str, *, wall: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._wall = wall
        self.lease = Lease(redis, f"gw:poller:{credential}", what="events poller lock")
        self.stream = Stream(redis, f"gw:sequence-events:{credential}")
        self._vouch_key = f"gw:poller-ok:{credential}"
        self._since_key = f"gw:coherent-since:{credential}"

    @property
    def connected(self) -> bool:
        """Whether this replica is reading the other replicas' batches now."""
        return self.stream.connected.is_set()

    async def leading(self, ttl: float) -> bool:
        """Take or renew the poller lease for `ttl` seconds; True also while Redis fails."""
        return await self.lease.hold(ttl)

    async def share(self, message: str) -> bool:
        """Put a batch on the stream for the others; False when Redis failed."""
        return await self.stream.append(message)

    def listen(self, handler: Handler, *, on_gap: Callable[[], None]) -> asyncio.Task[None]:
        return asyncio.create_task(self.stream.listen(handler, on_gap=on_gap), name="sequence events stream")

    async def resume_point(self) -> str | None:
        """The newest event id a replica applied and shared, or None."""
        message = await self.stream.newest()
        if message is None:
            return None
        try:
            ids = [str(item["event_id"]) for item in json.loads(message)]
        except (ValueError, TypeError, KeyError):
            return None
        digits = [int(event_id) for event_id in ids if event_id.isdigit()]
        return str(max(digits)) if digits else None

    async def vouch(self, seconds: float) -> None:
        """As the poller: the feed is read to its end, for `seconds`."""
        with contextlib.suppress(*REDIS_ERRORS):
            async with asyncio.timeout(DEFAULT_TIMEOUT):
                await self._redis.set(self._vouch_key, b"1", px=max(1, round(seconds * 1000)))

    async def poller_vouches(self) -> tuple[bool, float | None]:
        """Whether the poller vouches for the feed now, and the shared coherent-since time."""
        try:
            async with asyncio.timeout(DEFAULT_TIMEOUT):
                vouched, since = await self._redis.mget(self._vouch_key, self._since_key)
        except REDIS_ERRORS:
            return False, None
        return vouched is not None, _number(since)

    async def coherent_since(self, *, resumed: bool) -> float:
        """The shared coherent-since time: kept when this replica `resumed` where the
        others left off (and one is set), moved to now otherwise."""
        now = self._wall()
        try:
            async with asyncio.timeout(DEFAULT_TIMEOUT):
                if resumed:
                    await self._redis.set(self._since_key, repr(now).encode(), nx=True)
                    return _number(await self._redis.get(self._since_key)) or now
                await self._redis.set(self._since_key, repr(now).encode())
        except REDIS_ERRORS:
            pass
        return now


def _number(raw: bytes | None) -> float | None:
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


__all__ = ["ReplicaLink"]
