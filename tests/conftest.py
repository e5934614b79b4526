from __future__ import annotations

import os
import uuid
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

# Variables that would change what the code under test does: the gateway's
# and the simulators' settings, and the proxies httpx would otherwise read.
SCRUBBED_PREFIXES = ("GATEWAY_", "SEQUENCE_", "GOFILEX_", "SIM_", "OTEL_")
SCRUBBED = {"REDIS_URL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
# What CI sets to make a missing browser or Redis a failure: kept.
KEPT_PREFIX = "GATEWAY_TEST_"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from an environment without the gateway's settings (as httpx's tests do)."""
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(KEPT_PREFIX):
            continue
        if upper.startswith(SCRUBBED_PREFIXES) or upper in SCRUBBED:
            monkeypatch.delenv(name)


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


@pytest.fixture(scope="module")
def require_redis() -> None:
    """Skip the module's tests without a Redis on 127.0.0.1:6379 (fail with GATEWAY_TEST_REQUIRE_REDIS=1)."""
    from tests.redis_support import HOST, PORT, redis_answers

    if not redis_answers():
        reason = f"no Redis answers on {HOST}:{PORT}"
        if os.environ.get("GATEWAY_TEST_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason}, and GATEWAY_TEST_REQUIRE_REDIS=1")
        pytest.skip(f"{reason} (start one, or set GATEWAY_TEST_REQUIRE_REDIS=1 to fail instead)")


@pytest.fixture
def prefix() -> str:
    """A Redis key prefix of the test's own."""
    return f"gw-test:{uuid.uuid4().hex}:"
