"""The Gofilex Genie portal API: the four regional portals as path prefixes of one app.

Each portal is a separate host upstream (gofilex.md §1); here it is a prefix
("/emea", ...) with its own token and its own orders, so the gateway points at
it with a base URL such as http://127.0.0.1:8102/emea.

Errors: Gofilex looks like a Meteor app (17-character ids) and its REST layer
is plausibly Restivus, so every error body has Restivus's shape,
{"status": "error", "message": ...}, and Restivus's messages where it has
them (inferred; the docs show no error responses).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.simulators.clock import Clock
from gateway.simulators.gofilex.data import GofilexData, Portal
from gateway.simulators.gofilex.model import Order
from gateway.simulators.gofilex.wire import job_json, order_status_json

# inferred: the docs state no limit on `orderIds`; a real server has one.
DEFAULT_MAX_STATUS_IDS = 500

_API = "/api/publication/v1"


class ApiError(Exception):
    """Raised by a handler to answer with a Restivus-shaped error body."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def portal_prefix(portal: Portal) -> str:
    return f"/{portal.lower()}"


def create_gofilex_app(
    data: GofilexData,
    *,
    tokens: Mapping[Portal, str],
    clock: Clock,
    max_status_ids: int = DEFAULT_MAX_STATUS_IDS,
) -> Starlette:
    """Serve every portal of `data`, each behind its own Bearer token from `tokens`."""
    missing = [str(portal) for portal in Portal if not tokens.get(portal)]
    if missing:
        raise ValueError(f"no Bearer token for portal(s) {', '.join(missing)}")
    routes = []
    for portal in Portal:
        api = _PortalApi(data.orders(portal), tokens[portal], clock, max_status_ids)
        base = portal_prefix(portal) + _API
        routes += [
            Route(f"{base}/jobs/by/order", api.jobs_by_order, methods=["POST"]),
            Route(f"{base}/orders/status", api.orders_status, methods=["POST"]),
        ]
    handlers = {ApiError: _api_error, HTTPException: _http_error}
    return Starlette(routes=routes, exception_handlers=handlers)


class _PortalApi:
    def __init__(self, orders: Mapping[str, Order], token: str, clock: Clock, max_status_ids: int) -> None:
        self.orders = orders
        self.token = token
        self.clock = clock
        self.max_status_ids = max_status_ids

    async def jobs_by_order(self, request: Request) -> JSONResponse:
        body = await self._authorized_body(request)
        order_id = body.get("orderId")
        if not isinstance(order_id, str):
            raise ApiError(400, "orderId must be a string")
        order = self.orders.get(order_id)
        if order is None:
            # inferred: the docs do not say what an unknown order answers.
            raise ApiError(404, "Order not found")
        now = self.clock.now()
        # A cleaned order has no jobs left, so it answers [] (seed).
        return JSONResponse([job_json(job, now) for job in order.jobs])

    async def orders_status(self, request: Request) -> JSONResponse:
        body = await self._authorized_body(request)
        order_ids = body.get("orderIds")
        if not isinstance(order_ids, list) or not all(isinstance(order_id, str) for order_id in order_ids):
            raise ApiError(400, "orderIds must be a list of strings")
        if len(order_ids) > self.max_status_ids:
            raise ApiError(400, f"at most {self.max_status_ids} orderIds per call")
        now = self.clock.now()
        # inferred: like a Mongo `$in` query, unknown ids are left out and a
        # repeated id is answered once; we keep the request's order.
        found = [self.orders[order_id] for order_id in dict.fromkeys(order_ids) if order_id in self.orders]
        return JSONResponse([order_status_json(order, now) for order in found])

    async def _authorized_body(self, request: Request) -> dict[str, Any]:
        # Restivus authenticates before the endpoint reads its body.
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.encode(), self.token.encode()):
            raise ApiError(401, "You must be logged in to do this.")
        try:
            body = json.loads(await request.body())
        except ValueError as exc:
            raise ApiError(400, "Request body must be JSON") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body


def _error(status_code: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message}, status_code=status_code, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error(exc.status_code, exc.message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    # Restivus answers an unsupported method with 405, an Allow header and
    # this message; we answer unknown paths the same way.
    message = "API endpoint does not exist" if exc.status_code in (404, 405) else exc.detail
    return _error(exc.status_code, message, exc.headers)
