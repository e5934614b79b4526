from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.simulators.faults import FaultInjectionMiddleware, FaultSettings
from gateway.simulators.server import serve_in_thread
from gateway.simulators.stats import RequestStats, StatsMiddleware, route_of


async def jobs(request: Request) -> PlainTextResponse:
    return PlainTextResponse("jobs")


async def control(request: Request) -> PlainTextResponse:
    return PlainTextResponse("control")


def test_requests_are_counted_by_status_and_route_including_faults():
    stats = RequestStats()
    app = Starlette(routes=[Route("/api/work_areas/{id:int}/jobs", jobs), Route("/_sim/stats", control)])
    faults = FaultInjectionMiddleware(app, settings=FaultSettings())
    with serve_in_thread(StatsMiddleware(faults, stats=stats)) as url, httpx.Client(base_url=url) as client:
        client.get("/api/work_areas/1/jobs")
        client.get("/api/work_areas/2/jobs")
        client.get("/api/nowhere")
        client.get("/_sim/stats")  # the control API is not counted
        faults.script(["503", "drop"])
        client.post("/api/work_areas/3/jobs")
        with pytest.raises(httpx.TransportError):
            client.get("/api/work_areas/3/jobs")

    assert stats.snapshot() == {
        "total": 5,
        "by_status": {"0": 1, "200": 2, "404": 1, "503": 1},
        "by_route": {"GET /api/nowhere": 1, "GET /api/work_areas/{id}/jobs": 3, "POST /api/work_areas/{id}/jobs": 1},
    }


def test_reset_clears_every_counter():
    stats = RequestStats()
    stats.record("GET", "/api/work_areas", 200)

    stats.reset()

    assert stats.snapshot() == {"total": 0, "by_status": {}, "by_route": {}}


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/api/work_areas/10/jobs/3", "/api/work_areas/{id}/jobs/{id}"),  # Sequence's integer ids
        ("/api/publication/v1/orders/6qHGWHR9XqqeHqLKr", "/api/publication/v1/orders/{id}"),  # a Gofilex Meteor id
        ("/api/publication/v1/jobs/by/order", "/api/publication/v1/jobs/by/order"),  # no ids
        ("/api/kinds/productionorders", "/api/kinds/productionorders"),  # 17 lowercase letters: a word
        ("/api/events", "/api/events"),
    ],
)
def test_routes_group_paths_by_their_id_segments(path, route):
    assert route_of(path) == route
