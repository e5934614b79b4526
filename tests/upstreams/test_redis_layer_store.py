"""The response cache's Redis layer: the byte store against a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from gateway.upstreams.redis_layer import UNKNOWN_GENERATION, RedisResponseStore, Stored
from tests.redis_support import REDIS_URL, dead_client, redis_client, warnings_from

pytestmark = pytest.mark.usefixtures("require_redis")

GENERATION = "generation:test"


async def put(store: RedisResponseStore, key: str, media_type: str, body: bytes, ttl: float) -> None:
    await store.set(key, Stored(media_type, body, 1_800_000_000.5), ttl, generation_key=GENERATION, generation=0)


async def got(store: RedisResponseStore, key: str) -> tuple[str, bytes] | None:
    stored, _ = await store.get(key, GENERATION)
    return None if stored is None else (stored.media_type, stored.body)


def test_the_store_keeps_answers_for_their_ttl(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)
            body = b'{"jobs": []}\n\x00\xff'
            await put(store, "job:1", "application/json", body, ttl=5)
            await put(store, "job:2", "text/xml", b"", ttl=0.05)
            await put(store, "job:3", "text/xml", b"x", ttl=0)  # nothing to keep

            assert await got(store, "job:1") == ("application/json", body)
            assert 4000 < await client.pttl(prefix + "job:1") <= 5000
            assert await got(store, "job:2") == ("text/xml", b"")
            assert await got(store, "job:3") is None
            assert await got(store, "job:4") is None
            await asyncio.sleep(0.1)
            assert await got(store, "job:2") is None

            await client.set(prefix + "job:5", b"written by some other version")
            assert await got(store, "job:5") is None  # unreadable is a miss
            assert store.healthy

    asyncio.run(main())


def test_a_body_keeps_the_time_it_was_stored_and_a_new_generation_refuses_older_reads(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)
            assert await store.get("job:1", GENERATION) == (None, 0)
            await put(store, "job:1", "application/json", b"{}", ttl=5)
            stored, generation = await store.get("job:1", GENERATION)
            assert stored == Stored("application/json", b"{}", 1_800_000_000.5)
            # An invalidation between a read's miss and its store: the read's answer is not kept.
            await store.bump(GENERATION)
            await store.set("job:2", Stored("text/xml", b"x", 0), 5, generation_key=GENERATION, generation=generation)
            assert await got(store, "job:2") is None
            _, now = await store.get("job:2", GENERATION)
            assert now == generation + 1
            await store.set("job:2", Stored("text/xml", b"x", 0), 5, generation_key=GENERATION, generation=now)
            assert await got(store, "job:2") == ("text/xml", b"x")

    asyncio.run(main())


def test_delete_prefix_matches_the_prefix_literally(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)

            keys = ["job[1]*?:a", "job[1]*?:b", "job1x:a", "job1:a", "a\\b:1", "ab:1", "other"]
            for key in keys:
                await put(store, key, "application/json", b"{}", ttl=5)

            assert await store.delete_prefix("job[1]*?:") == 2
            assert await store.delete_prefix("a\\b:") == 1
            assert await store.delete_prefix("nothing") == 0

            left = [key for key in keys if await got(store, key) is not None]
            assert left == ["job1x:a", "job1:a", "ab:1", "other"]

    asyncio.run(main())


def test_the_store_degrades_to_misses_without_redis(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        client = dead_client()
        try:
            store = RedisResponseStore(client, prefix="gw-test:dead:")
            assert store.healthy
            await put(store, "job:1", "text/xml", b"x", ttl=5)
            assert await store.get("job:1", GENERATION) == (None, UNKNOWN_GENERATION)
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


def test_delete_prefix_with_then_matches_one_of_its_characters_literally(prefix: str) -> None:
    async def main() -> None:
        async with redis_client(prefix) as client:
            store = RedisResponseStore(client, prefix=prefix)

            keys = ["job*3|", "job*3?page=2|", "job*3/tasks|", "job*30|", "job*3]|", "job?3|", "job*3"]
            for key in keys:
                await put(store, key, "application/json", b"{}", ttl=5)

            # "|?" and "]" (a glob character inside the class) are read as themselves.
            assert await store.delete_prefix("job*3", then="|?") == 2
            assert await store.delete_prefix("job*3", then="]") == 1

            left = [key for key in keys if await got(store, key) is not None]
            assert left == ["job*3/tasks|", "job*30|", "job?3|", "job*3"]

    asyncio.run(main())
