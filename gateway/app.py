"""The Starlette app: GraphQL at /graphql, /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.explorer import ASSETS as EXPLORER_ASSETS
from gateway.explorer import MOUNT as EXPLORER_MOUNT
from gateway.explorer import explorer_html
from gateway.loaders import Loaders
from gateway.schema import schema
from gateway.schema.context import Context
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
        sub_response.graphql_response_json = GRAPHQL_RESPONSE_JSON in request.headers.get("accept", "")  # type: ignore[attr-defined]
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
        upstreams: Upstreams = request.state.upstreams
        settings: Settings = request.state.settings
        loaders = Loaders(upstreams, gofilex_batch_size=settings.gofilex_batch_size)
        return Context(
            upstreams=upstreams,
            loaders=loaders,
            request=request,
            response=response,
            deadline_seconds=settings.protection.request_timeout,
        )


class Readiness:
    """Whether each configured upstream answers, checked at most every READINESS_TTL seconds."""

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


async def _probe(upstreams: Upstreams) -> dict[str, str]:
    checks: dict[str, Any] = {}
    if upstreams.sequence_client is not None:
        checks["sequence"] = upstreams.sequence_client.work_areas()
    for portal, client in upstreams.portals.items():
        checks[f"gofilex:{portal}"] = client.order_statuses([])
    names = list(checks)
    results = await asyncio.gather(*checks.values(), return_exceptions=True)
    report = {}
    for name, result in zip(names, results, strict=True):
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
    report = await request.state.readiness.check(request.state.upstreams)
    ready = all(value == "ok" for value in report.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "upstreams": report}, 200 if ready else 503)


def create_app(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """The gateway for `settings`; `transport` replaces the network in tests."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with open_upstreams(settings, transport=transport) as upstreams:
            yield {"upstreams": upstreams, "settings": settings, "readiness": Readiness()}

    graphql = GatewayGraphQL(schema, graphql_ide="graphiql", allow_queries_via_get=True)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Mount(EXPLORER_MOUNT, StaticFiles(directory=EXPLORER_ASSETS), name="explorer"),
        ],
        lifespan=lifespan,
    )
