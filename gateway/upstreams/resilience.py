"""Retries with backoff, and a circuit breaker per upstream.

Both act on the errors the HTTP boundary raises (gateway.upstreams.http):

- `call_with_retries()` tries a call again when its error says `retryable`
  (a connection error, a timeout, 408, 502, 503, 504), waiting a full-jitter
  exponential delay, and never sleeps past the request's deadline.
- `CircuitBreaker` counts the outcomes of recent calls to one upstream and,
  once too many failed, answers `CircuitOpen` at once for a while instead of
  letting every request wait on an upstream that is down.

Each attempt is one call for the breaker: wrap the attempt, not the retry loop.

Example:
    >>> breaker = CircuitBreaker("gofilex:EMEA")
    >>> async def attempt() -> Jobs:
    ...     async with breaker.guard():
    ...         return await fetch_jobs(timeout=deadline.attempt_timeout(10.0, upstream="gofilex:EMEA"))
    >>> jobs = await call_with_retries(attempt, policy=RetryPolicy(), upstream="gofilex:EMEA")

Both are plain asyncio objects used from one event loop; they take no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from gateway import checks, deadline
from gateway.errors import NotFound, UpstreamError, UpstreamUnavailable

logger = logging.getLogger(__name__)

T = TypeVar("T")

BreakerState = Literal["closed", "open", "half_open"]

# Tries per safe read, the first included, and the most a setting may ask.
DEFAULT_ATTEMPTS = 3
MAX_ATTEMPTS = 10
# A breaker opens when half the calls of its window failed, for 15 s.
DEFAULT_FAILURE_RATIO = 0.5
DEFAULT_OPEN_FOR = 15.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to try a call again.

    `attempts` counts every try, the first included. The pause before retry
    n is drawn uniformly from 0 to `min(max_delay, base_delay * 2**n)`
    ("full jitter"), so callers that failed together do not retry together.
    """

    attempts: int = DEFAULT_ATTEMPTS
    base_delay: float = 0.1  # seconds
    max_delay: float = 2.0

    def __post_init__(self) -> None:
        checks.whole(self, "attempts", low=1, high=MAX_ATTEMPTS)
        checks.number(self, "base_delay", low=0)
        checks.number(self, "max_delay", low=0)

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """The pause in seconds before retry number `retry` (1 for the first retry)."""
        if retry < 1:
            raise ValueError(f"retries are numbered from 1, not {retry}")
        # The exponent is capped so a large retry number cannot overflow the float.
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(retry, 64))
        return (rng or random).uniform(0.0, ceiling)


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    upstream: str,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    rng: random.Random | None = None,
    on_retry: Callable[[int, BaseException], None] | None = None,
) -> T:
    """The result of `call()`, tried up to `policy.attempts` times while its errors are `retryable`.

    Errors that are not retryable, and cancellation, propagate at once. When
    the attempts are spent, or the next pause would end at or after the
    request's deadline (`gateway.deadline`), the last error is raised.
    `on_retry(retry, error)` is called before each pause, with the retry
    number (1 for the first retry) and the error that caused it.
    """
    retry = 0
    while True:
        try:
            return await call()
        except Exception as exc:  # CancelledError is a BaseException and is never retried
            retry += 1
            if retry >= policy.attempts or not getattr(exc, "retryable", False):
                raise
            pause = policy.delay(retry, rng)
            left = deadline.remaining()
            if left is not None and pause >= left:
                raise
            if on_retry is not None:
                on_retry(retry, exc)
            logger.info(
                "retrying %s in %.3f s (retry %d of %d) after %s: %s",
                upstream,
                pause,
                retry,
                policy.attempts - 1,
                type(exc).__name__,
                exc,
            )
        await sleep(pause)


class CircuitOpen(UpstreamUnavailable):
    """Raised instead of calling an upstream whose circuit breaker is open.

    `retry_after` is the number of seconds until the breaker lets a trial call
    through, or None while a trial call is already under way.
    """

    def __init__(self, upstream: str, retry_after: float | None) -> None:
        if retry_after is None:
            message = f"{upstream} is failing; the gateway is checking whether it has recovered"
            extensions: dict[str, Any] = {}
        else:
            seconds = math.ceil(retry_after)
            message = f"{upstream} is failing; the gateway stopped calling it for {seconds} s"
            extensions = {"retryAfter": seconds}
        super().__init__(upstream, message, **extensions)
        self.retry_after = retry_after


@dataclass(frozen=True)
class BreakerSettings:
    """When a `CircuitBreaker` opens, and for how long.

    The breaker opens when, over the last `window` seconds, at least
    `min_calls` calls were made and `failure_ratio` of them failed. It then
    fails fast for `open_for` seconds, after which `half_open_probes` trial
    calls decide whether it closes again or stays open for another `open_for`.
    """

    window: float = 30.0
    min_calls: int = 10
    failure_ratio: float = DEFAULT_FAILURE_RATIO
    open_for: float = DEFAULT_OPEN_FOR
    half_open_probes: int = 1

    def __post_init__(self) -> None:
        checks.number(self, "window", low=0.1)
        checks.number(self, "open_for", low=0.1)
        checks.whole(self, "min_calls", low=1)
        checks.whole(self, "half_open_probes", low=1)
        checks.share(self, "failure_ratio", low=0.01)


