"""What a rate budget is given, what it reports, and what it raises."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from gateway import checks

# Sequence's documented limit per user: 150 requests per 30 s, then 429 and a 300 s ban.
DEFAULT_LIMIT = 150
DEFAULT_WINDOW = 30.0
# The share of the limit the gateway keeps in reserve, and the seconds added
# to the window for the latency between our send and the upstream's arrival.
DEFAULT_MARGIN = 0.1
DEFAULT_SLACK = 1.0
# The share of the effective limit that refreshes and background work leave
# free for the events poll and client reads (gateway.upstreams.budget.priority).
DEFAULT_HEADROOM = 0.25
# A margin above this would leave a budget too small to be useful.
MAX_MARGIN = 0.9
# Shorter windows are no upstream's; they would only make the log churn.
MIN_WINDOW = 0.1
# Requests in flight at once, at most: each is a connection in the pool.
MAX_CONCURRENCY = 1024


@dataclass(frozen=True)
class BudgetSettings:
    """The upstream's documented limit and how much of it the gateway uses.

    `margin` is the share of the limit kept in reserve; `slack` is added to the
    window for clock and latency differences; `concurrency` bounds the requests
    in flight at once (None: unbounded); `headroom` is the share of the
    effective limit that refreshes and background work never use.

    Example:
        >>> BudgetSettings(limit=150, window=30).effective_limit  # 150 less 10 %, per 31 s
        135
    """

    limit: int = DEFAULT_LIMIT
    window: float = DEFAULT_WINDOW
    margin: float = DEFAULT_MARGIN
    slack: float = DEFAULT_SLACK
    concurrency: int | None = None
    headroom: float = DEFAULT_HEADROOM

    def __post_init__(self) -> None:
        checks.whole(self, "limit", low=1)
        checks.number(self, "window", low=MIN_WINDOW)
        checks.share(self, "margin", high=MAX_MARGIN)
        checks.number(self, "slack", low=0)
        checks.share(self, "headroom", high=MAX_MARGIN)
        if self.concurrency is not None:
            checks.whole(self, "concurrency", low=1, high=MAX_CONCURRENCY)

    @property
    def effective_limit(self) -> int:
        """The requests allowed per span: the limit less the margin, at least 1."""
        # The epsilon keeps 150 * 0.9 at 135 whichever way the float rounds.
        return max(1, math.floor(self.limit * (1 - self.margin) + 1e-9))

    @property
    def reserved(self) -> int:
        """Slots per span that refreshes and background work leave free (at most the limit less one)."""
        limit = self.effective_limit
        return min(limit - 1, math.ceil(limit * self.headroom - 1e-9))

    @property
    def span(self) -> float:
        """The seconds the budget counts over: the window plus the slack."""
        return self.window + self.slack


class BudgetStatus(NamedTuple):
    used: int  # requests sent in the current span
    limit: int  # the effective limit
    window: float  # the span counted over (window + slack), in seconds
    paused_until: float | None  # wall-clock epoch seconds, while a pause is in force
    shared: bool  # True when the log lives in Redis
    note: str | None  # why the budget is degraded, if it is


class BudgetExhausted(Exception):
    """Raised by `acquire` when the wait for a slot would pass the caller's deadline.

    `wait` is the seconds that would have been needed. Never seen by a
    client: the guard turns it into UPSTREAM_RATE_LIMITED.
    """

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate budget spent; the next slot frees in {wait:.1f} s")
        self.wait = wait


__all__ = [
    "DEFAULT_HEADROOM",
    "DEFAULT_LIMIT",
    "DEFAULT_MARGIN",
    "DEFAULT_SLACK",
    "DEFAULT_WINDOW",
    "MAX_CONCURRENCY",
    "MAX_MARGIN",
    "MIN_WINDOW",
    "BudgetExhausted",
    "BudgetSettings",
    "BudgetStatus",
]
