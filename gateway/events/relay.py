"""The relay of Sequence's events: every replica's cache kept fresh, every subscriber told.

One poller reads the events feed (with Redis, only the replica holding the
poller lease polls, so N replicas cost one poll stream:
gateway.events.replicas). Each batch:
1. drops what it makes stale from every cache layer (`SequenceClient.invalidate`),
2. goes to this process's subscribers,
3. goes on a Redis stream, and every other replica does 1 (its own cache
   only: the Redis layer is swept once) and 2 with it, in order, replaying
   what it missed after a lost connection.

The poll interval keeps polling within a set share of Sequence's budget:
interval = budget span / (share x effective limit), times the requests the
last round needed (a round draining several full pages spends more).

The relay also tells Sequence's cache whether it may trust events
(gateway.upstreams.sequence.coherence): it is healthy while the feed has
been read to its end within `HEALTHY_ROUNDS` intervals. A replica that does
not poll is healthy while the poller vouches for the feed and its own read
of the stream holds. One that fell behind what the stream keeps has lost
batches: its entries stored before are then trusted for the short lifetime
only (`Coherence.broken`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.config import Settings
from gateway.events.event import SequenceEvent
from gateway.events.hub import EventHub
from gateway.events.poller import EventPoller
from gateway.events.replicas import ReplicaLink
from gateway.upstreams.budget import priority
from gateway.upstreams.budget.priority import Priority
from gateway.upstreams.registry import Upstreams
from gateway.upstreams.sequence.records import EventRecord

logger = logging.getLogger(__name__)

# The poller is healthy while its last good round is at most this many intervals old
# (and at least HEALTH_SLACK seconds, for a round that waited for its budget slot).
HEALTHY_ROUNDS = 3
HEALTH_SLACK = 5.0


class EventRelay:
    def __init__(self, upstreams: Upstreams, settings: Settings, *, hub: EventHub | None = None) -> None:
        self.upstreams = upstreams
        self.settings = settings
        self.hub = hub if hub is not None else EventHub()
        self.poller: EventPoller | None = None
        self._requests_this_round = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._link: ReplicaLink | None = None
        self._leading_now = True
        self._poller_vouches = False
        self._unshared = False  # a batch could not go on the stream

    # lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        client = self.upstreams.sequence_client
        if client is None:
            return
        self.poller = EventPoller(
            self._fetch, on_events=self._on_events, interval=self.interval, after_round=self._after_round
        )
        client.coherence.follow(self.healthy)
        redis = self.upstreams.redis
        if redis is not None:
            # One poller for every replica of this Sequence user; keys hold a hash of the credential.
            link = self._link = ReplicaLink(redis, client.credential)
            resumed = await link.resume_point()
            if resumed is not None:
                # Where the replicas left off: what changed since is replayed, not skipped.
                self.poller.caught_up_to(resumed)
            client.coherence.share_since(await link.coherent_since(resumed=resumed is not None))
            self._tasks.append(link.listen(self._on_remote, on_gap=self._lost_batches))
        await self.poller.start()

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def report(self) -> dict[str, Any]:
        poller = self.poller
        client = self.upstreams.sequence_client
        coherence = client.coherence.report() if client is not None else {}
        if poller is None:
            return {"polling": False, **coherence}
        return {
            "polling": True,
            "healthy": self.healthy(),
            "leading": self._leading_now,
            "lastEventId": poller.last_event_id,
            "lastPollOk": poller.last_poll_ok.isoformat() if poller.last_poll_ok else None,
            "lastError": poller.last_error,
            "behind": poller.behind,
            "intervalSeconds": round(self.interval(ask=False), 2),
            "subscribers": self.hub.subscribers,
            **coherence,
        }

    def healthy(self) -> bool:
        """Whether every change Sequence made until a few intervals ago has reached this process's cache."""
        poller = self.poller
        if poller is None:
            return False
        interval = self.interval(ask=False)
        if not poller.keeping_up(max(HEALTHY_ROUNDS * interval, interval + HEALTH_SLACK)):
            return False
        if self._leading_now:
            return True
        # Another replica polls; its batches reach us through the stream.
        return self._poller_vouches and self._link is not None and self._link.connected

    # polling ----------------------------------------------------------------------
    def interval(self, *, ask: bool = True) -> float:
        protection = self.settings.protection
        budget = protection.sequence_budget
        base = budget.span / (protection.events_budget_share * budget.effective_limit)
        requests = max(1, self._requests_this_round)
        if ask:
            self._requests_this_round = 0
        return max(protection.events_min_interval, base * requests)

    async def _fetch(self, newer_than: str | None) -> Sequence[EventRecord]:
        self._leading_now = await self._leading()
        if not self._leading_now:
            link = self._link
            if link is not None:
                self._poller_vouches, since = await link.poller_vouches()
                client = self.upstreams.sequence_client
                if since is not None and client is not None:
                    client.coherence.share_since(since)
            return ()
        self._requests_this_round += 1
        # Before any client read: a poll queued behind them is every change seen late.
        with priority.scope(Priority.EVENTS):
            return await self.upstreams.sequence.events(newer_than)

    async def _leading(self) -> bool:
        """With Redis, whether this replica holds the poller lease (taking or renewing it);
        while Redis fails every replica polls for itself, as a lone process would."""
        if self._link is None:
            return True
        return await self._link.leading(max(5.0, 3 * self.interval(ask=False)))

    async def _after_round(self) -> None:
        """As the poller: vouch for the feed to the other replicas, for a few intervals."""
        link, poller = self._link, self.poller
        if link is None or poller is None or not self._leading_now or poller.behind:
            return
        interval = self.interval(ask=False)
        await link.vouch(max(HEALTHY_ROUNDS * interval, interval + HEALTH_SLACK))

    def _lost_batches(self) -> None:
        client = self.upstreams.sequence_client
        if client is not None:
            client.coherence.broken("this replica fell behind the other replicas' batches of events")

    # applying events ------------------------------------------------------------------
    async def _on_events(self, events: list[SequenceEvent]) -> None:
        await self._apply(events)
        link = self._link
        if link is None or not events:
            return
        shared = await link.share(json.dumps([_encode(event) for event in events]))
        client = self.upstreams.sequence_client
        if not shared:
            self._unshared = True  # Redis failed: the Redis layer was not swept either
        elif self._unshared and client is not None:
            # Redis answers again, but bodies stored before may have missed a sweep.
            self._unshared = False
            client.coherence.share_since(await link.coherent_since(resumed=False))

    async def _on_remote(self, message: str) -> None:
        try:
            events = [_decode(item) for item in json.loads(message)]
        except (ValueError, TypeError, KeyError):
            logger.warning("ignoring a malformed event message from another replica")
            return
        # The replica that polled has swept the Redis layer before it published.
        await self._apply(events, redis_layer=False)
        if self.poller is not None:
            # Should this replica take the poller lock over, it resumes from here.
            for event in events:
                self.poller.caught_up_to(event.event_id)

    async def _apply(self, events: list[SequenceEvent], *, redis_layer: bool = True) -> None:
        """Drop what the batch makes stale, then tell subscribers: in that order, so a
        subscriber that reads the changed job on hearing of it gets the new version."""
        if not events:
            return
        client = self.upstreams.sequence_client
        if client is not None:
            await client.invalidate(events, redis_layer=redis_layer)
        for event in events:
            self.hub.publish(event)


def _encode(event: SequenceEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    data["timestamp"] = event.timestamp.isoformat() if event.timestamp else None
    data["changes"] = list(event.changes)
    return data


def _decode(data: dict[str, Any]) -> SequenceEvent:
    data = dict(data)
    for name in ("work_area_id", "job_id"):
        # Another replica read these from a subject link: digits, or none.
        if data.get(name) is not None and not str(data[name]).isdigit():
            raise ValueError(f"{name} is not a Sequence id")
    data["timestamp"] = datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None
    data["changes"] = tuple(data.get("changes") or ())
    return SequenceEvent(**data)


__all__ = ["EventRelay"]
