"""The Redis layer of the response cache, over an in-memory store: keys, read-through, invalidation."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from gateway.errors import UpstreamBadResponse
from gateway.upstreams.cache import CacheKey
from gateway.upstreams.payload import PayloadError, load_json
from gateway.upstreams.redis_layer import RedisLayer, Stored, read_through
from tests.upstreams.fakes import MemoryStore

URL = "http://127.0.0.1:8101/api/work_areas/10/jobs/3"
JOB = CacheKey("cred-a", "GET", URL)
JSON = "application/json"


def parse(body: bytes, media_type: str) -> dict[str, Any]:
    data = load_json(body, "test body")
    if not isinstance(data, dict):
        raise PayloadError("expected an object")
    return data


class Upstream:
    """A send that counts its calls and answers `body`."""

    def __init__(self, body: bytes = b'{"id": 3}') -> None:
        self.body = body
        self.calls = 0

    async def send(self) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200, content=self.body, headers={"content-type": JSON})


def test_keys_start_with_credential_method_and_url_and_end_with_the_bodys_hash() -> None:
    assert RedisLayer.key(JOB) == f"cred-a|GET|{URL}|"
    post = CacheKey("cred-g", "POST", "https://genie.example/api/publication/v1/orders/status", b'{"orderIds":["1"]}')
    credential, method, url, body_hash = RedisLayer.key(post).split("|")
    assert (credential, method, url) == ("cred-g", "POST", post.url)
    assert len(body_hash) == 16
    assert RedisLayer.key(post) != RedisLayer.key(CacheKey("cred-g", "POST", post.url, b'{"orderIds":["2"]}'))


def test_a_body_put_is_got_back_and_a_ttl_of_zero_stores_nothing() -> None:
    async def main() -> None:
        layer = RedisLayer(MemoryStore(), wall=lambda: 1_800_000_000.0)
        await layer.put(JOB, b"{}", JSON, ttl=30, generation=0)
        assert await layer.get(JOB) == (Stored(JSON, b"{}", 1_800_000_000.0), 0)
        other = CacheKey("cred-a", "GET", URL + "/tasks")
        await layer.put(other, b"[]", JSON, ttl=0, generation=0)
        assert await layer.get(other) == (None, 0)

    asyncio.run(main())


def test_read_through_answers_a_stored_body_without_sending() -> None:
    async def main() -> None:
        store = MemoryStore()
        layer = RedisLayer(store)
        upstream = Upstream()
        first = await read_through(layer, JOB, upstream.send, parse, 30, upstream="sequence")
        second = await read_through(layer, JOB, upstream.send, parse, 30, upstream="sequence")
        assert first == second == {"id": 3}
        assert upstream.calls == 1
        # What another replica stored is what the upstream sent, as it sent it.
        assert [(stored.media_type, stored.body) for stored in store.entries.values()] == [(JSON, b'{"id": 3}')]

    asyncio.run(main())


def test_read_through_stores_for_the_ttl_the_value_asks_for() -> None:
    async def main() -> None:
        layer = RedisLayer(MemoryStore())
        ttls: list[dict[str, Any]] = []

        def ttl(value: dict[str, Any]) -> float:
            ttls.append(value)
            return 0.0  # this value is not to be kept

        await read_through(layer, JOB, Upstream().send, parse, ttl, upstream="sequence")
        assert ttls == [{"id": 3}]
        assert await layer.get(JOB) == (None, 0)

    asyncio.run(main())


def test_a_stored_body_that_no_longer_parses_is_read_again_from_the_upstream() -> None:
    async def main() -> None:
        store = MemoryStore()
        store.entries[RedisLayer.key(JOB)] = Stored(JSON, b"written by another version", 0)
        upstream = Upstream()
        assert await read_through(RedisLayer(store), JOB, upstream.send, parse, 30, upstream="sequence") == {"id": 3}
        assert upstream.calls == 1

    asyncio.run(main())


def test_an_upstream_body_that_does_not_parse_is_a_bad_response_and_is_not_stored() -> None:
    async def main() -> None:
        store = MemoryStore()
        with pytest.raises(UpstreamBadResponse, match="sequence sent an unexpected body"):
            await read_through(RedisLayer(store), JOB, Upstream(b"<html>").send, parse, 30, upstream="sequence")
        assert store.entries == {}

    asyncio.run(main())


def test_read_through_without_a_layer_always_sends() -> None:
    async def main() -> None:
        upstream = Upstream(json.dumps({"id": 4}).encode())
        for _ in range(2):
            assert await read_through(None, JOB, upstream.send, parse, 30, upstream="sequence") == {"id": 4}
        assert upstream.calls == 2

    asyncio.run(main())


@pytest.mark.parametrize(
    ("below", "prefixes"),
    [
        # the URL in any view (`?deleted`, a page's query)
        (False, [f"cred-a|GET|{URL}[|?]"]),
        # and every URL under it
        (True, [f"cred-a|GET|{URL}[|?/]"]),
    ],
)
def test_invalidate_drops_a_url_in_every_view_and_with_below_its_subtree(below: bool, prefixes: list[str]) -> None:
    async def main() -> None:
        store = MemoryStore()
        layer = RedisLayer(store)
        reads = [URL, URL + "?deleted", URL + "/tasks", URL + "0"]
        for read in reads:
            await layer.put(CacheKey("cred-a", "GET", read), b"{}", JSON, 30, generation=0)
        await layer.put(CacheKey("cred-b", "GET", URL), b"{}", JSON, 30, generation=0)

        dropped = await layer.invalidate("cred-a", "GET", URL, below=below)

        assert store.deleted == prefixes
        assert dropped == (3 if below else 2)
        left = {key.split("|")[0] + " " + key.split("|")[2] for key in store.entries}
        # Another job whose id starts with the same digits, and another credential, stay.
        assert f"cred-a {URL}0" in left and f"cred-b {URL}" in left

    asyncio.run(main())


def test_a_read_in_flight_across_an_invalidation_does_not_store_its_answer() -> None:
    async def main() -> None:
        store = MemoryStore()
        layer = RedisLayer(store)
        release = asyncio.Event()

        async def slow_send() -> httpx.Response:
            await release.wait()  # the upstream answered before the change; we hear it after
            return httpx.Response(200, content=b'{"id": 3, "old": true}', headers={"content-type": JSON})

        read = asyncio.create_task(read_through(layer, JOB, slow_send, parse, 30, upstream="sequence"))
        await asyncio.sleep(0)
        await layer.invalidate("cred-a", "GET", URL)
        release.set()
        assert await read == {"id": 3, "old": True}  # its own caller gets it ...
        assert store.entries == {}  # ... but no other replica ever will

    asyncio.run(main())


def test_a_stored_body_answers_only_while_usable_says_so() -> None:
    async def main() -> None:
        layer = RedisLayer(MemoryStore(), wall=lambda: 1000.0)
        upstream = Upstream()
        await read_through(layer, JOB, upstream.send, parse, 30, upstream="sequence")
        ages: list[float] = []

        def usable(stored_at: float) -> bool:
            ages.append(stored_at)
            return False

        await read_through(layer, JOB, upstream.send, parse, 30, upstream="sequence", usable=usable)
        assert ages == [1000.0] and upstream.calls == 2

    asyncio.run(main())
