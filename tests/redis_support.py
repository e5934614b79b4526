"""A real Redis for tests: the server's address, clients that clean up, a dead one, and log helpers.

Tests that need the server use the `require_redis` fixture (tests/conftest.py):
without a Redis on 127.0.0.1:6379 they skip, unless GATEWAY_TEST_REQUIRE_REDIS=1
makes that a failure. Each test uses its own key prefix (and channel), so
parallel runs never meet.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.redis import escape_glob

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
