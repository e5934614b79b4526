"""Rate budgets: when the gateway may send one more request to an upstream.

    settings.py     BudgetSettings (the upstream's limit, the margin kept), BudgetStatus, BudgetExhausted
    scheduling.py   Gate (requests in flight) and Turns (who goes next: earliest deadline first)
    log.py          the sliding log of send times: SendLog, LocalLog
    rate.py         Budget (gate, turns, log: one acquire loop), LocalBudget, RateBudget
    redis_log.py    RedisLog and RedisBudget: the log in Redis, shared by every replica

Example:
    >>> budget = LocalBudget(BudgetSettings(limit=150, window=30, concurrency=64))
    >>> await budget.acquire(deadline=time.monotonic() + 10)  # or BudgetExhausted, at once
"""

from gateway.upstreams.budget.log import LocalLog, SendLog
from gateway.upstreams.budget.rate import MAX_NAP, Budget, LocalBudget, RateBudget
from gateway.upstreams.budget.redis_log import REDIS_UNAVAILABLE_NOTE, RedisBudget, RedisLog
from gateway.upstreams.budget.settings import BudgetExhausted, BudgetSettings, BudgetStatus

__all__ = [
    "MAX_NAP",
    "REDIS_UNAVAILABLE_NOTE",
    "Budget",
    "BudgetExhausted",
    "BudgetSettings",
    "BudgetStatus",
    "LocalBudget",
    "LocalLog",
    "RateBudget",
    "RedisBudget",
    "RedisLog",
    "SendLog",
]
