"""Upstream failures as clients see them: each maps to a stable extensions.code,
fails only the fields that depend on it, and leaks nothing of the upstream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulators.server import serve_in_thread

SEQUENCE = "http://sequence.test/api"
GOFILEX = "http://gofilex.test/emea"
PASSWORD = "s3cret-password"
TOKEN = "s3cret-token"
SETTINGS = Settings.from_env(
    {
        "SEQUENCE_URL": SEQUENCE,
        "SEQUENCE_USERNAME": "robot_user",
        "SEQUENCE_PASSWORD": PASSWORD,
        "GOFILEX_EMEA_URL": GOFILEX,
        "GOFILEX_TOKEN": TOKEN,
    }
)
WORK_AREAS = {
    "entries": [{"resource_type": "work_area", "id": 10, "name": "VOD", "self_link": SEQUENCE + "/work_areas/10"}]
}
Handler = Callable[[httpx.Request], httpx.Response]


def sequence_ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=WORK_AREAS)


class Upstream:
    """A fake network: a handler per host, and every request it saw."""

    def __init__(self) -> None:
        self.handlers: dict[str, Handler] = {"sequence.test": sequence_ok}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handlers[request.url.host](request)


@pytest.fixture
def upstream() -> Upstream:
    return Upstream()


@pytest.fixture
def graphql(upstream: Upstream) -> Iterator[Callable[[str], dict[str, Any]]]:
    app = create_app(SETTINGS, transport=httpx.MockTransport(upstream), poll_events=False)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as client:

        def query(text: str) -> dict[str, Any]:
            response = client.post("/graphql", json={"query": text})
            assert response.status_code == 200, response.text
            raw = response.text
            # Nothing of the upstream's internals reaches a client.
            for secret in (PASSWORD, TOKEN, "sequence.test", "gofilex.test", "Traceback"):
                assert secret not in raw
            return json.loads(raw)

        yield query


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(code, content=body, headers=headers)


def raises(error: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


@pytest.mark.parametrize(
    ("handler", "code"),
    [
        (status(401), "UPSTREAM_UNAUTHORIZED"),
        (status(403), "UPSTREAM_UNAUTHORIZED"),
        (status(404, b"<error><message>Not found</message></error>"), "NOT_FOUND"),
        (status(429, headers={"Ratelimit-Reset": "251"}), "UPSTREAM_RATE_LIMITED"),
        (status(500), "UPSTREAM_UNAVAILABLE"),
        (status(502), "UPSTREAM_UNAVAILABLE"),
        (status(503), "UPSTREAM_UNAVAILABLE"),
        (status(504), "UPSTREAM_UNAVAILABLE"),
        (raises(httpx.ConnectError("refused")), "UPSTREAM_UNAVAILABLE"),
        (raises(httpx.RemoteProtocolError("dropped")), "UPSTREAM_UNAVAILABLE"),
        (raises(httpx.ReadTimeout("slow")), "UPSTREAM_TIMEOUT"),
        (raises(httpx.ConnectTimeout("slow")), "UPSTREAM_TIMEOUT"),
        (status(200, b'{"entries": [{"resource_'), "UPSTREAM_BAD_RESPONSE"),
        (status(200, b'{"entries": {"not": "a list"}}'), "UPSTREAM_BAD_RESPONSE"),
        (status(200, b"<work-areas><work-area>"), "UPSTREAM_BAD_RESPONSE"),
    ],
)
def test_sequence_failures_map_to_stable_codes(
    upstream: Upstream, graphql: Callable, handler: Handler, code: str
) -> None:
    upstream.handlers["sequence.test"] = handler
    body = graphql("{ workAreas { workAreaId } }")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["path"] == ["workAreas"]


def test_rate_limited_errors_say_when_to_retry(upstream: Upstream, graphql: Callable) -> None:
    upstream.handlers["sequence.test"] = status(429, headers={"Ratelimit-Reset": "251"})
    (error,) = graphql("{ workAreas { workAreaId } }")["errors"]
    assert error["extensions"]["retryAfter"] == 251


def test_validation_messages_of_sequence_reach_the_client(upstream: Upstream, graphql: Callable) -> None:
    body = b"<errors><error>Name can't be blank</error><error>Template can't be blank</error></errors>"
    upstream.handlers["sequence.test"] = status(422, body, {"Content-Type": "application/xml"})
    (error,) = graphql("{ workAreas { workAreaId } }")["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["messages"] == ["Name can't be blank", "Template can't be blank"]


def test_one_failing_upstream_fails_only_its_fields(upstream: Upstream, graphql: Callable) -> None:
    upstream.handlers["gofilex.test"] = status(503)
    body = graphql('{ workAreas { workAreaId } gofilexOrder(orderId: "zjALZe8DJWLz9Nf2a") { orderId state } }')
    assert body["data"]["workAreas"] == [{"workAreaId": "10"}]
    assert body["data"]["gofilexOrder"] is None
    (error,) = body["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["gofilexOrder"], "UPSTREAM_UNAVAILABLE")
    assert error["extensions"]["upstream"] == "gofilex:EMEA"


def test_an_unconfigured_portal_is_named(graphql: Callable) -> None:
    (error,) = graphql('{ gofilexOrder(orderId: "x", portal: NORAM) { orderId } }')["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_NOT_CONFIGURED"
    assert "NORAM" in error["message"]


def test_links_in_payloads_are_data_and_never_requested(upstream: Upstream, graphql: Callable) -> None:
    evil = "http://evil.test/api/work_areas/10/jobs/3"
    job = {
        "resource_type": "job", "id": 3, "name": "Ironman 2", "status": "pending", "tasks_status": "pending",
        "assets_status": "not_received", "tag_list": "", "self_link": SEQUENCE + "/work_areas/10/jobs/3",
        "tasks_link": evil + "/tasks", "notes_link": evil + "/notes", "web_link": "http://evil.test/web",
    }  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/jobs/3"):
            return httpx.Response(200, json=job)
        return httpx.Response(200, json={"entries": []})

    upstream.handlers["sequence.test"] = handler
    body = graphql('{ sequenceJob(workAreaId: "10", jobId: "3") { name webUrl tasks { name } notes { body } } }')
    assert body["data"]["sequenceJob"]["webUrl"] == "http://evil.test/web"
    assert {request.url.host for request in upstream.requests} == {"sequence.test"}
    assert {request.url.path for request in upstream.requests} == {
        "/api/work_areas/10/jobs/3",
        "/api/work_areas/10/jobs/3/tasks",
        "/api/work_areas/10/jobs/3/notes",
    }


def test_ids_that_would_change_a_path_are_refused(upstream: Upstream, graphql: Callable) -> None:
    body = graphql('{ sequenceJob(workAreaId: "10", jobId: "../../admin") { name } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert upstream.requests == []


def test_unexpected_errors_are_masked(upstream: Upstream, graphql: Callable, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.upstreams.sequence import parse

    def broken(*args: Any) -> Any:
        raise RuntimeError("internal detail http://sequence.test/api")

    monkeypatch.setattr(parse, "parse_work_areas", broken)
    (error,) = graphql("{ workAreas { workAreaId } }")["errors"]
    assert error["message"] == "Unexpected error."
    assert "extensions" not in error or "internal" not in json.dumps(error)
