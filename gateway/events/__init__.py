"""Freshness from Sequence's events feed.

One EventPoller per process reads the feed; the EventRelay hands each batch
first to the Sequence client, which drops what it makes stale from every
cache layer, then to the EventHub, which fans it out to every subscriber of
the `sequenceEvents` subscription (gateway.schema.subscription), and with
Redis to the other replicas.
"""

from gateway.events.event import SequenceEvent, event_from_record
from gateway.events.hub import DEFAULT_BUFFER, EventHub, SubscriberTooSlow
from gateway.events.poller import DEFAULT_MAX_PAGES, DEFAULT_PAGE_SIZE, EventPoller

__all__ = [
    "DEFAULT_BUFFER",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_PAGE_SIZE",
    "EventHub",
    "EventPoller",
    "SequenceEvent",
    "SubscriberTooSlow",
    "event_from_record",
]
