"""Polling Sequence's events feed: the documented way to follow its changes.

One poller per gateway process. It learns the newest event id when it
starts (events from before are not replayed), then asks for what is newer
every `interval()` seconds, draining full pages, and hands each page of new
events, in id order, to `on_events`. An upstream error keeps the last id and
is retried at the next interval; the loop only ends when stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from gateway.errors import GatewayError, UpstreamRateLimited
from gateway.events.event import SequenceEvent, event_from_record
from gateway.upstreams.sequence.records import EventRecord

logger = logging.getLogger(__name__)

# Sequence does not document its events page size; the simulator answers 50.
# A page this full may have more behind it, so the poller asks again at once.
DEFAULT_PAGE_SIZE = 50
# At most this many pages a round, so a burst of events cannot spend the
# rate budget in one go; the rest follow at the next interval.
DEFAULT_MAX_PAGES = 10

Fetch = Callable[[str | None], Awaitable[Sequence[EventRecord]]]
OnEvents = Callable[[list[SequenceEvent]], Awaitable[None] | None]
AfterRound = Callable[[], Awaitable[None]]


class EventPoller:
    """Follows the feed through `fetch(newer_than)` (SequenceClient.events).

    Args:
        fetch: a page of events after an id, or the newest page for None.
        on_events: called with each batch of new events, oldest first.
        interval: seconds between the starts of two rounds, asked before each wait.
        after_round: awaited after each round that succeeded.
        clock, sleep: replaced in tests.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        on_events: OnEvents,
        interval: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
        after_round: AfterRound | None = None,
    ) -> None:
        self.fetch = fetch
        self.after_round = after_round
        self.on_events = on_events
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.page_size = page_size
        self.max_pages = max_pages
        self.last_event_id: str | None = None
        self.last_poll_ok: datetime | None = None
        self.last_ok_at: float | None = None  # on `clock`
        self.last_error: str | None = None
        # The last round stopped at `max_pages` with more of the feed behind it.
        self.behind = False
        self._started = False  # the newest id has been learned
        self._retry_after = 0.0
        self._round_started = 0.0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Learn the newest event id, then poll in the background.

        When Sequence cannot be read now, the loop keeps trying to learn it;
        start itself never fails for an upstream error.
        """
        if self._task is not None:
            return
        await self.poll()
        self._task = asyncio.create_task(self._run(), name="sequence events poller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def keeping_up(self, within: float) -> bool:
        """Whether the feed has been read to its end successfully within the last `within` seconds:
        every change made before then has been handed on."""
        return (
            self._started
            and self.last_error is None
            and not self.behind
            and self.last_ok_at is not None
            and self.clock() - self.last_ok_at <= within
        )

    def caught_up_to(self, event_id: str) -> None:
        """Another process handed on the feed up to `event_id`: resume after it, should this one poll."""
        if self.last_event_id is None or _id_order(event_id) > _id_order(self.last_event_id):
            self.last_event_id = event_id
            self._started = True

    async def _run(self) -> None:
        while True:
            elapsed = self.clock() - self._round_started
            wait = max(self.interval() - elapsed, self._retry_after, 0.0)
            self._retry_after = 0.0
            await self.sleep(wait)
            await self.poll()

    async def poll(self) -> None:
        """One round: learn the newest id, or read and hand on what is newer. Never raises but on cancel."""
        self._round_started = self.clock()
        try:
            if not self._started:
                await self._learn_newest()
            else:
                await self._drain()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc)
        else:
            if self.last_error is not None:
                logger.info("the Sequence events feed answers again")
            self.last_error = None
            self.last_poll_ok = datetime.now(UTC)
            self.last_ok_at = self.clock()
            if self.after_round is not None:
                await self.after_round()

    async def _learn_newest(self) -> None:
        page = await self.fetch(None)
        if page:
            self.last_event_id = max(page, key=_order).event_id
        self._started = True

    async def _drain(self) -> None:
        for _ in range(self.max_pages):
            page = await self.fetch(self.last_event_id)
            fresh = sorted((record for record in page if self._is_new(record)), key=_order)
            if fresh:
                await self._hand_on([event_from_record(record) for record in fresh])
                self.last_event_id = fresh[-1].event_id
            # A short page is the end of the feed; a full one with nothing new cannot lead further.
            if len(page) < self.page_size or not fresh:
                self.behind = False
                return
        # A poll falling behind is a poller that cannot vouch for the cache.
        self.behind = True

    async def _hand_on(self, events: list[SequenceEvent]) -> None:
        try:
            result = self.on_events(events)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            # A batch that breaks its consumer is logged and passed, not read
            # again forever; what it left stale expires with the cache's ttl.
            logger.exception("handling Sequence events %s..%s failed", events[0].event_id, events[-1].event_id)

    def _is_new(self, record: EventRecord) -> bool:
        return self.last_event_id is None or _order(record) > _id_order(self.last_event_id)

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, GatewayError):
            message = f"{exc.code}: {exc.message}"
        else:
            message = f"unexpected error: {type(exc).__name__}"
        if isinstance(exc, UpstreamRateLimited) and exc.retry_after:
            self._retry_after = exc.retry_after
        # One warning when the feed starts failing (or fails differently), not one a round.
        if message != self.last_error:
            logger.warning(
                "polling the Sequence events feed failed, retrying: %s",
                message,
                exc_info=not isinstance(exc, GatewayError),
            )
        self.last_error = message


def _id_order(event_id: str) -> tuple[int, str]:
    # Ids are integers on the wire; compare them as numbers ("10" after "9").
    return (int(event_id), "") if event_id.isdigit() else (-1, event_id)


def _order(record: EventRecord) -> tuple[int, str]:
    return _id_order(record.event_id)


__all__ = ["DEFAULT_MAX_PAGES", "DEFAULT_PAGE_SIZE", "EventPoller"]
