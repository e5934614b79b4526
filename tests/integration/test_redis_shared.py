"""The Redis-backed budget, response store and invalidation channel, against a real Redis.

Each test uses its own key prefix (and channel), so parallel runs never meet.
Without a Redis on 127.0.0.1:6379 these tests skip, unless
GATEWAY_TEST_REQUIRE_REDIS=1 makes that a failure.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.redis import Channel, Lease, connect, escape_glob
from gateway.upstreams.budget import REDIS_UNAVAILABLE_NOTE, BudgetExhausted, BudgetSettings, RedisBudget
from gateway.upstreams.redis_layer import RedisResponseStore

HOST, PORT = "127.0.0.1", 6379
REDIS_URL = f"redis://{HOST}:{PORT}/15"  # a DB of its own; keys are still unique per test
DEAD_URL = "redis://127.0.0.1:1/0"  # nothing listens there


def redis_answers() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module", autouse=True)
def require_redis() -> None:
    if not redis_answers():
        reason = f"no Redis answers on {HOST}:{PORT}"
        if os.environ.get("GATEWAY_TEST_REQUIRE_REDIS") == "1":
            pytest.fail(f"{reason}, and GATEWAY_TEST_REQUIRE_REDIS=1")
        pytest.skip(f"{reason} (start one, or set GATEWAY_TEST_REQUIRE_REDIS=1 to fail instead)")


@pytest.fixture
def prefix() -> str:
    return f"gw-test:{uuid.uuid4().hex}:"


@asynccontextmanager
async def redis_client(prefix: str, url: str = REDIS_URL) -> AsyncIterator[Redis]:
    """A client that deletes the test's keys and closes on exit."""
    client = Redis.from_url(url)
    try:
        yield client
    finally:
        keys = [key async for key in client.scan_iter(match=escape_glob(prefix) + "*")]
        if keys:
            await client.unlink(*keys)
        await client.aclose()


