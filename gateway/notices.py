"""The stale answers one GraphQL request used, for its response to say so.

The response cache records a notice whenever it answers past an entry's
freshness (refreshing in the background, or standing in for a failing
upstream); the GraphQL layer opens `collect()` around each operation and
reports what was recorded in the response's extensions. The list is held
in a ContextVar, so it follows the request into the tasks it creates, like
its deadline (gateway.deadline).

Example:
    >>> with notices.collect() as stale:
    ...     notices.record("sequence", 42.0, "UPSTREAM_UNAVAILABLE")
    >>> stale
    [StaleNotice(upstream='sequence', age=42.0, reason='UPSTREAM_UNAVAILABLE')]
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class StaleNotice:
    """One answer served past its freshness, for the client to know."""

    upstream: str
    age: float  # seconds since the value was fetched
    reason: str  # "REVALIDATING", or the code of the error that the stale value stands in for


# The notices of the GraphQL request being answered (None outside one).
stale_notices: contextvars.ContextVar[list[StaleNotice] | None] = contextvars.ContextVar("stale_notices", default=None)


@contextlib.contextmanager
def collect() -> Iterator[list[StaleNotice]]:
    """Collect the notices recorded inside the block (and the tasks it starts) into the list it yields."""
    notices: list[StaleNotice] = []
    token = stale_notices.set(notices)
    try:
        yield notices
    finally:
        stale_notices.reset(token)


def record(upstream: str, age: float, reason: str) -> None:
    """Note a stale answer in the running request; nothing outside one."""
    notices = stale_notices.get()
    if notices is not None:
        notices.append(StaleNotice(upstream, round(age, 1), reason))


__all__ = ["StaleNotice", "collect", "record", "stale_notices"]
