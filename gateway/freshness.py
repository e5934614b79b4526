"""Sequence's events keep every replica's cache fresh and feed the subscriptions.

One poller reads the events feed (with Redis, only the replica holding the
poller lock polls, so N replicas cost one poll stream). Each batch:
1. drops what it makes stale from this process's cache and the Redis layer,
2. goes to this process's subscribers,
3. is published on Redis, and every other replica does 1 and 2 with it.

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
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.config import Settings
from gateway.events import EventHub, EventPoller, SequenceEvent, invalidates_any
from gateway.upstreams.registry import Upstreams, sequence_budget_settings
from gateway.upstreams.sequence.records import EventRecord

logger = logging.getLogger(__name__)

CHANNEL = "gw:sequence-events"


class Freshness:
    def __init__(self, upstreams: Upstreams, settings: Settings) -> None:
        self.upstreams = upstreams
        self.settings = settings
        self.hub = EventHub()
        self.poller: EventPoller | None = None
        self.instance = uuid.uuid4().hex
        self._requests_this_round = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._channel: Any = None

    # lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        client = self.upstreams.sequence_client
        if client is None:
            return
        if self.upstreams.redis is not None:
            from gateway.shared import InvalidationChannel

            self._channel = InvalidationChannel(self.upstreams.redis, CHANNEL)
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
        budget = sequence_budget_settings(protection)
        base = budget.span / (protection.events_budget_share * budget.effective_limit)
        requests = max(1, self._requests_this_round)
        if ask:
            self._requests_this_round = 0
        return max(protection.events_min_interval, base * requests)

    async def _fetch(self, newer_than: str | None) -> Sequence[EventRecord]:
        if not await self._leading():
            return ()
        self._requests_this_round += 1
        return await self.upstreams.sequence.events(newer_than)

    async def _leading(self) -> bool:
        """With Redis, whether this replica holds the poller lock (taking or renewing it)."""
        redis = self.upstreams.redis
        if redis is None:
            return True
        key = f"gw:poller:{self.upstreams.sequence.credential}"
        ttl_ms = int(max(5.0, 3 * self.interval(ask=False)) * 1000)
        try:
            if await redis.set(key, self.instance, nx=True, px=ttl_ms):
                return True
            holder = await redis.get(key)
            if holder is not None and holder.decode() == self.instance:
                await redis.pexpire(key, ttl_ms)
                return True
            return False
        except Exception:
            # Without Redis every replica polls for itself, as a lone process would.
            return True

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
        await self._apply(events)

    async def _apply(self, events: list[SequenceEvent]) -> None:
        if not events:
            return
        self.upstreams.cache.invalidate(invalidates_any(events))
        store = self.upstreams.store
        client = self.upstreams.sequence_client
        if store is not None and client is not None:
            for prefix in _shared_prefixes(client.origin.url(""), events):
                await store.invalidate_url_prefix(client.credential, "GET", prefix)
        for event in events:
            self.hub.publish(event)


def _shared_prefixes(api_url: str, events: list[SequenceEvent]) -> set[str]:
    """URL prefixes of the Redis layer's entries the events make stale."""
    base = api_url.rstrip("/")
    prefixes: set[str] = set()
    for event in events:
        if event.work_area_id is None:
            prefixes.add(f"{base}/work_areas")
            continue
        jobs = f"{base}/work_areas/{event.work_area_id}/jobs"
        prefixes.add(f"{jobs}?")  # every list page, filter and deleted view
        if event.job_id is None:
            prefixes.add(jobs)
        else:
            prefixes.update((f"{jobs}/{event.job_id}?", f"{jobs}/{event.job_id}/"))
            prefixes.add(f"{jobs}/{event.job_id}|")  # the job by id itself: the key ends after the URL
    return prefixes


def _encode(event: SequenceEvent) -> dict[str, Any]:
    data = dataclasses.asdict(event)
    data["timestamp"] = event.timestamp.isoformat() if event.timestamp else None
    data["changes"] = list(event.changes)
    return data


def _decode(data: dict[str, Any]) -> SequenceEvent:
    data = dict(data)
    data["timestamp"] = datetime.fromisoformat(data["timestamp"]) if data.get("timestamp") else None
    data["changes"] = tuple(data.get("changes") or ())
    return SequenceEvent(**data)


__all__ = ["Freshness"]
