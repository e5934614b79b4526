"""The upstreams of one process: a client, guard and budget per configured upstream, and Redis or not."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.config import Settings
from gateway.errors import NotConfigured
from gateway.upstreams.budget import LocalBudget, RedisBudget
from gateway.upstreams.registry import open_upstreams
from tests.redis_support import REDIS_URL

UPSTREAMS = {
    "SEQUENCE_URL": "http://sequence.test/api",
    "SEQUENCE_USERNAME": "robot",
    "SEQUENCE_PASSWORD": "secret",
    "GOFILEX_EMEA_URL": "http://emea.test",
    "GOFILEX_NORAM_URL": "http://noram.test",
    "GOFILEX_TOKEN": "token",
}
NOWHERE = httpx.MockTransport(lambda request: httpx.Response(599))


def test_each_configured_upstream_gets_a_client_and_a_guard_of_its_own() -> None:
    settings = Settings.from_env({**UPSTREAMS, "SEQUENCE_RATE_LIMIT": "100", "GATEWAY_RETRY_ATTEMPTS": "5"})

    async def main() -> None:
        async with open_upstreams(settings, transport=NOWHERE) as upstreams:
            assert set(upstreams.guards) == {"sequence", "gofilex:EMEA", "gofilex:NORAM"}
            assert set(upstreams.portals) == {"EMEA", "NORAM"}
            assert upstreams.sequence.guard is upstreams.guards["sequence"]
            assert upstreams.gofilex("NORAM").guard is upstreams.guards["gofilex:NORAM"]
            guard = upstreams.guards["sequence"]
            # The settings reach the parts as they are: no reshaping on the way.
            assert isinstance(guard.budget, LocalBudget)
            assert guard.budget.settings is settings.protection.sequence_budget
            assert guard.retry is settings.protection.retry and guard.retry.attempts == 5
            assert guard.breaker.settings is settings.protection.breaker
            assert upstreams.guards["gofilex:EMEA"].budget is not upstreams.guards["gofilex:NORAM"].budget
            assert (upstreams.redis, upstreams.redis_layer, upstreams.notes) == (None, None, {})

    asyncio.run(main())


def test_an_upstream_that_is_not_configured_is_named() -> None:
    settings = Settings.from_env({}, require_upstreams=False)

    async def main() -> None:
        async with open_upstreams(settings, transport=NOWHERE) as upstreams:
            with pytest.raises(NotConfigured, match="SEQUENCE_URL"):
                upstreams.sequence  # noqa: B018
            with pytest.raises(NotConfigured, match="GOFILEX_APAC_URL"):
                upstreams.gofilex("APAC")
            assert upstreams.guards == {}

    asyncio.run(main())


def test_unreachable_redis_leaves_everything_local_with_a_note() -> None:
    settings = Settings.from_env({**UPSTREAMS, "REDIS_URL": "redis://127.0.0.1:1/0"})

    async def main() -> None:
        async with open_upstreams(settings, transport=NOWHERE) as upstreams:
            assert upstreams.redis is None and upstreams.redis_layer is None
            assert "local to this process" in upstreams.notes["redis"]
            assert isinstance(upstreams.guards["sequence"].budget, LocalBudget)

    asyncio.run(main())


@pytest.mark.usefixtures("require_redis")
def test_with_redis_the_budgets_and_the_cache_layer_are_shared() -> None:
    settings = Settings.from_env({**UPSTREAMS, "REDIS_URL": REDIS_URL})

    async def main() -> None:
        async with open_upstreams(settings, transport=NOWHERE) as upstreams:
            assert upstreams.redis is not None and upstreams.redis_layer is not None
            budgets = [guard.budget for guard in upstreams.guards.values()]
            assert all(isinstance(budget, RedisBudget) for budget in budgets)
            # One log per upstream credential, named by a hash that holds no secret.
            keys = {budget.log.key for budget in budgets if isinstance(budget, RedisBudget)}
            assert len(keys) == 3 and not any("secret" in key or "token" in key for key in keys)
            assert upstreams.sequence.redis_layer is upstreams.redis_layer

    asyncio.run(main())