DEFAULT_BREAKER = BreakerSettings()


class CircuitBreaker:
    """Stops calling one upstream while most recent calls to it fail.

    closed: calls go through and their outcomes are counted over the window;
    a failure that brings the window to the threshold opens the breaker.
    open: `before_call()` raises `CircuitOpen` until `open_for` has passed.
    half_open: `half_open_probes` trial calls go through, others fail fast; a
    success closes the breaker and forgets the window, a failure re-opens it.

    Outcomes that arrive while the breaker is open (calls started before it
    opened) are ignored. A trial call that never reports (its caller skipped
    `record`) frees its slot after `open_for`, so the breaker cannot stick.
    """

    def __init__(
        self,
        name: str,
        settings: BreakerSettings = DEFAULT_BREAKER,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.settings = settings
        self._clock = clock
        # (time, failed) for each outcome in the window, oldest first; older ones are pruned.
        self._outcomes: deque[tuple[float, bool]] = deque()
        self._failures = 0
        self._open_until: float | None = None  # None while closed
        self._probes = 0  # trial calls let through since the breaker turned half-open
        self._probe_at = 0.0

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state!r})"

    @property
    def state(self) -> BreakerState:
        if self._open_until is None:
            return "closed"
        return "open" if self._clock() < self._open_until else "half_open"

    def before_call(self) -> None:
        """Return if a call may go to the upstream now; raise `CircuitOpen` if not."""
        if self._open_until is None:
            return
        now = self._clock()
        if now < self._open_until:
            raise CircuitOpen(self.name, self._open_until - now)
        if self._probes >= self.settings.half_open_probes:
            if now - self._probe_at < self.settings.open_for:
                raise CircuitOpen(self.name, None)
            self._probes = 0  # the trial calls were lost without reporting
        self._probes += 1
        self._probe_at = now

    def record_success(self) -> None:
        """Count a call that the upstream answered."""
        state = self.state
        if state == "half_open":
            self._close()
        elif state == "closed":
            self._add(failed=False)

    def record_failure(self) -> None:
        """Count a call that showed the upstream unwell; may open the breaker."""
        state = self.state
        if state == "half_open":
            self._open(reason="a trial call failed")
        elif state == "closed":
            self._add(failed=True)
            calls = len(self._outcomes)
            if calls >= self.settings.min_calls and self._failures / calls >= self.settings.failure_ratio:
                self._open(reason=f"{self._failures} of {calls} calls failed in {self.settings.window:g} s")

    def record(self, error: BaseException | None) -> None:
        """Count the outcome of one call: None for a success, else the error it raised.

        Failures are errors that say the upstream is unwell
        (`UpstreamError.unwell`: connection errors, timeouts, 5xx answers and
        bodies that cannot be read). Any other answer (404, 401/403, 422,
        429) shows the upstream working and counts as a success. Cancellation, a spent
        request deadline and errors that are not the upstream's say nothing
        about its health and are not counted.
        """
        if error is None:
            self.record_success()
        elif isinstance(error, deadline.DeadlineExceeded | CircuitOpen | asyncio.CancelledError):
            self._release_probe()
        elif isinstance(error, UpstreamError) and error.unwell:
            self.record_failure()
        elif isinstance(error, UpstreamError | NotFound):
            self.record_success()
        else:
            self._release_probe()

    @contextlib.asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """Run the block as one call through the breaker: `before_call()`, then `record()` its outcome."""
        self.before_call()
        try:
            yield
        except BaseException as exc:
            self.record(exc)
            raise
        self.record(None)

    def snapshot(self) -> dict[str, Any]:
        """The breaker's state for readiness checks and metrics."""
        now = self._clock()
        self._prune(now)
        state = self.state
        retry_after = self._open_until - now if state == "open" and self._open_until is not None else None
        return {"state": state, "calls": len(self._outcomes), "failures": self._failures, "retry_after": retry_after}

    def _add(self, *, failed: bool) -> None:
        now = self._clock()
        self._outcomes.append((now, failed))
        self._failures += failed
        self._prune(now)

    def _prune(self, now: float) -> None:
        horizon = now - self.settings.window
        while self._outcomes and self._outcomes[0][0] <= horizon:
            _, failed = self._outcomes.popleft()
            self._failures -= failed

    def _open(self, *, reason: str) -> None:
        self._open_until = self._clock() + self.settings.open_for
        self._probes = 0
        logger.warning("circuit for %s opened for %g s: %s", self.name, self.settings.open_for, reason)

    def _close(self) -> None:
        self._open_until = None
        self._probes = 0
        self._outcomes.clear()
        self._failures = 0
        logger.info("circuit for %s closed: a trial call succeeded", self.name)

    def _release_probe(self) -> None:
        # A trial call that ended without a verdict gives its slot to the next caller.
        if self._probes > 0 and self.state == "half_open":
            self._probes -= 1


__all__ = [
    "DEFAULT_BREAKER",
    "DEFAULT_RETRY",
    "NO_RETRY",
    "BreakerSettings",
    "CircuitBreaker",
    "CircuitOpen",
    "RetryPolicy",
    "call_with_retries",
]
