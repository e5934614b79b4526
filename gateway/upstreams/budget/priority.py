"""Who a request to an upstream is for: the priority class its budget slot is taken in.

Sequence's budget (135 usable requests per 31 s) is smaller than what one
cold page of 50 jobs with their children needs, so the order in which
requests get slots decides what clients see. Classes, first served first:

- EVENTS: a poll of the events feed. It is what keeps every cached entry
  coherent; a poll queued behind client reads is a change seen late by
  everyone, so it never waits behind them.
- INTERACTIVE: a client waiting for a read with no usable cached value.
- REFRESH: re-reading an entry that a change made stale and that clients
  read recently, or one whose freshness ran out while a client was served
  the stale value (refresh-ahead: the next reader finds it fresh).
- BACKGROUND: reconciliation, read-ahead, warm-up.

REFRESH and BACKGROUND take a slot only while `headroom` slots of the
window stay free for the classes above (see `Budget`), so a new interactive
read never queues behind background work.

The class is held in a ContextVar, like the request's deadline
(gateway.deadline): whoever starts a piece of work says whom it is for with
`scope()`, and the guard reads `current()` when the request goes out. Code
that says nothing is INTERACTIVE.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from contextvars import ContextVar


class Priority(enum.IntEnum):
    EVENTS = 0
    INTERACTIVE = 1
    REFRESH = 2
    BACKGROUND = 3

    @property
    def label(self) -> str:
        """The class's name in reports: "events", "interactive" ..."""
        return self.name.lower()

    @property
    def yields(self) -> bool:
        """Whether this class only spends what the classes above leave, headroom kept."""
        return self >= Priority.REFRESH


_priority: ContextVar[Priority] = ContextVar("gateway_upstream_priority", default=Priority.INTERACTIVE)


def current() -> Priority:
    """The class of the work running now (INTERACTIVE unless a scope says otherwise)."""
    return _priority.get()


@contextlib.contextmanager
def scope(priority: Priority) -> Iterator[None]:
    """Run the block (and the tasks it creates) in `priority`'s class."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


__all__ = ["Priority", "current", "scope"]
