"""`/_sim`: the simulators' own control API, for tests and benchmarks.

Never part of the upstream contracts: it counts the requests a simulator saw
(how many 401s, 429s, calls per resource), changes latency, faults and the
rate limit at run time, and pins the clock. On Sequence it also sets the rate
of the changes the simulator makes by itself and lists them, so a benchmark
can time how long each takes to reach a reader. It sits outside
authentication, the rate limit and fault injection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.simulators.clock import Clock
from gateway.simulators.faults import FaultInjectionMiddleware, FaultSettings
from gateway.simulators.ratelimit import RateLimitMiddleware, RateLimitSettings
from gateway.simulators.sequence.activity import ActivityLoop
from gateway.simulators.stats import RequestStats

PREFIX = "/_sim"
Settings = TypeVar("Settings", FaultSettings, RateLimitSettings)


@dataclass
class Controls:
    """The live parts of one simulator that its control API reaches."""

    clock: Clock
    stats: RequestStats
    faults: FaultInjectionMiddleware
    rate_limit: RateLimitMiddleware | None = None
    activity: ActivityLoop | None = None


class ControlDispatchMiddleware:
    """Sends `/_sim/...` to the control app and everything else to the simulator."""

    def __init__(self, app: ASGIApp, *, control: ASGIApp) -> None:
        self.app = app
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.control(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_control_app(controls: Controls) -> Starlette:
    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            controls.stats.reset()
        return JSONResponse(controls.stats.snapshot())

    async def faults(request: Request) -> Response:
        middleware = controls.faults
        if request.method == "PUT":
            body = await _json_object(request)
            if isinstance(body, Response):
                return body
            script = body.pop("script", None)
            try:
                middleware.settings = _replace(middleware.settings, body)
                if script is not None:
                    middleware.script(script)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(dataclasses.asdict(middleware.settings))

    async def rate_limit(request: Request) -> Response:
        middleware = controls.rate_limit
        if middleware is None:
            return JSONResponse({"error": "this simulator has no rate limit"}, 404)
        if request.method == "DELETE":
            middleware.reset()
        elif request.method == "PUT":
            body = await _json_object(request)
            if isinstance(body, Response):
                return body
            try:
                middleware.settings = _replace(middleware.settings, body)
            except (TypeError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(dataclasses.asdict(middleware.settings))

    async def clock(request: Request) -> Response:
        if request.method == "PUT":
            body = await _json_object(request)
            if isinstance(body, Response):
                return body
            try:
                controls.clock.pin(dt.datetime.fromisoformat(body["now"]) if body.get("now") else None)
            except (KeyError, TypeError, ValueError) as exc:
                return JSONResponse({"error": f"expected {{'now': ISO-8601 or null}}: {exc}"}, 400)
        return JSONResponse({"now": controls.clock.now().isoformat()})

    async def activity(request: Request) -> Response:
        loop = controls.activity
        if loop is None:
            return JSONResponse({"error": "this simulator has no activity"}, 404)
        if request.method == "PUT":
            body = await _json_object(request)
            if isinstance(body, Response):
                return body
            if set(body) != {"perMinute"}:
                return JSONResponse({"error": "expected {'perMinute': changes per minute >= 0}"}, 400)
            try:
                loop.per_minute = body["perMinute"]
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse({"perMinute": loop.per_minute, "changes": loop.activity.made})

    async def changes(request: Request) -> Response:
        if controls.activity is None:
            return JSONResponse({"error": "this simulator has no activity"}, 404)
        after = request.query_params.get("after", "0")
        if not after.isdigit():
            return JSONResponse({"error": "after must be a change's seq (a whole number >= 0)"}, 400)
        found = controls.activity.activity.changes_after(int(after))
        return JSONResponse({"changes": [change.as_json() for change in found]})

    return Starlette(
        routes=[
            Route(f"{PREFIX}/stats", stats, methods=["GET", "DELETE"]),
            Route(f"{PREFIX}/faults", faults, methods=["GET", "PUT"]),
            Route(f"{PREFIX}/rate-limit", rate_limit, methods=["GET", "PUT", "DELETE"]),
            Route(f"{PREFIX}/clock", clock, methods=["GET", "PUT"]),
            Route(f"{PREFIX}/activity", activity, methods=["GET", "PUT"]),
            Route(f"{PREFIX}/changes", changes, methods=["GET"]),
        ]
    )


async def _json_object(request: Request) -> dict[str, Any] | Response:
    try:
        body = await request.json()
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, 400)
    if not isinstance(body, dict):
        return JSONResponse({"error": "the body must be a JSON object"}, 400)
    return body


def _replace(current: Settings, changes: dict[str, Any]) -> Settings:
    """`current` with `changes`, each cast to the field's type; unknown names are errors."""
    fields = {field.name: field for field in dataclasses.fields(current)}
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    cast: dict[str, Callable[[Any], Any]] = {"bool": bool, "int": int, "float": float}
    typed = {}
    for name, value in changes.items():
        kind = str(fields[name].type).split(" | ")[0]
        typed[name] = cast[kind](value) if kind in cast and value is not None else value
    # replace() runs the settings' own range checks (__post_init__).
    return dataclasses.replace(current, **typed)
