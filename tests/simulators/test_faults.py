from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from http import HTTPStatus

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from gateway.simulators.faults import FaultInjectionMiddleware, FaultSettings
from gateway.simulators.server import serve_in_thread

ITEMS = {"entries": [{"id": number, "name": f"job {number}"} for number in range(20)]}


async def entries(request: Request) -> JSONResponse:
    return JSONResponse(ITEMS)


async def missing(request: Request) -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


async def echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse(await request.body())


async def control(request: Request) -> PlainTextResponse:
    return PlainTextResponse("control")


ROUTES = [
    Route("/entries", entries),
    Route("/missing", missing),
    Route("/echo", echo, methods=["POST"]),
    Route("/_sim/ping", control),
]


class ErrorRecords(logging.Handler):
    """Collects what uvicorn logs at ERROR, where it reports tracebacks and protocol misuse."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FaultInjectionMiddleware, str]]:
    faults = FaultInjectionMiddleware(Starlette(routes=ROUTES), settings=FaultSettings())
    with serve_in_thread(faults) as url:
        yield faults, url


@pytest.fixture
def served(server) -> Iterator[tuple[FaultInjectionMiddleware, httpx.Client]]:
    faults, url = server
    faults.settings = FaultSettings(seed=7)
    with httpx.Client(base_url=url, timeout=5) as client:
        yield faults, client


@pytest.fixture
def uvicorn_errors() -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def elapsed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    client.get(path).raise_for_status()
    return time.perf_counter() - started


def test_latency_delays_every_request(served):
    faults, client = served
    baseline = min(elapsed(client, "/entries") for _ in range(2))

    faults.settings = FaultSettings(latency_ms=250, jitter_ms=20)

    assert elapsed(client, "/entries") - baseline > 0.2


def test_jitter_larger_than_latency_never_makes_a_negative_delay(served):
    faults, client = served
    faults.settings = FaultSettings(latency_ms=0, jitter_ms=30, seed=1)

    assert all(client.get("/entries").status_code == HTTPStatus.OK for _ in range(3))


def test_an_error_rate_of_one_answers_every_request_with_a_5xx(served):
    faults, client = served
    faults.settings = FaultSettings(error_rate=1, seed=3)

    statuses = {client.get("/entries").status_code for _ in range(8)}

    assert statuses <= {500, 502, 503, 504}
    assert len(statuses) > 1


def test_a_hanging_request_makes_the_client_time_out(served):
    faults, client = served
    faults.settings = FaultSettings(timeout_rate=1, hang_seconds=2)

    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        client.get("/entries", timeout=0.2)
    assert time.perf_counter() - started < 1.5


def test_a_request_that_hangs_shorter_than_the_client_waits_is_answered_with_its_body(served):
    faults, client = served
    faults.script(["timeout"])
    faults.settings = FaultSettings(hang_seconds=0.1)

    response = client.post("/echo", content=b"payload")

    assert response.status_code == HTTPStatus.OK
    assert response.content == b"payload"


def test_a_malformed_body_is_truncated_with_a_consistent_content_length(served):
    faults, client = served
    faults.settings = FaultSettings(malformed_rate=1)

    response = client.get("/entries")

    assert response.status_code == HTTPStatus.OK
    assert int(response.headers["content-length"]) == len(response.content)
    assert 0 < len(response.content) < len(json.dumps(ITEMS, separators=(",", ":")))
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_malformed_leaves_error_answers_alone(served):
    faults, client = served
    faults.settings = FaultSettings(malformed_rate=1)

    response = client.get("/missing")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "not found"}


def test_a_dropped_connection_gives_the_client_a_transport_error_and_logs_nothing(served, uvicorn_errors):
    faults, client = served
    faults.settings = FaultSettings(drop_rate=1)

    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/entries")

    time.sleep(0.05)  # let the server finish the request it dropped
    assert uvicorn_errors.records == []


def test_a_drop_finds_the_connection_behind_starlette_wrapping_send(uvicorn_errors):
    # Inside Starlette's middleware list, ServerErrorMiddleware wraps uvicorn's send.
    faults = Middleware(FaultInjectionMiddleware, settings=FaultSettings(drop_rate=1))
    app = Starlette(routes=ROUTES, middleware=[faults])
    with serve_in_thread(app) as url, pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url + "/entries")

    assert uvicorn_errors.records == []


def test_scripted_faults_come_in_order_before_normal_answers(served):
    faults, client = served
    faults.script(["503", "malformed", "ok", "drop", "500"])

    assert client.get("/entries").status_code == HTTPStatus.SERVICE_UNAVAILABLE
    with pytest.raises(json.JSONDecodeError):
        client.get("/entries").json()
    assert client.get("/entries").json() == ITEMS
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/entries")
    assert client.get("/entries").status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert client.get("/entries").json() == ITEMS


def test_a_new_script_replaces_the_faults_still_queued(served):
    faults, client = served
    faults.script(["503", "503"])
    faults.script(["500"])
    assert client.get("/entries").status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert client.get("/entries").json() == ITEMS
    faults.script(["503"])
    faults.script([])
    assert client.get("/entries").json() == ITEMS


def test_unknown_scripted_faults_are_refused(served):
    faults, _ = served

    with pytest.raises(ValueError, match="explode"):
        faults.script(["500", "explode"])


def test_the_exempt_prefix_is_never_faulted_nor_consumes_the_script(served):
    faults, client = served
    faults.settings = FaultSettings(error_rate=1)
    faults.script(["drop"])

    assert client.get("/_sim/ping").text == "control"
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/entries")


def test_from_env_reads_every_variable():
    environ = {
        "SIM_LATENCY_MS": "20",
        "SIM_JITTER_MS": "5.5",
        "SIM_ERROR_RATE": "0.1",
        "SIM_TIMEOUT_RATE": "0.05",
        "SIM_MALFORMED_RATE": "0.05",
        "SIM_DROP_RATE": "0.05",
        "SIM_HANG_SECONDS": "3",
        "SIM_FAULT_SEED": "42",
        "SIM_UNRELATED": "x",
    }

    assert FaultSettings.from_env(environ) == FaultSettings(
        latency_ms=20,
        jitter_ms=5.5,
        error_rate=0.1,
        timeout_rate=0.05,
        malformed_rate=0.05,
        drop_rate=0.05,
        hang_seconds=3,
        seed=42,
    )
    assert FaultSettings.from_env({}) == FaultSettings()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SIM_ERROR_RATE": "often"}, "SIM_ERROR_RATE"),  # not a number
        ({"SIM_DROP_RATE": "1.5"}, "SIM_DROP_RATE"),  # a rate above 1
        ({"SIM_LATENCY_MS": "-1"}, "SIM_LATENCY_MS"),  # a negative delay
        ({"SIM_HANG_SECONDS": "nan"}, "SIM_HANG_SECONDS"),  # not finite
        ({"SIM_FAULT_SEED": "1.5"}, "SIM_FAULT_SEED"),  # seeds are integers
        ({"SIM_ERROR_RATE": "0.6", "SIM_DROP_RATE": "0.6"}, "SIM_DROP_RATE"),  # rates sum above 1
    ],
)
def test_from_env_rejects_bad_values_naming_the_variable(environ, named):
    with pytest.raises(ValueError, match=named):
        FaultSettings.from_env(environ)


def test_settings_reject_rates_summing_above_one():
    with pytest.raises(ValueError, match="error_rate"):
        FaultSettings(error_rate=0.5, timeout_rate=0.6)
