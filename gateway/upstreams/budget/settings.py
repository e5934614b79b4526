"""What a rate budget is given, what it reports, and what it raises."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

# Sequence's documented limit per user: 150 requests per 30 s, then 429 and a 300 s ban.
DEFAULT_LIMIT = 150
DEFAULT_WINDOW = 30.0
# The share of the limit the gateway keeps in reserve, and the seconds added
# to the window for the latency between our send and the upstream's arrival.
DEFAULT_MARGIN = 0.1
DEFAULT_SLACK = 1.0
# A margin above this would leave a budget too small to be useful.
MAX_MARGIN = 0.9


@dataclass(frozen=True)
class BudgetSettings:
    """The upstream's documented limit and how much of it the gateway uses.

    `margin` is the share of the limit kept in reserve; `slack` is added to the
    window for clock and latency differences; `concurrency` bounds the requests
    in flight at once (None: unbounded).

    Example:
        >>> BudgetSettings(limit=150, window=30).effective_limit  # 150 less 10 %, per 31 s
        135
    """

    limit: int = DEFAULT_LIMIT
    window: float = DEFAULT_WINDOW
    margin: float = DEFAULT_MARGIN
    slack: float = DEFAULT_SLACK
    concurrency: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"limit must be a whole number >= 1, got {self.limit!r}")
        if not math.isfinite(self.window) or self.window <= 0:
            raise ValueError(f"window must be a number of seconds > 0, got {self.window!r}")
        if not math.isfinite(self.margin) or not 0 <= self.margin <= MAX_MARGIN:
            raise ValueError(f"margin must be a share from 0 to {MAX_MARGIN}, got {self.margin!r}")
        if not math.isfinite(self.slack) or self.slack < 0:
            raise ValueError(f"slack must be a number of seconds >= 0, got {self.slack!r}")
        if self.concurrency is not None and (
            isinstance(self.concurrency, bool) or not isinstance(self.concurrency, int) or self.concurrency < 1
        ):
            raise ValueError(f"concurrency must be None or a whole number >= 1, got {self.concurrency!r}")

    @property
    def effective_limit(self) -> int:
        """The requests allowed per span: the limit less the margin, at least 1."""
        # The epsilon keeps 150 * 0.9 at 135 whichever way the float rounds.
        return max(1, math.floor(self.limit * (1 - self.margin) + 1e-9))

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
    "DEFAULT_LIMIT",
    "DEFAULT_MARGIN",
    "DEFAULT_SLACK",
    "DEFAULT_WINDOW",
    "MAX_MARGIN",
    "BudgetExhausted",
    "BudgetSettings",
    "BudgetStatus",
]
