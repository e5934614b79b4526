"""The Starlette app: GraphQL at /graphql, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.events.relay import EventRelay
from gateway.explorer import ASSETS as EXPLORER_ASSETS
from gateway.explorer import MOUNT as EXPLORER_MOUNT
from gateway.explorer import explorer_html
from gateway.loaders import Loaders
from gateway.schema import schema
from gateway.schema.context import Context
from gateway.sse import create_sse_endpoint
from gateway.upstreams.registry import Upstreams, open_upstreams

# Readiness is probed often; upstream checks are reused this long so probes
# never become a noticeable share of Sequence's request budget.
READINESS_TTL = 15.0


GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


class GatewayGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI app with the gateway's context and the GraphQL over
    HTTP media type `application/graphql-response+json` for clients that ask."""

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        # A flag carried on Strawberry's sub-response to create_response, which sees no request.
        wants = GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")
        sub_response.graphql_response_json = wants  # type: ignore[attr-defined]
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        if getattr(sub_response, "graphql_response_json", False):
            response.headers["content-type"] = GRAPHQL_RESPONSE_JSON
            # The spec's rule for this media type: a request error (the query
            # did not parse or validate, so nothing ran) is a 4xx, not a 200.
            # Strawberry sends `data: null` for those too; unlike field errors
            # they carry no `path`.
            errors = response_data.get("errors") if isinstance(response_data, dict) else None
            if response.status_code == 200 and errors and all("path" not in error for error in errors):
                response.status_code = 400
        return response

    @property
    def graphql_ide_html(self) -> str:
        return explorer_html()

    async def get_context(self, request: Any, response: Any) -> Context:
        return build_context(request, response)


def build_context(request: Any, response: Any = None) -> Context:
    upstreams: Upstreams = request.state.upstreams
    settings: Settings = request.state.settings
    return Context(
        upstreams=upstreams,
        loaders=Loaders(upstreams, gofilex_batch_size=settings.gofilex_batch_size),
        request=request,
        response=response,
        deadline_seconds=settings.protection.request_timeout,
        events=request.state.relay.hub,
    )


async def _sse_context(request: Request) -> Context:
    return build_context(request)


class Readiness:
    """Whether each configured upstream answers, checked at most every READINESS_TTL seconds,
    with what the gateway is doing to protect it (budget, breaker) and the events poller."""

    def __init__(self) -> None:
        self.checked_at = -READINESS_TTL
        self.report: dict[str, str] = {}
        self.lock = asyncio.Lock()

    async def check(self, upstreams: Upstreams) -> dict[str, str]:
        async with self.lock:
            if time.monotonic() - self.checked_at >= READINESS_TTL:
                self.report = await _probe(upstreams)
                self.checked_at = time.monotonic()
        return self.report


async def _protection(upstreams: Upstreams) -> dict[str, Any]:
    report: dict[str, Any] = {}
    for name, guard in upstreams.guards.items():
        budget = await guard.budget.status()
        paused = budget.paused_until
        report[name] = {
            "budget": {
                "used": budget.used,
                "limit": budget.limit,
                "windowSeconds": budget.window,
                "shared": budget.shared,
                "pausedUntil": datetime.fromtimestamp(paused, UTC).isoformat() if paused else None,
                "note": budget.note,
                # This process's slots since it started, by class (gateway.upstreams.budget.priority).
                "spentByClass": dict(guard.budget.spent()),
            },
            "breaker": _camel(guard.breaker.snapshot()),
        }
    return report


def _camel(report: dict[str, Any]) -> dict[str, Any]:
    def name(key: str) -> str:
        first, *rest = key.split("_")
        return first + "".join(part.capitalize() for part in rest)

    return {name(key): value for key, value in report.items()}


async def _probe(upstreams: Upstreams) -> dict[str, str]:
    checks: dict[str, Any] = {}
    report: dict[str, str] = {}
    protection = await _protection(upstreams)
    probes: dict[str, Any] = {}
    if upstreams.sequence_client is not None:
        probes["sequence"] = upstreams.sequence_client.work_areas
    for portal, client in upstreams.portals.items():
        probes[f"gofilex:{portal}"] = lambda client=client: client.order_statuses([])
    for name, probe in probes.items():
        state = protection.get(name, {})
        if state.get("budget", {}).get("pausedUntil"):
            # Probing now would spend nothing but risk: the upstream asked us to wait.
            report[name] = f"rate limited by the upstream until {state['budget']['pausedUntil']}"
        elif state.get("breaker", {}).get("state") == "open":
            report[name] = "failing: circuit open"
        else:
            checks[name] = probe()
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    for name, result in zip(list(checks), results, strict=True):
        if isinstance(result, GatewayError):
            report[name] = f"{result.code}: {result.message}"
        elif isinstance(result, BaseException):
            report[name] = "unreachable"
        else:
            report[name] = "ok"
    return report


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    upstreams: Upstreams = request.state.upstreams
    report = await request.state.readiness.check(upstreams)
    # Paused by a 429 or failing fast is not "unready": cached answers and the
    # other upstream still serve, and another replica would meet the same upstream.
    ready = all(value == "ok" or value.startswith(("rate limited", "failing")) for value in report.values())
    body = {
        "status": "ready" if ready else "not ready",
        "upstreams": report,
        "protection": await _protection(upstreams),
        "events": request.state.relay.report(),
        "notes": upstreams.notes,
    }
    return JSONResponse(body, 200 if ready else 503)


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None, poll_events: bool = True
) -> Starlette:
    """The gateway for `settings`; `transport` replaces the network in tests, and
    `poll_events=False` leaves Sequence's events feed alone (tests that count calls)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with open_upstreams(settings, transport=transport) as upstreams:
            relay = EventRelay(upstreams, settings)
            if poll_events:
                await relay.start()
            try:
                yield {"upstreams": upstreams, "settings": settings, "readiness": Readiness(), "relay": relay}
            finally:
                await relay.stop()

    graphql = GatewayGraphQL(schema, graphql_ide="graphiql", allow_queries_via_get=True)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/graphql/stream", create_sse_endpoint(schema, _sse_context), methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Mount(EXPLORER_MOUNT, StaticFiles(directory=EXPLORER_ASSETS), name="explorer"),
        ],
        lifespan=lifespan,
    )
