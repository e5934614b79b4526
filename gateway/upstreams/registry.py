"""The upstream clients of one gateway process, opened and closed with the app.

Each upstream (each Gofilex portal) gets its own rate budget, circuit
breaker and guard. With `REDIS_URL` the budgets and a second cache layer
are shared with every replica; without Redis, or while it fails, each
process keeps them to itself and says so in the readiness report.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from redis.asyncio import Redis

from gateway.config import PORTALS, ProtectionSettings, Settings
from gateway.errors import NotConfigured
from gateway.redis import connect
from gateway.upstreams.budget import BudgetSettings, LocalBudget, RateBudget, RedisBudget
from gateway.upstreams.cache import ResponseCache, credential_id
from gateway.upstreams.gofilex.client import GofilexClient, portal_credential
from gateway.upstreams.guard import UpstreamGuard
from gateway.upstreams.pool import UpstreamTransport
from gateway.upstreams.redis_layer import RedisLayer, RedisResponseStore
from gateway.upstreams.resilience import BreakerSettings, CircuitBreaker, RetryPolicy
from gateway.upstreams.sequence.client import SequenceClient

logger = logging.getLogger(__name__)


@dataclass
class Upstreams:
    cache: ResponseCache
    sequence_client: SequenceClient | None = None
    portals: dict[str, GofilexClient] = field(default_factory=dict)
    guards: dict[str, UpstreamGuard] = field(default_factory=dict)
    redis: Redis | None = None
    redis_layer: RedisLayer | None = None
    # Things an operator should know, for the readiness report.
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def sequence(self) -> SequenceClient:
        if self.sequence_client is None:
            raise NotConfigured("Sequence is not configured on this gateway (SEQUENCE_URL)")
        return self.sequence_client

    def gofilex(self, portal: str) -> GofilexClient:
        client = self.portals.get(portal)
        if client is None:
            raise NotConfigured(f"the Gofilex {portal} portal is not configured on this gateway (GOFILEX_{portal}_URL)")
        return client


def sequence_budget_settings(protection: ProtectionSettings) -> BudgetSettings:
    return BudgetSettings(
        limit=protection.sequence_limit,
        window=protection.sequence_window,
        margin=protection.budget_margin,
        concurrency=protection.sequence_concurrency,
    )


def gofilex_budget_settings(protection: ProtectionSettings) -> BudgetSettings:
    return BudgetSettings(
        limit=protection.gofilex_limit,
        window=protection.gofilex_window,
        margin=0.0,
        concurrency=protection.gofilex_concurrency,
    )


@contextlib.asynccontextmanager
async def open_upstreams(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Upstreams]:
    """One pooled keep-alive client per upstream for the life of the app.

    `transport` replaces the network in tests (httpx.MockTransport).
    """
    cache = ResponseCache(
        maxsize=settings.cache.max_entries,
        revalidate_within=settings.cache.revalidate_within,
        stale_if_error=settings.cache.stale_if_error,
    )
    upstreams = Upstreams(cache)
    if settings.redis_url:
        upstreams.redis = await connect(settings.redis_url)
        if upstreams.redis is None:
            upstreams.notes["redis"] = "unreachable at start-up: cache and rate budgets are local to this process"
        else:
            upstreams.redis_layer = RedisLayer(RedisResponseStore(upstreams.redis))
    protection = settings.protection
    breaker_settings = BreakerSettings(
        failure_ratio=protection.breaker_failure_ratio, open_for=protection.breaker_open_seconds
    )

    def guard(name: str, credential: str, budget_settings: BudgetSettings) -> UpstreamGuard:
        budget: RateBudget
        if upstreams.redis is not None:
            # One budget per upstream credential, shared by every replica.
            budget = RedisBudget(upstreams.redis, f"gw:budget:{credential}", budget_settings)
        else:
            budget = LocalBudget(budget_settings)
        upstreams.guards[name] = UpstreamGuard(
            name,
            budget=budget,
            breaker=CircuitBreaker(name, breaker_settings),
            retry=RetryPolicy(attempts=protection.retry_attempts),
            attempt_timeout=settings.upstream_timeout,
        )
        return upstreams.guards[name]

    def client(connections: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(settings.upstream_timeout),
            # Requests wait for a connection in the guards' gates (earliest
            # deadline first); the pool holds as many as the gates let through.
            transport=transport or UpstreamTransport(max_connections=connections),
            # Upstream origins are configured explicitly; proxy variables from the
            # environment must not silently reroute (or break) them.
            trust_env=False,
            follow_redirects=False,
        )

    try:
        async with (
            client(protection.sequence_concurrency) as sequence_http,
            client(protection.gofilex_concurrency * len(PORTALS)) as gofilex_http,
        ):
            if settings.sequence is not None:
                upstreams.sequence_client = SequenceClient(
                    settings.sequence,
                    sequence_http,
                    cache,
                    ttl=settings.cache.sequence_ttl,
                    # Sequence limits each user: the budget follows the user, whatever its password.
                    guard=guard(
                        "sequence",
                        credential_id(settings.sequence.url, settings.sequence.username),
                        sequence_budget_settings(protection),
                    ),
                    redis_layer=upstreams.redis_layer,
                    background_timeout=protection.request_timeout,
                    read_ahead_pages=settings.read_ahead_pages,
                )
            for portal, portal_settings in settings.portals.items():
                upstreams.portals[portal] = GofilexClient(
                    portal_settings,
                    gofilex_http,
                    cache,
                    settings.cache,
                    guard=guard(
                        f"gofilex:{portal}", portal_credential(portal_settings), gofilex_budget_settings(protection)
                    ),
                    redis_layer=upstreams.redis_layer,
                )
            yield upstreams
    finally:
        if upstreams.redis is not None:
            await upstreams.redis.aclose()
