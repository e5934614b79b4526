"""The loaders' batching, proved by counting the calls they make."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest

from gateway.errors import UpstreamUnavailable
from gateway.loaders import ALL_WORK_AREAS, ChildrenKey, JobKey, Loaders, OrderKey, WindowKey
from gateway.upstreams.gofilex.records import OrderStatusRecord
from gateway.upstreams.registry import Upstreams
from gateway.upstreams.sequence.records import JobRecord, JobWindow, WorkAreaRecord


def job(job_id: str) -> JobRecord:
    return JobRecord("10", job_id, f"Job {job_id}", "pending", "pending", "not_received")


class FakeSequence:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def job(self, work_area_id: str, job_id: str, *, deleted: bool = False) -> JobRecord:
        self.calls.append(("job", work_area_id, job_id, deleted))
        return job(job_id)

    async def children(self, work_area_id: str, job_id: str, kind: str, *, deleted: bool = False) -> tuple:
        self.calls.append(("children", job_id, kind))
        return ()

    async def work_areas(self) -> tuple[WorkAreaRecord, ...]:
        self.calls.append(("work_areas",))
        return (WorkAreaRecord("10", "Main"),)

    async def work_area(self, work_area_id: str) -> WorkAreaRecord:
        self.calls.append(("work_area", work_area_id))
        return WorkAreaRecord(work_area_id, f"Area {work_area_id}")

    async def job_window(self, work_area_id: str, **window: Any) -> JobWindow:
        self.calls.append(("job_window", work_area_id, tuple(sorted(window.items()))))
        offset, count = window["offset"], window["count"]
        return JobWindow(tuple(job(str(n)) for n in range(offset, offset + count)), 1000)


class FakePortal:
    def __init__(self, portal: str, known: set[str], *, fail: bool = False) -> None:
        self.portal, self.known, self.fail = portal, known, fail
        self.calls: list[list[str]] = []

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, OrderStatusRecord]:
        self.calls.append(list(order_ids))
        if self.fail:
            raise UpstreamUnavailable(f"gofilex:{self.portal}", "down")
        return {
            order_id: OrderStatusRecord(order_id, self.portal, state="queued")
            for order_id in order_ids
            if order_id in self.known
        }


class FakeUpstreams:
    def __init__(self, portals: dict[str, FakePortal]) -> None:
        self.sequence = FakeSequence()
        self.portals = portals

    def gofilex(self, portal: str) -> FakePortal:
        return self.portals[portal]


def make_loaders(upstreams: object, **options: Any) -> Loaders:
    # The fakes hold only what the loaders call.
    return Loaders(cast(Upstreams, upstreams), **options)


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_order_statuses_of_one_request_cost_one_call_per_portal() -> None:
    emea = FakePortal("EMEA", {"a", "b", "c"})
    noram = FakePortal("NORAM", {"x"})
    upstreams = FakeUpstreams({"EMEA": emea, "NORAM": noram})

    async def scenario() -> list[Any]:
        loaders = make_loaders(upstreams)
        keys = [OrderKey("EMEA", "a"), OrderKey("NORAM", "x"), OrderKey("EMEA", "b"), OrderKey("EMEA", "zzz")]
        return await asyncio.gather(*(loaders.order_status.load(key) for key in keys))

    statuses = run(scenario())
    assert emea.calls == [["a", "b", "zzz"]]
    assert noram.calls == [["x"]]
    assert [status and status.order_id for status in statuses] == ["a", "x", "b", None]


def test_large_batches_are_chunked() -> None:
    emea = FakePortal("EMEA", set())
    upstreams = FakeUpstreams({"EMEA": emea})

    async def scenario() -> None:
        loaders = make_loaders(upstreams, gofilex_batch_size=100)
        await loaders.order_status.load_many([OrderKey("EMEA", f"order{i}") for i in range(250)])

    run(scenario())
    assert [len(call) for call in emea.calls] == [100, 100, 50]


def test_a_failing_portal_fails_only_its_own_keys() -> None:
    upstreams = FakeUpstreams({"EMEA": FakePortal("EMEA", {"a"}), "APAC": FakePortal("APAC", {"b"}, fail=True)})

    async def scenario() -> list[Any]:
        loaders = make_loaders(upstreams)
        keys = [OrderKey("EMEA", "a"), OrderKey("APAC", "b")]
        return await asyncio.gather(*(loaders.order_status.load(key) for key in keys), return_exceptions=True)

    emea_status, apac_error = run(scenario())
    assert emea_status.order_id == "a"
    assert isinstance(apac_error, UpstreamUnavailable)


def test_each_job_and_child_list_is_fetched_once_per_request() -> None:
    upstreams = FakeUpstreams({})

    async def scenario() -> None:
        loaders = make_loaders(upstreams)
        keys = [JobKey("10", "1"), JobKey("10", "1"), JobKey("10", "2")]
        await asyncio.gather(*(loaders.job.load(key) for key in keys))
        children = [ChildrenKey("10", "1", False, "tasks")] * 3 + [ChildrenKey("10", "1", False, "notes")]
        await asyncio.gather(*(loaders.children.load(key) for key in children))

    run(scenario())
    assert sorted(upstreams.sequence.calls) == [
        ("children", "1", "notes"),
        ("children", "1", "tasks"),
        ("job", "10", "1", False),
        ("job", "10", "2", False),
    ]


def test_jobs_primed_from_a_page_are_not_fetched_again() -> None:
    upstreams = FakeUpstreams({})

    async def scenario() -> JobRecord:
        loaders = make_loaders(upstreams)
        loaders.prime_jobs([job("7")])
        return await loaders.job.load(JobKey("10", "7"))

    assert run(scenario()).name == "Job 7"
    assert upstreams.sequence.calls == []


@pytest.mark.parametrize("size", [1, 7])
def test_batch_size_setting_is_respected(size: int) -> None:
    emea = FakePortal("EMEA", set())

    async def scenario() -> None:
        loaders = make_loaders(FakeUpstreams({"EMEA": emea}), gofilex_batch_size=size)
        await loaders.order_status.load_many([OrderKey("EMEA", f"o{i}") for i in range(14)])

    run(scenario())
    assert all(len(call) <= size for call in emea.calls)
    assert sum(len(call) for call in emea.calls) == 14


def test_work_area_reads_are_made_once_per_request() -> None:
    upstreams = FakeUpstreams({})

    async def scenario() -> tuple[Any, ...]:
        loaders = make_loaders(upstreams)
        return await asyncio.gather(
            loaders.work_areas.load(ALL_WORK_AREAS),
            loaders.work_areas.load(ALL_WORK_AREAS),
            loaders.work_area.load("10"),
            loaders.work_area.load("10"),
            loaders.work_area.load("11"),
        )

    areas, again, ten, _, eleven = run(scenario())
    assert areas is again and areas[0].name == "Main"
    assert (ten.name, eleven.name) == ("Area 10", "Area 11")
    assert sorted(upstreams.sequence.calls) == [("work_area", "10"), ("work_area", "11"), ("work_areas",)]


def test_a_window_is_read_once_and_primes_its_jobs() -> None:
    upstreams = FakeUpstreams({})

    async def scenario() -> tuple[JobWindow, JobRecord]:
        loaders = make_loaders(upstreams)
        key = WindowKey("10", 5, 3, filter_name="ready", paging_forward=True)
        window, _ = await asyncio.gather(loaders.job_window.load(key), loaders.job_window.load(key))
        return window, await loaders.job.load(JobKey("10", "6"))

    window, primed = run(scenario())
    assert [record.job_id for record in window.jobs] == ["5", "6", "7"]
    assert primed.name == "Job 6"
    # One window read with the key's arguments, and the job came from it, not from a read by id.
    assert upstreams.sequence.calls == [
        (
            "job_window",
            "10",
            (("count", 3), ("deleted", False), ("filter_name", "ready"), ("offset", 5), ("read_ahead", True)),
        )
    ]
