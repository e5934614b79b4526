from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.simulators.apps import Simulators, build_simulators
from gateway.simulators.ratelimit import RateLimitSettings
from gateway.simulators.server import serve_in_thread
from gateway.simulators.settings import SimulatorSettings

FIXTURES = Path(__file__).parent / "fixtures"
NOW = "2026-11-23T12:00:00+00:00"


@dataclass
class RunningSimulators:
    settings: SimulatorSettings
    simulators: Simulators
    sequence_url: str
    gofilex_url: str

    def sequence(self, *, json: bool = False) -> httpx.Client:
        headers = {"Accept": "application/json"} if json else {}
        auth = httpx.DigestAuth(self.settings.sequence_username, self.settings.sequence_password)
        return httpx.Client(base_url=self.sequence_url, auth=auth, headers=headers, timeout=10)

    def control(self, url: str) -> httpx.Client:
        return httpx.Client(base_url=url, timeout=10)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSimulators]:
    """Both simulators on loopback with small data, a pinned clock and no rate
    limit; one per test module, so writes in one module never leak into another."""
    settings = SimulatorSettings(now=NOW, jobs=240, orders_per_portal=12, rate_limit=RateLimitSettings(enabled=False))
    simulators = build_simulators(settings)
    with (
        serve_in_thread(simulators.sequence_app) as sequence_url,
        serve_in_thread(simulators.gofilex_app) as gofilex_url,
    ):
        yield RunningSimulators(settings, simulators, sequence_url, gofilex_url)


@pytest.fixture
def sequence(running: RunningSimulators) -> Iterator[httpx.Client]:
    """An XML client of the Sequence simulator with digest credentials."""
    with running.sequence() as client:
        yield client


@pytest.fixture
def sequence_json(running: RunningSimulators) -> Iterator[httpx.Client]:
    """A JSON client of the Sequence simulator with digest credentials."""
    with running.sequence(json=True) as client:
        yield client
