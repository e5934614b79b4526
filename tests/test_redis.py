"""gateway.redis against a real Redis: connecting, the lease and the stream, and their outages."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from gateway.redis import Lease, Stream, connect
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


# -- Stream -------------------------------------------------------


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def no_gap() -> None:
    raise AssertionError("no entry was lost")


def test_a_message_reaches_the_other_instances_in_order_and_not_the_sender(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            a = Stream(first, prefix + "events")
            b = Stream(second, prefix + "events")
            seen_by_a: list[str] = []
            seen_by_b: list[str] = []

            async def b_handler(message: str) -> None:
                if message == "boom":
                    raise RuntimeError("a handler that fails")
                seen_by_b.append(message)

            handlers: list[Callable[[str], Awaitable[None] | None]] = [seen_by_a.append, b_handler]
            listeners = [
                asyncio.create_task(stream.listen(handler, on_gap=no_gap))
                for stream, handler in zip((a, b), handlers, strict=True)
            ]
            try:
                async with asyncio.timeout(2):
                    await a.connected.wait()
                    await b.connected.wait()
                assert await a.append("boom")  # fails in b's handler, which goes on
                await a.append("batch 1")
                await a.append("batch 2")
                await b.append("batch from b")

                await eventually(lambda: seen_by_b == ["batch 1", "batch 2"] and bool(seen_by_a))
                assert seen_by_a == ["batch from b"]
                assert await a.newest() == "batch from b"
            finally:
                for listener in listeners:
                    await stop(listener)
            assert not a.connected.is_set()

    asyncio.run(main())


def test_a_listener_cut_off_replays_what_it_missed_once_back(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            writer = Stream(first, prefix + "events")
            reader = Stream(second, prefix + "events")
            seen: list[str] = []
            listener = asyncio.create_task(reader.listen(seen.append, on_gap=no_gap))
            await asyncio.wait_for(reader.connected.wait(), 2)
            await writer.append("1")
            await eventually(lambda: seen == ["1"])
            await stop(listener)  # cut off ...
            for message in ("2", "3", "4"):
                await writer.append(message)
            listener = asyncio.create_task(reader.listen(seen.append, on_gap=no_gap))  # ... and back
            await eventually(lambda: seen == ["1", "2", "3", "4"])
            await stop(listener)

    asyncio.run(main())


def test_a_listener_that_fell_behind_what_the_stream_keeps_is_told(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as first, redis_client(prefix) as second:
            writer = Stream(first, prefix + "events")
            reader = Stream(second, prefix + "events")
            gaps: list[bool] = []
            listener = asyncio.create_task(reader.listen(lambda message: None, on_gap=lambda: gaps.append(True)))
            await asyncio.wait_for(reader.connected.wait(), 2)
            await writer.append("1")
            await eventually(lambda: reader.last_id is not None and reader.last_id != "0-0")
            await stop(listener)
            await writer.append("2")
            await first.xtrim(prefix + "events", maxlen=0)  # "2" is gone before the reader is back
            listener = asyncio.create_task(reader.listen(lambda message: None, on_gap=lambda: gaps.append(True)))
            await eventually(lambda: gaps == [True])
            await stop(listener)

    asyncio.run(main())


def test_the_stream_keeps_trying_without_redis(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = dead_client()
        try:
            stream = Stream(client, "gw-test:dead")
            assert not await stream.append("batch")
            listener = asyncio.create_task(stream.listen(lambda message: None, on_gap=no_gap))
            await asyncio.sleep(0.3)
            assert not stream.connected.is_set()
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