def dead_client() -> Redis:
    return Redis.from_url(DEAD_URL, retry=Retry(NoBackoff(), 0), socket_connect_timeout=0.5)


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def warnings_from(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


# -- RedisBudget ---------------------------------------------------------------


def test_two_processes_on_one_key_never_exceed_the_limit_together(prefix: str) -> None:
    settings = BudgetSettings(limit=8, margin=0, window=0.4, slack=0.1)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            budgets = [
                RedisBudget(first, prefix + "budget", settings),
                RedisBudget(second, prefix + "budget", settings),
            ]
            sends: list[tuple[float, int]] = []
            start = time.monotonic()

            async def one(n: int) -> None:
                await budgets[n % 2].acquire(deadline=None)
                sends.append((time.monotonic() - start, n % 2))

            await asyncio.gather(*(one(n) for n in range(24)))

            times = sorted(at for at, _ in sends)
            # The server's window (0.4 s) never holds more than 8, whatever its alignment.
            for first_send, ninth_send in zip(times, times[8:], strict=False):
                assert ninth_send - first_send >= settings.window
            assert times[7] < 0.2  # the first 8 go at once
            assert {budget for _, budget in sends} == {0, 1}
            status = await budgets[0].status()
            assert status.shared and status.note is None
            assert 0 < status.used <= 8

    asyncio.run(main())


def test_a_pause_set_by_one_process_holds_the_other(prefix: str) -> None:
    settings = BudgetSettings(limit=100)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            pausing = RedisBudget(first, prefix + "budget", settings)
            other = RedisBudget(second, prefix + "budget", settings)
            resume_at = time.time() + 0.6
            await pausing.pause_until(resume_at)

            status = await other.status()
            assert status.paused_until == pytest.approx(resume_at, abs=0.05)
            started = time.monotonic()
            with pytest.raises(BudgetExhausted):
                await other.acquire(deadline=started + 0.1)
            assert time.monotonic() - started < 0.05  # refused at once

            await other.acquire(deadline=None)
            assert time.time() >= resume_at - 0.02
            assert (await other.status()).paused_until is None

    asyncio.run(main())


def test_a_pause_arriving_while_waiting_is_noticed(prefix: str) -> None:
    settings = BudgetSettings(limit=1, margin=0, window=0.2, slack=0)

    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            waiting = RedisBudget(first, prefix + "budget", settings)
            pausing = RedisBudget(second, prefix + "budget", settings)
            await waiting.acquire(deadline=None)
            task = asyncio.create_task(waiting.acquire(deadline=None))
            await asyncio.sleep(0.05)
            resume_at = time.time() + 0.5
            await pausing.pause_until(resume_at)

            await task
            assert time.time() >= resume_at - 0.02

    asyncio.run(main())


def test_without_redis_the_budget_is_local_and_says_so(prefix: str, caplog: pytest.LogCaptureFixture) -> None:
    settings = BudgetSettings(limit=3, margin=0, window=0.2, slack=0.05)

    async def main() -> None:
        client = dead_client()
        try:
            budget = RedisBudget(client, prefix + "budget", settings)
            sends = []
            for _ in range(5):
                await budget.acquire(deadline=None)
                sends.append(time.monotonic())
            await budget.pause_until(time.time() + 0.01)

            assert sends[3] - sends[0] >= settings.span - 0.01  # the local log holds the limit
            status = await budget.status()
            assert (status.shared, status.note, status.limit) == (False, REDIS_UNAVAILABLE_NOTE, 3)
            assert status.used == 2
        finally:
            await client.aclose()

    asyncio.run(main())
    assert len(warnings_from(caplog, "gateway.redis")) == 1


def test_the_budget_returns_to_redis_with_the_sends_made_meanwhile(
    prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.redis")

    async def main() -> None:
        async with redis_client(prefix) as client:
            budget = RedisBudget(client, prefix + "budget", BudgetSettings(), retry_interval=0)
            await budget.acquire(deadline=None)
            scripts = budget.log._acquire_script, budget.log._pause_script
            down = True

            def flaky(script: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
                async def run(**kwargs: Any) -> Any:
                    if down:
                        raise RedisConnectionError("connection refused")
                    return await script(**kwargs)

                return run

            budget.log._acquire_script, budget.log._pause_script = map(flaky, scripts)  # type: ignore[assignment]  # a stand-in script that fails
            for _ in range(3):
                await budget.acquire(deadline=None)
            resume_at = time.time() + 5
            await budget.pause_until(resume_at)  # say a 429 arrived meanwhile
            assert not (await budget.status()).shared

            down = False
            status = await budget.status()
            assert status.shared
            assert status.used == 4  # the three sent without Redis are back in the shared log
            assert status.paused_until == pytest.approx(resume_at, abs=0.05)  # and so is the pause
            assert 4000 < await client.pttl(prefix + "budget:pause") <= 5000

    asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records if r.name == "gateway.redis"]
    assert len(messages) == 2
    assert "local to this process" in messages[0]
    assert "shared again" in messages[1]


# -- connect -------------------------------------------------------------------


def test_connect_answers_a_client_or_none(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = await connect(REDIS_URL)
        assert client is not None
        try:
            assert await client.ping()
        finally:
            await client.aclose()
        assert await connect("redis://:sekret@127.0.0.1:1/0", timeout=0.5) is None

    asyncio.run(main())
    [warning] = warnings_from(caplog, "gateway.redis")
    assert "127.0.0.1:1" in warning.getMessage()
    assert "sekret" not in warning.getMessage()


# -- RedisResponseStore --------------------------------------------------------


def test_the_store_keeps_answers_for_their_ttl(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)
            body = b'{"jobs": []}\n\x00\xff'
            await store.set("job:1", ("application/json", body), ttl=5)
            await store.set("job:2", ("text/xml", b""), ttl=0.05)
            await store.set("job:3", ("text/xml", b"x"), ttl=0)  # nothing to keep

            assert await store.get("job:1") == ("application/json", body)
            assert 4000 < await client.pttl(prefix + "job:1") <= 5000
            assert await store.get("job:2") == ("text/xml", b"")
            assert await store.get("job:3") is None
            assert await store.get("job:4") is None
            await asyncio.sleep(0.1)
            assert await store.get("job:2") is None

            await client.set(prefix + "job:5", b"written by some other version")
            assert await store.get("job:5") is None  # unreadable is a miss
            assert store.healthy

    asyncio.run(main())


def test_delete_prefix_matches_the_prefix_literally(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)
            answer = ("application/json", b"{}")
            keys = ["job[1]*?:a", "job[1]*?:b", "job1x:a", "job1:a", "a\\b:1", "ab:1", "other"]
            for key in keys:
                await store.set(key, answer, ttl=5)

            assert await store.delete_prefix("job[1]*?:") == 2
            assert await store.delete_prefix("a\\b:") == 1
            assert await store.delete_prefix("nothing") == 0

            left = [key for key in keys if await store.get(key) is not None]
            assert left == ["job1x:a", "job1:a", "ab:1", "other"]

    asyncio.run(main())


def test_the_store_degrades_to_misses_without_redis(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = dead_client()
        try:
            store = RedisResponseStore(client, prefix="gw-test:dead:")
            assert store.healthy
            await store.set("job:1", ("text/xml", b"x"), ttl=5)
            assert await store.get("job:1") is None
            assert await store.delete_prefix("job:") == 0
            assert not store.healthy
        finally:
            await client.aclose()

    asyncio.run(main())
    assert len(warnings_from(caplog, "gateway.redis")) == 1


def test_the_store_refuses_a_client_that_decodes_responses() -> None:
    async def main() -> None:
        client = Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            with pytest.raises(ValueError, match="decode_responses"):
                RedisResponseStore(client)
        finally:
            await client.aclose()

    asyncio.run(main())


# -- Channel -------------------------------------------------------


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_an_invalidation_reaches_the_other_instances_and_not_the_sender(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            a = Channel(first, prefix + "invalidate")
            b = Channel(second, prefix + "invalidate")
            seen_by_a: list[str] = []
            seen_by_b: list[str] = []

            async def b_handler(message: str) -> None:
                if message == "boom":
                    raise RuntimeError("a handler that fails")
                seen_by_b.append(message)

            handlers: list[Callable[[str], Awaitable[None] | None]] = [seen_by_a.append, b_handler]
            listeners = [asyncio.create_task(ch.listen(h)) for ch, h in zip((a, b), handlers, strict=True)]
            try:
                async with asyncio.timeout(2):
                    await a.subscribed.wait()
                    await b.subscribed.wait()
                await a.publish("boom")  # fails in b's handler, which goes on
                await a.publish("sequence:job 3 has changed")
                await b.publish("gofilex:EMEA:order 7")

                await eventually(lambda: seen_by_b == ["sequence:job 3 has changed"] and bool(seen_by_a))
                # a saw b's message, published after its own, and never its own.
                assert seen_by_a == ["gofilex:EMEA:order 7"]
            finally:
                for listener in listeners:
                    await stop(listener)
            assert not a.subscribed.is_set()

    asyncio.run(main())


def test_the_channel_keeps_trying_without_redis(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = dead_client()
        try:
            channel = Channel(client, "gw-test:dead")
            await channel.publish("sequence:job 3")
            listener = asyncio.create_task(channel.listen(lambda message: None))
            await asyncio.sleep(0.3)
            assert not channel.subscribed.is_set()
            await stop(listener)
        finally:
            await client.aclose()

    asyncio.run(main())
    # One warning for the outage, however many reconnection attempts it took.
    assert len(warnings_from(caplog, "gateway.redis")) == 1


# -- Lease ---------------------------------------------------------------------


def test_a_lease_has_one_holder_who_keeps_it_by_renewing(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            a = Lease(first, prefix + "lease", what="test lock")
            b = Lease(second, prefix + "lease", what="test lock")
            assert await a.hold(0.3)
            assert not await b.hold(0.3)
            await asyncio.sleep(0.2)
            assert await a.hold(0.3)  # renewed before it ran out
            await asyncio.sleep(0.2)
            assert not await b.hold(0.3)  # still a's: 0.4 s after it was taken
            await asyncio.sleep(0.35)
            assert await b.hold(0.3)  # a stopped renewing: b takes it
            assert not await a.hold(0.3)

    asyncio.run(main())


def test_without_redis_everyone_holds_the_lease(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = dead_client()
        try:
            lease = Lease(client, "gw-test:dead:lease", what="test lock")
            assert await lease.hold(1.0)
            assert await lease.hold(1.0)
            assert not lease.outage.healthy
        finally:
            await client.aclose()

    asyncio.run(main())
    assert len(warnings_from(caplog, "gateway.redis")) == 1
