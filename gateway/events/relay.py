"""The relay of Sequence's events: every replica's cache kept fresh, every subscriber told.

One poller reads the events feed (with Redis, only the replica holding the
poller lock polls, so N replicas cost one poll stream). Each batch:
1. drops what it makes stale from every cache layer (`SequenceClient.invalidate`),
2. goes to this process's subscribers,
3. is published on Redis, and every other replica does 1 (its own cache only:
   the Redis layer is swept once) and 2 with it.

The poll interval keeps polling within a set share of Sequence's budget:
interval = budget span / (share x effective limit), times the requests the
last round needed (a round draining several full pages spends more).
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
from gateway.redis import Channel, Lease
from gateway.upstreams.budget import priority
from gateway.upstreams.budget.priority import Priority
from gateway.upstreams.registry import Upstreams
from gateway.upstreams.sequence.records import EventRecord

logger = logging.getLogger(__name__)

CHANNEL = "gw:sequence-events"


class EventRelay:
    def __init__(self, upstreams: Upstreams, settings: Settings, *, hub: EventHub | None = None) -> None:
        self.upstreams = upstreams
        self.settings = settings
        self.hub = hub if hub is not None else EventHub()
        self.poller: EventPoller | None = None
        self._requests_this_round = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: Channel | None = None
        self._lease: Lease | None = None

    # lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        client = self.upstreams.sequence_client
        if client is None:
            return
        redis = self.upstreams.redis
        if redis is not None:
            # One poller for every replica of this Sequence user; the key holds a hash of the credential.
            self._lease = Lease(redis, f"gw:poller:{client.credential}", what="events poller lock")
            self._channel = Channel(redis, CHANNEL)
            self._tasks.append(asyncio.create_task(self._channel.listen(self._on_remote)))
        self.poller = EventPoller(self._fetch, on_events=self._on_events, interval=self.interval)
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
        if poller is None:
            return {"polling": False}
        return {
            "polling": True,
            "lastEventId": poller.last_event_id,
            "lastPollOk": poller.last_poll_ok.isoformat() if poller.last_poll_ok else None,
            "lastError": poller.last_error,
            "intervalSeconds": round(self.interval(ask=False), 2),
            "subscribers": self.hub.subscribers,
        }

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
        if not await self._leading():
            return ()
        self._requests_this_round += 1
        # Before any client read: a poll queued behind them is every change seen late.
        with priority.scope(Priority.EVENTS):
            return await self.upstreams.sequence.events(newer_than)

    async def _leading(self) -> bool:
        """With Redis, whether this replica holds the poller lock (taking or renewing it);
        while Redis fails every replica polls for itself, as a lone process would."""
        if self._lease is None:
            return True
        return await self._lease.hold(max(5.0, 3 * self.interval(ask=False)))

    # applying events ------------------------------------------------------------------
    async def _on_events(self, events: list[SequenceEvent]) -> None:
        await self._apply(events)
        if self._channel is not None and events:
            await self._channel.publish(json.dumps([_encode(event) for event in events]))

    async def _on_remote(self, message: str) -> None:
        try:
            events = [_decode(item) for item in json.loads(message)]
        except (ValueError, TypeError, KeyError):
            logger.warning("ignoring a malformed event message from another replica")
            return
        # The replica that polled has swept the Redis layer before it published.
        await self._apply(events, redis_layer=False)

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
