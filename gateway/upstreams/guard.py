"""Every upstream attempt passes one guard: circuit breaker, rate budget, retries.

Cache hits, loader batching and in-flight de-duplication happen before a
request reaches the guard, so the budget is spent only on work nothing else
can answer. For each attempt the guard

1. fails fast while the upstream's circuit is open;
2. waits for the rate budget inside the GraphQL request's deadline (less the
   `MIN_ATTEMPT_SECONDS` the call itself needs), or fails fast with
   UPSTREAM_RATE_LIMITED when the wait would pass it (the cache may then
   answer a stale value instead);
3. sends with a timeout no longer than what is left of the deadline;
4. on a 429, pauses every sender of this credential until `Ratelimit-Reset`;
5. retries safe reads on connection errors, timeouts, 502, 503 and 504 with
   exponential backoff and full jitter; each retry spends budget too.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway import deadline
from gateway.errors import UpstreamRateLimited
from gateway.upstreams.budget import BudgetExhausted, RateBudget
from gateway.upstreams.resilience import NO_RETRY, CircuitBreaker, RetryPolicy, call_with_retries

T = TypeVar("T")

# A budget slot must leave the attempt at least this long before the
# request's deadline: a later one would spend budget on a call that times out.
MIN_ATTEMPT_SECONDS = 0.25


class UpstreamGuard:
    def __init__(
        self,
        upstream: str,
        *,
        budget: RateBudget,
        breaker: CircuitBreaker,
        retry: RetryPolicy,
        attempt_timeout: float,
    ) -> None:
        self.upstream = upstream
        self.budget = budget
        self.breaker = breaker
        self.retry = retry
        self.attempt_timeout = attempt_timeout

    async def call(self, attempt: Callable[[float], Awaitable[T]], *, safe: bool) -> T:
        """Run `attempt(timeout)` under the guard; `safe` reads may be retried, writes never."""
        return await call_with_retries(
            lambda: self._attempt(attempt), policy=self.retry if safe else NO_RETRY, upstream=self.upstream
        )

    async def _attempt(self, attempt: Callable[[float], Awaitable[T]]) -> T:
        # The breaker first: an open circuit spends no budget.
        self.breaker.before_call()
        try:
            limit = deadline.current()
            await self.budget.acquire(deadline=None if limit is None else limit - MIN_ATTEMPT_SECONDS)
        except BudgetExhausted as exc:
            self.breaker.record(exc)  # says nothing of the upstream's health
            raise UpstreamRateLimited(
                self.upstream,
                f"{self.upstream}'s request budget is spent; the gateway will not exceed the upstream's rate limit",
                retry_after=round(exc.wait, 1),
            ) from exc
        try:
            result = await attempt(deadline.attempt_timeout(self.attempt_timeout, upstream=self.upstream))
        except BaseException as exc:
            self.breaker.record(exc)
            if isinstance(exc, UpstreamRateLimited) and exc.retry_after is not None:
                await self.budget.pause_until(time.time() + exc.retry_after)
            raise
        finally:
            self.budget.release()
        self.breaker.record(None)
        return result
