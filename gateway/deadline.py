"""The time budget of one GraphQL request, seen by every upstream call it makes.

The app opens a `scope()` around each request; upstream clients ask
`attempt_timeout()` for the timeout of each attempt, and retries never sleep
past `current()`. The deadline is an absolute `time.monotonic()` instant held
in a ContextVar, so it follows the request into the tasks it creates.

Example:
    >>> with deadline.scope(20.0):
    ...     timeout = deadline.attempt_timeout(10.0)  # 10.0 now, less near the end

The deadline is read at call time, from the context of the code that runs:
a task takes a copy of the context when it is created, so a fetch task that
several requests share carries the deadline of the request that started it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

from gateway.errors import UpstreamTimeout

DEFAULT_REQUEST_TIMEOUT = 20.0

_deadline: ContextVar[float | None] = ContextVar("gateway_request_deadline", default=None)


class DeadlineExceeded(UpstreamTimeout):
    """Raised when the request's time budget is spent before `upstream` could be called or answer.

    Not retryable: there is no time left to try again.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream, f"the request ran out of time before {upstream} answered")


def current() -> float | None:
    """The absolute `time.monotonic()` deadline of the running request, or None outside any scope."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left before the deadline (zero or less once it has passed), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


@contextlib.contextmanager
def scope(seconds: float | None) -> Iterator[None]:
    """Give the block a deadline `seconds` from now; the previous deadline is restored on exit.

    A scope never extends an outer one: nested scopes keep the earlier
    deadline, and `None` adds no budget of its own.
    """
    outer = _deadline.get()
    deadline = outer
    if seconds is not None:
        deadline = time.monotonic() + seconds
        if outer is not None:
            deadline = min(deadline, outer)
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def attempt_timeout(per_attempt: float, *, upstream: str = "the upstream") -> float:
    """The timeout for one upstream attempt: `per_attempt`, cut to the time the request has left.

    Raises:
        DeadlineExceeded: the request's deadline has passed (naming `upstream`).
    """
    left = remaining()
    if left is None:
        return per_attempt
    if left <= 0:
        raise DeadlineExceeded(upstream)
    return min(per_attempt, left)


__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "DeadlineExceeded",
    "attempt_timeout",
    "current",
    "remaining",
    "scope",
]
