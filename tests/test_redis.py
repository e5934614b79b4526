"""gateway.redis against a real Redis: connecting, the lease and the channel, and their outages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from gateway.redis import Channel, Lease, connect
from tests.redis_support import REDIS_URL, dead_client, eventually, redis_client, warnings_from

pytestmark = pytest.mark.usefixtures("require_redis")


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
