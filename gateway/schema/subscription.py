"""The root Subscription: Sequence's changes as they are read from its events feed.

Events come from the app's EventHub (one poll of the feed however many
subscribers); a subscriber sees the events published after it subscribed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator

import strawberry

from gateway.errors import NotConfigured, NotFound
from gateway.events import SequenceEvent
from gateway.loaders import JobKey, Loaders
from gateway.schema.context import Context, Info
from gateway.schema.ids import sequence_id
from gateway.schema.sequence import SequenceJob


@strawberry.type(
    name="SequenceEvent",
    description="A change Sequence recorded in its events feed: a job or one of its children created, updated"
    " or deleted. Ids are read from the event's subject link and are null where it does not name them.",
)
class SequenceEventType:
    event: strawberry.Private[SequenceEvent]

    @strawberry.field(description="Sequence's id of the event; ids grow with time.")
    def event_id(self) -> strawberry.ID:
        return strawberry.ID(self.event.event_id)

    @strawberry.field(description="{resource}_{created|updated|deleted}, e.g. job_updated, task_created.")
    def event_type(self) -> str:
        return self.event.event_type

    @strawberry.field
    def timestamp(self) -> dt.datetime | None:
        return self.event.timestamp

    @strawberry.field(description="The attributes and links that changed (updates only), e.g. status, name.")
    def changes(self) -> list[str]:
        return list(self.event.changes)

    @strawberry.field
    def work_area_id(self) -> strawberry.ID | None:
        return _id(self.event.work_area_id)

    @strawberry.field(description="The job changed, or the job of the child changed.")
    def job_id(self) -> strawberry.ID | None:
        return _id(self.event.job_id)

    @strawberry.field(description="What changed: job, task, asset, note, problem or hook.")
    def subject_kind(self) -> str | None:
        return self.event.subject_kind

    @strawberry.field(description="The id of the task, asset, note, problem or hook changed; null for a job.")
    def child_id(self) -> strawberry.ID | None:
        return _id(self.event.child_id)

    @strawberry.field(description="The job as it is now; null when it was deleted or no longer exists.")
    async def job(self, info: Info) -> SequenceJob | None:
        if self.event.work_area_id is None or self.event.job_id is None:
            return None
        try:
            record = await info.context.loaders.job.load(JobKey(self.event.work_area_id, self.event.job_id))
        except NotFound:
            return None
        return SequenceJob(record=record)


def _id(value: str | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(value)


def _fresh_loaders(context: Context) -> None:
    """Resolve each event like a new request. A subscription's context lives as
    long as its connection, and loaders cache for their whole life: without
    this, the second event of a job would show the job as the first one found it."""
    context.loaders = Loaders(context.upstreams, gofilex_batch_size=context.loaders.batch_size)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Sequence's changes from now on, of one work area or of all, a few seconds after they happen"
        " (the gateway polls Sequence's events feed). A subscriber that falls far behind is ended with"
        " SUBSCRIBER_TOO_SLOW and may subscribe again."
    )
    async def sequence_events(
        self, info: Info, work_area_id: strawberry.ID | None = None
    ) -> AsyncGenerator[SequenceEventType, None]:
        hub = getattr(info.context, "events", None)
        if hub is None:
            raise NotConfigured("Sequence events are not followed on this gateway (SEQUENCE_URL)")
        async with hub.subscribe(None if work_area_id is None else sequence_id(work_area_id)) as events:
            async for event in events:
                _fresh_loaders(info.context)
                yield SequenceEventType(event=event)


__all__ = ["SequenceEventType", "Subscription"]
