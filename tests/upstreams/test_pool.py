"""The upstream connection pool, against a small keep-alive HTTP/1.1 server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

from gateway.upstreams.pool import ConnectionPool, UpstreamTransport


class Server:
    """Answers every request with `200 ok` after `delay`; counts connections and requests."""

    def __init__(self, *, delay: float = 0.0, close_after: int | None = None) -> None:
        self.delay = delay
        self.close_after = close_after  # requests per connection, then the server hangs up
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                self.requests += 1
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                await asyncio.sleep(self.delay)
                self.in_flight -= 1
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
                await writer.drain()
                served += 1
                if self.close_after is not None and served >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client hung up, or the test ended
        finally:
            writer.close()


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


def test_sequential_requests_share_one_connection() -> None:
    async def test() -> None:
        async with Server() as server, httpx.AsyncClient(transport=UpstreamTransport(max_connections=4)) as client:
            for _ in range(20):
                response = await client.get(server.url)
                assert response.text == "ok"
            assert server.connections == 1
            assert server.requests == 20

    run(test)


def test_concurrency_never_passes_max_connections_and_connections_are_reused() -> None:
    async def test() -> None:
        transport = UpstreamTransport(max_connections=8)
        async with Server(delay=0.01) as server, httpx.AsyncClient(transport=transport) as client:
            responses = await asyncio.gather(*(client.get(server.url) for _ in range(100)))
            assert all(response.text == "ok" for response in responses)
            assert server.peak_in_flight == 8
            assert server.connections == 8
            assert transport.pool.active_connections == 0
            assert transport.pool.idle_connections == 8

    run(test)


def test_a_connection_the_server_closed_is_replaced_not_reused() -> None:
    async def test() -> None:
        async with (
            Server(close_after=1) as server,
            httpx.AsyncClient(transport=UpstreamTransport(max_connections=2)) as client,
        ):
            for _ in range(5):
                assert (await client.get(server.url)).text == "ok"
                await asyncio.sleep(0.02)  # the hang-up reaches the client's socket
            assert server.connections == 5

    run(test)


def test_an_expired_keep_alive_connection_is_not_reused() -> None:
    async def test() -> None:
        transport = UpstreamTransport(max_connections=2, keepalive_expiry=0.05)
        async with Server() as server, httpx.AsyncClient(transport=transport) as client:
            await client.get(server.url)
            await asyncio.sleep(0.1)
            await client.get(server.url)
            assert server.connections == 2

    run(test)


def test_waiting_for_a_connection_past_the_pool_timeout_raises_httpx_pool_timeout() -> None:
    async def test() -> None:
        timeout = httpx.Timeout(5.0, pool=0.05)
        transport = UpstreamTransport(max_connections=1)
        async with Server(delay=0.3) as server, httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            slow = asyncio.create_task(client.get(server.url))
            await asyncio.sleep(0.05)
            with pytest.raises(httpx.PoolTimeout):
                await client.get(server.url)
            assert (await slow).text == "ok"
            # The slot came back: the next request goes through.
            assert (await client.get(server.url)).text == "ok"

    run(test)


def test_a_failed_connect_gives_its_slot_back() -> None:
    async def test() -> None:
        async with Server() as server:
            url = server.url
        transport = UpstreamTransport(max_connections=1)
        async with httpx.AsyncClient(transport=transport) as client:
            for _ in range(3):  # with the slot lost, the second attempt would wait forever
                with pytest.raises(httpx.ConnectError):
                    await asyncio.wait_for(client.get(url), 2)
            assert transport.pool.active_connections == 0

    run(test)


def test_a_cancelled_request_gives_its_slot_back() -> None:
    async def test() -> None:
        transport = UpstreamTransport(max_connections=1)
        async with Server(delay=1.0) as server, httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(client.get(server.url), 0.05)
            server.delay = 0
            assert (await asyncio.wait_for(client.get(server.url), 2)).text == "ok"

    run(test)


def test_idle_connections_above_the_keep_alive_limit_are_closed() -> None:
    async def test() -> None:
        transport = UpstreamTransport(max_connections=4, max_keepalive_connections=2)
        async with Server(delay=0.01) as server, httpx.AsyncClient(transport=transport) as client:
            await asyncio.gather(*(client.get(server.url) for _ in range(4)))
            assert server.connections == 4
            assert transport.pool.idle_connections == 2

    run(test)


def test_unsupported_scheme_is_refused() -> None:
    async def test() -> None:
        async with httpx.AsyncClient(transport=UpstreamTransport(max_connections=1)) as client:
            with pytest.raises(httpx.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/")

    run(test)


def test_max_connections_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_connections"):
        ConnectionPool(max_connections=0)
