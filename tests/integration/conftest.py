"""The gateway and both simulators as real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.simulators.apps import environment
from gateway.simulators.server import serve_in_thread
from tests.conftest import RunningSimulators


@dataclass
class Gateway:
    url: str
    running: RunningSimulators
    client: httpx.Client

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.query(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def reset_stats(self) -> None:
        for url in (self.running.sequence_url, self.running.gofilex_url):
            httpx.delete(url + "/_sim/stats").raise_for_status()

    def sequence_stats(self) -> dict[str, Any]:
        return httpx.get(self.running.sequence_url + "/_sim/stats").json()

    def gofilex_stats(self) -> dict[str, Any]:
        return httpx.get(self.running.gofilex_url + "/_sim/stats").json()


def gateway_settings(running: RunningSimulators, **overrides: str) -> Settings:
    env = environment(running.settings, running.sequence_url, running.gofilex_url)
    # The module's simulator runs with its rate limit off, so the gateway's
    # budget need not hold it back; tests of the budget set both.
    env["SEQUENCE_RATE_LIMIT"] = "100000"
    return Settings.from_env({**env, **overrides})


@pytest.fixture
def gateway(running: RunningSimulators) -> Iterator[Gateway]:
    """A fresh gateway (cold cache) over the module's simulators, without the
    events poller: these tests count every upstream call."""
    app = create_app(gateway_settings(running), poll_events=False)
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield Gateway(url, running, client)


@pytest.fixture
def make_gateway(running: RunningSimulators) -> Iterator[Callable[..., Gateway]]:
    """Gateways with settings of the test's choosing (environment overrides), stopped afterwards."""
    with contextlib.ExitStack() as stack:

        def make(*, poll_events: bool = False, **env: str) -> Gateway:
            app = create_app(gateway_settings(running, **env), poll_events=poll_events)
            url = stack.enter_context(serve_in_thread(app))
            client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
            return Gateway(url, running, client)

        yield make


@pytest.fixture
def sequence_faults(running: RunningSimulators) -> Iterator[Callable[..., None]]:
    """Set the Sequence simulator's faults for one test; all faults are cleared afterwards."""
    url = running.sequence_url + "/_sim/faults"

    def set_faults(**faults: Any) -> None:
        httpx.put(url, json=faults).raise_for_status()

    yield set_faults
    clear = {"error_rate": 0, "timeout_rate": 0, "malformed_rate": 0, "drop_rate": 0, "latency_ms": 0, "script": []}
    httpx.put(url, json=clear).raise_for_status()
