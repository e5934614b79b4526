"""The upstream clients of one gateway process, opened and closed with the app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from gateway.config import Settings
from gateway.errors import NotConfigured
from gateway.upstreams.cache import ResponseCache
from gateway.upstreams.gofilex.client import GofilexClient
from gateway.upstreams.sequence.client import SequenceClient


@dataclass
class Upstreams:
    cache: ResponseCache
    sequence_client: SequenceClient | None = None
    portals: dict[str, GofilexClient] = field(default_factory=dict)

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
    cache = ResponseCache(
        maxsize=settings.cache.max_entries,
        revalidate_within=settings.cache.revalidate_within,
        stale_if_error=settings.cache.stale_if_error,
    )
    options = {
        "timeout": httpx.Timeout(settings.upstream_timeout),
        "limits": httpx.Limits(max_connections=64, max_keepalive_connections=32),
        "transport": transport,
        # Upstream origins are configured explicitly; proxy variables from the
        # environment must not silently reroute (or break) them.
        "trust_env": False,
        "follow_redirects": False,
    }
    async with httpx.AsyncClient(**options) as sequence_http, httpx.AsyncClient(**options) as gofilex_http:
        upstreams = Upstreams(cache)
        if settings.sequence is not None:
            upstreams.sequence_client = SequenceClient(
                settings.sequence, sequence_http, cache, ttl=settings.cache.sequence_ttl
            )
        for portal, portal_settings in settings.portals.items():
            upstreams.portals[portal] = GofilexClient(portal_settings, gofilex_http, cache, settings.cache)
        yield upstreams
