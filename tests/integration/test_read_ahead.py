"""Read-ahead: a client paging forward finds the next pages already fetched, and no page is read twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.integration.conftest import Gateway

PAGE = (
    'query($after: String) { workArea(workAreaId: "10") { jobs(first: 50, after: $after) {'
    " totalCount pageInfo { hasNextPage endCursor } nodes { jobId } } } }"
)


def settled_calls(gateway: Gateway, at_least: int = 0, timeout: float = 5.0) -> int:
    """Sequence calls so far, once read-ahead fetches in the background have landed."""
    deadline = time.monotonic() + timeout
    while True:
        total = gateway.sequence_stats()["total"]
        if total >= at_least or time.monotonic() > deadline:
            time.sleep(0.1)  # nothing more on the way
            return gateway.sequence_stats()["total"]
        time.sleep(0.02)


def primed(make_gateway: Callable[..., Gateway], **env: str) -> Gateway:
    """A gateway past its digest challenge (a 401 the simulator counts), with zeroed stats."""
    gateway = make_gateway(**env)
    gateway.data("{ workAreas { workAreaId } }")
    gateway.reset_stats()
    return gateway


def page(gateway: Gateway, after: str | None) -> dict[str, Any]:
    return gateway.data(PAGE, {"after": after})["workArea"]["jobs"]


def test_paging_forward_reads_ahead_and_reads_every_page_once(make_gateway: Callable[..., Gateway]) -> None:
    gateway = primed(make_gateway, GATEWAY_READ_AHEAD_PAGES="2")
    first = page(gateway, None)
    # A first page without `after` may be all a client wants: nothing ahead.
    assert settled_calls(gateway) == 1
    second = page(gateway, first["pageInfo"]["endCursor"])
    # Paging forward: page 2, then pages 3 and 4 ahead of the client.
    assert settled_calls(gateway, at_least=4) == 4
    gateway.reset_stats()
    third = page(gateway, second["pageInfo"]["endCursor"])
    # Page 3 was read ahead; only page 5 is new (page 4 is already cached).
    assert settled_calls(gateway, at_least=1) == 1
    pages = 3
    seen = [job["jobId"] for p in (first, second, third) for job in p["nodes"]]
    current = third
    while current["pageInfo"]["hasNextPage"]:
        current = page(gateway, current["pageInfo"]["endCursor"])
        seen += [job["jobId"] for job in current["nodes"]]
        pages += 1
    assert len(seen) == len(set(seen)) == first["totalCount"]
    # Over the whole walk: one call per page, none beyond the last.
    total_pages = -(-first["totalCount"] // 50)
    assert pages == total_pages
    gateway.reset_stats()
    page(gateway, None)
    assert settled_calls(gateway) == 0  # everything is cached


def test_every_page_of_a_forward_walk_costs_exactly_one_call(make_gateway: Callable[..., Gateway]) -> None:
    gateway = primed(make_gateway, GATEWAY_READ_AHEAD_PAGES="2")
    current = page(gateway, None)
    pages = 1
    while current["pageInfo"]["hasNextPage"]:
        current = page(gateway, current["pageInfo"]["endCursor"])
        pages += 1
    assert settled_calls(gateway, at_least=pages) == pages


def test_read_ahead_can_be_turned_off(make_gateway: Callable[..., Gateway]) -> None:
    gateway = primed(make_gateway, GATEWAY_READ_AHEAD_PAGES="0")
    first = page(gateway, None)
    page(gateway, first["pageInfo"]["endCursor"])
    assert settled_calls(gateway) == 2


def test_windows_not_aligned_to_the_page_size_are_not_read_ahead(make_gateway: Callable[..., Gateway]) -> None:
    gateway = primed(make_gateway, GATEWAY_READ_AHEAD_PAGES="2")
    first = gateway.data('{ workArea(workAreaId: "10") { jobs(first: 30) { pageInfo { endCursor } } } }')
    gateway.reset_stats()
    page(gateway, first["workArea"]["jobs"]["pageInfo"]["endCursor"])  # jobs 30..79
    assert settled_calls(gateway) == 1


def test_a_failed_read_ahead_leaves_the_page_to_the_client(
    make_gateway: Callable[..., Gateway], sequence_faults: Callable[..., None]
) -> None:
    gateway = primed(make_gateway, GATEWAY_READ_AHEAD_PAGES="1", GATEWAY_RETRY_ATTEMPTS="1")
    first = page(gateway, None)
    gateway.reset_stats()
    # Page 2 is answered; the read-ahead of page 3 meets a 500 and stores nothing.
    sequence_faults(script=["ok", "500"])
    second = page(gateway, first["pageInfo"]["endCursor"])
    assert settled_calls(gateway, at_least=2) == 2
    third = page(gateway, second["pageInfo"]["endCursor"])
    assert int(third["nodes"][0]["jobId"]) > int(second["nodes"][-1]["jobId"])
    # Page 3 by the client itself, page 4 ahead of it.
    assert settled_calls(gateway, at_least=4) == 4
