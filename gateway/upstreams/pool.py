"""A keep-alive connection pool for the upstream clients, linear where httpcore's is quadratic.

httpx sends through httpcore's `AsyncConnectionPool`, whose every state
change (each request added, each response closed) walks every connection,
and for each idle one counts every connection again and polls its socket
through anyio's attribute lookup (a `getpeername` per call). A cold 50-job
page (201 Sequence requests, 64 at a time) spent over half of the gateway's
CPU there: the walk is O(connections²) per request. The fixes proposed
upstream (encode/httpcore#1035, pydantic/httpx2#974 and #1169) are not in
any httpcore release httpx 0.28 can use.

This pool does the same job in O(1) per request: an idle stack per origin
(the most recently used first, so a burst reuses warm connections and the
oldest idle ones expire), a semaphore for `max_connections`, and one
expiry check per reuse instead of one per connection per change. The
connections themselves stay httpcore's (`AsyncHTTPConnection`: connect,
TLS, HTTP/1.1), and `UpstreamTransport` keeps httpx's transport around it,
so requests, responses and exception mapping are httpx's own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx

_Key = tuple[bytes, bytes, int]


def _key(origin: httpcore.Origin) -> _Key:
    # httpcore's Origin defines equality but no hash.
    return (origin.scheme, origin.host, origin.port)


class ConnectionPool:
    """HTTP/1.1 keep-alive connections to any number of origins, at most `max_connections` in use.

    Implements what httpx's transport calls on httpcore's pool:
    `handle_async_request`, `aclose` and the async context manager.
    """

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be >= 1, got {max_connections!r}")
        self.max_connections = max_connections
        self.max_keepalive_connections = (
            max_connections if max_keepalive_connections is None else min(max_keepalive_connections, max_connections)
        )
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._network_backend = network_backend
        self._slots = asyncio.Semaphore(max_connections)
        # Idle connections per origin, oldest first; `_idle_count` is their sum.
        self._idle: dict[_Key, list[httpcore.AsyncHTTPConnection]] = {}
        self._idle_count = 0
        self._active: set[httpcore.AsyncHTTPConnection] = set()
        self._closed = False

    # What httpx's transport calls ------------------------------------------
    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        scheme = request.url.scheme
        if scheme not in (b"http", b"https"):
            raise httpcore.UnsupportedProtocol(f"Request URL has an unsupported protocol {scheme.decode()!r}.")
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        await self._acquire_slot(request.extensions.get("timeout", {}).get("pool"))
        try:
            while True:
                connection = await self._checkout(request.url.origin)
                self._active.add(connection)
                try:
                    response = await connection.handle_async_request(request)
                except httpcore.ConnectionNotAvailable:
                    # The idle connection was closed under us (httpcore raises
                    # this before anything is sent): another one.
                    self._active.discard(connection)
                    await connection.aclose()
                    continue
                except BaseException:
                    self._active.discard(connection)
                    await self._checkin(request.url.origin, connection)
                    raise
                break
        except BaseException:
            self._slots.release()
            raise
        return httpcore.Response(
            status=response.status,
            headers=response.headers,
            content=_ReleasingStream(response.stream, self, request.url.origin, connection),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        connections = [connection for stack in self._idle.values() for connection in stack]
        connections += self._active
        self._idle.clear()
        self._idle_count = 0
        self._active.clear()
        for connection in connections:
            await connection.aclose()

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # Bookkeeping ------------------------------------------------------------
    @property
    def idle_connections(self) -> int:
        return self._idle_count

    @property
    def active_connections(self) -> int:
        return len(self._active)

    async def _acquire_slot(self, timeout: float | None) -> None:
        if not self._slots.locked():
            await self._slots.acquire()  # returns at once: a free slot
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise httpcore.PoolTimeout("no connection came free within the pool timeout") from None

    async def _checkout(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection:
        """The most recently used live idle connection to `origin`, or a new one."""
        stack = self._idle.get(_key(origin))
        while stack:
            connection = stack.pop()
            self._idle_count -= 1
            # One poll for this connection now, where httpcore's pool polls
            # every idle connection on every change.
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()
        # Room for a new connection: below the limit with the idle ones of other origins.
        await self._close(self._evict_idle(self.max_connections - 1 - len(self._active)))
        return httpcore.AsyncHTTPConnection(
            origin=origin,
            ssl_context=self._ssl_context,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._network_backend,
        )

    async def _checkin(self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection) -> None:
        """Keep `connection` for reuse when it can take another request; close it otherwise."""
        if self._closed or not connection.is_idle() or connection.is_closed():
            await connection.aclose()
            return
        self._idle.setdefault(_key(origin), []).append(connection)
        self._idle_count += 1
        await self._close(self._evict_idle(self.max_keepalive_connections))

    def _evict_idle(self, keep: int) -> list[httpcore.AsyncHTTPConnection]:
        """Take idle connections out until at most `keep` are left, the longest idle
        of the origin with the most first. No await between the count and the
        taking, so concurrent check-ins cannot both see room."""
        evicted = []
        while self._idle_count > max(keep, 0):
            stack = max(self._idle.values(), key=len)
            evicted.append(stack.pop(0))
            self._idle_count -= 1
        return evicted

    @staticmethod
    async def _close(connections: list[httpcore.AsyncHTTPConnection]) -> None:
        for connection in connections:
            await connection.aclose()

    async def _release(self, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection) -> None:
        self._active.discard(connection)
        try:
            await self._checkin(origin, connection)
        finally:
            self._slots.release()


class _ReleasingStream:
    """A response body that gives its connection back to the pool once closed."""

    def __init__(
        self, stream: Any, pool: ConnectionPool, origin: httpcore.Origin, connection: httpcore.AsyncHTTPConnection
    ) -> None:
        self._stream = stream
        self._pool = pool
        self._origin = origin
        self._connection = connection
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for part in self._stream:
                yield part
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            # httpcore finishes the exchange here: the connection turns idle
            # (reusable) or closes, shielded from cancellation as in its pool.
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            await self._pool._release(self._origin, self._connection)


class UpstreamTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (request and response conversion, exception
    mapping) over `ConnectionPool` instead of httpcore's pool."""

    def __init__(
        self,
        *,
        max_connections: int,
        max_keepalive_connections: int | None = None,
        keepalive_expiry: float | None = 5.0,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx keeps its pool in `_pool` and calls only the methods above on it.
        # httpx types `_pool` as httpcore's pool; ours has every method httpx calls on it.
        self._pool = ConnectionPool(  # type: ignore[assignment]
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            keepalive_expiry=keepalive_expiry,
            ssl_context=ssl_context,
            network_backend=network_backend,
        )

    @property
    def pool(self) -> ConnectionPool:
        return self._pool  # type: ignore[return-value]  # set to a ConnectionPool in __init__
