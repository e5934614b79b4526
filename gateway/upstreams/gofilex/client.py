"""Reads from one Gofilex portal: JSON POSTs with a bearer token, cached.

Every documented call is a POST, reads included; these two are safe reads,
so they are cached like GETs. An order's cache lifetime depends on whether
it is finished: a finished order changes no more, a running one does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Iterable, Sequence

import httpx

from gateway.config import PortalSettings
from gateway.upstreams.cache import CacheKey, CacheSettings, ResponseCache, credential_id
from gateway.upstreams.gofilex import parse
from gateway.upstreams.gofilex.records import GofilexJobRecord, OrderStatusRecord
from gateway.upstreams.guard import UpstreamGuard
from gateway.upstreams.http import Origin, raise_for_status, upstream_errors
from gateway.upstreams.redis_layer import RedisLayer, read_through

STATUS_PATH = "api/publication/v1/orders/status"
JOBS_PATH = "api/publication/v1/jobs/by/order"
# Order and job states after which nothing changes any more. Only `queued`
# (orders) and `completed`/`failed` (jobs) are documented; the others are the
# simulator's inferred vocabulary, and unknown states count as unfinished.
FINISHED_ORDER_STATES = frozenset({"completed", "failed", "cancelled", "canceled", "cleaned"})
FINISHED_JOB_STATES = frozenset({"completed", "failed", "cancelled", "canceled", "rejected"})


class GofilexClient:
    def __init__(
        self,
        settings: PortalSettings,
        http: httpx.AsyncClient,
        cache: ResponseCache,
        ttls: CacheSettings,
        *,
        guard: UpstreamGuard,
        redis_layer: RedisLayer | None = None,
    ) -> None:
        self.guard = guard
        self.redis_layer = redis_layer
        self.portal = settings.portal
        self.upstream = f"gofilex:{settings.portal}"
        self.origin = Origin(settings.url)
        self.http = http
        self.cache = cache
        self.ttls = ttls
        self.headers = {"Authorization": f"Bearer {settings.token}", "Accept": "application/json"}
        self.credential = portal_credential(settings)

    def status_key(self, order_id: str) -> CacheKey:
        # One entry per order, whatever batch brought it, so a later batch
        # asks only for the orders nobody has yet.
        return CacheKey(self.credential, "POST", self.origin.url(STATUS_PATH), order_id.encode())

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatusRecord]:
        """Statuses of the given orders in one call (fewer for cached ones); unknown orders are absent."""
        found: dict[str, OrderStatusRecord] = {}
        missing = []
        for order_id in dict.fromkeys(order_ids):
            cached = self.cache.peek(self.status_key(order_id))
            if cached is not None:
                found[order_id] = cached
            else:
                missing.append(order_id)
        if not missing:
            return found
        body = json.dumps({"orderIds": missing}).encode()
        key = CacheKey(self.credential, "POST", self.origin.url(STATUS_PATH), body)

        def fetch() -> Awaitable[tuple[OrderStatusRecord, ...]]:
            return read_through(
                None,
                key,
                lambda: self._post(STATUS_PATH, body),
                lambda content, _media_type: parse.parse_order_statuses(content, self.portal),
                0,
                upstream=self.upstream,
            )

        # The batch itself is only shared while in flight; its orders are cached one by one.
        try:
            statuses = await self.cache.get_or_fetch(key, fetch, 0, upstream=self.upstream)
        except Exception as error:
            # Stand in the last good status of each order while Gofilex is
            # unwell; without one for every order the error stands.
            found_stale = [self.cache.peek_stale(self.status_key(order_id), error) for order_id in missing]
            stale = [item for item in found_stale if item is not None]
            if len(stale) < len(missing):
                raise
            for order_id, (status, age) in zip(missing, stale, strict=True):
                self.cache.note_stale(self.upstream, age, error)
                found[order_id] = status
            return found

        for status in statuses:
            self.cache.put(self.status_key(status.order_id), status, self._order_ttl(status))
            found[status.order_id] = status
        return found

    async def jobs(self, order_id: str) -> tuple[GofilexJobRecord, ...]:
        """The jobs of an order; () for a cleaned order."""
        body = json.dumps({"orderId": order_id}).encode()
        key = CacheKey(self.credential, "POST", self.origin.url(JOBS_PATH), body)

        def fetch() -> Awaitable[tuple[GofilexJobRecord, ...]]:
            return read_through(
                self.redis_layer,
                key,
                lambda: self._post(JOBS_PATH, body),
                lambda content, _media_type: parse.parse_jobs(content, self.portal, order_id),
                self._jobs_ttl,
                upstream=self.upstream,
            )

        return await self.cache.get_or_fetch(key, fetch, self._jobs_ttl, upstream=self.upstream)

    def _order_ttl(self, status: OrderStatusRecord) -> float:
        finished = status.state in FINISHED_ORDER_STATES
        return self.ttls.gofilex_finished_ttl if finished else self.ttls.gofilex_running_ttl

    def _jobs_ttl(self, jobs: Iterable[GofilexJobRecord]) -> float:
        finished = all(job.state in FINISHED_JOB_STATES and not job.running for job in jobs)
        return self.ttls.gofilex_finished_ttl if finished else self.ttls.gofilex_running_ttl

    async def _post(self, path: str, body: bytes) -> httpx.Response:
        # Both documented reads are POSTs but safe to repeat, so they are retried like GETs.
        return await self.guard.call(lambda timeout: self._attempt(path, body, timeout), safe=True)

    async def _attempt(self, path: str, body: bytes, timeout: float) -> httpx.Response:
        with upstream_errors(self.upstream):
            response = await self.http.post(
                self.origin.url(path),
                content=body,
                headers={**self.headers, "Content-Type": "application/json"},
                timeout=timeout,
            )
        raise_for_status(self.upstream, response, error_messages=_error_messages)
        return response


def portal_credential(settings: PortalSettings) -> str:
    return credential_id(settings.url, settings.token)


def _error_messages(body: bytes, media_type: str | None) -> list[str]:
    message = parse.error_message(body)
    return [message] if message else []
