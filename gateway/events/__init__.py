"""Freshness from Sequence's events feed.

One EventPoller per process reads the feed; `invalidate_then_publish` hands
each batch first to the ResponseCache (dropping what `invalidates_any` says
is stale) and then to the EventHub, which fans it out to every subscriber of
the `sequenceEvents` subscription (gateway.schema.subscription).
"""

from gateway.events.event import KINDS, SequenceEvent, event_from_record
from gateway.events.hub import DEFAULT_BUFFER, EventHub, SubscriberTooSlow
from gateway.events.invalidation import invalidate_then_publish, invalidates, invalidates_any
from gateway.events.poller import DEFAULT_MAX_PAGES, DEFAULT_PAGE_SIZE, EventPoller

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_PAGE_SIZE",
    "KINDS",
    "EventHub",
    "EventPoller",
    "SequenceEvent",
    "SubscriberTooSlow",
    "event_from_record",
    "invalidate_then_publish",
    "invalidates",
    "invalidates_any",
]
