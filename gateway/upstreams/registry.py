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

from gateway.config import Settings
from gateway.errors import NotConfigured
from gateway.redis import connect
from gateway.upstreams.budget import BudgetSettings, LocalBudget, RateBudget, RedisBudget
from gateway.upstreams.budget.settings import MAX_CONCURRENCY
from gateway.upstreams.cache import ResponseCache, credential_id
from gateway.upstreams.gofilex.client import GofilexClient, portal_credential
from gateway.upstreams.gofilex.portals import PORTALS
from gateway.upstreams.guard import UpstreamGuard
from gateway.upstreams.pool import UpstreamTransport
from gateway.upstreams.redis_layer import RedisLayer, RedisResponseStore
from gateway.upstreams.resilience import CircuitBreaker
from gateway.upstreams.sequence.client import SequenceClient
from gateway.upstreams.sequence.coherence import Coherence

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


@contextlib.asynccontextmanager
async def open_upstreams(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[Upstreams]:
    """One pooled keep-alive client per upstream for the life of the app.

    `transport` replaces the network in tests (httpx.MockTransport).
    """
    cache = ResponseCache(settings.cache)
    upstreams = Upstreams(cache)
    if settings.redis_url:
        upstreams.redis = await connect(settings.redis_url)
        if upstreams.redis is None:
            upstreams.notes["redis"] = "unreachable at start-up: cache and rate budgets are local to this process"
        else:
            upstreams.redis_layer = RedisLayer(RedisResponseStore(upstreams.redis))
    protection = settings.protection

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
            breaker=CircuitBreaker(name, protection.breaker),
            retry=protection.retry,
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
            client(_pool_size(protection.sequence_budget)) as sequence_http,
            client(_pool_size(protection.gofilex_budget) * len(PORTALS)) as gofilex_http,
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
                        protection.sequence_budget,
                    ),
                    redis_layer=upstreams.redis_layer,
                    background_timeout=protection.request_timeout,
                    read_ahead_pages=settings.read_ahead_pages,
                    coherence=Coherence(
                        settings.cache.sequence_lifetimes,
                        short_ttl=settings.cache.sequence_ttl,
                        safety_ttl=settings.cache.sequence_safety_ttl,
                    ),
                )
            for portal, portal_settings in settings.portals.items():
                upstreams.portals[portal] = GofilexClient(
                    portal_settings,
                    gofilex_http,
                    cache,
                    settings.cache,
                    guard=guard(f"gofilex:{portal}", portal_credential(portal_settings), protection.gofilex_budget),
                    redis_layer=upstreams.redis_layer,
                )
            yield upstreams
    finally:
        if upstreams.redis is not None:
            await upstreams.redis.aclose()


def _pool_size(budget: BudgetSettings) -> int:
    """Connections for an upstream: as many as its budget lets be in flight."""
    return budget.concurrency if budget.concurrency is not None else MAX_CONCURRENCY
