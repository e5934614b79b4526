"""Fan-out of Sequence events to the gateway's subscribers.

The poller publishes each event once; every subscriber has its own bounded
queue, so however many clients listen, Sequence sees one poll stream. A
subscriber that does not keep up is ended, not allowed to grow memory: it
can subscribe again and re-read what it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from gateway.errors import GatewayError
from gateway.events.event import SequenceEvent

DEFAULT_BUFFER = 1000


class SubscriberTooSlow(GatewayError):
    """Raised to a subscriber that fell `buffer` events behind; its events were dropped."""

    code = "SUBSCRIBER_TOO_SLOW"


class _Overflowed:
    """Put in a full queue, after emptying it, to end its subscriber."""


_OVERFLOWED = _Overflowed()


class _Subscription:
    """One subscriber's queue, iterated by the subscriber."""

    def __init__(self, work_area_id: str | None, buffer: int) -> None:
        self.work_area_id = work_area_id
        self.buffer = buffer
        self.queue: asyncio.Queue[SequenceEvent | _Overflowed] = asyncio.Queue(maxsize=buffer)
        self.ended = False

    def offer(self, event: SequenceEvent) -> None:
        if self.ended or (self.work_area_id is not None and event.work_area_id != self.work_area_id):
            return
        if self.queue.qsize() < self.buffer:
            self.queue.put_nowait(event)
            return
        # Free what it has not read: nothing it holds will be delivered now.
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_OVERFLOWED)
        self.ended = True

    def __aiter__(self) -> _Subscription:
        return self

    async def __anext__(self) -> SequenceEvent:
        item = await self.queue.get()
        if isinstance(item, _Overflowed):
            raise SubscriberTooSlow(
                f"this subscription fell {self.buffer} Sequence events behind and was ended; subscribe again"
            )
        return item


class EventHub:
    """Hands every published event to each subscriber that wants it.

    Example:
        >>> async with hub.subscribe(work_area_id="10") as events:
        ...     async for event in events:
        ...         print(event.event_type, event.job_id)
    """

    def __init__(self) -> None:
        self._subscriptions: set[_Subscription] = set()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, event: SequenceEvent) -> None:
        for subscription in list(self._subscriptions):
            subscription.offer(event)
            if subscription.ended:
                self._subscriptions.discard(subscription)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, work_area_id: str | None = None, *, buffer: int = DEFAULT_BUFFER
    ) -> AsyncIterator[AsyncIterator[SequenceEvent]]:
        """The events published while the block runs, of one work area or of all.

        Events without a work area (subjects of a shape we do not know) reach
        only subscribers of all work areas. Iterating raises SubscriberTooSlow
        once the subscriber is `buffer` events behind.
        """
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, got {buffer}")
        subscription = _Subscription(work_area_id, buffer)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)


__all__ = ["DEFAULT_BUFFER", "EventHub", "SubscriberTooSlow"]
