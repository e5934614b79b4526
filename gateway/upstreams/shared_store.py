"""The Redis layer of the response cache: upstream bodies shared between replicas.

Behind each process's in-process cache: a read that misses locally looks
here before it costs an upstream call, and every body fetched is put here
for the other replicas. Bodies are stored as the upstream sent them and
parsed again on a hit, so nothing but upstream data goes through Redis.
While Redis fails, reads miss and writes are dropped (the store logs it).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx

from gateway.errors import UpstreamBadResponse
from gateway.upstreams.cache import CacheKey
from gateway.upstreams.payload import PayloadError

R = TypeVar("R")


class ResponseStore(Protocol):
    async def get(self, key: str) -> tuple[int, str, bytes] | None: ...
    async def set(self, key: str, value: tuple[int, str, bytes], ttl: float) -> None: ...
    async def delete_prefix(self, key_prefix: str) -> int: ...


@dataclass(frozen=True)
class SharedBody:
    body: bytes
    media_type: str


class SharedStore:
    def __init__(self, store: ResponseStore) -> None:
        self.store = store

    @staticmethod
    def key(key: CacheKey) -> str:
        # URLs first so that everything under a path can be deleted by prefix.
        body = hashlib.sha256(key.body).hexdigest()[:16] if key.body else ""
        return f"{key.credential}|{key.method}|{key.url}|{body}"

    async def get(self, key: CacheKey) -> SharedBody | None:
        found = await self.store.get(self.key(key))
        if found is None:
            return None
        _, media_type, body = found
        return SharedBody(body, media_type)

    async def put(self, key: CacheKey, body: bytes, media_type: str, ttl: float) -> None:
        if ttl > 0:
            await self.store.set(self.key(key), (200, media_type, body), ttl)

    async def invalidate(self, credential: str, method: str, url: str, *, below: bool = False) -> int:
        """Drop the shared bodies of `credential` read from `url` with any query (every
        page and view of it), and with `below` from every URL under it; the number dropped."""
        # A key's URL ends at the "|" before the body hash (see `key`).
        prefix = f"{credential}|{method}|{url}"
        ends = ("|", "?", "/") if below else ("|", "?")
        return sum([await self.store.delete_prefix(prefix + end) for end in ends])


async def read_through(
    store: SharedStore | None,
    key: CacheKey,
    send: Callable[[], Awaitable[httpx.Response]],
    parse: Callable[[bytes, str], R],
    ttl: Callable[[R], float] | float,
    *,
    upstream: str,
) -> R:
    """The value of `key`: parsed from the body another replica shared, else
    sent for, parsed and shared for `ttl` seconds (or `ttl(value)`).

    A shared body that no longer parses is ignored; an upstream body that
    does not parse is the upstream's fault: UPSTREAM_BAD_RESPONSE.
    """
    shared = await store.get(key) if store else None
    if shared is not None:
        with contextlib.suppress(PayloadError):
            return parse(shared.body, shared.media_type)
    response = await send()
    media_type = response.headers.get("content-type", "")
    try:
        value = parse(response.content, media_type)
    except PayloadError as exc:
        raise UpstreamBadResponse(upstream, f"{upstream} sent an unexpected body: {exc}") from exc
    if store:
        await store.put(key, response.content, media_type, ttl(value) if callable(ttl) else ttl)
    return value
